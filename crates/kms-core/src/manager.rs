//! The `KmsManager` facade: one interface over every backend. It routes a key
//! reference to its backend, resolves the key, checks the key-state ×
//! operation table, the key's usage and the backend's capabilities, then
//! calls the backend. Data keys, data key pairs and re-encryption are built
//! here on top of encrypt/decrypt, so every backend gets them.

use std::collections::HashMap;
use std::sync::Arc;

use crate::backend::{BackendStatus, KmsBackend};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::key::{AliasName, KeyId, KeyMetadata, KeyRef};
use crate::operation::Operation;
use crate::rng::Rng;
use crate::secret::DataKey;
use crate::spec::{DataKeyPairSpec, MacAlgorithm, MessageType, SigningAlgorithm};
use crate::types::{
    AliasEntry, CreateKeyRequest, DataKeyLength, Decrypted, Encrypted, GeneratedDataKey,
    GeneratedDataKeyPair, ImportParameters, KeyPage, KeyUpdate, ListKeysRequest, MacOutput,
    PublicKeyInfo, SignatureOutput, StateChange, check_deletion_window, check_rotation_period,
};

const TOO_LARGE_HINT: &str = "; use `kms encrypt-file` (envelope encryption) for larger data";

/// A key routed to its backend and described, for many operations of one
/// kind ([`KmsManager::resolve_key`]).
#[derive(Debug, Clone)]
pub struct ResolvedKey<'a> {
    backend: &'a Arc<dyn KmsBackend>,
    meta: Arc<KeyMetadata>,
}

impl ResolvedKey<'_> {
    /// The key's metadata as read when it was resolved.
    pub fn metadata(&self) -> &Arc<KeyMetadata> {
        &self.meta
    }
}

/// The facade over the configured backends.
#[derive(Debug, Clone)]
pub struct KmsManager {
    default: Arc<dyn KmsBackend>,
    by_scheme: HashMap<String, Arc<dyn KmsBackend>>,
    rng: Arc<dyn Rng>,
}

impl KmsManager {
    /// A manager whose default backend (for bare ids and aliases) is `default`.
    pub fn new(default: Arc<dyn KmsBackend>, rng: Arc<dyn Rng>) -> Self {
        let mut by_scheme = HashMap::new();
        by_scheme.insert(default.name().to_string(), default.clone());
        Self {
            default,
            by_scheme,
            rng,
        }
    }

    /// Adds a backend reachable by URI scheme (`vault://…` for a backend named `vault`).
    pub fn with_backend(mut self, scheme: &str, backend: Arc<dyn KmsBackend>) -> Self {
        self.by_scheme.insert(scheme.to_ascii_lowercase(), backend);
        self
    }

    /// The default backend.
    pub fn default_backend(&self) -> &Arc<dyn KmsBackend> {
        &self.default
    }

    /// Picks the backend for a reference and the reference it should see.
    fn route(&self, key: &KeyRef) -> Result<(&Arc<dyn KmsBackend>, KeyRef)> {
        match key {
            KeyRef::Uri { scheme, rest } => {
                let backend = self.by_scheme.get(scheme).ok_or_else(|| {
                    Error::invalid(
                        "key",
                        format!(
                            "no backend is configured for {scheme}:// (configured: {})",
                            self.schemes()
                        ),
                    )
                })?;
                if backend.name() == self.default.name() && scheme == self.default.name() {
                    Ok((backend, KeyRef::parse(rest)?))
                } else {
                    Ok((backend, key.clone()))
                }
            }
            other => Ok((&self.default, other.clone())),
        }
    }

    fn schemes(&self) -> String {
        let mut s: Vec<&str> = self.by_scheme.keys().map(String::as_str).collect();
        s.sort_unstable();
        s.join(", ")
    }

    fn require(backend: &dyn KmsBackend, op: Operation) -> Result<()> {
        if backend.capabilities().supports(op) {
            Ok(())
        } else {
            Err(Error::unsupported(
                backend.name(),
                op.as_str().replace('_', " "),
            ))
        }
    }

    /// Routes, checks the capability, resolves and checks state and usage.
    async fn resolve(
        &self,
        key: &KeyRef,
        op: Operation,
    ) -> Result<(&Arc<dyn KmsBackend>, Arc<KeyMetadata>)> {
        let ResolvedKey { backend, meta } = self.resolve_key(key, op).await?;
        meta.check(op)?;
        Ok((backend, meta))
    }

