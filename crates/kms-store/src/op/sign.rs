//! Sign and verify (RAW or DIGEST), MACs, and public key export.

use kms_core::types::{MacOutput, PublicKeyInfo, SignatureOutput};
use kms_core::{KeyMetadata, MacAlgorithm, MessageType, Result, SigningAlgorithm};

use crate::backend::LocalBackend;

impl LocalBackend {
    /// The versions to try when none is named: newest first, down to `min_decryption_version`.
    fn candidate_versions(key: &KeyMetadata, version: Option<u32>) -> Result<Vec<u32>> {
        match version {
            Some(v) => {
                Self::usable_version(key, v)?;
                Ok(vec![v])
            }
            None => Ok((key.min_decryption_version.max(1)..=key.current_version)
                .rev()
                .collect()),
        }
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
        for v in Self::candidate_versions(key, version)? {
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
        for v in Self::candidate_versions(key, version)? {
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
        Self::usable_version(key, version)?;
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
