//! The encryption context: a map of strings bound into the AEAD associated
//! data in one canonical encoding, so that decryption with a different
//! context fails exactly like a wrong key.
//!
//! Canonical encoding (see `docs/ciphertext-format.md`): `u32` BE pair
//! count, then for each pair sorted by key (byte order): `u32` BE key
//! length, key bytes (UTF-8), `u32` BE value length, value bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A non-secret map of strings bound to a ciphertext.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    /// The empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// From a map.
    pub fn from_map(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }

    /// Parses the seed form `env=prod,service=api` (whitespace around items
    /// is trimmed; an empty string is the empty context). A JSON object
    /// `{"env":"prod"}` is accepted too, for values that hold `,` or `=`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.starts_with('{') {
            let map: BTreeMap<String, String> = serde_json::from_str(s).map_err(|e| {
                Error::invalid("context", format!("not a JSON object of strings: {e}"))
            })?;
            return Ok(Self(map));
        }
        let mut map = BTreeMap::new();
        if s.is_empty() {
            return Ok(Self(map));
        }
        for item in s.split(',') {
            let item = item.trim();
            let Some((k, v)) = item.split_once('=') else {
                return Err(Error::invalid(
                    "context",
                    format!("{item:?} is not key=value; write the context as k=v,k=v"),
                ));
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return Err(Error::invalid(
                    "context",
                    format!("{item:?} has an empty key"),
                ));
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(Error::invalid(
                    "context",
                    format!("key {k:?} appears twice"),
                ));
            }
        }
        Ok(Self(map))
    }

    /// Adds a pair.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// The pairs, sorted by key.
    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.0.len() as u32).to_be_bytes());
        for (k, v) in &self.0 {
            out.extend_from_slice(&(k.len() as u32).to_be_bytes());
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }

    /// The canonical encoding.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// The length of the canonical encoding.
    pub fn encoded_len(&self) -> usize {
        4 + self
            .0
            .iter()
            .map(|(k, v)| 8 + k.len() + v.len())
            .sum::<usize>()
    }

    /// The seed form, `k=v,k=v` (for display; not for values holding `,`).
    pub fn to_seed_form(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_form_and_json_form_give_the_same_map_in_any_order() {
        let a = EncryptionContext::parse("env=prod,service=api").unwrap();
        let b = EncryptionContext::parse(" service = api , env=prod ").unwrap();
        let c = EncryptionContext::parse(r#"{"service":"api","env":"prod"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.canonical_bytes(), c.canonical_bytes());
    }

    #[test]
    fn encoding_is_length_prefixed_so_shifted_pairs_differ() {
        let a = EncryptionContext::parse("ab=c").unwrap();
        let b = EncryptionContext::parse("a=bc").unwrap();
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn bad_items_are_refused_with_the_item_named() {
        let e = EncryptionContext::parse("env").unwrap_err().to_string();
        assert!(e.contains("\"env\""), "{e}");
        assert!(EncryptionContext::parse("=x").is_err());
        assert!(EncryptionContext::parse("a=1,a=2").is_err());
        assert!(EncryptionContext::parse("{not json").is_err());
        assert!(EncryptionContext::parse("").unwrap().is_empty());
    }
}
