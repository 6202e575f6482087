//! Shared helpers: a local KMS on a temporary SQLite store, recipients
//! with cheap passphrase parameters, and encrypt/decrypt in memory.

use std::sync::Arc;

use kms_core::types::CreateKeyRequest;
use kms_core::{EncryptionContext, KeyRef, KeySpec, KmsManager, Passphrase, SystemRng};
use kms_envelope::format::Argon2Params;
use kms_envelope::{
    AgeIdentity, DecryptOptions, EncryptOptions, EncryptionService, Identity, Recipient,
    Recipients, Result,
};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal, sqlite_url};

/// A KMS over a fresh store, with one AES key; keep the dir alive.
pub struct Kms {
    pub _dir: tempfile::TempDir,
    pub manager: KmsManager,
    pub key: KeyRef,
}

pub async fn kms() -> Kms {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("k.db"));
    let unseal = Unseal::Passphrase(Passphrase::new("store pass".into()));
    let kdf = KdfParams {
        memory_kib: 8192,
        iterations: 1,
        parallelism: 1,
    };
    let store = LocalBackend::init(StoreOptions::new(url), &unseal, kdf)
        .await
        .unwrap();
    let manager = KmsManager::new(store, Arc::new(SystemRng));
    let meta = manager
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    Kms {
        _dir: dir,
        manager,
        key: KeyRef::Id(meta.key_id),
    }
}

pub const FAST: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

pub fn passphrase(p: &str) -> Recipient {
    Recipient::Passphrase(Passphrase::new(p.into()), FAST)
}

pub fn age_pair() -> (Recipient, Identity) {
    let id = age::x25519::Identity::generate();
    let r = Recipient::parse(&id.to_public().to_string()).unwrap();
    (r, Identity::Age(AgeIdentity::from_key(id)))
}

pub fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

pub fn ctx(s: &str) -> EncryptionContext {
    EncryptionContext::parse(s).unwrap()
}

pub async fn seal(
    svc: &EncryptionService,
    pt: &[u8],
    to: &Recipients,
    c: &EncryptionContext,
    armor: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = EncryptOptions {
        armor,
        ..Default::default()
    };
    svc.encrypt_stream(pt, &mut out, to, c, &opts)
        .await
        .unwrap();
    out
}

pub async fn open(
    svc: &EncryptionService,
    ct: &[u8],
    ids: &[Identity],
    c: &EncryptionContext,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    svc.decrypt_stream(ct, &mut out, ids, c, &DecryptOptions::default())
        .await?;
    Ok(out)
}
