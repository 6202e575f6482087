//! Benchmarks of the embedded keystore through the `KmsManager` facade, each
//! next to a reference measured in the same process, so that
//! `scripts/bench/keystore.sh` can report ratios rather than absolute
//! figures (which vary from machine to machine).
//!
//! Groups and benchmark ids (`group/function/parameter`):
//!
//! * `encrypt`: AES_256 key in a SQLite store, payloads of 32 B and 4 KiB.
//!   - `raw_seal/N`, `raw_open/N`: aws-lc-rs `LessSafeKey` AES-256-GCM with a
//!     fresh random nonce (`aws_lc_rs::rand::fill`), a 29-byte AAD (the size
//!     of the facade's header + empty context) and a new output `Vec`: the
//!     least work any encrypt must do.
//!   - `raw_nonce/12`: `aws_lc_rs::rand::fill` of one 12-byte nonce (the
//!     part of `raw_seal` and `facade_encrypt` that is randomness).
//!   - `facade_encrypt/N`, `facade_decrypt/N`: `KmsManager::encrypt` /
//!     `decrypt` with the empty context.
//!   - `facade_encrypt_ctx2/N`, `facade_decrypt_ctx2/N`: the same with a
//!     two-pair context.
//! * `sign`: a 32-byte RAW message, default algorithm of each spec
//!   (`facade/<SPEC>`), and `raw/ECC_NIST_P256` (aws-lc-rs `EcdsaKeyPair`).
//! * `create_key`: AES_256 keys, `sqlite/1_task` (latency of one create) and
//!   `sqlite/8_tasks` (time per key with 8 concurrent creators); the same
//!   for `postgres/…` when `KMS_BENCH_PG_URL` names a fresh database.
//! * `encrypt_with_n_keys`: 32 B encrypt in a SQLite store holding N keys
//!   (N = 1,000 and 100,000; `KMS_BENCH_BIG_KEYS` overrides the latter),
//!   one store per N, filled through `KmsManager::create_key` by 8
//!   concurrent tasks (`KMS_BENCH_FILL_TASKS`) before the first
//!   measurement; the warm cases then run back to back, then the cold ones.
//!   - `warm/N`: a key drawn at random per iteration from a fixed random
//!     subset of 1,000 of the N keys, each touched once before measuring.
//!     This is the steady state: material comes from the in-memory cache;
//!     metadata is re-read from the database once per cache TTL (1 s) per
//!     key, as in production.
//!   - `cold/N`: each iteration takes the next key of a shuffled cycle over
//!     all N keys. At 100,000 keys a run uses fewer keys than the cycle
//!     holds, so every iteration is a first touch (metadata and sealed
//!     material read from the database, unsealed, prepared). At 1,000 keys
//!     the cycle wraps many times, so it is mostly cache hits: compare
//!     `cold/100000` with `warm/*`, not with `cold/1000`.
//!
//! Every store uses the production metadata cache TTL (1 s) unless
//! `KMS_BENCH_CACHE_TTL_MS` overrides it (a diagnostic: a long TTL shows
//! what the periodic metadata re-reads cost).
//!
//! The current-thread tokio runtime drives every async benchmark
//! (`b.to_async(&rt)`). Setup progress (key creation) goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

use kms_core::types::CreateKeyRequest;
use kms_core::{
    EncryptionContext, KeyId, KeyRef, KeySpec, KeyUsage, KmsManager, MessageType, Passphrase,
    SystemRng,
};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal, sqlite_url};

const SIZES: [usize; 2] = [32, 4096];
/// Header (25) + canonical empty context (4): the facade's AAD length.
const RAW_AAD: [u8; 29] = [7u8; 29];
const DEFAULT_BIG_KEYS: usize = 100_000;
const WARM_SUBSET: usize = 1_000;
const CREATE_TASKS: usize = 8;
/// Concurrent creators when filling the store with N keys
/// (`KMS_BENCH_FILL_TASKS` overrides).
const FILL_TASKS: usize = 8;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    }
}

