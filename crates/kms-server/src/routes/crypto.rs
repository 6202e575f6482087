//! Encrypt, decrypt, re-encrypt (each with `batch_input`), data keys, data
//! key pairs and random bytes.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kms_core::types::{DataKeyLength, Decrypted, Encrypted};
use kms_core::{DataKeyPairSpec, DataKeySpec, Error, KeyRef, Operation, ResolvedKey};
use kms_proto::batch::SingleOrBatch;
use kms_proto::crypto::{
    DataKeyPairRequest, DataKeyPairResponseWire, DataKeyRequest, DataKeyResponseWire,
    DecryptRequest, DecryptResponseWire, EncryptRequestWire, EncryptResponse, RandomRequest,
    RandomResponseWire, ReEncryptRequest,
};
use kms_proto::{ContextWire, SecretBytes};

use super::batch::{Batch, finish};
use super::same_key::SameKey;
use super::{ApiErrors, ct_bytes, ct_text, key_ref, parse_opt, required, required_key};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{Act, AppState, Attempt};

/// The documented answer of encrypt and re-encrypt.
type EncryptAnswer = SingleOrBatch<EncryptResponse>;

/// The documented answer of decrypt.
type DecryptAnswer = SingleOrBatch<DecryptResponseWire>;

fn enc(e: Encrypted) -> EncryptResponse {
    EncryptResponse {
        key_id: e.key_id,
        version: e.version,
        ciphertext: ct_text(&e.ciphertext),
    }
}

fn dec(d: Decrypted) -> DecryptResponseWire {
    DecryptResponseWire {
        key_id: d.key_id,
        version: d.version,
        plaintext: SecretBytes::new(d.plaintext.into_zeroizing()),
    }
}

async fn encrypt_one<'a>(
    s: &'a AppState,
    c: &Caller,
    keys: &mut SameKey<'a>,
    key: Option<&str>,
    plaintext: &SecretBytes,
    ctx: Option<&ContextWire>,
) -> kms_core::Result<Attempt<Encrypted>> {
    let (key, resolved) = keys.get(key, "key").await?;
    let ctx = ContextWire::parse_opt(ctx)?;
    let act = Act::key(Operation::Encrypt, key)
        .context(&ctx)
        .resolved(resolved.map(ResolvedKey::metadata));
    let pt = plaintext.expose_secret();
    Ok(s.attempt(c, act, || async {
        match resolved {
            Some(r) => s.kms.encrypt_with(r, pt, &ctx).await,
            None => s.kms.encrypt(key, pt, &ctx).await,
        }
    })
    .await)
}

/// Encrypts up to 64 KiB per item; `batch_input` for many.
#[utoipa::path(post, path = "/api/v1/crypto/encrypt", tag = "crypto", request_body = EncryptRequestWire,
    responses((status = 200, description = "`EncryptResponse`, or `{batch_results: [...]}` for a batch", body = EncryptAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn encrypt(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<EncryptRequestWire>,
) -> Result<Response, ApiError> {
    let mut keys = SameKey::new(&s.kms, Operation::Encrypt);
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let key = it.key.as_deref().or(req.key.as_deref());
            let ctx = it.context.as_ref();
            let a = encrypt_one(&s, &caller, &mut keys, key, &it.plaintext, ctx).await;
            batch.push(it.reference, a, enc);
        }
        return batch.respond(&s, &caller).await;
    }
    let pt = required(req.plaintext, "plaintext")?;
    let (key, ctx) = (req.key.as_deref(), req.context.as_ref());
    let a = encrypt_one(&s, &caller, &mut keys, key, &pt, ctx).await?;
    Ok(Json(enc(finish(&s, &caller, a).await?)).into_response())
}

