//! [`AuditedBackend`]: the embedded store as a [`KmsBackend`] that appends a
//! record to the store's own hash-chained audit log ([`crate::audit`]) for
//! every call that touches a key, before it hands the call's result back.
//! The `kms` CLI works through it on a local store, so what is done without
//! a server lands in the same chain the server writes; a server started on
//! the store later continues that chain.
//!
//! # What is recorded
//!
//! One record per backend call, with the server's operation names
//! ([`Operation::as_str`]), entity type `key`, the entity id (the key id when
//! it is known, else the key reference as given), the key version the result
//! names, and the server's outcomes: `ok`, `denied`, or `error:<code>` with
//! [`kms_core::Error::code`] (the code of the server's error table).
//!
//! The [`kms_core::KmsManager`] facade resolves the key (`describe_key`)
//! before each operation and builds data keys and re-encryption from
//! `encrypt` and `decrypt`. So a command leaves exactly the records it leaves
//! through a server, whose remote backend makes the same calls: `kms encrypt`
//! is `describe_key` then `encrypt`, `kms data-key generate` is `describe_key`
//! then `encrypt`, and an operation the facade refuses before calling the
//! backend (key state, usage, size) leaves only its `describe_key`. `status`
//! and `ciphertext_key` (reading a ciphertext's header) touch no key and are
//! not recorded, as the server does not record them either.
//!
//! # Fail closed
//!
//! The record is appended (one committed transaction) after the call and
//! before its result is returned. If it cannot be written, the result — a
//! plaintext, a ciphertext, new key metadata — is dropped and the caller
//! gets [`kms_core::Error::Unavailable`] naming the audit log, the promise
//! the server makes. A change the call made (a rotation) stays made.
//!
//! Records never hold plaintext, key material or tokens: only ids,
//! versions, names and outcomes.

use std::sync::Arc;

use async_trait::async_trait;

use kms_core::types::{
    AliasEntry, CreateKeyRequest, Decrypted, Encrypted, ImportParameters, KeyPage, KeyUpdate,
    ListKeysRequest, MacOutput, PublicKeyInfo, SignatureOutput, StateChange,
};
use kms_core::{
    AliasName, BackendStatus, Capabilities, EncryptionContext, Error, ErrorKind, KeyId,
    KeyMetadata, KeyRef, KmsBackend, MacAlgorithm, MessageType, Operation, Result, Rng,
    SigningAlgorithm,
};

use crate::audit::AuditEvent;
use crate::backend::LocalBackend;

/// The outcome an audit record gives a result: `ok`, `denied` (permission
/// denied), or `error:<code>` with the error's stable [`Error::code`].
pub fn outcome<T>(result: &Result<T>) -> std::borrow::Cow<'static, str> {
    match result {
        Ok(_) => "ok".into(),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => "denied".into(),
        Err(e) => format!("error:{}", e.code()).into(),
    }
}

/// A fresh request id: a UUID v4 from `rng`.
pub fn new_request_id(rng: &dyn Rng) -> Result<String> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string())
}

/// What a record is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The operation name (`encrypt`, `token_create`, …).
    pub operation: &'static str,
    /// `key`, `token`, `policy` or `store`.
    pub entity_type: &'static str,
    /// The key id, token id, policy name, … (empty when none).
    pub entity_id: String,
    /// The key version used, if any (recorded only when the call succeeded).
    pub key_version: Option<u32>,
}

impl Subject {
    /// A key operation on `entity_id` (a key id, or the reference as given).
    pub fn key(operation: Operation, entity_id: impl Into<String>) -> Self {
        Self {
            operation: operation.as_str(),
            entity_type: "key",
            entity_id: entity_id.into(),
            key_version: None,
        }
    }

    /// An administrative operation (`token_create`, `policy_write`, …).
    pub fn admin(
        operation: &'static str,
        entity_type: &'static str,
        entity_id: impl Into<String>,
    ) -> Self {
        Self {
            operation,
            entity_type,
            entity_id: entity_id.into(),
            key_version: None,
        }
    }

    /// With the key version used.
    pub fn version(mut self, version: Option<u32>) -> Self {
        self.key_version = version;
        self
    }
}

/// Who acts, from where, under which request id: what every record of one
/// invocation shares, and the store whose log they go to.
#[derive(Clone, Debug)]
pub struct AuditScope {
    store: Arc<LocalBackend>,
    principal: String,
    source: String,
    request_id: String,
}

