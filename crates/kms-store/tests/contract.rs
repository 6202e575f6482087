//! The backend contract, run on the embedded store over SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use kms_core::{KmsManager, ManualClock, SystemRng};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal, sqlite_url};
use kms_testkit::contract::{Harness, run};
use kms_testkit::peers::PgDatabase;

fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    }
}

fn unseal() -> Unseal {
    Unseal::Passphrase(kms_core::Passphrase::new("contract test passphrase".into()))
}

async fn harness(url: String) -> Harness {
    let clock = Arc::new(ManualClock::new(kms_core::Clock::now(
        &kms_core::SystemClock,
    )));
    let opts = StoreOptions::new(url).with_clock(clock.clone());
    let store = LocalBackend::init(opts, &unseal(), fast_kdf())
        .await
        .unwrap();
    Harness {
        kms: KmsManager::new(store, Arc::new(SystemRng)),
        clock: Some(clock),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_backend_on_sqlite_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let n = Arc::new(Mutex::new(0));
    run(|| {
        let n = n.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let i = {
                let mut g = n.lock().unwrap();
                *g += 1;
                *g
            };
            harness(sqlite_url(&dir.join(format!("c{i}.db")))).await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_backend_on_postgres_keeps_the_contract() {
    let dbs = Arc::new(Mutex::new(Vec::new()));
    if PgDatabase::create("local_backend_on_postgres_keeps_the_contract").is_none() {
        return;
    }
    run(|| {
        let dbs = dbs.clone();
        async move {
            let db = PgDatabase::create("contract").unwrap();
            let url = db.url.clone();
            dbs.lock().unwrap().push(db);
            harness(url).await
        }
    })
    .await;
}