    /// Routes `key` to its backend, checks that the backend can do `op` and
    /// reads the key's metadata, once for many calls (the items of a batch):
    /// see [`Self::encrypt_with`]. The key's state and usage are checked on
    /// each call, against the metadata as read here.
    pub async fn resolve_key(&self, key: &KeyRef, op: Operation) -> Result<ResolvedKey<'_>> {
        let (backend, key) = self.route(key)?;
        Self::require(backend.as_ref(), op)?;
        let meta = backend.describe_key(&key).await?;
        Ok(ResolvedKey { backend, meta })
    }

    /// Status of the default backend.
    pub async fn status(&self) -> Result<BackendStatus> {
        self.default.status().await
    }

    /// Creates a key in the default backend.
    pub async fn create_key(&self, req: CreateKeyRequest) -> Result<Arc<KeyMetadata>> {
        Self::require(self.default.as_ref(), Operation::CreateKey)?;
        req.validate()?;
        if !self.default.capabilities().key_specs.contains(&req.spec) {
            return Err(Error::unsupported(
                self.default.name(),
                format!("key spec {}", req.spec),
            ));
        }
        self.default.create_key(req).await
    }

    /// Describes a key.
    pub async fn describe_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        Ok(self.resolve(key, Operation::DescribeKey).await?.1)
    }

    /// Lists keys of the default backend.
    pub async fn list_keys(&self, req: &ListKeysRequest) -> Result<KeyPage> {
        Self::require(self.default.as_ref(), Operation::ListKeys)?;
        req.page_size()?;
        self.default.list_keys(req).await
    }

    /// Updates description, tags or rotation settings.
    pub async fn update_key(&self, key: &KeyRef, update: KeyUpdate) -> Result<Arc<KeyMetadata>> {
        let (backend, meta) = self.resolve(key, Operation::UpdateKey).await?;
        crate::types::validate_tags(&update.set_tags)?;
        if let Some(Some(days)) = update.rotation_period_days {
            check_rotation_period(days)?;
            if meta.spec.is_asymmetric() {
                return Err(Error::IncompatibleSpec {
                    spec: meta.spec,
                    what: "rotate automatically (rotate asymmetric keys by hand)".into(),
                });
            }
        }
        if let Some(v) = update.min_decryption_version
            && (v == 0 || v > meta.current_version)
        {
            return Err(Error::invalid(
                "min_decryption_version",
                format!(
                    "{v} is outside 1–{} (the newest version)",
                    meta.current_version
                ),
            ));
        }
        backend.update_key(&meta, update).await
    }

    /// Enables a key.
    pub async fn enable_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        self.change_state(key, Operation::EnableKey, StateChange::Enable)
            .await
    }

    /// Disables a key.
    pub async fn disable_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        self.change_state(key, Operation::DisableKey, StateChange::Disable)
            .await
    }

    /// Schedules a key's destruction after `days` (7–30; 30 when `None`).
    pub async fn schedule_key_deletion(
        &self,
        key: &KeyRef,
        days: Option<u32>,
    ) -> Result<Arc<KeyMetadata>> {
        let days = days.unwrap_or(crate::types::DEFAULT_DELETION_WINDOW_DAYS);
        check_deletion_window(days)?;
        self.change_state(
            key,
            Operation::ScheduleKeyDeletion,
            StateChange::ScheduleDeletion { days },
        )
        .await
    }

    /// Cancels a scheduled deletion; the key becomes `Disabled`.
    pub async fn cancel_key_deletion(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        self.change_state(
            key,
            Operation::CancelKeyDeletion,
            StateChange::CancelDeletion,
        )
        .await
    }

    async fn change_state(
        &self,
        key: &KeyRef,
        op: Operation,
        change: StateChange,
    ) -> Result<Arc<KeyMetadata>> {
        let (backend, meta) = self.resolve(key, op).await?;
        backend.change_state(&meta, change).await
    }

    /// Adds a version to a key.
    pub async fn rotate_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        let (backend, meta) = self.resolve(key, Operation::RotateKey).await?;
        backend.rotate_key(&meta).await
    }

    /// Creates an alias for a key.
    pub async fn create_alias(&self, alias: &AliasName, key: &KeyRef) -> Result<()> {
        let (backend, meta) = self.resolve(key, Operation::CreateAlias).await?;
        backend.create_alias(alias, &meta).await
    }

    /// Points an alias at another key.
    pub async fn update_alias(&self, alias: &AliasName, key: &KeyRef) -> Result<()> {
        let (backend, meta) = self.resolve(key, Operation::UpdateAlias).await?;
        backend.update_alias(alias, &meta).await
    }

    /// Deletes an alias (of the default backend).
    pub async fn delete_alias(&self, alias: &AliasName) -> Result<()> {
        Self::require(self.default.as_ref(), Operation::DeleteAlias)?;
        self.default.delete_alias(alias).await
    }

    /// Lists aliases, of one key or all.
    pub async fn list_aliases(&self, key: Option<&KeyRef>) -> Result<Vec<AliasEntry>> {
        match key {
            Some(k) => {
                let (backend, meta) = self.resolve(k, Operation::ListAliases).await?;
                backend.list_aliases(Some(meta.key_id)).await
            }
            None => {
                Self::require(self.default.as_ref(), Operation::ListAliases)?;
                self.default.list_aliases(None).await
            }
        }
    }

    /// Parameters to import key material into a `PendingImport` key.
    pub async fn import_parameters(&self, key: &KeyRef) -> Result<ImportParameters> {
        let (backend, meta) = self.resolve(key, Operation::GetImportParameters).await?;
        backend.import_parameters(&meta).await
    }

    /// Imports wrapped key material.
    pub async fn import_key_material(
        &self,
        key: &KeyRef,
        import_token: &str,
        wrapped: &[u8],
    ) -> Result<Arc<KeyMetadata>> {
        let (backend, meta) = self.resolve(key, Operation::ImportKeyMaterial).await?;
        backend
            .import_key_material(&meta, import_token, wrapped)
            .await
    }

    /// The public key of an asymmetric key.
    pub async fn public_key(&self, key: &KeyRef, version: Option<u32>) -> Result<PublicKeyInfo> {
        let (backend, meta) = self.resolve(key, Operation::GetPublicKey).await?;
        if !meta.spec.is_asymmetric() {
            return Err(Error::IncompatibleSpec {
                spec: meta.spec,
                what: "export a public key (it is symmetric)".into(),
            });
        }
        backend.public_key(&meta, version).await
    }

    fn check_plaintext_len(meta: &KeyMetadata, backend: &dyn KmsBackend, len: usize) -> Result<()> {
        let spec_max = meta.spec.max_plaintext_len().unwrap_or(0);
        let max = if meta.spec.is_rsa() {
            spec_max
        } else {
            spec_max.min(backend.capabilities().max_plaintext)
        };
        if len > max {
            return Err(Error::PayloadTooLarge {
                what: "plaintext",
                len,
                max,
                hint: TOO_LARGE_HINT,
            });
        }
        Ok(())
    }

    /// Encrypts up to 64 KiB (symmetric) or what OAEP allows (RSA).
    pub async fn encrypt(
        &self,
        key: &KeyRef,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Encrypted> {
        let key = self.resolve_key(key, Operation::Encrypt).await?;
        self.encrypt_with(&key, plaintext, context).await
    }

    /// [`Self::encrypt`] under a key resolved by [`Self::resolve_key`].
    pub async fn encrypt_with(
        &self,
        key: &ResolvedKey<'_>,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Encrypted> {
        let ResolvedKey { backend, meta } = key;
        Self::require(backend.as_ref(), Operation::Encrypt)?;
        meta.check(Operation::Encrypt)?;
        Self::check_plaintext_len(meta, backend.as_ref(), plaintext.len())?;
        backend.encrypt(meta, plaintext, context).await
    }

    /// Decrypts; the key is taken from the ciphertext unless given.
    pub async fn decrypt(
        &self,
        ciphertext: &[u8],
        context: &EncryptionContext,
        key: Option<&KeyRef>,
    ) -> Result<Decrypted> {
        let (backend, meta) = self
            .resolve_for_decrypt(ciphertext, key, Operation::Decrypt)
            .await?;
        backend.decrypt(&meta, ciphertext, context).await
    }

    async fn resolve_for_decrypt(
        &self,
        ciphertext: &[u8],
        key: Option<&KeyRef>,
        op: Operation,
    ) -> Result<(&Arc<dyn KmsBackend>, Arc<KeyMetadata>)> {
        let named = match key {
            Some(k) => {
                let (backend, _) = self.route(k)?;
                let from_ct = backend.ciphertext_key(ciphertext).await.ok();
                let (b, meta) = self.resolve(k, op).await?;
                if let Some(ct_key) = from_ct {
                    let ct_meta = b.describe_key(&ct_key).await?;
                    if ct_meta.key_id != meta.key_id {
                        return Err(Error::invalid(
                            "key",
                            format!(
                                "the ciphertext was made with key {}, not {}",
                                ct_meta.key_id, meta.key_id
                            ),
                        ));
                    }
                }
                return Ok((b, meta));
            }
            None => self.default.ciphertext_key(ciphertext).await?,
        };
        self.resolve(&named, op).await
    }

    /// Decrypts with one key and context and encrypts under another, inside the KMS.
    pub async fn re_encrypt(
        &self,
        ciphertext: &[u8],
        source_context: &EncryptionContext,
        source_key: Option<&KeyRef>,
        destination_key: &KeyRef,
        destination_context: &EncryptionContext,
    ) -> Result<Encrypted> {
        let (src_backend, src_meta) = self
            .resolve_for_decrypt(ciphertext, source_key, Operation::ReEncrypt)
            .await?;
        let (dst_backend, dst_meta) = self.resolve(destination_key, Operation::ReEncrypt).await?;
        let plain = src_backend
            .decrypt(&src_meta, ciphertext, source_context)
            .await?;
        Self::check_plaintext_len(&dst_meta, dst_backend.as_ref(), plain.plaintext.len())?;
        dst_backend
            .encrypt(
                &dst_meta,
                plain.plaintext.expose_secret(),
                destination_context,
            )
            .await
    }

    /// A data key: random bytes and the same encrypted under `key`.
    pub async fn generate_data_key(
        &self,
        key: &KeyRef,
        length: DataKeyLength,
        context: &EncryptionContext,
        with_plaintext: bool,
    ) -> Result<GeneratedDataKey> {
        let n = length.bytes()?;
        let (backend, meta) = self.resolve(key, Operation::GenerateDataKey).await?;
        if !matches!(meta.spec, crate::KeySpec::Aes128 | crate::KeySpec::Aes256) {
            return Err(Error::IncompatibleSpec {
                spec: meta.spec,
                what: "wrap data keys (use a symmetric key)".into(),
            });
        }
        let mut bytes = zeroize::Zeroizing::new(vec![0u8; n]);
        self.rng.fill(&mut bytes)?;
        let enc = backend.encrypt(&meta, &bytes, context).await?;
        Ok(GeneratedDataKey {
            key_id: enc.key_id,
            version: enc.version,
            plaintext: with_plaintext.then(|| DataKey::from(bytes)),
            ciphertext: enc.ciphertext,
        })
    }

    /// A data key pair: a new key pair whose private key is encrypted under `key`.
    pub async fn generate_data_key_pair(
        &self,
        key: &KeyRef,
        spec: DataKeyPairSpec,
        context: &EncryptionContext,
        with_plaintext: bool,
    ) -> Result<GeneratedDataKeyPair> {
        let (backend, meta) = self.resolve(key, Operation::GenerateDataKeyPair).await?;
        if !matches!(meta.spec, crate::KeySpec::Aes128 | crate::KeySpec::Aes256) {
            return Err(Error::IncompatibleSpec {
                spec: meta.spec,
                what: "wrap data key pairs (use a symmetric key)".into(),
            });
        }
        let (private, public) = crate::crypto::generate_key_pair(spec)?;
        let enc = backend
            .encrypt(&meta, private.expose_secret(), context)
            .await?;
        Ok(GeneratedDataKeyPair {
            key_id: enc.key_id,
            version: enc.version,
            spec,
            private_key_plaintext: with_plaintext.then_some(private),
            private_key_ciphertext: enc.ciphertext,
            public_key: public,
        })
    }

    fn signing_algorithm(
        meta: &KeyMetadata,
        algorithm: Option<SigningAlgorithm>,
    ) -> Result<SigningAlgorithm> {
        let allowed = meta.spec.signing_algorithms();
        let alg = match algorithm {
            Some(a) => a,
            None => *allowed.first().ok_or_else(|| Error::IncompatibleSpec {
                spec: meta.spec,
                what: "sign".into(),
            })?,
        };
        if !allowed.contains(&alg) {
            return Err(Error::IncompatibleSpec {
                spec: meta.spec,
                what: format!(
                    "sign with {alg} (it can use: {})",
                    allowed
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        Ok(alg)
    }

    fn check_message(
        meta: &KeyMetadata,
        alg: SigningAlgorithm,
        message: &[u8],
        message_type: MessageType,
    ) -> Result<()> {
        match (message_type, alg.digest_len()) {
            (MessageType::Digest, None) => Err(Error::IncompatibleSpec {
                spec: meta.spec,
                what: format!("sign a DIGEST with {alg}; pass the RAW message"),
            }),
            (MessageType::Digest, Some(n)) if message.len() != n => Err(Error::invalid(
                "message",
                format!("a {alg} digest is {n} bytes; got {}", message.len()),
            )),
            (MessageType::Raw, _) if message.len() > 4096 => Err(Error::PayloadTooLarge {
                what: "message",
                len: message.len(),
                max: 4096,
                hint: "; sign a DIGEST of larger messages",
            }),
            _ => Ok(()),
        }
    }

    /// Signs a RAW message (at most 4 KiB) or a DIGEST.
    pub async fn sign(
        &self,
        key: &KeyRef,
        message: &[u8],
        message_type: MessageType,
        algorithm: Option<SigningAlgorithm>,
    ) -> Result<SignatureOutput> {
        let (backend, meta) = self.resolve(key, Operation::Sign).await?;
        let alg = Self::signing_algorithm(&meta, algorithm)?;
        Self::check_message(&meta, alg, message, message_type)?;
        backend.sign(&meta, message, message_type, alg).await
    }

    /// Verifies a signature; `Ok(false)` when it does not match.
    pub async fn verify(
        &self,
        key: &KeyRef,
        message: &[u8],
        message_type: MessageType,
        algorithm: Option<SigningAlgorithm>,
        signature: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        let (backend, meta) = self.resolve(key, Operation::Verify).await?;
        let alg = Self::signing_algorithm(&meta, algorithm)?;
        Self::check_message(&meta, alg, message, message_type)?;
        backend
            .verify(&meta, message, message_type, alg, signature, version)
            .await
    }

    fn mac_algorithm(meta: &KeyMetadata, algorithm: Option<MacAlgorithm>) -> Result<MacAlgorithm> {
        let allowed = meta.spec.mac_algorithms();
        let alg = match algorithm {
            Some(a) => a,
            None => *allowed.first().ok_or_else(|| Error::IncompatibleSpec {
                spec: meta.spec,
                what: "compute MACs".into(),
            })?,
        };
        if !allowed.contains(&alg) {
            return Err(Error::IncompatibleSpec {
                spec: meta.spec,
                what: format!("compute {alg}"),
            });
        }
        Ok(alg)
    }

    /// Computes a MAC (message at most 4 KiB).
    pub async fn generate_mac(
        &self,
        key: &KeyRef,
        message: &[u8],
        algorithm: Option<MacAlgorithm>,
    ) -> Result<MacOutput> {
        let (backend, meta) = self.resolve(key, Operation::GenerateMac).await?;
        let alg = Self::mac_algorithm(&meta, algorithm)?;
        Self::check_mac_message(message)?;
        backend.generate_mac(&meta, message, alg).await
    }

    fn check_mac_message(message: &[u8]) -> Result<()> {
        if message.len() > 4096 {
            return Err(Error::PayloadTooLarge {
                what: "message",
                len: message.len(),
                max: 4096,
                hint: "",
            });
        }
        Ok(())
    }

    /// Verifies a MAC in constant time; `Ok(false)` when it does not match.
    pub async fn verify_mac(
        &self,
        key: &KeyRef,
        message: &[u8],
        algorithm: Option<MacAlgorithm>,
        mac: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        let (backend, meta) = self.resolve(key, Operation::VerifyMac).await?;
        let alg = Self::mac_algorithm(&meta, algorithm)?;
        Self::check_mac_message(message)?;
        backend.verify_mac(&meta, message, alg, mac, version).await
    }

    /// 1–1024 random bytes.
    pub async fn generate_random(&self, len: usize) -> Result<Vec<u8>> {
        if !(1..=crate::MAX_RANDOM_BYTES).contains(&len) {
            return Err(Error::invalid(
                "number of bytes",
                format!("{len} is outside 1–{}", crate::MAX_RANDOM_BYTES),
            ));
        }
        Self::require(self.default.as_ref(), Operation::GenerateRandom)?;
        self.default.generate_random(len).await
    }

    /// The key id a reference resolves to, without state checks.
    pub async fn key_id(&self, key: &KeyRef) -> Result<KeyId> {
        Ok(self.describe_key(key).await?.key_id)
    }
}
