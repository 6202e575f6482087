//! Every operation of the KMS, by one name used everywhere (audit, metrics,
//! policies, the state table).

use core::fmt;

use serde::{Deserialize, Serialize};

/// An operation on a key or on the KMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Cancel a scheduled deletion.
    CancelKeyDeletion,
    /// Create an alias.
    CreateAlias,
    /// Create a key.
    CreateKey,
    /// Decrypt.
    Decrypt,
    /// Delete an alias.
    DeleteAlias,
    /// Describe a key.
    DescribeKey,
    /// Disable a key.
    DisableKey,
    /// Enable a key.
    EnableKey,
    /// Encrypt.
    Encrypt,
    /// Generate a data key.
    GenerateDataKey,
    /// Generate a data key pair.
    GenerateDataKeyPair,
    /// Generate a MAC.
    GenerateMac,
    /// Generate random bytes.
    GenerateRandom,
    /// Get the parameters to import key material.
    GetImportParameters,
    /// Get a public key.
    GetPublicKey,
    /// Import key material.
    ImportKeyMaterial,
    /// List aliases.
    ListAliases,
    /// List keys.
    ListKeys,
    /// Re-encrypt under another key or context.
    ReEncrypt,
    /// Rotate a key.
    RotateKey,
    /// Schedule a key's deletion.
    ScheduleKeyDeletion,
    /// Sign.
    Sign,
    /// Update an alias.
    UpdateAlias,
    /// Update a key's description, tags or rotation settings.
    UpdateKey,
    /// Verify a signature.
    Verify,
    /// Verify a MAC.
    VerifyMac,
}

impl Operation {
    /// The `snake_case` name.
    pub fn as_str(&self) -> &'static str {
        use Operation::*;
        match self {
            CancelKeyDeletion => "cancel_key_deletion",
            CreateAlias => "create_alias",
            CreateKey => "create_key",
            Decrypt => "decrypt",
            DeleteAlias => "delete_alias",
            DescribeKey => "describe_key",
            DisableKey => "disable_key",
            EnableKey => "enable_key",
            Encrypt => "encrypt",
            GenerateDataKey => "generate_data_key",
            GenerateDataKeyPair => "generate_data_key_pair",
            GenerateMac => "generate_mac",
            GenerateRandom => "generate_random",
            GetImportParameters => "get_import_parameters",
            GetPublicKey => "get_public_key",
            ImportKeyMaterial => "import_key_material",
            ListAliases => "list_aliases",
            ListKeys => "list_keys",
            ReEncrypt => "re_encrypt",
            RotateKey => "rotate_key",
            ScheduleKeyDeletion => "schedule_key_deletion",
            Sign => "sign",
            UpdateAlias => "update_alias",
            UpdateKey => "update_key",
            Verify => "verify",
            VerifyMac => "verify_mac",
        }
    }

    /// Every operation.
    pub const ALL: &'static [Operation] = &[
        Operation::CancelKeyDeletion,
        Operation::CreateAlias,
        Operation::CreateKey,
        Operation::Decrypt,
        Operation::DeleteAlias,
        Operation::DescribeKey,
        Operation::DisableKey,
        Operation::EnableKey,
        Operation::Encrypt,
        Operation::GenerateDataKey,
        Operation::GenerateDataKeyPair,
        Operation::GenerateMac,
        Operation::GenerateRandom,
        Operation::GetImportParameters,
        Operation::GetPublicKey,
        Operation::ImportKeyMaterial,
        Operation::ListAliases,
        Operation::ListKeys,
        Operation::ReEncrypt,
        Operation::RotateKey,
        Operation::ScheduleKeyDeletion,
        Operation::Sign,
        Operation::UpdateAlias,
        Operation::UpdateKey,
        Operation::Verify,
        Operation::VerifyMac,
    ];
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
