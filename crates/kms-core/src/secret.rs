//! Secret types: key material and plaintext. They zeroize on drop, never
//! print (their `Debug` is a redaction), are not `Clone` or `Serialize`.
//! Turning one into a public value is a named function.

use core::fmt;

use zeroize::Zeroizing;

macro_rules! secret_bytes {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name(Zeroizing<Vec<u8>>);

        impl $name {
            /// Wraps bytes; the vector is zeroized when this value drops.
            pub fn new(bytes: Vec<u8>) -> Self {
                Self(Zeroizing::new(bytes))
            }

            /// Copies bytes from a slice.
            pub fn from_slice(bytes: &[u8]) -> Self {
                Self(Zeroizing::new(bytes.to_vec()))
            }

            /// The secret bytes. Callers must not log or persist them in clear.
            pub fn expose_secret(&self) -> &[u8] {
                &self.0
            }

            /// Length in bytes (not secret).
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether it is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// Moves the bytes out, still zeroizing.
            pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted {} bytes>)"), self.0.len())
            }
        }

        impl From<Zeroizing<Vec<u8>>> for $name {
            fn from(v: Zeroizing<Vec<u8>>) -> Self {
                Self(v)
            }
        }
    };
}

secret_bytes! {
    /// Plaintext given to encrypt or returned by decrypt.
    Plaintext
}

secret_bytes! {
    /// Private or symmetric key material: raw bytes for AES and HMAC, PKCS#8 DER for key pairs.
    KeyMaterial
}

secret_bytes! {
    /// A data key in clear, handed to the caller by `generate_data_key`.
    DataKey
}

secret_bytes! {
    /// A private key in clear (PKCS#8 DER), handed to the caller by `generate_data_key_pair`.
    PrivateKey
}

/// A passphrase. Zeroized on drop, never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
    /// The passphrase. Callers must not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_every_secret_type_shows_no_bytes() {
        let bytes = b"\x13\x37super-secret-key-bytes\xfe".to_vec();
        let needle = "super-secret";
        let outputs = [
            format!("{:?}", Plaintext::from_slice(&bytes)),
            format!("{:?}", KeyMaterial::from_slice(&bytes)),
            format!("{:?}", DataKey::from_slice(&bytes)),
            format!("{:?}", PrivateKey::from_slice(&bytes)),
            format!("{:?}", Passphrase::new("super-secret pass".into())),
        ];
        for out in outputs {
            assert!(!out.contains(needle), "{out}");
            assert!(!out.contains("19, 55"), "{out}");
            assert!(out.contains("redacted"), "{out}");
        }
    }
}
