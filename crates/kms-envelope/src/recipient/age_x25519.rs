//! age X25519 recipients and identities, through the `age` crate. In the
//! KMS format the age stanza wraps a fresh 16-byte seed; the file key (or
//! share) is sealed under HKDF(seed) with the context as associated data.
//! The same types serve `--format age` (real age v1 files).

use core::fmt;
use std::str::FromStr;

use age::Identity as _;
use age::Recipient as _;
use age::secrecy::ExposeSecret as _;
use kms_core::EncryptionContext;
use zeroize::Zeroizing;

use super::Unwrapped;
use crate::crypto::{open_once, seal_once, stanza_aad, stanza_key};
use crate::error::{Error, Result};
use crate::format::{Stanza, StanzaKind};
use crate::secret::WrappedSecret;

/// An age X25519 recipient (`age1…`).
#[derive(Clone)]
pub struct AgeRecipient {
    text: String,
    inner: age::x25519::Recipient,
}

impl AgeRecipient {
    /// The age crate's recipient.
    pub fn as_age(&self) -> &age::x25519::Recipient {
        &self.inner
    }

    pub(super) fn wrap(
        &self,
        secret: &WrappedSecret,
        context: &EncryptionContext,
        rng: &dyn kms_core::Rng,
    ) -> Result<Stanza> {
        let seed = age_core::format::FileKey::try_init_with_mut(|k| rng.fill(k))
            .map_err(|_| Error::Internal("random generator failed"))?;
        let (mut stanzas, _labels) = self
            .inner
            .wrap_file_key(&seed)
            .map_err(|e| Error::Age(e.to_string()))?;
        let label = StanzaKind::Age.label();
        let (Some(st), true) = (stanzas.pop(), stanzas.is_empty()) else {
            return Err(Error::Age(
                "the X25519 recipient did not give exactly one stanza".into(),
            ));
        };
        let key = stanza_key(seed.expose_secret(), label)?;
        let sealed = seal_once(
            &key[..],
            &stanza_aad(label, &context.canonical_bytes()),
            secret.expose_secret(),
        )?;
        Ok(Stanza::Age {
            recipient: self.text.clone(),
            tag: st.tag,
            args: st.args,
            body: st.body,
            sealed,
        })
    }
}

impl FromStr for AgeRecipient {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let inner = age::x25519::Recipient::from_str(s.trim()).map_err(|e| {
            Error::invalid(
                "recipient",
                format!("{s:?} is not an age X25519 recipient: {e}"),
            )
        })?;
        Ok(Self {
            text: inner.to_string(),
            inner,
        })
    }
}

impl fmt::Display for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeRecipient({})", self.text)
    }
}

/// age X25519 identities, as read from an identity file (`AGE-SECRET-KEY-1…`
/// lines; `#` comments and blank lines are skipped).
pub struct AgeIdentity {
    keys: Vec<age::x25519::Identity>,
}

impl AgeIdentity {
    /// Parses the text of an identity file.
    pub fn parse(text: &str) -> Result<Self> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = age::x25519::Identity::from_str(line).map_err(|_| {
                Error::invalid(
                    "identity",
                    format!("line {} is not an age X25519 identity (AGE-SECRET-KEY-1…); plugin and SSH identities are not supported", n + 1),
                )
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(Error::invalid(
                "identity",
                "the identity file holds no AGE-SECRET-KEY-1… line",
            ));
        }
        Ok(Self { keys })
    }

    /// One identity.
    pub fn from_key(key: age::x25519::Identity) -> Self {
        Self { keys: vec![key] }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none (never true for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, for the age crate.
    pub fn keys(&self) -> &[age::x25519::Identity] {
        &self.keys
    }

    /// The public recipients of these keys.
    pub fn recipients(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| k.to_public().to_string())
            .collect()
    }

    /// The identity file text of the keys (secret: zeroized on drop).
    pub fn to_file_text(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::new());
        for k in &self.keys {
            s.push_str(k.to_string().expose_secret());
            s.push('\n');
        }
        s
    }

    pub(super) fn unwrap(&self, stanza: &Stanza, context: &EncryptionContext) -> Result<Unwrapped> {
        let Stanza::Age {
            tag,
            args,
            body,
            sealed,
            ..
        } = stanza
        else {
            return Ok(Unwrapped::NotMine(None));
        };
        let st = age_core::format::Stanza {
            tag: tag.clone(),
            args: args.clone(),
            body: body.clone(),
        };
        let label = StanzaKind::Age.label();
        for k in &self.keys {
            match k.unwrap_stanza(&st) {
                Some(Ok(seed)) => {
                    let key = stanza_key(seed.expose_secret(), label)?;
                    return Ok(
                        match open_once(
                            &key[..],
                            &stanza_aad(label, &context.canonical_bytes()),
                            sealed,
                        )? {
                            Some(secret) => Unwrapped::Opened(WrappedSecret::new(secret)),
                            None => Unwrapped::WrongContext,
                        },
                    );
                }
                Some(Err(_)) | None => continue,
            }
        }
        Ok(Unwrapped::NotMine(None))
    }
}
