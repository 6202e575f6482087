//! Public key formats: SubjectPublicKeyInfo DER ⇄ PEM, and DER → JWK
//! (RFC 7517 / RFC 7518 §6 / RFC 8037).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::der::{Malformed, Reader, tag};
use crate::error::{Error, Result};
use crate::spec::KeySpec;

const PEM_PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// DER contents of the object identifiers a SubjectPublicKeyInfo may carry.
mod oid {
    /// rsaEncryption, 1.2.840.113549.1.1.1.
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// id-ecPublicKey, 1.2.840.10045.2.1.
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// prime256v1 (P-256), 1.2.840.10045.3.1.7.
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// secp384r1 (P-384), 1.3.132.0.34.
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// id-Ed25519, 1.3.101.112.
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
}

/// Encodes a SubjectPublicKeyInfo DER public key as PEM
/// (`-----BEGIN PUBLIC KEY-----`, base64 in 64-column lines, trailing newline),
/// as OpenSSL writes it.
#[must_use]
pub fn spki_der_to_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 64);
    pem.push_str("-----BEGIN ");
    pem.push_str(PEM_PUBLIC_KEY_LABEL);
    pem.push_str("-----\n");
    for (i, c) in body.chars().enumerate() {
        if i > 0 && i % 64 == 0 {
            pem.push('\n');
        }
        pem.push(c);
    }
    if !body.is_empty() {
        pem.push('\n');
    }
    pem.push_str("-----END ");
    pem.push_str(PEM_PUBLIC_KEY_LABEL);
    pem.push_str("-----\n");
    pem
}

/// Decodes the first PEM block in `pem` to DER, whatever its label
/// (`PUBLIC KEY`, `PRIVATE KEY`, …). Text before the block is ignored, as
/// OpenSSL does. Blocks with headers (legacy encrypted PEM) are refused.
///
/// # Errors
/// [`Error::InvalidArgument`] (`pem`) if there is no complete block, the
/// END label differs from the BEGIN label, a header is present, or the body
/// is not base64.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    let invalid = |reason: &str| Error::invalid("pem", reason.to_owned());
    let mut lines = pem.lines().map(str::trim);
    let label = lines
        .by_ref()
        .find_map(|line| {
            line.strip_prefix("-----BEGIN ")
                .and_then(|rest| rest.strip_suffix("-----"))
        })
        .ok_or_else(|| invalid("no `-----BEGIN ...-----` line found"))?;
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if let Some(end) = line
            .strip_prefix("-----END ")
            .and_then(|rest| rest.strip_suffix("-----"))
        {
            if end != label {
                return Err(invalid("the END label does not match the BEGIN label"));
            }
            ended = true;
            break;
        }
        if line.contains(':') {
            return Err(invalid(
                "PEM headers (legacy encrypted PEM) are not supported; use unencrypted PKCS#8 or SubjectPublicKeyInfo",
            ));
        }
        body.push_str(line);
    }
    if !ended {
        return Err(invalid("no matching `-----END ...-----` line found"));
    }
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| invalid("the body between BEGIN and END is not valid base64"))?;
    if der.is_empty() {
        return Err(invalid("the PEM block is empty"));
    }
    Ok(der)
}

