//! The [`KmsBackend`] implementation: a table of contents that dispatches
//! each operation to its `op/` module.

use std::sync::Arc;

use async_trait::async_trait;

use kms_core::types::{
    AliasEntry, CreateKeyRequest, Decrypted, Encrypted, ImportParameters, KeyPage, KeyUpdate,
    ListKeysRequest, MacOutput, PublicKeyInfo, SignatureOutput, StateChange,
};
use kms_core::{
    AliasName, BackendStatus, Capabilities, EncryptionContext, KeyId, KeyMetadata, KeyRef,
    KmsBackend, MacAlgorithm, MessageType, Result, SigningAlgorithm,
};

use crate::backend::LocalBackend;

#[async_trait]
impl KmsBackend for LocalBackend {
    fn name(&self) -> &'static str {
        "local"
    }

    fn capabilities(&self) -> &Capabilities {
        self.capabilities_ref()
    }

    async fn status(&self) -> Result<BackendStatus> {
        let sealed = self.is_sealed();
        let key_count = match self.op_key_count().await {
            Ok(n) => Some(n),
            Err(e) => {
                return Ok(BackendStatus {
                    backend: "local".into(),
                    available: false,
                    sealed,
                    key_count: None,
                    detail: format!("{}: {e}", self.opts.redacted_url()),
                });
            }
        };
        if !sealed {
            self.purge_due().await?;
        }
        Ok(BackendStatus {
            backend: "local".into(),
            available: true,
            sealed,
            key_count,
            detail: self.opts.redacted_url(),
        })
    }

    async fn describe_key(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        self.resolve(key).await
    }

    async fn ciphertext_key(&self, ciphertext: &[u8]) -> Result<KeyRef> {
        Self::op_ciphertext_key(ciphertext)
    }

    async fn create_key(&self, req: CreateKeyRequest) -> Result<Arc<KeyMetadata>> {
        self.op_create_key(req).await
    }

    async fn list_keys(&self, req: &ListKeysRequest) -> Result<KeyPage> {
        self.op_list_keys(req).await
    }

    async fn update_key(&self, key: &KeyMetadata, update: KeyUpdate) -> Result<Arc<KeyMetadata>> {
        self.op_update_key(key, update).await
    }

    async fn change_state(
        &self,
        key: &KeyMetadata,
        change: StateChange,
    ) -> Result<Arc<KeyMetadata>> {
        self.op_change_state(key, change).await
    }

    async fn rotate_key(&self, key: &KeyMetadata) -> Result<Arc<KeyMetadata>> {
        self.rotate(&key.key_id, false).await
    }

    async fn create_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        self.op_create_alias(alias, key).await
    }

    async fn update_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        self.op_update_alias(alias, key).await
    }

    async fn delete_alias(&self, alias: &AliasName) -> Result<()> {
        self.op_delete_alias(alias).await
    }

    async fn list_aliases(&self, key: Option<KeyId>) -> Result<Vec<AliasEntry>> {
        self.op_list_aliases(key).await
    }

    async fn import_parameters(&self, key: &KeyMetadata) -> Result<ImportParameters> {
        self.op_import_parameters(key).await
    }

    async fn import_key_material(
        &self,
        key: &KeyMetadata,
        import_token: &str,
        wrapped: &[u8],
    ) -> Result<Arc<KeyMetadata>> {
        self.op_import_key_material(key, import_token, wrapped)
            .await
    }

    async fn public_key(&self, key: &KeyMetadata, version: Option<u32>) -> Result<PublicKeyInfo> {
        self.op_public_key(key, version).await
    }

    async fn encrypt(
        &self,
        key: &KeyMetadata,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Encrypted> {
        self.op_encrypt(key, plaintext, context).await
    }

    async fn decrypt(
        &self,
        key: &KeyMetadata,
        ciphertext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Decrypted> {
        self.op_decrypt(key, ciphertext, context).await
    }

    async fn sign(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
    ) -> Result<SignatureOutput> {
        self.op_sign(key, message, message_type, algorithm).await
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
        self.op_verify(key, message, message_type, algorithm, signature, version)
            .await
    }

    async fn generate_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<MacOutput> {
        self.op_generate_mac(key, message, algorithm).await
    }

    async fn verify_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
        mac: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        self.op_verify_mac(key, message, algorithm, mac, version)
            .await
    }

    async fn generate_random(&self, len: usize) -> Result<Vec<u8>> {
        let mut out = vec![0u8; len];
        self.opts.rng.fill(&mut out)?;
        Ok(out)
    }
}
