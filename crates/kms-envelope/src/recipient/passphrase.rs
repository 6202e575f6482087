//! Passphrase stanzas: Argon2id(passphrase, random salt) seals a random
//! 32-byte seed; the file key (or share) is sealed under HKDF(seed) with the
//! context as associated data. Salt and parameters are in the stanza.

use argon2::{Algorithm, Argon2, Params, Version};
use kms_core::{EncryptionContext, Passphrase};
use zeroize::Zeroizing;

use super::Unwrapped;
use crate::crypto::{AAD_PASSPHRASE_SEED, open_once, seal_once, stanza_aad, stanza_key};
use crate::error::{Error, Result};
use crate::format::{Argon2Params, Stanza, StanzaKind};
use crate::secret::WrappedSecret;

/// The most work a passphrase stanza may ask of a reader: 1 GiB, 16 passes, 16 lanes.
pub const PASSPHRASE_LIMITS: Argon2Params = Argon2Params {
    memory_kib: 1024 * 1024,
    iterations: 16,
    parallelism: 16,
};

fn kek(p: &Passphrase, salt: &[u8], params: Argon2Params) -> Result<Zeroizing<[u8; 32]>> {
    let bad = |_| Error::invalid("passphrase parameters", "not valid Argon2id parameters");
    let ps = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(bad)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, ps)
        .hash_password_into(p.expose_secret().as_bytes(), salt, &mut out[..])
        .map_err(bad)?;
    Ok(out)
}

pub(super) fn wrap(
    p: &Passphrase,
    params: Argon2Params,
    secret: &WrappedSecret,
    context: &EncryptionContext,
    rng: &dyn kms_core::Rng,
) -> Result<Stanza> {
    if p.expose_secret().is_empty() {
        return Err(Error::invalid("passphrase", "the passphrase is empty"));
    }
    let fail = |_| Error::Internal("random generator failed");
    let mut salt = vec![0u8; 16];
    rng.fill(&mut salt).map_err(fail)?;
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill(&mut seed[..]).map_err(fail)?;
    let kek = kek(p, &salt, params)?;
    let wrapped_seed = seal_once(&kek[..], AAD_PASSPHRASE_SEED, &seed[..])?;
    let label = StanzaKind::Passphrase.label();
    let key = stanza_key(&seed[..], label)?;
    let sealed = seal_once(
        &key[..],
        &stanza_aad(label, &context.canonical_bytes()),
        secret.expose_secret(),
    )?;
    Ok(Stanza::Passphrase {
        params,
        salt,
        wrapped_seed,
        sealed,
    })
}

pub(super) fn unwrap(
    p: &Passphrase,
    stanza: &Stanza,
    context: &EncryptionContext,
) -> Result<Unwrapped> {
    let Stanza::Passphrase {
        params,
        salt,
        wrapped_seed,
        sealed,
    } = stanza
    else {
        return Ok(Unwrapped::NotMine(None));
    };
    let l = PASSPHRASE_LIMITS;
    if params.memory_kib > l.memory_kib
        || params.iterations > l.iterations
        || params.parallelism > l.parallelism
    {
        return Err(Error::PassphraseWorkTooHigh {
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
        });
    }
    let kek = match kek(p, salt, *params) {
        Ok(k) => k,
        Err(_) => {
            return Err(Error::InvalidHeader(
                "invalid Argon2id parameters or salt in a passphrase stanza",
            ));
        }
    };
    let Some(seed) = open_once(&kek[..], AAD_PASSPHRASE_SEED, wrapped_seed)? else {
        return Ok(Unwrapped::NotMine(Some("wrong passphrase".into())));
    };
    let label = StanzaKind::Passphrase.label();
    let key = stanza_key(&seed, label)?;
    Ok(
        match open_once(
            &key[..],
            &stanza_aad(label, &context.canonical_bytes()),
            sealed,
        )? {
            Some(secret) => Unwrapped::Opened(WrappedSecret::new(secret)),
            None => Unwrapped::WrongContext,
        },
    )
}