impl AuditScope {
    /// Records by `principal` from `source` under `request_id`, into `store`'s log.
    pub fn new(
        store: Arc<LocalBackend>,
        principal: impl Into<String>,
        source: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Self {
        Self {
            store,
            principal: principal.into(),
            source: source.into(),
            request_id: request_id.into(),
        }
    }

    /// The store the records go to.
    pub fn store(&self) -> &Arc<LocalBackend> {
        &self.store
    }

    /// The principal the records name.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The request id the records carry.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Appends the record of `result` and returns `result`; if the record
    /// cannot be written, drops `result` and returns an `Unavailable` error
    /// saying so.
    pub async fn record<T>(&self, subject: Subject, result: Result<T>) -> Result<T> {
        let event = AuditEvent {
            time: self.store.options().clock.now(),
            principal: self.principal.clone(),
            operation: subject.operation.to_string(),
            entity_type: subject.entity_type.to_string(),
            entity_id: subject.entity_id,
            key_version: subject.key_version.filter(|_| result.is_ok()),
            outcome: outcome(&result).into_owned(),
            request_id: self.request_id.clone(),
            source: self.source.clone(),
            items: 1,
        };
        match self.store.append_audit(vec![event]).await {
            Ok(_) => result,
            Err(e) => {
                // The caller reports the error; log it only for debugging.
                tracing::debug!(error = %e, operation = subject.operation, "audit append failed");
                Err(Error::Unavailable {
                    what: "the audit log".into(),
                    reason: format!(
                        "it cannot be written ({e}); the {} was not recorded, so its result is withheld",
                        subject.operation
                    ),
                    source: Some(Box::new(e)),
                })
            }
        }
    }
}

/// The key id and version a result names, for its record.
trait Names {
    fn key_id(&self) -> Option<&KeyId> {
        None
    }
    fn version(&self) -> Option<u32> {
        None
    }
}

macro_rules! names_key_version {
    ($($t:ty),*) => {$(
        impl Names for $t {
            fn key_id(&self) -> Option<&KeyId> { Some(&self.key_id) }
            fn version(&self) -> Option<u32> { Some(self.version) }
        }
    )*};
}
names_key_version!(
    Encrypted,
    Decrypted,
    SignatureOutput,
    MacOutput,
    PublicKeyInfo
);

impl Names for Arc<KeyMetadata> {
    fn key_id(&self) -> Option<&KeyId> {
        Some(&self.key_id)
    }
    fn version(&self) -> Option<u32> {
        Some(self.current_version)
    }
}

impl Names for ImportParameters {
    fn key_id(&self) -> Option<&KeyId> {
        Some(&self.key_id)
    }
}

impl Names for () {}
impl Names for bool {}
impl Names for Vec<u8> {}
impl Names for KeyPage {}
impl Names for Vec<AliasEntry> {}

/// The embedded store, recording every key operation in its audit log.
#[derive(Debug)]
pub struct AuditedBackend {
    inner: Arc<LocalBackend>,
    scope: AuditScope,
}

impl AuditedBackend {
    /// The store of `scope`, recording as `scope` says.
    pub fn new(scope: AuditScope) -> Self {
        Self {
            inner: scope.store.clone(),
            scope,
        }
    }

    /// Who the records name.
    pub fn scope(&self) -> &AuditScope {
        &self.scope
    }

    /// Records `result` of `op`; the entity is the key the result names, else `entity`.
    async fn log<T: Names>(&self, op: Operation, entity: String, result: Result<T>) -> Result<T> {
        let (id, version) = match &result {
            Ok(v) => (v.key_id().map(ToString::to_string), v.version()),
            Err(_) => (None, None),
        };
        let subject = Subject::key(op, id.unwrap_or(entity)).version(version);
        self.scope.record(subject, result).await
    }
}

#[async_trait]
impl KmsBackend for AuditedBackend {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn status(&self) -> Result<BackendStatus> {
        self.inner.status().await
    }

    async fn describe_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        let r = self.inner.describe_key(key).await;
        self.log(Operation::DescribeKey, key.to_string(), r).await
    }

    async fn ciphertext_key(&self, ciphertext: &[u8]) -> Result<KeyRef> {
        self.inner.ciphertext_key(ciphertext).await
    }

    async fn create_key(&self, req: CreateKeyRequest) -> Result<Arc<KeyMetadata>> {
        let r = self.inner.create_key(req).await;
        self.log(Operation::CreateKey, String::new(), r).await
    }

