//! Recipient stanzas: one wrapped file key (or share) each. The body of
//! each kind is a sequence of fixed-width integers and u16-length-prefixed
//! fields; unknown kinds are kept and skipped, so that a newer writer's
//! recipient types do not stop an older reader that holds another identity.

use super::wire::{Cursor, Stop, put_bytes16};
use crate::error::{Error, Result};

/// The kind byte of a stanza.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StanzaKind {
    /// The file key encrypted by a key of a KMS backend (`KmsManager::encrypt`).
    KmsKey,
    /// An age recipient stanza (X25519) plus a context-bound seal.
    Age,
    /// A passphrase (Argon2id) plus a context-bound seal.
    Passphrase,
    /// A kind this reader does not know.
    Unknown(u8),
}

impl StanzaKind {
    /// The byte.
    pub fn to_byte(self) -> u8 {
        match self {
            StanzaKind::KmsKey => 1,
            StanzaKind::Age => 2,
            StanzaKind::Passphrase => 3,
            StanzaKind::Unknown(b) => b,
        }
    }

    /// From the byte.
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => StanzaKind::KmsKey,
            2 => StanzaKind::Age,
            3 => StanzaKind::Passphrase,
            other => StanzaKind::Unknown(other),
        }
    }

    /// The label bound into the stanza's seal (and shown by inspect).
    pub fn label(self) -> &'static str {
        match self {
            StanzaKind::KmsKey => "kms-key",
            StanzaKind::Age => "age",
            StanzaKind::Passphrase => "passphrase",
            StanzaKind::Unknown(_) => "unknown",
        }
    }
}