async fn manager_at(url: &str) -> KmsManager {
    let unseal = Unseal::Passphrase(Passphrase::new("bench".into()));
    let mut opts = StoreOptions::new(url);
    // Diagnostic knob: the production default (1 s) unless overridden.
    if let Some(ms) = std::env::var("KMS_BENCH_CACHE_TTL_MS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        opts = opts.with_cache_ttl(Duration::from_millis(ms));
    }
    let store = LocalBackend::init(opts, &unseal, fast_kdf()).await.unwrap();
    KmsManager::new(store, Arc::new(SystemRng))
}

/// A new SQLite store in a temporary directory (kept alive by the returned guard).
fn sqlite_manager(rt: &Runtime) -> (KmsManager, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let kms = rt.block_on(manager_at(&sqlite_url(&dir.path().join("bench.db"))));
    (kms, dir)
}

fn create(rt: &Runtime, kms: &KmsManager, spec: KeySpec, usage: KeyUsage) -> KeyRef {
    let req = CreateKeyRequest {
        usage: Some(usage),
        ..CreateKeyRequest::new(spec)
    };
    let meta = rt.block_on(kms.create_key(req)).unwrap();
    KeyRef::Id(meta.key_id)
}

/// SplitMix64: a cheap, seeded generator for picking keys (not for keys).
struct Pick(u64);

impl Pick {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

// ---------------------------------------------------------------- encrypt

fn raw_seal(key: &LessSafeKey, payload: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    aws_lc_rs::rand::fill(&mut nonce).unwrap();
    let mut out = Vec::with_capacity(12 + payload.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(payload);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&RAW_AAD),
            &mut out[12..],
        )
        .unwrap();
    out.extend_from_slice(tag.as_ref());
    out
}

fn raw_open(key: &LessSafeKey, sealed: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&sealed[..12]);
    let mut buf = sealed[12..].to_vec();
    let n = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&RAW_AAD),
            &mut buf,
        )
        .unwrap()
        .len();
    buf.truncate(n);
    buf
}

fn encrypt(c: &mut Criterion) {
    let rt = runtime();
    let (kms, _dir) = sqlite_manager(&rt);
    let key = create(&rt, &kms, KeySpec::Aes256, KeyUsage::EncryptDecrypt);
    let mut material = [0u8; 32];
    aws_lc_rs::rand::fill(&mut material).unwrap();
    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &material).unwrap());
    let contexts = [
        ("", EncryptionContext::new()),
        (
            "_ctx2",
            EncryptionContext::parse("env=prod,service=api").unwrap(),
        ),
    ];
    let (kms, key) = (&kms, &key);

    let mut g = c.benchmark_group("encrypt");
    // What the random nonce alone costs (raw_seal and the facade both pay it).
    g.bench_function(BenchmarkId::new("raw_nonce", 12), |b| {
        b.iter(|| {
            let mut nonce = [0u8; 12];
            aws_lc_rs::rand::fill(&mut nonce).unwrap();
            nonce
        })
    });
    for size in SIZES {
        let payload = vec![0x5a_u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("raw_seal", size), &payload, |b, p| {
            b.iter(|| raw_seal(&raw, black_box(p)))
        });
        let sealed = raw_seal(&raw, &payload);
        g.bench_with_input(BenchmarkId::new("raw_open", size), &sealed, |b, s| {
            b.iter(|| raw_open(&raw, black_box(s)))
        });
        for (suffix, ctx) in &contexts {
            g.bench_with_input(
                BenchmarkId::new(format!("facade_encrypt{suffix}"), size),
                &payload,
                |b, p| {
                    b.to_async(&rt)
                        .iter(|| async move { kms.encrypt(key, black_box(p), ctx).await.unwrap() })
                },
            );
            let ct = rt
                .block_on(kms.encrypt(key, &payload, ctx))
                .unwrap()
                .ciphertext;
            g.bench_with_input(
                BenchmarkId::new(format!("facade_decrypt{suffix}"), size),
                &ct,
                |b, ct| {
                    b.to_async(&rt).iter(|| async move {
                        kms.decrypt(black_box(ct), ctx, None).await.unwrap()
                    })
                },
            );
        }
    }
    g.finish();
}

