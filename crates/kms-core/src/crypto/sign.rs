//! [`PreparedKey::sign`] and [`PreparedKey::verify`].
//!
//! RSA: PSS (salt length = digest length, MGF1 with the same hash) and
//! PKCS#1 v1.5, with SHA-256/384/512. ECDSA: P-256 with SHA-256, P-384 with
//! SHA-384, ASN.1 DER signatures (as AWS KMS and OpenSSL). Ed25519: pure
//! Ed25519 over the RAW message only.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, KeyPair, RsaEncoding, RsaParameters, UnparsedPublicKey, VerificationAlgorithm,
};

use super::prepared::PreparedKey;
use crate::error::{Error, Result};
use crate::spec::{MessageType, SigningAlgorithm};

/// The message to sign or verify, after the checks.
enum Input<'a> {
    /// The precomputed digest (already checked for length).
    Digest(Digest),
    /// The message itself.
    Raw(&'a [u8]),
}

/// The hash of a signing algorithm, if it has a separate one.
fn digest_algorithm(algorithm: SigningAlgorithm) -> Option<&'static digest::Algorithm> {
    use SigningAlgorithm::*;
    match algorithm {
        EcdsaSha256 | RsaPkcs1Sha256 | RsaPssSha256 => Some(&digest::SHA256),
        EcdsaSha384 | RsaPkcs1Sha384 | RsaPssSha384 => Some(&digest::SHA384),
        RsaPkcs1Sha512 | RsaPssSha512 => Some(&digest::SHA512),
        Ed25519 => None,
    }
}

/// The aws-lc signing encoding and verification parameters of an RSA algorithm.
fn rsa_algorithms(
    algorithm: SigningAlgorithm,
) -> Option<(&'static dyn RsaEncoding, &'static RsaParameters)> {
    use SigningAlgorithm::*;
    Some(match algorithm {
        RsaPkcs1Sha256 => (
            &signature::RSA_PKCS1_SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
        ),
        RsaPkcs1Sha384 => (
            &signature::RSA_PKCS1_SHA384,
            &signature::RSA_PKCS1_2048_8192_SHA384,
        ),
        RsaPkcs1Sha512 => (
            &signature::RSA_PKCS1_SHA512,
            &signature::RSA_PKCS1_2048_8192_SHA512,
        ),
        RsaPssSha256 => (
            &signature::RSA_PSS_SHA256,
            &signature::RSA_PSS_2048_8192_SHA256,
        ),
        RsaPssSha384 => (
            &signature::RSA_PSS_SHA384,
            &signature::RSA_PSS_2048_8192_SHA384,
        ),
        RsaPssSha512 => (
            &signature::RSA_PSS_SHA512,
            &signature::RSA_PSS_2048_8192_SHA512,
        ),
        EcdsaSha256 | EcdsaSha384 | Ed25519 => return None,
    })
}

