//! k-of-n thresholds: the file key is split with Shamir's scheme over
//! GF(256) (`vsss-rs`), one share per recipient stanza. A share is
//! `id (1 byte, 1..=255) || 32 bytes`. Rewrap adds a recipient by
//! evaluating the same polynomial at a new id from k opened shares
//! (Lagrange interpolation), so the other recipients' stanzas stay as they are.

use std::convert::Infallible;

use ring::hmac;
use vsss_rs::Gf256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{FILE_KEY_LEN, FileKey, WrappedSecret};

/// Length of one share.
pub const SHARE_LEN: usize = FILE_KEY_LEN + 1;

/// Splits the file key into `n` shares of which any `k` recover it.
pub fn split(
    file_key: &FileKey,
    k: u8,
    n: usize,
    rng: &dyn kms_core::Rng,
) -> Result<Vec<WrappedSecret>> {
    check(k, n)?;
    let rng = SeededRng::new(rng)?;
    let shares = Gf256::split_bytes(k as usize, n, file_key.expose_secret(), rng)
        .map_err(|_| Error::Internal("Shamir split failed"))?;
    Ok(shares
        .into_iter()
        .map(|s| WrappedSecret::new(Zeroizing::new(s)))
        .collect())
}

/// Checks a threshold against a number of recipients.
pub fn check(k: u8, n: usize) -> Result<()> {
    if k < 2 || (k as usize) > n || n > crate::format::MAX_STANZAS {
        return Err(Error::invalid(
            "threshold",
            format!(
                "{k} of {n} recipients: the threshold must be 2 to the number of recipients (at most 255)"
            ),
        ));
    }
    Ok(())
}

/// The share's id (its x coordinate).
pub fn share_id(share: &WrappedSecret) -> Option<u8> {
    match share.expose_secret() {
        [id, rest @ ..] if rest.len() == FILE_KEY_LEN && *id != 0 => Some(*id),
        _ => None,
    }
}

/// Recovers the file key from at least k shares with distinct ids.
pub fn combine(shares: &[WrappedSecret]) -> Result<FileKey> {
    let raw: Vec<Zeroizing<Vec<u8>>> = shares
        .iter()
        .map(|s| Zeroizing::new(s.expose_secret().to_vec()))
        .collect();
    let plain: Vec<Vec<u8>> = raw.iter().map(|s| s.to_vec()).collect();
    let result = Gf256::combine_bytes(&plain);
    for mut p in plain {
        zeroize::Zeroize::zeroize(&mut p);
    }
    let secret =
        Zeroizing::new(result.map_err(|_| Error::InvalidHeader("invalid threshold shares"))?);
    FileKey::from_slice(&secret).ok_or(Error::InvalidHeader("invalid threshold shares"))
}

/// A new share at `new_id`, from `shares` (at least k, distinct ids): the
/// same polynomial evaluated at another point.
pub fn extend(shares: &[WrappedSecret], new_id: u8) -> Result<WrappedSecret> {
    let ids: Vec<u8> = shares
        .iter()
        .map(|s| share_id(s).ok_or(Error::Internal("malformed share")))
        .collect::<Result<_>>()?;
    if new_id == 0 || ids.contains(&new_id) {
        return Err(Error::Internal("share id in use"));
    }
    let x = Gf256(new_id);
    // Lagrange basis l_i(x) = prod_{j != i} (x - x_j) / (x_i - x_j); in GF(2^8) minus is plus.
    let mut basis = Vec::with_capacity(ids.len());
    for (i, xi) in ids.iter().enumerate() {
        let mut l = Gf256(1);
        for (j, xj) in ids.iter().enumerate() {
            if i != j {
                l *= (x + Gf256(*xj)) / (Gf256(*xi) + Gf256(*xj));
            }
        }
        basis.push(l);
    }
    let mut out = Zeroizing::new(vec![0u8; SHARE_LEN]);
    out[0] = new_id;
    for b in 0..FILE_KEY_LEN {
        let mut y = Gf256(0);
        for (share, l) in shares.iter().zip(&basis) {
            y += Gf256(share.expose_secret()[b + 1]) * *l;
        }
        out[b + 1] = y.0;
    }
    Ok(WrappedSecret::new(out))
}

/// An infallible CSPRNG for `vsss-rs`: HMAC-SHA256 in counter mode, keyed
/// by 32 bytes from the injected generator.
struct SeededRng {
    key: hmac::Key,
    counter: u64,
    block: Zeroizing<[u8; 32]>,
    used: usize,
}

impl SeededRng {
    fn new(rng: &dyn kms_core::Rng) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(&mut seed[..])
            .map_err(|_| Error::Internal("random generator failed"))?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &seed[..]),
            counter: 0,
            block: Zeroizing::new([0u8; 32]),
            used: 32,
        })
    }
}

impl rand_core::TryRng for SeededRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst.iter_mut() {
            if self.used == 32 {
                let tag = hmac::sign(&self.key, &self.counter.to_be_bytes());
                self.counter = self.counter.wrapping_add(1);
                self.block.copy_from_slice(tag.as_ref());
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SeededRng {}

#[cfg(test)]
mod tests;