async fn decrypt_one(
    s: &AppState,
    c: &Caller,
    key: Option<&str>,
    ciphertext: &str,
    ctx: Option<&ContextWire>,
) -> kms_core::Result<Attempt<Decrypted>> {
    let explicit = key.map(key_ref).transpose()?;
    let ct = ct_bytes(ciphertext)?;
    let ctx = ContextWire::parse_opt(ctx)?;
    let named = match &explicit {
        Some(k) => Some(k.clone()),
        None => s.kms.default_backend().ciphertext_key(&ct).await.ok(),
    };
    let act = Act::maybe_key(Operation::Decrypt, named.as_ref()).context(&ctx);
    Ok(
        s.attempt(c, act, || s.kms.decrypt(&ct, &ctx, explicit.as_ref()))
            .await,
    )
}

/// Decrypts; the key is read from the ciphertext unless given.
#[utoipa::path(post, path = "/api/v1/crypto/decrypt", tag = "crypto", request_body = DecryptRequest,
    responses((status = 200, description = "`DecryptResponse`, or `{batch_results: [...]}` for a batch", body = DecryptAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn decrypt(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DecryptRequest>,
) -> Result<Response, ApiError> {
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let key = it.key.as_deref().or(req.key.as_deref());
            let a = decrypt_one(&s, &caller, key, &it.ciphertext, it.context.as_ref()).await;
            batch.push(it.reference, a, dec);
        }
        return batch.respond(&s, &caller).await;
    }
    let ct = required(req.ciphertext, "ciphertext")?;
    let a = decrypt_one(&s, &caller, req.key.as_deref(), &ct, req.context.as_ref()).await?;
    Ok(Json(dec(finish(&s, &caller, a).await?)).into_response())
}

struct ReEncryptArgs<'a> {
    ciphertext: &'a str,
    source_key: Option<&'a str>,
    source_context: Option<&'a ContextWire>,
    destination_key: Option<&'a str>,
    destination_context: Option<&'a ContextWire>,
}

async fn re_encrypt_one(
    s: &AppState,
    c: &Caller,
    a: ReEncryptArgs<'_>,
) -> kms_core::Result<Attempt<Encrypted>> {
    let ct = ct_bytes(a.ciphertext)?;
    let src = a.source_key.map(key_ref).transpose()?;
    let dst = required_key(a.destination_key, "destination_key")?;
    let src_ctx = ContextWire::parse_opt(a.source_context)?;
    let dst_ctx = ContextWire::parse_opt(a.destination_context)?;
    let src_named: Option<KeyRef> = match &src {
        Some(k) => Some(k.clone()),
        None => s.kms.default_backend().ciphertext_key(&ct).await.ok(),
    };
    let act = Act::key(Operation::ReEncrypt, &dst).context(&dst_ctx);
    Ok(s.attempt(c, act, || async {
        // The caller needs re_encrypt on the source key too.
        let src_act = Act::maybe_key(Operation::ReEncrypt, src_named.as_ref()).context(&src_ctx);
        s.authorize(c, &src_act).await?;
        s.kms
            .re_encrypt(&ct, &src_ctx, src.as_ref(), &dst, &dst_ctx)
            .await
    })
    .await)
}

/// Decrypts and encrypts again under another key or context, inside the KMS.
#[utoipa::path(post, path = "/api/v1/crypto/re-encrypt", tag = "crypto", request_body = ReEncryptRequest,
    responses((status = 200, description = "`EncryptResponse`, or `{batch_results: [...]}` for a batch", body = EncryptAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn re_encrypt(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ReEncryptRequest>,
) -> Result<Response, ApiError> {
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let args = ReEncryptArgs {
                ciphertext: &it.ciphertext,
                source_key: it.source_key.as_deref().or(req.source_key.as_deref()),
                source_context: it.source_context.as_ref(),
                destination_key: it
                    .destination_key
                    .as_deref()
                    .or(req.destination_key.as_deref()),
                destination_context: it.destination_context.as_ref(),
            };
            let a = re_encrypt_one(&s, &caller, args).await;
            batch.push(it.reference, a, enc);
        }
        return batch.respond(&s, &caller).await;
    }
    let ct = required(req.ciphertext, "ciphertext")?;
    let args = ReEncryptArgs {
        ciphertext: &ct,
        source_key: req.source_key.as_deref(),
        source_context: req.source_context.as_ref(),
        destination_key: req.destination_key.as_deref(),
        destination_context: req.destination_context.as_ref(),
    };
    let a = re_encrypt_one(&s, &caller, args).await?;
    Ok(Json(enc(finish(&s, &caller, a).await?)).into_response())
}