impl PreparedKey {
    /// Signs `message` with `algorithm`.
    ///
    /// With [`MessageType::Raw`] the message is hashed here; with
    /// [`MessageType::Digest`] it is the precomputed hash and must have the
    /// algorithm's digest length. RSA signatures have the modulus length;
    /// ECDSA signatures are ASN.1 DER `ECDSA-Sig-Value`; Ed25519 signatures
    /// are 64 bytes. ECDSA nonces come from aws-lc's DRBG.
    ///
    /// # Errors
    /// * [`Error::IncompatibleSpec`] if the key's spec does not offer
    ///   `algorithm` (see [`KeySpec::signing_algorithms`](crate::KeySpec::signing_algorithms)),
    ///   or for a DIGEST with Ed25519.
    /// * [`Error::InvalidArgument`] (`message`) for a DIGEST of the wrong length.
    /// * [`Error::Internal`] if aws-lc fails.
    pub fn sign(
        &self,
        algorithm: SigningAlgorithm,
        message: &[u8],
        message_type: MessageType,
    ) -> Result<Vec<u8>> {
        let input = self.signing_input(algorithm, message, message_type)?;
        let failed = || Error::Internal(format!("aws-lc failed to sign with {algorithm}"));
        match (self, &input) {
            (PreparedKey::Rsa(key), _) => {
                let (encoding, _) = rsa_algorithms(algorithm).ok_or_else(failed)?;
                let mut signature = vec![0u8; key.pair.public_modulus_len()];
                match &input {
                    Input::Raw(raw) => {
                        key.pair
                            .sign(encoding, &SystemRandom::new(), raw, &mut signature)
                    }
                    Input::Digest(digest) => key.pair.sign_digest(encoding, digest, &mut signature),
                }
                .map_err(|_| failed())?;
                Ok(signature)
            }
            (PreparedKey::Ecdsa(key), Input::Raw(raw)) => key
                .pair
                .sign(&SystemRandom::new(), raw)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| failed()),
            (PreparedKey::Ecdsa(key), Input::Digest(digest)) => key
                .pair
                .sign_digest(digest)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| failed()),
            (PreparedKey::Ed25519(key), Input::Raw(raw)) => key
                .pair
                .try_sign(raw)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| failed()),
            // `signing_input` admits no other combination.
            _ => Err(failed()),
        }
    }

    /// Verifies `signature` over `message` with `algorithm`.
    ///
    /// Returns `Ok(false)` if the signature does not verify (altered,
    /// truncated, from another key, or for another message).
    ///
    /// # Errors
    /// The same misuse errors as [`PreparedKey::sign`]; never for a bad
    /// signature.
    pub fn verify(
        &self,
        algorithm: SigningAlgorithm,
        message: &[u8],
        message_type: MessageType,
        signature: &[u8],
    ) -> Result<bool> {
        let input = self.signing_input(algorithm, message, message_type)?;
        let verified = match self {
            PreparedKey::Rsa(key) => {
                let (_, parameters) = rsa_algorithms(algorithm)
                    .ok_or_else(|| Error::Internal(format!("no RSA parameters for {algorithm}")))?;
                let public = UnparsedPublicKey::new(
                    parameters as &'static dyn VerificationAlgorithm,
                    key.pair.public_key().as_ref(),
                );
                match &input {
                    Input::Raw(raw) => public.verify(raw, signature),
                    Input::Digest(digest) => public.verify_digest(digest, signature),
                }
            }
            PreparedKey::Ecdsa(key) => match &input {
                Input::Raw(raw) => key.public.verify_sig(raw, signature),
                Input::Digest(digest) => key.public.verify_digest_sig(digest, signature),
            },
            PreparedKey::Ed25519(key) => match &input {
                Input::Raw(raw) => key.public.verify_sig(raw, signature),
                Input::Digest(_) => return Err(self.incompatible("verify a DIGEST")),
            },
            PreparedKey::Aes(_) | PreparedKey::Hmac(_) => {
                return Err(self.incompatible(format!("verify with {algorithm}")));
            }
        };
        Ok(verified.is_ok())
    }

    /// Checks that `algorithm` fits the key and that a DIGEST has the right
    /// length; imports the digest.
    fn signing_input<'a>(
        &self,
        algorithm: SigningAlgorithm,
        message: &'a [u8],
        message_type: MessageType,
    ) -> Result<Input<'a>> {
        let spec = self.spec();
        if !spec.signing_algorithms().contains(&algorithm) {
            let offered: Vec<&str> = spec
                .signing_algorithms()
                .iter()
                .map(SigningAlgorithm::as_str)
                .collect();
            let what = if offered.is_empty() {
                format!("sign or verify (it has no signing algorithms; {algorithm} was asked)")
            } else {
                format!(
                    "sign or verify with {algorithm}; it offers {}",
                    offered.join(", ")
                )
            };
            return Err(self.incompatible(what));
        }
        match message_type {
            MessageType::Raw => Ok(Input::Raw(message)),
            MessageType::Digest => {
                let (Some(hash), Some(len)) = (digest_algorithm(algorithm), algorithm.digest_len())
                else {
                    return Err(self.incompatible(format!(
                        "sign or verify a precomputed DIGEST with {algorithm}; pass the RAW message"
                    )));
                };
                if message.len() != len {
                    return Err(Error::invalid(
                        "message",
                        format!(
                            "a DIGEST for {algorithm} must be {len} bytes, got {} bytes",
                            message.len()
                        ),
                    ));
                }
                Digest::import_less_safe(message, hash)
                    .map(Input::Digest)
                    .map_err(|_| Error::Internal(format!("aws-lc rejected a {len}-byte digest")))
            }
        }
    }
}
