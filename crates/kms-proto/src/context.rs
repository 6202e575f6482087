//! The encryption context on the wire: the seed's `"k=v,k=v"` string or a
//! JSON object of strings.

use std::collections::BTreeMap;

use kms_core::EncryptionContext;
use serde::{Deserialize, Serialize};

/// An encryption context as sent: `"env=prod,service=api"` or `{"env":"prod"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContextWire {
    /// The seed form `k=v,k=v`.
    Text(String),
    /// A JSON object of strings.
    Map(BTreeMap<String, String>),
}

impl ContextWire {
    /// The parsed context.
    pub fn parse(&self) -> kms_core::Result<EncryptionContext> {
        match self {
            ContextWire::Text(s) => EncryptionContext::parse(s),
            ContextWire::Map(m) => Ok(EncryptionContext::from_map(m.clone())),
        }
    }

    /// The context of an optional field (absent: empty).
    pub fn parse_opt(c: Option<&ContextWire>) -> kms_core::Result<EncryptionContext> {
        c.map_or_else(|| Ok(EncryptionContext::new()), ContextWire::parse)
    }
}

impl From<&EncryptionContext> for ContextWire {
    fn from(c: &EncryptionContext) -> Self {
        ContextWire::Map(c.pairs().clone())
    }
}
