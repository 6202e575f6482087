//! Key specs, key usages and the algorithms each spec allows.
//!
//! Names follow AWS KMS so that the AWS-compatible API needs almost no
//! translation. Parsing accepts the spellings the seeds use (`AES_256`,
//! `AES256`, `aes256`); output always uses the AWS spelling.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Normalises a user-typed name: upper case, without `_` and `-`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alt:literal)*,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The canonical (AWS) spelling.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                let want = squash(s);
                $(
                    if want == squash($text) $(|| want == squash($alt))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(Error::InvalidArgument {
                    field: $what,
                    reason: format!(
                        "unknown value {s:?}; expected one of: {}",
                        [$($text,)+].join(", ")
                    ),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named_enum! {
    /// The type of a key.
    KeySpec, "spec" {
        /// AES-128 (GCM).
        Aes128 => "AES_128",
        /// AES-256 (GCM); AWS calls it `SYMMETRIC_DEFAULT`.
        Aes256 => "AES_256" | "SYMMETRIC_DEFAULT",
        /// NIST P-256 ECDSA.
        EccNistP256 => "ECC_NIST_P256" | "P256" | "ECDSA_P256",
        /// NIST P-384 ECDSA.
        EccNistP384 => "ECC_NIST_P384" | "P384" | "ECDSA_P384",
        /// Ed25519.
        Ed25519 => "ED25519" | "ECC_NIST_EDWARDS25519",
        /// HMAC with SHA-256.
        Hmac256 => "HMAC_256",
        /// HMAC with SHA-512.
        Hmac512 => "HMAC_512",
        /// RSA 2048.
        Rsa2048 => "RSA_2048",
        /// RSA 3072.
        Rsa3072 => "RSA_3072",
        /// RSA 4096.
        Rsa4096 => "RSA_4096",
    }
}

named_enum! {
    /// What a key may be used for.
    KeyUsage, "usage" {
        /// Encrypt and decrypt.
        EncryptDecrypt => "ENCRYPT_DECRYPT" | "ENCRYPT",
        /// Generate and verify MACs.
        GenerateVerifyMac => "GENERATE_VERIFY_MAC" | "MAC",
        /// Sign and verify.
        SignVerify => "SIGN_VERIFY" | "SIGN",
    }
}

named_enum! {
    /// A signing algorithm.
    SigningAlgorithm, "algorithm" {
        /// ECDSA with SHA-256 (P-256).
        EcdsaSha256 => "ECDSA_SHA_256",
        /// ECDSA with SHA-384 (P-384).
        EcdsaSha384 => "ECDSA_SHA_384",
        /// Ed25519 (pure, over the message).
        Ed25519 => "ED25519_SHA_512" | "ED25519" | "EDDSA",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsaPkcs1Sha256 => "RSASSA_PKCS1_V1_5_SHA_256" | "PKCS1" | "PKCS1_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsaPkcs1Sha384 => "RSASSA_PKCS1_V1_5_SHA_384" | "PKCS1_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsaPkcs1Sha512 => "RSASSA_PKCS1_V1_5_SHA_512" | "PKCS1_SHA_512",
        /// RSASSA-PSS with SHA-256 (salt length = digest length).
        RsaPssSha256 => "RSASSA_PSS_SHA_256" | "PSS" | "PSS_SHA_256",
        /// RSASSA-PSS with SHA-384.
        RsaPssSha384 => "RSASSA_PSS_SHA_384" | "PSS_SHA_384",
        /// RSASSA-PSS with SHA-512.
        RsaPssSha512 => "RSASSA_PSS_SHA_512" | "PSS_SHA_512",
    }
}

named_enum! {
    /// A MAC algorithm.
    MacAlgorithm, "algorithm" {
        /// HMAC with SHA-256.
        HmacSha256 => "HMAC_SHA_256",
        /// HMAC with SHA-512.
        HmacSha512 => "HMAC_SHA_512",
    }
}

named_enum! {
    /// An encryption algorithm.
    EncryptionAlgorithm, "algorithm" {
        /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
        RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        /// AES-GCM with the key's size (AWS `SYMMETRIC_DEFAULT`).
        SymmetricDefault => "SYMMETRIC_DEFAULT" | "AES_GCM" | "AES256_GCM",
    }
}

named_enum! {
    /// Whether a message to sign or verify is the message itself or its digest.
    MessageType, "message_type" {
        /// A precomputed digest of the message (its length must match the algorithm's hash).
        Digest => "DIGEST",
        /// The message itself.
        Raw => "RAW",
    }
}

named_enum! {
    /// The spec of a data key (a symmetric key handed to the caller).
    DataKeySpec, "key_spec" {
        /// 16 random bytes.
        Aes128 => "AES_128",
        /// 32 random bytes.
        Aes256 => "AES_256",
    }
}

named_enum! {
    /// The spec of a data key pair.
    DataKeyPairSpec, "key_pair_spec" {
        /// NIST P-256.
        EccNistP256 => "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 => "ECC_NIST_P384",
        /// Ed25519.
        Ed25519 => "ED25519" | "ECC_NIST_EDWARDS25519",
        /// RSA 2048.
        Rsa2048 => "RSA_2048",
        /// RSA 3072.
        Rsa3072 => "RSA_3072",
        /// RSA 4096.
        Rsa4096 => "RSA_4096",
    }
}

impl DataKeySpec {
    /// The key length in bytes.
    pub fn byte_len(&self) -> usize {
        match self {
            DataKeySpec::Aes128 => 16,
            DataKeySpec::Aes256 => 32,
        }
    }
}

impl DataKeyPairSpec {
    /// The key spec of the pair.
    pub fn key_spec(&self) -> KeySpec {
        match self {
            DataKeyPairSpec::EccNistP256 => KeySpec::EccNistP256,
            DataKeyPairSpec::EccNistP384 => KeySpec::EccNistP384,
            DataKeyPairSpec::Ed25519 => KeySpec::Ed25519,
            DataKeyPairSpec::Rsa2048 => KeySpec::Rsa2048,
            DataKeyPairSpec::Rsa3072 => KeySpec::Rsa3072,
            DataKeyPairSpec::Rsa4096 => KeySpec::Rsa4096,
        }
    }
}

impl KeySpec {
    /// The usages this spec supports; the first is the default.
    pub fn usages(&self) -> &'static [KeyUsage] {
        match self {
            KeySpec::Aes128 | KeySpec::Aes256 => &[KeyUsage::EncryptDecrypt],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &[KeyUsage::EncryptDecrypt, KeyUsage::SignVerify]
            }
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::Ed25519 => {
                &[KeyUsage::SignVerify]
            }
            KeySpec::Hmac256 | KeySpec::Hmac512 => &[KeyUsage::GenerateVerifyMac],
        }
    }

    /// The default usage of this spec.
    pub fn default_usage(&self) -> KeyUsage {
        self.usages()[0]
    }

    /// Whether the spec is an asymmetric key pair (has a public key).
    pub fn is_asymmetric(&self) -> bool {
        matches!(
            self,
            KeySpec::Rsa2048
                | KeySpec::Rsa3072
                | KeySpec::Rsa4096
                | KeySpec::EccNistP256
                | KeySpec::EccNistP384
                | KeySpec::Ed25519
        )
    }

    /// Whether the spec is an RSA key.
    pub fn is_rsa(&self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }

    /// RSA modulus length in bytes, if RSA.
    pub fn rsa_modulus_len(&self) -> Option<usize> {
        match self {
            KeySpec::Rsa2048 => Some(256),
            KeySpec::Rsa3072 => Some(384),
            KeySpec::Rsa4096 => Some(512),
            _ => None,
        }
    }

    /// The signing algorithms this spec can use (sign-verify keys); the first is the default.
    pub fn signing_algorithms(&self) -> &'static [SigningAlgorithm] {
        use SigningAlgorithm::*;
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
                RsaPssSha256,
                RsaPssSha384,
                RsaPssSha512,
                RsaPkcs1Sha256,
                RsaPkcs1Sha384,
                RsaPkcs1Sha512,
            ],
            KeySpec::EccNistP256 => &[EcdsaSha256],
            KeySpec::EccNistP384 => &[EcdsaSha384],
            KeySpec::Ed25519 => &[Ed25519],
            _ => &[],
        }
    }

    /// The MAC algorithms this spec can use.
    pub fn mac_algorithms(&self) -> &'static [MacAlgorithm] {
        match self {
            KeySpec::Hmac256 => &[MacAlgorithm::HmacSha256],
            KeySpec::Hmac512 => &[MacAlgorithm::HmacSha512],
            _ => &[],
        }
    }

    /// The encryption algorithms this spec can use.
    pub fn encryption_algorithms(&self) -> &'static [EncryptionAlgorithm] {
        match self {
            KeySpec::Aes128 | KeySpec::Aes256 => &[EncryptionAlgorithm::SymmetricDefault],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &[EncryptionAlgorithm::RsaesOaepSha256]
            }
            _ => &[],
        }
    }

    /// The most plaintext one direct encryption takes with this spec.
    pub fn max_plaintext_len(&self) -> Option<usize> {
        match self {
            KeySpec::Aes128 | KeySpec::Aes256 => Some(crate::MAX_SYMMETRIC_PLAINTEXT),
            // OAEP with SHA-256: k - 2*hLen - 2.
            _ => self.rsa_modulus_len().map(|k| k - 2 * 32 - 2),
        }
    }
}

impl SigningAlgorithm {
    /// The digest length a DIGEST message must have, if the algorithm accepts digests.
    pub fn digest_len(&self) -> Option<usize> {
        use SigningAlgorithm::*;
        match self {
            EcdsaSha256 | RsaPkcs1Sha256 | RsaPssSha256 => Some(32),
            EcdsaSha384 | RsaPkcs1Sha384 | RsaPssSha384 => Some(48),
            RsaPkcs1Sha512 | RsaPssSha512 => Some(64),
            Ed25519 => None,
        }
    }
}

impl MacAlgorithm {
    /// The MAC length in bytes.
    pub fn mac_len(&self) -> usize {
        match self {
            MacAlgorithm::HmacSha256 => 32,
            MacAlgorithm::HmacSha512 => 64,
        }
    }
}
