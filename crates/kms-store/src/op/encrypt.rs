//! Encrypt and decrypt with the self-describing `kms:v1` ciphertext
//! (layout in `kms_core::ciphertext` and `docs/ciphertext-format.md`).

use kms_core::ciphertext::{CiphertextAlgorithm, CiphertextHeader, HEADER_LEN, NONCE_LEN};
use kms_core::types::{Decrypted, Encrypted};
use kms_core::{EncryptionContext, Error, KeyMetadata, KeyRef, KeySpec, Operation, Result};

use crate::backend::LocalBackend;

fn algorithm_for(spec: KeySpec) -> Result<CiphertextAlgorithm> {
    match spec {
        KeySpec::Aes128 => Ok(CiphertextAlgorithm::Aes128Gcm),
        KeySpec::Aes256 => Ok(CiphertextAlgorithm::Aes256Gcm),
        s if s.is_rsa() => Ok(CiphertextAlgorithm::RsaOaepSha256),
        s => Err(Error::IncompatibleSpec {
            spec: s,
            what: "encrypt".into(),
        }),
    }
}

fn no_context_with_rsa(context: &EncryptionContext) -> Result<()> {
    if context.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(
            "context",
            "RSA-OAEP has no associated data; an encryption context needs a symmetric key",
        ))
    }
}

impl LocalBackend {
    pub(crate) async fn op_encrypt(
        &self,
        key: &KeyMetadata,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Encrypted> {
        let algorithm = algorithm_for(key.spec)?;
        let version = key.current_version;
        let prepared = self.material(key, version).await?;
        let header = CiphertextHeader {
            algorithm,
            key_id: key.key_id,
            version,
        }
        .to_bytes();
        let ciphertext = match algorithm {
            CiphertextAlgorithm::RsaOaepSha256 => {
                no_context_with_rsa(context)?;
                let mut out = header.to_vec();
                out.extend_from_slice(&prepared.rsa_oaep_encrypt(plaintext)?);
                out
            }
            _ => {
                let aead = prepared
                    .aead()
                    .ok_or_else(|| Error::Internal("symmetric key without AEAD".into()))?;
                let nonce = self.nonces.next()?;
                let mut aad = Vec::with_capacity(HEADER_LEN + context.encoded_len());
                aad.extend_from_slice(&header);
                context.encode_into(&mut aad);
                let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + 16);
                out.extend_from_slice(&header);
                out.extend_from_slice(&nonce);
                let mut body = Vec::with_capacity(plaintext.len() + 16);
                body.extend_from_slice(plaintext);
                aead.seal_in_place_append_tag(nonce, &aad, &mut body)?;
                out.extend_from_slice(&body);
                out
            }
        };
        Ok(Encrypted {
            key_id: key.key_id,
            version,
            ciphertext,
        })
    }

    pub(crate) fn op_ciphertext_key(ciphertext: &[u8]) -> Result<KeyRef> {
        let (header, _) = CiphertextHeader::parse(ciphertext)?;
        Ok(KeyRef::Id(header.key_id))
    }

    pub(crate) async fn op_decrypt(
        &self,
        key: &KeyMetadata,
        ciphertext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Decrypted> {
        let (header, body) = CiphertextHeader::parse(ciphertext)?;
        if header.key_id != key.key_id {
            return Err(Error::DecryptionFailed);
        }
        if header.algorithm != algorithm_for(key.spec)? {
            return Err(Error::DecryptionFailed);
        }
        // A version newer than this node knows of is looked up, not refused:
        // another node may have rotated the key and encrypted with it.
        self.check_version(key, header.version, Operation::Decrypt)
            .await?;
        let prepared = self.material(key, header.version).await?;
        let plaintext = match header.algorithm {
            CiphertextAlgorithm::RsaOaepSha256 => {
                no_context_with_rsa(context)?;
                prepared.rsa_oaep_decrypt(body)?
            }
            _ => {
                let aead = prepared
                    .aead()
                    .ok_or_else(|| Error::Internal("symmetric key without AEAD".into()))?;
                let mut nonce = [0u8; NONCE_LEN];
                nonce.copy_from_slice(&body[..NONCE_LEN]);
                let mut aad = Vec::with_capacity(HEADER_LEN + context.encoded_len());
                aad.extend_from_slice(&ciphertext[..HEADER_LEN]);
                context.encode_into(&mut aad);
                let mut buf = zeroize::Zeroizing::new(body[NONCE_LEN..].to_vec());
                let n = aead.open_in_place(nonce, &aad, &mut buf[..])?.len();
                buf.truncate(n);
                kms_core::Plaintext::from(buf)
            }
        };
        Ok(Decrypted {
            key_id: key.key_id,
            version: header.version,
            plaintext,
        })
    }
}
