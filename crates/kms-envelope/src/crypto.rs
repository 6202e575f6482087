//! The primitives of the format, all on ring: HKDF-SHA256 for every derived
//! key, HMAC-SHA256 for the header MAC, AES-256-GCM for stanza seals and
//! payload chunks. The labels here are part of the format
//! (`docs/envelope-format.md`).

use ring::{aead, hkdf, hmac};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::FileKey;

/// HKDF info of the header MAC key.
pub const INFO_HEADER: &[u8] = b"kms-envelope/v1 header";
/// HKDF info of the payload key.
pub const INFO_PAYLOAD: &[u8] = b"kms-envelope/v1 payload";
/// Prefix of the HKDF info of a stanza seal key; the stanza label follows.
pub const INFO_STANZA: &[u8] = b"kms-envelope/v1 stanza ";
/// Associated data of a passphrase stanza's wrapped seed.
pub const AAD_PASSPHRASE_SEED: &[u8] = b"kms-envelope/v1 passphrase seed";

/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Header MAC length.
pub const MAC_LEN: usize = 32;

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256(ikm, salt, info) → 32 bytes.
pub fn hkdf32(ikm: &[u8], salt: &[u8], info: &[&[u8]]) -> Result<Zeroizing<[u8; 32]>> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let okm = prk
        .expand(info, Len(32))
        .map_err(|_| Error::Internal("HKDF expand failed"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    okm.fill(&mut out[..])
        .map_err(|_| Error::Internal("HKDF fill failed"))?;
    Ok(out)
}

/// The header MAC over `header || canonical(context)`.
pub fn header_mac(file_key: &FileKey, header: &[u8], context: &[u8]) -> Result<[u8; MAC_LEN]> {
    let k = hkdf32(file_key.expose_secret(), b"", &[INFO_HEADER])?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &k[..]);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(header);
    ctx.update(context);
    let tag = ctx.sign();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

/// Checks the header MAC in constant time.
pub fn verify_header_mac(
    file_key: &FileKey,
    header: &[u8],
    context: &[u8],
    mac: &[u8; MAC_LEN],
) -> Result<()> {
    let expected = header_mac(file_key, header, context)?;
    if subtle::ConstantTimeEq::ct_eq(&expected[..], &mac[..]).into() {
        Ok(())
    } else {
        Err(Error::BadHeaderMac)
    }
}

/// The payload key: HKDF-SHA256(file key, salt = header nonce, "kms-envelope/v1 payload").
pub fn payload_key(file_key: &FileKey, nonce: &[u8]) -> Result<aead::LessSafeKey> {
    let k = hkdf32(file_key.expose_secret(), nonce, &[INFO_PAYLOAD])?;
    aes_key(&k[..])
}

/// An AES-256-GCM key.
pub fn aes_key(k: &[u8]) -> Result<aead::LessSafeKey> {
    let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, k)
        .map_err(|_| Error::Internal("bad AES key length"))?;
    Ok(aead::LessSafeKey::new(unbound))
}

/// Seals `secret` under a single-use key (nonce zero): `ciphertext || tag`.
pub fn seal_once(key: &[u8], aad: &[u8], secret: &[u8]) -> Result<Vec<u8>> {
    let key = aes_key(key)?;
    let mut buf = secret.to_vec();
    key.seal_in_place_append_tag(
        aead::Nonce::assume_unique_for_key([0u8; 12]),
        aead::Aad::from(aad),
        &mut buf,
    )
    .map_err(|_| Error::Internal("AES-GCM seal failed"))?;
    Ok(buf)
}

/// Opens what [`seal_once`] made; `None` when it does not authenticate.
pub fn open_once(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let key = aes_key(key)?;
    let mut buf = Zeroizing::new(sealed.to_vec());
    let n = match key.open_in_place(
        aead::Nonce::assume_unique_for_key([0u8; 12]),
        aead::Aad::from(aad),
        &mut buf[..],
    ) {
        Ok(pt) => pt.len(),
        Err(_) => return Ok(None),
    };
    buf.truncate(n);
    Ok(Some(buf))
}

/// The seal key of a stanza: HKDF-SHA256(seed, "", "kms-envelope/v1 stanza " || label).
pub fn stanza_key(seed: &[u8], label: &str) -> Result<Zeroizing<[u8; 32]>> {
    hkdf32(seed, b"", &[INFO_STANZA, label.as_bytes()])
}

/// The associated data of a stanza seal: `label || 0x00 || canonical(context)`.
pub fn stanza_aad(label: &str, context: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(label.len() + 1 + context.len());
    v.extend_from_slice(label.as_bytes());
    v.push(0);
    v.extend_from_slice(context);
    v
}

/// The nonce of payload chunk `index`: 11-byte big-endian counter || last flag.
pub fn chunk_nonce(index: u64, last: bool) -> aead::Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(last);
    aead::Nonce::assume_unique_for_key(n)
}
