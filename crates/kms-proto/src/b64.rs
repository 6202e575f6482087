//! Base64 fields: public bytes (`serde(with = "b64")`) and secret bytes ([`SecretBytes`]).

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Serializes public bytes as standard base64.
pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&STANDARD.encode(v))
}

/// Deserializes public bytes from standard base64.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    STANDARD
        .decode(s.trim())
        .map_err(|e| serde::de::Error::custom(format!("not valid base64: {e}")))
}

/// Optional public bytes as standard base64.
pub mod option {
    use super::*;

    /// Serialize.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    /// Deserialize.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| {
            STANDARD
                .decode(s.trim())
                .map_err(|e| serde::de::Error::custom(format!("not valid base64: {e}")))
        })
        .transpose()
    }
}

/// Secret bytes on the wire (plaintext, data keys, private keys): base64 in
/// JSON, zeroized on drop, redacted in `Debug`, not `Clone`.
#[derive(Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// Copies bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The secret bytes. Callers must not log them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Moves the bytes out, still zeroizing.
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted {} bytes>)", self.0.len())
    }
}

impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(STANDARD.encode(&*self.0));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(text.trim())
            .map(|v| Self(Zeroizing::new(v)))
            .map_err(|e| serde::de::Error::custom(format!("not valid base64: {e}")))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SecretBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Byte,
            )))
            .description(Some("secret bytes, standard base64"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for SecretBytes {}

/// A secret string on the wire (tokens, passphrases): zeroized on drop,
/// redacted in `Debug`, not `Clone`.
#[derive(Default)]
pub struct SecretText(Zeroizing<String>);

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

impl SecretText {
    /// Wraps a string.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    /// The secret text. Callers must not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SecretText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("a secret string (never logged)"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for SecretText {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secret_bytes_round_trip_as_base64_and_never_debug_print() {
        let s: SecretBytes = serde_json::from_str("\"c2VjcmV0\"").unwrap();
        assert_eq!(s.expose_secret(), b"secret");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"c2VjcmV0\"");
        assert!(!format!("{s:?}").contains("secret\""));
        assert!(format!("{s:?}").contains("redacted"));
        let t = SecretText::new("hunter2".into());
        assert!(!format!("{t:?}").contains("hunter2"));
    }

    #[test]
    fn bad_base64_is_refused_with_a_reason() {
        let e = serde_json::from_str::<SecretBytes>("\"!!\"").unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
    }
}
