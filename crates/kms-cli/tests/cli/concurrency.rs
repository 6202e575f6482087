//! Several real `kms` processes on one store: concurrent rotations give
//! consecutive versions, and processes killed with SIGKILL lose nothing they
//! acknowledged.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Kms, TestRng};

/// Two threads, each running `kms key rotate` ten times in a row, at once.
fn concurrent_rotations_produce_consecutive_versions(kms: &Kms) {
    kms.initialise();
    let id = kms.create_key("AES_256", &["--alias", "busy"]);
    let before = kms.ok_stdin(&["encrypt", "--key", &id], b"v1");
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..10 {
                        let out = kms
                            .std_cmd()
                            .args(["--json", "key", "rotate", &id])
                            .output()
                            .unwrap();
                        assert!(
                            out.status.success(),
                            "rotate failed: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    });
    let meta = kms.describe(&id);
    assert_eq!(meta["current_version"], 21, "{meta}");
    let text = kms.ok(&["key", "describe", "alias/busy"]);
    assert!(text.contains("current_version: 21"), "{text}");
    let after = kms.json_stdin(&["encrypt", "--key", &id], b"v21");
    assert_eq!(after["key_version"], 21);
    assert_eq!(kms.ok_stdin(&["decrypt"], &before), b"v1");
    let ct = format!("{}\n", after["ciphertext"].as_str().unwrap());
    assert_eq!(kms.ok_stdin(&["decrypt"], ct.as_bytes()), b"v21");
}

#[test]
fn concurrent_rotations_in_two_processes_on_sqlite_give_21_versions() {
    concurrent_rotations_produce_consecutive_versions(&Kms::new());
}

/// A fresh PostgreSQL database, dropped when this goes out of scope.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        let (scheme, rest) = base.split_once("://").unwrap();
        let authority = rest.split(['/', '?']).next().unwrap();
        let root = format!("{scheme}://{authority}");
        let name = format!("kms_cli_{:016x}", TestRng::new().next());
        let admin_url = format!("{root}/test");
        let this = Self {
            url: format!("{root}/{name}"),
            admin_url,
            name,
        };
        this.psql(&format!("CREATE DATABASE {}", this.name));
        this
    }

    fn psql(&self, sql: &str) {
        let out = std::process::Command::new("psql")
            .args([self.admin_url.as_str(), "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([
                self.admin_url.as_str(),
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

/// The PostgreSQL base URL, or `None` (after a loud message) when the test should skip.
fn pg_url() -> Option<String> {
    match std::env::var("KMS_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("KMS_REQUIRE_PEERS").as_deref() != Ok("1"),
                "KMS_REQUIRE_PEERS=1 but KMS_TEST_PG_URL is not set"
            );
            eprintln!(
                "\n*** SKIPPED: PostgreSQL test; set KMS_TEST_PG_URL=postgres://postgres@127.0.0.1:5432 to run it ***\n"
            );
            None
        }
    }
}

#[test]
fn concurrent_rotations_in_two_processes_on_postgres_give_21_versions() {
    let Some(base) = pg_url() else { return };
    let db = PgDatabase::create(&base);
    let kms = Kms::with_store(db.url.clone());
    concurrent_rotations_produce_consecutive_versions(&kms);
    let status = kms.json(&["status"]);
    assert_eq!(status["key_count"], 1);
}

#[test]
fn processes_killed_with_sigkill_lose_no_acknowledged_key_or_version() {
    let kms = Kms::init();
    let rotated = kms.create_key("AES_256", &["--alias", "rotated"]);
    let mut rng = TestRng::new();
    let mut acked_keys: Vec<String> = Vec::new();
    let mut acked_version: u64 = 1;
    let (mut killed, mut finished) = (0u32, 0u32);
    let started = Instant::now();
    for i in 0..40 {
        if started.elapsed() > Duration::from_secs(120) {
            break;
        }
        let mut cmd = kms.std_cmd();
        let create = i % 2 == 0;
        if create {
            cmd.args(["--json", "key", "create", "--spec", "AES_256"]);
        } else {
            cmd.args(["--json", "key", "rotate", &rotated]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(150)));
        if child.try_wait().unwrap().is_none() {
            // SIGKILL. It may have finished in between: its exit status tells.
            let _ = child.kill();
            killed += 1;
        }
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            continue;
        }
        finished += 1;
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if create {
            acked_keys.push(meta["key_id"].as_str().unwrap().to_string());
        } else {
            acked_version = acked_version.max(meta["current_version"].as_u64().unwrap());
        }
    }
    eprintln!("sigkill test: {finished} acknowledged, {killed} killed");

    for id in &acked_keys {
        let meta = kms.describe(id);
        assert_eq!(meta["key_id"], id.as_str());
        assert_eq!(meta["state"], "Enabled");
    }
    let meta = kms.describe(&rotated);
    assert!(
        meta["current_version"].as_u64().unwrap() >= acked_version,
        "acknowledged version {acked_version}, store has {meta}"
    );
    // The store opens and works: status, a list, and a rotation of the survivor.
    let status = kms.json(&["status"]);
    assert_eq!(status["sealed"], false);
    assert!(status["key_count"].as_u64().unwrap() > acked_keys.len() as u64);
    let listed = kms.json(&["key", "list", "--limit", "1000"]);
    assert_eq!(
        listed["keys"].as_array().unwrap().len() as u64,
        status["key_count"].as_u64().unwrap()
    );
    let again = kms.json(&["key", "rotate", &rotated]);
    assert_eq!(
        again["current_version"].as_u64().unwrap(),
        meta["current_version"].as_u64().unwrap() + 1
    );
}