// ---------------------------------------------------------------- sign

fn sign(c: &mut Criterion) {
    let rt = runtime();
    let (kms, _dir) = sqlite_manager(&rt);
    let message = [0x42_u8; 32];
    let kms = &kms;

    let mut g = c.benchmark_group("sign");
    g.sample_size(10);
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    g.bench_function(
        BenchmarkId::new("raw", KeySpec::EccNistP256.as_str()),
        |b| b.iter(|| pair.sign(&rng, black_box(&message)).unwrap()),
    );
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::Ed25519,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
    ] {
        // Made on first use: a filter that skips it skips the key generation.
        let mut key: Option<KeyRef> = None;
        let message = &message;
        g.bench_function(BenchmarkId::new("facade", spec.as_str()), |b| {
            let key = &*key.get_or_insert_with(|| create(&rt, kms, spec, KeyUsage::SignVerify));
            b.to_async(&rt).iter(|| async move {
                kms.sign(key, black_box(message), MessageType::Raw, None)
                    .await
                    .unwrap()
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------- create_key

/// Creates one AES_256 key, retrying a few times when the database is busy.
async fn create_one(kms: &KmsManager) -> KeyId {
    let mut attempt = 0;
    loop {
        match kms.create_key(CreateKeyRequest::new(KeySpec::Aes256)).await {
            Ok(meta) => return meta.key_id,
            Err(e) if attempt < 5 => {
                eprintln!("create_key failed ({e}); retrying");
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("create_key failed: {e}"),
        }
    }
}

/// Creates `n` keys with `tasks` concurrent creators; returns their ids.
async fn create_many(kms: &KmsManager, n: usize, tasks: usize, progress: bool) -> Vec<KeyId> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks.max(1) {
        let (kms, next) = (kms.clone(), next.clone());
        set.spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return ids;
                }
                ids.push(create_one(&kms).await);
                let done = i + 1;
                if progress && done % 10_000 == 0 {
                    let s = started.elapsed().as_secs_f64();
                    eprintln!(
                        "  created {done}/{n} keys in {s:.1} s ({:.0} keys/s)",
                        done as f64 / s
                    );
                }
            }
        });
    }
    let mut ids = Vec::with_capacity(n);
    while let Some(part) = set.join_next().await {
        ids.extend(part.unwrap());
    }
    ids
}

fn create_key_on(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
    kms: &KmsManager,
    db: &str,
) {
    g.bench_function(BenchmarkId::new(db, "1_task"), |b| {
        b.to_async(rt).iter(|| create_one(kms))
    });
    g.bench_function(BenchmarkId::new(db, format!("{CREATE_TASKS}_tasks")), |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let started = Instant::now();
            let n = usize::try_from(iters).unwrap();
            black_box(create_many(kms, n, CREATE_TASKS, false).await);
            started.elapsed()
        })
    });
}

fn create_key(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("create_key");
    g.sample_size(10);
    let (kms, _dir) = sqlite_manager(&rt);
    create_key_on(&mut g, &rt, &kms, "sqlite");
    match std::env::var("KMS_BENCH_PG_URL") {
        Ok(url) if !url.is_empty() => {
            let kms = rt.block_on(manager_at(&url));
            create_key_on(&mut g, &rt, &kms, "postgres");
        }
        _ => eprintln!(
            "create_key/postgres skipped: KMS_BENCH_PG_URL is not set (scripts/bench/keystore.sh sets it)"
        ),
    }
    g.finish();
}

