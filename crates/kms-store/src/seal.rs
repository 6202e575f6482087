//! Sealing: the root key that encrypts all key material, and how it is
//! protected at rest — under a key derived from a passphrase with Argon2id
//! (parameters stored with the store) or under a key file.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use kms_core::{Error, KeyMaterial, Passphrase, Result, Rng};

/// Argon2id parameters for a passphrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane (about 0.2 s on a server core).
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// What unseals a store.
pub enum Unseal {
    /// A passphrase, stretched with Argon2id.
    Passphrase(Passphrase),
    /// A file holding a 32-byte key (raw, or 64 hex digits).
    KeyFile(PathBuf),
}

impl fmt::Debug for Unseal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unseal::Passphrase(_) => f.write_str("Unseal::Passphrase(<redacted>)"),
            Unseal::KeyFile(p) => write!(f, "Unseal::KeyFile({})", p.display()),
        }
    }
}

impl Unseal {
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Unseal::Passphrase(_) => "passphrase",
            Unseal::KeyFile(_) => "key_file",
        }
    }
}

/// Writes a new random 32-byte key file (64 hex digits), readable by the owner only.
/// Refuses to overwrite an existing file.
pub fn generate_key_file(path: &Path, rng: &dyn Rng) -> Result<()> {
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill(&mut key[..])?;
    let hexed = Zeroizing::new(hex::encode(&key[..]));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        Error::invalid("key file", format!("cannot create {}: {e}", path.display()))
    })?;
    std::io::Write::write_all(&mut f, hexed.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::invalid("key file", format!("cannot write {}: {e}", path.display())))
}

fn read_key_file(path: &Path) -> Result<Zeroizing<[u8; 32]>> {
    let raw =
        Zeroizing::new(std::fs::read(path).map_err(|e| {
            Error::invalid("key file", format!("cannot read {}: {e}", path.display()))
        })?);
    let mut key = Zeroizing::new([0u8; 32]);
    if raw.len() == 32 {
        key.copy_from_slice(&raw);
        return Ok(key);
    }
    let text = core::str::from_utf8(&raw).unwrap_or("").trim();
    if text.len() == 64 && hex::decode_to_slice(text, &mut key[..]).is_ok() {
        return Ok(key);
    }
    Err(Error::invalid(
        "key file",
        format!("{} must hold 32 bytes or 64 hex digits", path.display()),
    ))
}

/// Derives the key-encryption key that protects the root key.
pub(crate) fn derive_kek(
    unseal: &Unseal,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>> {
    match unseal {
        Unseal::KeyFile(p) => read_key_file(p),
        Unseal::Passphrase(pass) => {
            if pass.expose_secret().is_empty() {
                return Err(Error::invalid("passphrase", "the passphrase is empty"));
            }
            let argon_params = argon2::Params::new(
                params.memory_kib,
                params.iterations,
                params.parallelism,
                Some(32),
            )
            .map_err(|e| Error::invalid("argon2 parameters", e.to_string()))?;
            let argon = argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon_params,
            );
            let mut out = Zeroizing::new([0u8; 32]);
            argon
                .hash_password_into(pass.expose_secret().as_bytes(), salt, &mut out[..])
                .map_err(|e| Error::Internal(format!("argon2 failed: {e}")))?;
            Ok(out)
        }
    }
}

/// The root key: AES-256-GCM over every stored key material.
pub struct RootKey {
    key: LessSafeKey,
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

impl RootKey {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| Error::Internal("root key has the wrong length".into()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// nonce | ciphertext | tag of `plaintext` with `aad`.
    pub(crate) fn seal(&self, rng: &dyn Rng, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        seal_with(&self.key, rng, aad, plaintext)
    }

    /// Opens what [`RootKey::seal`] made.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<KeyMaterial> {
        open_with(&self.key, aad, sealed).map(KeyMaterial::from)
    }
}

pub(crate) fn seal_with(
    key: &LessSafeKey,
    rng: &dyn Rng,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(NONCE_LEN);
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| Error::Internal("sealing failed".into()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

pub(crate) fn open_with(
    key: &LessSafeKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(Error::DecryptionFailed);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[..NONCE_LEN]);
    let mut buf = Zeroizing::new(sealed[NONCE_LEN..].to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf[..],
        )
        .map_err(|_| Error::DecryptionFailed)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

pub(crate) fn kek_key(kek: &[u8; 32]) -> Result<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, kek)
        .map_err(|_| Error::Internal("key-encryption key has the wrong length".into()))?;
    Ok(LessSafeKey::new(unbound))
}

/// Associated data that binds the wrapped root key to its method.
pub(crate) fn root_aad(method: &str) -> Vec<u8> {
    format!("kms-root-key:v1:{method}").into_bytes()
}