/// A data key: in clear (unless `without_plaintext`) and wrapped under `key`.
#[utoipa::path(post, path = "/api/v1/crypto/data-key", tag = "crypto", request_body = DataKeyRequest,
    responses((status = 200, body = DataKeyResponseWire), ApiErrors), security(("token" = [])))]
pub async fn data_key(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DataKeyRequest>,
) -> Result<Json<DataKeyResponseWire>, ApiError> {
    let key = key_ref(&req.key)?;
    let ctx = ContextWire::parse_opt(req.context.as_ref())?;
    let length = match (
        parse_opt::<DataKeySpec>(req.key_spec.as_deref())?,
        req.number_of_bytes,
    ) {
        (Some(_), Some(_)) => {
            return Err(
                Error::invalid("key_spec", "give key_spec or number_of_bytes, not both").into(),
            );
        }
        (_, Some(n)) => DataKeyLength::Bytes(n),
        (spec, None) => DataKeyLength::Spec(spec.unwrap_or(DataKeySpec::Aes256)),
    };
    let act = Act::key(Operation::GenerateDataKey, &key).context(&ctx);
    let out = s
        .run(&caller, act, || {
            s.kms
                .generate_data_key(&key, length, &ctx, !req.without_plaintext)
        })
        .await?;
    Ok(Json(DataKeyResponseWire {
        key_id: out.key_id,
        version: out.version,
        plaintext: out.plaintext.map(|k| SecretBytes::new(k.into_zeroizing())),
        ciphertext: ct_text(&out.ciphertext),
    }))
}

/// A data key pair: the private key in clear (unless `without_plaintext`) and wrapped.
#[utoipa::path(post, path = "/api/v1/crypto/data-key-pair", tag = "crypto", request_body = DataKeyPairRequest,
    responses((status = 200, body = DataKeyPairResponseWire), ApiErrors), security(("token" = [])))]
pub async fn data_key_pair(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DataKeyPairRequest>,
) -> Result<Json<DataKeyPairResponseWire>, ApiError> {
    let key = key_ref(&req.key)?;
    let ctx = ContextWire::parse_opt(req.context.as_ref())?;
    let spec: DataKeyPairSpec = req.key_pair_spec.parse()?;
    let act = Act::key(Operation::GenerateDataKeyPair, &key).context(&ctx);
    let out = s
        .run(&caller, act, || {
            s.kms
                .generate_data_key_pair(&key, spec, &ctx, !req.without_plaintext)
        })
        .await?;
    Ok(Json(DataKeyPairResponseWire {
        key_id: out.key_id,
        version: out.version,
        key_pair_spec: out.spec.to_string(),
        private_key_plaintext: out
            .private_key_plaintext
            .map(|k| SecretBytes::new(k.into_zeroizing())),
        private_key_ciphertext: ct_text(&out.private_key_ciphertext),
        public_key: out.public_key,
    }))
}

/// 1–1024 random bytes.
#[utoipa::path(post, path = "/api/v1/crypto/random", tag = "crypto", request_body = RandomRequest,
    responses((status = 200, body = RandomResponseWire), ApiErrors), security(("token" = [])))]
pub async fn random(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RandomRequest>,
) -> Result<Json<RandomResponseWire>, ApiError> {
    let act = Act::keyless(Operation::GenerateRandom);
    let bytes = s
        .run(&caller, act, || s.kms.generate_random(req.number_of_bytes))
        .await?;
    Ok(Json(RandomResponseWire {
        random: SecretBytes::new(zeroize::Zeroizing::new(bytes)),
    }))
}