/// Argon2id parameters of a passphrase stanza.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// 46 MiB, one pass, one lane (OWASP's first Argon2id choice), so that
    /// a passphrase file opens within the 64 MiB memory budget.
    fn default() -> Self {
        Self {
            memory_kib: 46 * 1024,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// One recipient stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stanza {
    /// A KMS key: the file key (or share) as `KmsManager::encrypt` returned it.
    KmsKey {
        /// The key reference, as text (`<uuid>` for the default backend, `scheme://…` otherwise).
        key: String,
        /// The key version used (0 when the backend does not say).
        version: u32,
        /// The backend's ciphertext.
        ciphertext: Vec<u8>,
    },
    /// An age recipient.
    Age {
        /// The recipient (`age1…`), for inspect and rewrap; not needed to decrypt.
        recipient: String,
        /// The age stanza tag (`X25519`).
        tag: String,
        /// The age stanza arguments.
        args: Vec<String>,
        /// The age stanza body (the wrapped 16-byte seed).
        body: Vec<u8>,
        /// The file key (or share) sealed under a key derived from the seed.
        sealed: Vec<u8>,
    },
    /// A passphrase.
    Passphrase {
        /// Argon2id parameters.
        params: Argon2Params,
        /// Argon2id salt (16 bytes).
        salt: Vec<u8>,
        /// The 32-byte seed sealed under the Argon2id key.
        wrapped_seed: Vec<u8>,
        /// The file key (or share) sealed under a key derived from the seed.
        sealed: Vec<u8>,
    },
    /// A kind this reader does not know; kept so rewrap preserves it.
    Unknown {
        /// The kind byte.
        kind: u8,
        /// The body.
        body: Vec<u8>,
    },
}

impl Stanza {
    /// The kind.
    pub fn kind(&self) -> StanzaKind {
        match self {
            Stanza::KmsKey { .. } => StanzaKind::KmsKey,
            Stanza::Age { .. } => StanzaKind::Age,
            Stanza::Passphrase { .. } => StanzaKind::Passphrase,
            Stanza::Unknown { kind, .. } => StanzaKind::Unknown(*kind),
        }
    }

    /// Who this stanza is for, as shown by inspect (never secret).
    pub fn describe(&self) -> String {
        match self {
            Stanza::KmsKey { key, version, .. } if *version > 0 => {
                format!("{key} (version {version})")
            }
            Stanza::KmsKey { key, .. } => key.clone(),
            Stanza::Age { recipient, .. } if !recipient.is_empty() => recipient.clone(),
            Stanza::Age { tag, .. } => format!("age {tag} recipient"),
            Stanza::Passphrase { .. } => "passphrase".into(),
            Stanza::Unknown { kind, .. } => format!("unknown stanza type {kind}"),
        }
    }

    /// The body bytes.
    pub fn encode_body(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            Stanza::KmsKey {
                key,
                version,
                ciphertext,
            } => {
                put_bytes16(&mut out, key.as_bytes())?;
                out.extend_from_slice(&version.to_be_bytes());
                put_bytes16(&mut out, ciphertext)?;
            }
            Stanza::Age {
                recipient,
                tag,
                args,
                body,
                sealed,
            } => {
                put_bytes16(&mut out, recipient.as_bytes())?;
                put_bytes16(&mut out, tag.as_bytes())?;
                let n = u8::try_from(args.len())
                    .map_err(|_| Error::invalid("stanza", "more than 255 age arguments"))?;
                out.push(n);
                for a in args {
                    put_bytes16(&mut out, a.as_bytes())?;
                }
                put_bytes16(&mut out, body)?;
                put_bytes16(&mut out, sealed)?;
            }
            Stanza::Passphrase {
                params,
                salt,
                wrapped_seed,
                sealed,
            } => {
                out.extend_from_slice(&params.memory_kib.to_be_bytes());
                out.extend_from_slice(&params.iterations.to_be_bytes());
                out.extend_from_slice(&params.parallelism.to_be_bytes());
                put_bytes16(&mut out, salt)?;
                put_bytes16(&mut out, wrapped_seed)?;
                put_bytes16(&mut out, sealed)?;
            }
            Stanza::Unknown { body, .. } => out.extend_from_slice(body),
        }
        if out.len() > super::MAX_STANZA_LEN {
            return Err(Error::invalid("stanza", "a stanza is longer than 64 KiB"));
        }
        Ok(out)
    }

    /// Parses a body of the given kind; every byte must be used.
    pub fn decode_body(kind: u8, body: &[u8]) -> Result<Self> {
        let mut c = Cursor::complete(body);
        let stanza = match StanzaKind::from_byte(kind) {
            StanzaKind::KmsKey => Stanza::KmsKey {
                key: c.str16().map_err(invalid)?.to_string(),
                version: c.u32().map_err(invalid)?,
                ciphertext: c.bytes16().map_err(invalid)?.to_vec(),
            },
            StanzaKind::Age => {
                let recipient = c.str16().map_err(invalid)?.to_string();
                let tag = c.str16().map_err(invalid)?.to_string();
                let n = c.u8().map_err(invalid)?;
                let mut args = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    args.push(c.str16().map_err(invalid)?.to_string());
                }
                Stanza::Age {
                    recipient,
                    tag,
                    args,
                    body: c.bytes16().map_err(invalid)?.to_vec(),
                    sealed: c.bytes16().map_err(invalid)?.to_vec(),
                }
            }
            StanzaKind::Passphrase => Stanza::Passphrase {
                params: Argon2Params {
                    memory_kib: c.u32().map_err(invalid)?,
                    iterations: c.u32().map_err(invalid)?,
                    parallelism: c.u32().map_err(invalid)?,
                },
                salt: c.bytes16().map_err(invalid)?.to_vec(),
                wrapped_seed: c.bytes16().map_err(invalid)?.to_vec(),
                sealed: c.bytes16().map_err(invalid)?.to_vec(),
            },
            StanzaKind::Unknown(kind) => {
                return Ok(Stanza::Unknown {
                    kind,
                    body: body.to_vec(),
                });
            }
        };
        if !c.is_at_end() {
            return Err(Error::InvalidHeader("trailing bytes in a stanza"));
        }
        Ok(stanza)
    }
}

fn invalid(s: Stop) -> Error {
    match s {
        Stop::Invalid(e) => e,
        Stop::Incomplete => Error::InvalidHeader("a stanza field runs past its stanza"),
    }
}