/// Converts a SubjectPublicKeyInfo DER public key of `spec` to a JWK
/// (RFC 7517) with `kid`:
///
/// * RSA: `{"kty": "RSA", "n", "e"}` (RFC 7518 §6.3.1);
/// * ECC: `{"kty": "EC", "crv": "P-256" | "P-384", "x", "y"}` (RFC 7518 §6.2.1);
/// * Ed25519: `{"kty": "OKP", "crv": "Ed25519", "x"}` (RFC 8037).
///
/// Values are base64url without padding; `n` and `e` have no leading zero
/// bytes, EC coordinates have the full field length. `use` is omitted.
///
/// # Errors
/// * [`Error::IncompatibleSpec`] for symmetric specs.
/// * [`Error::InvalidArgument`] (`public_key`) if `der` is not a
///   SubjectPublicKeyInfo of `spec` (another algorithm, curve or size).
pub fn spki_der_to_jwk(spec: KeySpec, der: &[u8], kid: &str) -> Result<Value> {
    if !spec.is_asymmetric() {
        return Err(no_public_key(spec));
    }
    let (algorithm, parameters, key) = parse_spki(der).map_err(|_| not_spki(spec))?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            // Parameters must be NULL (RFC 3279); tolerate their absence.
            let parameters_ok = parameters.is_none() || parameters == Some((tag::NULL, &[][..]));
            if algorithm != oid::RSA_ENCRYPTION || !parameters_ok {
                return Err(not_spki(spec));
            }
            let (n, e) = parse_rsa_public_key(key).map_err(|_| not_spki(spec))?;
            if Some(n.len()) != spec.rsa_modulus_len() {
                return Err(Error::invalid(
                    "public_key",
                    format!(
                        "the RSA modulus has {} bits; {spec} needs {}",
                        n.len() * 8,
                        spec.rsa_modulus_len().unwrap_or_default() * 8
                    ),
                ));
            }
            Ok(json!({ "kty": "RSA", "kid": kid, "n": b64(n), "e": b64(e) }))
        }
        KeySpec::EccNistP256 | KeySpec::EccNistP384 => {
            let (curve_oid, crv, coordinate_len) = match spec {
                KeySpec::EccNistP256 => (oid::P256, "P-256", 32),
                _ => (oid::P384, "P-384", 48),
            };
            if algorithm != oid::EC_PUBLIC_KEY || parameters != Some((tag::OID, curve_oid)) {
                return Err(not_spki(spec));
            }
            // Only the uncompressed form: 0x04 || x || y.
            let Some((&0x04, point)) = key.split_first() else {
                return Err(not_spki(spec));
            };
            if point.len() != 2 * coordinate_len {
                return Err(not_spki(spec));
            }
            let (x, y) = point.split_at(coordinate_len);
            Ok(json!({ "kty": "EC", "kid": kid, "crv": crv, "x": b64(x), "y": b64(y) }))
        }
        KeySpec::Ed25519 => {
            if algorithm != oid::ED25519 || parameters.is_some() || key.len() != 32 {
                return Err(not_spki(spec));
            }
            Ok(json!({ "kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(key) }))
        }
        KeySpec::Aes128 | KeySpec::Aes256 | KeySpec::Hmac256 | KeySpec::Hmac512 => {
            Err(no_public_key(spec))
        }
    }
}

fn no_public_key(spec: KeySpec) -> Error {
    Error::IncompatibleSpec {
        spec,
        what: "export a public key".into(),
    }
}

fn not_spki(spec: KeySpec) -> Error {
    Error::invalid(
        "public_key",
        format!("not a SubjectPublicKeyInfo DER {spec} public key"),
    )
}

/// An algorithm parameter: its tag and contents.
type Parameters<'a> = Option<(u8, &'a [u8])>;

/// Splits a SubjectPublicKeyInfo into (algorithm OID, parameters, key bits).
fn parse_spki(der: &[u8]) -> Result<(&[u8], Parameters<'_>, &[u8]), Malformed> {
    let mut spki = Reader::new(Reader::read_all(der, tag::SEQUENCE)?);
    let mut algorithm_identifier = Reader::new(spki.read(tag::SEQUENCE)?);
    let key = spki.read_bit_string()?;
    spki.finish()?;
    let algorithm = algorithm_identifier.read(tag::OID)?;
    let parameters = match algorithm_identifier.peek_tag() {
        None => None,
        Some(t) => Some((t, algorithm_identifier.read(t)?)),
    };
    algorithm_identifier.finish()?;
    Ok((algorithm, parameters, key))
}

/// Splits an RSAPublicKey (RFC 8017 A.1.1) into (n, e), big-endian without
/// leading zeros.
fn parse_rsa_public_key(der: &[u8]) -> Result<(&[u8], &[u8]), Malformed> {
    let mut key = Reader::new(Reader::read_all(der, tag::SEQUENCE)?);
    let n = key.read_unsigned_integer()?;
    let e = key.read_unsigned_integer()?;
    key.finish()?;
    Ok((n, e))
}
