//! Sign and verify (RAW or DIGEST), MACs, and public key export.

use kms_core::types::{MacOutput, PublicKeyInfo, SignatureOutput};
use kms_core::{KeyMetadata, MacAlgorithm, MessageType, Operation, Result, SigningAlgorithm};

use crate::backend::LocalBackend;

/// Every usable version of `key`, newest first.
fn all_versions(key: &KeyMetadata) -> Vec<u32> {
    (key.min_decryption_version.max(1)..=key.current_version)
        .rev()
        .collect()
}

impl LocalBackend {
    /// The versions to try: the one named (see
    /// [`LocalBackend::check_version`]), or when none is, newest first down
    /// to `min_decryption_version`.
    async fn candidate_versions(
        &self,
        key: &KeyMetadata,
        version: Option<u32>,
        op: Operation,
    ) -> Result<Vec<u32>> {
        match version {
            Some(v) => {
                self.check_version(key, v, op).await?;
                Ok(vec![v])
            }
            None => Ok(all_versions(key)),
        }
    }

    /// When no version was named and none of `key`'s versions verified:
    /// the versions the database knows of now but `key` did not (another
    /// node may have rotated the key, or lowered its minimum, and signed
    /// with a version this process has not seen). Empty when nothing
    /// changed; the fresh state is checked.
    async fn unseen_versions(
        &self,
        key: &KeyMetadata,
        version: Option<u32>,
        op: Operation,
    ) -> Result<Vec<u32>> {
        if version.is_some() {
            return Ok(Vec::new());
        }
        let fresh = self.revalidate(&key.key_id).await?;
        let tried = all_versions(key);
        let unseen: Vec<u32> = all_versions(&fresh)
            .into_iter()
            .filter(|v| !tried.contains(v))
            .collect();
        if !unseen.is_empty() {
            fresh.check(op)?;
        }
        Ok(unseen)
    }

    pub(crate) async fn op_sign(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
    ) -> Result<SignatureOutput> {
        let prepared = self.material(key, key.current_version).await?;
        let signature = prepared.sign(algorithm, message, message_type)?;
        Ok(SignatureOutput {
            key_id: key.key_id,
            version: key.current_version,
            algorithm,
            signature,
        })
    }

    pub(crate) async fn op_verify(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
        signature: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        for v in self
            .candidate_versions(key, version, Operation::Verify)
            .await?
        {
            let prepared = self.material(key, v).await?;
            if prepared.verify(algorithm, message, message_type, signature)? {
                return Ok(true);
            }
        }
        for v in self
            .unseen_versions(key, version, Operation::Verify)
            .await?
        {
            let prepared = self.material(key, v).await?;
            if prepared.verify(algorithm, message, message_type, signature)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(crate) async fn op_generate_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<MacOutput> {
        let prepared = self.material(key, key.current_version).await?;
        Ok(MacOutput {
            key_id: key.key_id,
            version: key.current_version,
            algorithm,
            mac: prepared.mac(algorithm, message)?,
        })
    }

    pub(crate) async fn op_verify_mac(
        &self,
        key: &KeyMetadata,
        message: &[u8],
        algorithm: MacAlgorithm,
        mac: &[u8],
        version: Option<u32>,
    ) -> Result<bool> {
        for v in self
            .candidate_versions(key, version, Operation::VerifyMac)
            .await?
        {
            let prepared = self.material(key, v).await?;
            if prepared.verify_mac(algorithm, message, mac)? {
                return Ok(true);
            }
        }
        for v in self
            .unseen_versions(key, version, Operation::VerifyMac)
            .await?
        {
            let prepared = self.material(key, v).await?;
            if prepared.verify_mac(algorithm, message, mac)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(crate) async fn op_public_key(
        &self,
        key: &KeyMetadata,
        version: Option<u32>,
    ) -> Result<PublicKeyInfo> {
        let version = version.unwrap_or(key.current_version);
        self.check_version(key, version, Operation::GetPublicKey)
            .await?;
        let prepared = self.material(key, version).await?;
        Ok(PublicKeyInfo {
            key_id: key.key_id,
            version,
            spec: key.spec,
            usage: key.usage,
            der: prepared.public_key_der()?,
            signing_algorithms: if key.usage == kms_core::KeyUsage::SignVerify {
                key.spec.signing_algorithms().to_vec()
            } else {
                Vec::new()
            },
            encryption_algorithms: if key.usage == kms_core::KeyUsage::EncryptDecrypt {
                key.spec.encryption_algorithms().to_vec()
            } else {
                Vec::new()
            },
        })
    }
}
