//! The one joint: every key backend implements [`KmsBackend`] and declares
//! its [`Capabilities`]. The [`crate::KmsManager`] facade resolves the key,
//! checks the state × operation table and the capabilities, then calls the
//! backend. Optional operations default to a clear `Unsupported` error.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::key::{AliasName, KeyId, KeyMetadata, KeyRef};
use crate::operation::Operation;
use crate::spec::{KeySpec, MacAlgorithm, MessageType, SigningAlgorithm};
use crate::types::{
    AliasEntry, CreateKeyRequest, Decrypted, Encrypted, ImportParameters, KeyPage, KeyUpdate,
    ListKeysRequest, MacOutput, PublicKeyInfo, SignatureOutput, StateChange,
};

/// What a backend can do. Deny by default: an operation not listed is refused
/// by the facade with `Unsupported` before the backend is called.
#[derive(Clone, Debug, Serialize)]
pub struct Capabilities {
    /// Operations it performs.
    pub operations: Vec<Operation>,
    /// Key specs it can create or use.
    pub key_specs: Vec<KeySpec>,
    /// Most plaintext for one direct symmetric encryption.
    pub max_plaintext: usize,
    /// Whether it takes batches natively (the facade loops otherwise).
    pub native_batching: bool,
    /// Whether rotation keeps old versions usable for decryption.
    pub versioned_rotation: bool,
    /// Whether automatic rotation by period is supported.
    pub automatic_rotation: bool,
}

impl Capabilities {
    /// Whether `op` is supported.
    pub fn supports(&self, op: Operation) -> bool {
        self.operations.contains(&op)
    }
}

/// The health of a backend.
#[derive(Clone, Debug, Serialize)]
pub struct BackendStatus {
    /// The backend's name.
    pub backend: String,
    /// Whether it answers.
    pub available: bool,
    /// Whether it is sealed.
    pub sealed: bool,
    /// Number of keys, when known.
    pub key_count: Option<u64>,
    /// Free-form detail (location, version); never secret.
    pub detail: String,
}

fn unsupported<T>(b: &(impl KmsBackend + ?Sized), what: &str) -> Result<T> {
    Err(Error::unsupported(b.name(), what))
}

/// A key backend. Operations take the already resolved and checked
/// [`KeyMetadata`]; implementations must not skip [`KmsBackend::describe_key`]'s
/// own consistency (destroying keys past their deletion date, for example).
#[async_trait]
pub trait KmsBackend: Send + Sync + core::fmt::Debug {
    /// The backend's name (`local`, `vault`, …), also its URI scheme.
    fn name(&self) -> &'static str;

    /// What it can do.
    fn capabilities(&self) -> &Capabilities;

    /// Health and counts.
    async fn status(&self) -> Result<BackendStatus>;

    /// Resolves a key reference to its metadata.
    async fn describe_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>>;

    /// Which key a ciphertext of this backend names.
    async fn ciphertext_key(&self, ciphertext: &[u8]) -> Result<KeyRef> {
        let _ = ciphertext;
        Err(Error::invalid(
            "key",
            format!(
                "ciphertexts of the {} backend do not name their key; pass --key",
                self.name()
            ),
        ))
    }

    /// Creates a key.
    async fn create_key(&self, req: CreateKeyRequest) -> Result<Arc<KeyMetadata>> {
        let _ = req;
        unsupported(self, "creating keys")
    }

    /// Lists keys.
    async fn list_keys(&self, req: &ListKeysRequest) -> Result<KeyPage> {
        let _ = req;
        unsupported(self, "listing keys")
    }

    /// Updates description, tags, rotation settings.
    async fn update_key(&self, key: &KeyMetadata, update: KeyUpdate) -> Result<Arc<KeyMetadata>> {
        let _ = (key, update);
        unsupported(self, "updating keys")
    }

    /// Enables, disables, schedules or cancels deletion.
    async fn change_state(
        &self,
        key: &KeyMetadata,
        change: StateChange,
    ) -> Result<Arc<KeyMetadata>> {
        let _ = (key, change);
        unsupported(self, "changing key state")
    }

    /// Adds a version.
    async fn rotate_key(&self, key: &KeyMetadata) -> Result<Arc<KeyMetadata>> {
        let _ = key;
        unsupported(self, "rotating keys")
    }

    /// Creates an alias.
    async fn create_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        let _ = (alias, key);
        unsupported(self, "aliases")
    }

    /// Points an existing alias at another key.
    async fn update_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        let _ = (alias, key);
        unsupported(self, "aliases")
    }

    /// Deletes an alias.
    async fn delete_alias(&self, alias: &AliasName) -> Result<()> {
        let _ = alias;
        unsupported(self, "aliases")
    }

    /// Lists aliases, of one key or all.
    async fn list_aliases(&self, key: Option<KeyId>) -> Result<Vec<AliasEntry>> {
        let _ = key;
        unsupported(self, "aliases")
    }

    /// Parameters to import key material.
    async fn import_parameters(&self, key: &KeyMetadata) -> Result<ImportParameters> {
        let _ = key;
        unsupported(self, "importing key material")
    }

    /// Imports wrapped key material.
    async fn import_key_material(
        &self,
        key: &KeyMetadata,
        import_token: &str,
        wrapped: &[u8],
    ) -> Result<Arc<KeyMetadata>> {
        let _ = (key, import_token, wrapped);
        unsupported(self, "importing key material")
    }

    /// The public key of a version (the newest when `None`).
    async fn public_key(&self, key: &KeyMetadata, version: Option<u32>) -> Result<PublicKeyInfo> {
        let _ = (key, version);
        unsupported(self, "public key export")
    }

    /// Encrypts with the newest version.
    async fn encrypt(
        &self,
        key: &KeyMetadata,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Encrypted> {
        let _ = (key, plaintext, context);
        unsupported(self, "encryption")
    }

    /// Decrypts with the version the ciphertext names.
    async fn decrypt(
        &self,
        key: &KeyMetadata,
        ciphertext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Decrypted> {
        let _ = (key, ciphertext, context);
        unsupported(self, "decryption")
    }

    /// Signs with the newest version.
    async fn sign(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
    ) -> Result<SignatureOutput> {
        let _ = (key, message, message_type, algorithm);
        unsupported(self, "signing")
    }

    /// Verifies with `version`, or with every usable version when `None`.
    async fn verify(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
        signature: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        let _ = (key, message, message_type, algorithm, signature, version);
        unsupported(self, "signature verification")
    }

    /// Computes a MAC with the newest version.
    async fn generate_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<MacOutput> {
        let _ = (key, message, algorithm);
        unsupported(self, "MACs")
    }

    /// Verifies a MAC with `version`, or with every usable version when `None`.
    async fn verify_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
        mac: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        let _ = (key, message, algorithm, mac, version);
        unsupported(self, "MACs")
    }

    /// Random bytes from the backend's generator.
    async fn generate_random(&self, len: usize) -> Result<Vec<u8>> {
        let _ = len;
        unsupported(self, "random bytes")
    }
}