// ---------------------------------------------------------------- encrypt_with_n_keys

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
}

fn big_keys() -> usize {
    env_usize("KMS_BENCH_BIG_KEYS").unwrap_or(DEFAULT_BIG_KEYS)
}

/// A SQLite store of N keys and the keys it is measured with.
struct Population {
    kms: KmsManager,
    _dir: tempfile::TempDir,
    /// All N keys, shuffled (the cold cycle).
    all: Vec<KeyRef>,
    /// A fixed random subset of 1,000, each touched once.
    subset: Vec<KeyRef>,
}

impl Population {
    /// A new store filled with `n` AES_256 keys through the facade.
    fn new(rt: &Runtime, n: usize, pick: &mut Pick) -> Self {
        let (kms, dir) = sqlite_manager(rt);
        let tasks = env_usize("KMS_BENCH_FILL_TASKS").unwrap_or(FILL_TASKS);
        eprintln!("encrypt_with_n_keys: creating {n} keys");
        let started = Instant::now();
        let ids = rt.block_on(create_many(&kms, n, tasks, true));
        let s = started.elapsed().as_secs_f64();
        eprintln!(
            "encrypt_with_n_keys: created {n} keys in {s:.1} s ({:.0} keys/s, {tasks} tasks)",
            n as f64 / s
        );
        let mut all: Vec<KeyRef> = ids.into_iter().map(KeyRef::Id).collect();
        pick.shuffle(&mut all);
        let subset: Vec<KeyRef> = all.iter().take(WARM_SUBSET).cloned().collect();
        rt.block_on(async {
            for k in &subset {
                kms.encrypt(k, &[0u8; 32], &EncryptionContext::new())
                    .await
                    .unwrap();
            }
        });
        Self {
            kms,
            _dir: dir,
            all,
            subset,
        }
    }
}

fn encrypt_with_n_keys(c: &mut Criterion) {
    let rt = runtime();
    let payload = &[0x5a_u8; 32];
    let empty = &EncryptionContext::new();
    let mut sizes = vec![WARM_SUBSET, big_keys()];
    sizes.sort_unstable();
    sizes.dedup();
    // Every store is built on the group's first use (so that a filter that
    // skips the group skips the long key creation), and all of them before
    // the first measurement, so that warm/1000 and warm/100000 run back to
    // back under the same machine load.
    let mut populations: Option<Vec<Population>> = None;
    let mut populate = || -> Vec<Population> {
        let mut pick = Pick(0x6b6d_735f_6265_6e63);
        sizes
            .iter()
            .map(|&n| Population::new(&rt, n, &mut pick))
            .collect()
    };

    let mut g = c.benchmark_group("encrypt_with_n_keys");
    g.sample_size(30);
    for (i, &n) in sizes.iter().enumerate() {
        let mut seed = Pick(0x5eed ^ n as u64);
        g.bench_function(BenchmarkId::new("warm", n), |b| {
            let pop = &populations.get_or_insert_with(&mut populate)[i];
            let (kms, subset) = (&pop.kms, &pop.subset);
            b.to_async(&rt).iter(|| {
                let key = &subset[seed.below(subset.len())];
                async move { kms.encrypt(key, payload, empty).await.unwrap() }
            })
        });
    }
    for (i, &n) in sizes.iter().enumerate() {
        // Cold-ish: the next key of the shuffled cycle, so that no key
        // repeats until all N were used.
        let mut cursor = 0usize;
        g.bench_function(BenchmarkId::new("cold", n), |b| {
            let pop = &populations.get_or_insert_with(&mut populate)[i];
            let (kms, all) = (&pop.kms, &pop.all);
            b.to_async(&rt).iter(|| {
                let key = &all[cursor % all.len()];
                cursor += 1;
                async move { kms.encrypt(key, payload, empty).await.unwrap() }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, encrypt, sign, create_key, encrypt_with_n_keys);
criterion_main!(benches);