    async fn list_keys(&self, req: &ListKeysRequest) -> Result<KeyPage> {
        let r = self.inner.list_keys(req).await;
        self.log(Operation::ListKeys, String::new(), r).await
    }

    async fn update_key(&self, key: &KeyMetadata, update: KeyUpdate) -> Result<Arc<KeyMetadata>> {
        let r = self.inner.update_key(key, update).await;
        self.log(Operation::UpdateKey, key.key_id.to_string(), r)
            .await
    }

    async fn change_state(
        &self,
        key: &KeyMetadata,
        change: StateChange,
    ) -> Result<Arc<KeyMetadata>> {
        let op = change.operation();
        let r = self.inner.change_state(key, change).await;
        self.log(op, key.key_id.to_string(), r).await
    }

    async fn rotate_key(&self, key: &KeyMetadata) -> Result<Arc<KeyMetadata>> {
        let r = self.inner.rotate_key(key).await;
        self.log(Operation::RotateKey, key.key_id.to_string(), r)
            .await
    }

    async fn create_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        let r = self.inner.create_alias(alias, key).await;
        self.log(Operation::CreateAlias, key.key_id.to_string(), r)
            .await
    }

    async fn update_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        let r = self.inner.update_alias(alias, key).await;
        self.log(Operation::UpdateAlias, key.key_id.to_string(), r)
            .await
    }

    async fn delete_alias(&self, alias: &AliasName) -> Result<()> {
        // The server names the key the alias pointed at, when it resolves.
        let entity = match self.inner.describe_key(&KeyRef::Alias(alias.clone())).await {
            Ok(meta) => meta.key_id.to_string(),
            Err(_) => alias.to_string(),
        };
        let r = self.inner.delete_alias(alias).await;
        self.log(Operation::DeleteAlias, entity, r).await
    }

    async fn list_aliases(&self, key: Option<KeyId>) -> Result<Vec<AliasEntry>> {
        let entity = key.as_ref().map(ToString::to_string).unwrap_or_default();
        let r = self.inner.list_aliases(key).await;
        self.log(Operation::ListAliases, entity, r).await
    }

    async fn import_parameters(&self, key: &KeyMetadata) -> Result<ImportParameters> {
        let r = self.inner.import_parameters(key).await;
        self.log(Operation::GetImportParameters, key.key_id.to_string(), r)
            .await
    }

    async fn import_key_material(
        &self,
        key: &KeyMetadata,
        import_token: &str,
        wrapped: &[u8],
    ) -> Result<Arc<KeyMetadata>> {
        let r = self
            .inner
            .import_key_material(key, import_token, wrapped)
            .await;
        self.log(Operation::ImportKeyMaterial, key.key_id.to_string(), r)
            .await
    }

    async fn public_key(&self, key: &KeyMetadata, version: Option<u32>) -> Result<PublicKeyInfo> {
        let r = self.inner.public_key(key, version).await;
        self.log(Operation::GetPublicKey, key.key_id.to_string(), r)
            .await
    }

    async fn encrypt(
        &self,
        key: &KeyMetadata,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Encrypted> {
        let r = self.inner.encrypt(key, plaintext, context).await;
        self.log(Operation::Encrypt, key.key_id.to_string(), r)
            .await
    }

    async fn decrypt(
        &self,
        key: &KeyMetadata,
        ciphertext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Decrypted> {
        let r = self.inner.decrypt(key, ciphertext, context).await;
        self.log(Operation::Decrypt, key.key_id.to_string(), r)
            .await
    }

    async fn sign(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
    ) -> Result<SignatureOutput> {
        let r = self.inner.sign(key, message, message_type, algorithm).await;
        self.log(Operation::Sign, key.key_id.to_string(), r).await
    }

    async fn verify(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
        signature: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        let r = self
            .inner
            .verify(key, message, message_type, algorithm, signature, version)
            .await;
        self.log(Operation::Verify, key.key_id.to_string(), r).await
    }

    async fn generate_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<MacOutput> {
        let r = self.inner.generate_mac(key, message, algorithm).await;
        self.log(Operation::GenerateMac, key.key_id.to_string(), r)
            .await
    }

    async fn verify_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
        mac: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        let r = self
            .inner
            .verify_mac(key, message, algorithm, mac, version)
            .await;
        self.log(Operation::VerifyMac, key.key_id.to_string(), r)
            .await
    }

    async fn generate_random(&self, len: usize) -> Result<Vec<u8>> {
        let r = self.inner.generate_random(len).await;
        self.log(Operation::GenerateRandom, String::new(), r).await
    }
}
