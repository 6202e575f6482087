//! The client and its calls, one per endpoint.

use std::time::Duration;

use kms_proto::admin::{
    AuditList, AuditQuery, AuditVerifyResponse, CreateTokenRequest, CreatedTokenWire, PolicyList,
    PolicyWire, TokenInfo, TokenList,
};
use kms_proto::batch::{BatchEntry, BatchResponse};
use kms_proto::crypto::{
    DataKeyPairRequest, DataKeyPairResponseWire, DataKeyRequest, DataKeyResponseWire, DecryptItem,
    DecryptRequest, DecryptResponseWire, EncryptItemWire, EncryptRequestWire, EncryptResponse,
    MacRequest, MacResponse, MacVerifyRequest, RandomRequest, RandomResponseWire, ReEncryptRequest,
    SignRequest, SignResponse, VerifyRequest, VerifyResponse,
};
use kms_proto::keys::{
    AliasInfo, AliasList, CreateAliasRequest, CreateKeyRequest, ImportKeyMaterialRequest,
    ImportParametersResponse, KeyInfo, KeyList, ListKeysQuery, PublicKeyResponse,
    ScheduleDeletionRequest, TagsRequest, UpdateAliasRequest, UpdateKeyRequest,
};
use kms_proto::seed::{
    Health, SeedDecryptRequest, SeedDecryptResponseWire, SeedEncryptRequestWire,
    SeedEncryptResponse, SeedGenerateKeyRequest, SeedGenerateKeyResponseWire, SeedStatus,
};
use kms_proto::sys::{SealStatus, UnsealRequestWire};
use kms_proto::{ContextWire, ErrorBody, SecretBytes};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::Error;

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    addr: String,
    token: Option<Zeroizing<String>>,
    ca_pem: Option<Vec<u8>>,
    identity_pem: Option<Zeroizing<Vec<u8>>>,
    timeout: Duration,
}

impl ClientBuilder {
    /// Sends this token as `Authorization: Bearer`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Zeroizing::new(token.into()));
        self
    }

    /// Trusts only this CA bundle (PEM) for the server's certificate.
    pub fn ca_pem(mut self, pem: Vec<u8>) -> Self {
        self.ca_pem = Some(pem);
        self
    }

    /// Presents this client certificate and key (PEM, concatenated) for mutual TLS.
    pub fn identity_pem(mut self, pem: Vec<u8>) -> Self {
        self.identity_pem = Some(Zeroizing::new(pem));
        self
    }

    /// The timeout of each call (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        let base = Url::parse(self.addr.trim_end_matches('/'))
            .map_err(|e| Error::Config(format!("address {:?}: {e}", self.addr)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "address {:?} must start with http:// or https://",
                self.addr
            )));
        }
        let mut b = reqwest::Client::builder().timeout(self.timeout);
        if let Some(pem) = &self.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::Config(format!("CA bundle: {e}")))?;
            b = b.tls_certs_only(certs);
        }
        if let Some(pem) = &self.identity_pem {
            let id = reqwest::Identity::from_pem(pem)
                .map_err(|e| Error::Config(format!("client certificate: {e}")))?;
            b = b.identity(id);
        }
        let http = b
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            token: self.token,
        })
    }
}

/// A client of one KMS server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Zeroizing<String>>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Path segments after `/api/v1`.
type Path<'a> = &'a [&'a str];

impl Client {
    /// A builder for the server at `addr` (`http://host:port` or `https://…`).
    pub fn builder(addr: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            addr: addr.into(),
            token: None,
            ca_pem: None,
            identity_pem: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// The server's address.
    pub fn addr(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: Path<'_>) -> Result<Url, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config(format!("{} cannot take a path", self.base)))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(path);
        Ok(url)
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: Path<'_>,
        query: Option<&(impl Serialize + ?Sized)>,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let url = self.url(path)?;
        let mut req = self.http.request(method, url.clone());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.as_str());
        }
        if let Some(q) = query {
            req = req.query(q);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|source| Error::Transport {
            url: url.to_string(),
            source,
        })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|source| Error::Transport {
            url: url.to_string(),
            source,
        })?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => Error::Api {
                    status: status.as_u16(),
                    code: e.error,
                    message: e.message,
                },
                Err(_) => Error::Api {
                    status: status.as_u16(),
                    code: "internal".into(),
                    message: format!("HTTP {status} from {url}"),
                },
            });
        }
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| Error::Decode {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: Path<'_>) -> Result<T, Error> {
        self.call::<(), T>(Method::GET, path, None::<&()>, None)
            .await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: Path<'_>,
        body: &B,
    ) -> Result<T, Error> {
        self.call(Method::POST, path, None::<&()>, Some(body)).await
    }

    // ---- seed API and sys ----

    /// `GET /api/v1/kms/health` (a sealed server answers 503 `sealed`).
    pub async fn health(&self) -> Result<Health, Error> {
        self.get(&["kms", "health"]).await
    }

    /// Seed encrypt with the server's default key.
    pub async fn seed_encrypt(
        &self,
        plaintext: &[u8],
        context: Option<&str>,
    ) -> Result<SeedEncryptResponse, Error> {
        let body = SeedEncryptRequestWire {
            plaintext: SecretBytes::from_slice(plaintext),
            context: context.map(str::to_string),
        };
        self.post(&["kms", "encrypt"], &body).await
    }

    /// Seed decrypt.
    pub async fn seed_decrypt(
        &self,
        ciphertext: &str,
        context: Option<&str>,
    ) -> Result<SeedDecryptResponseWire, Error> {
        let body = SeedDecryptRequest {
            ciphertext: ciphertext.into(),
            context: context.map(str::to_string),
        };
        self.post(&["kms", "decrypt"], &body).await
    }

    /// Seed generate-key.
    pub async fn seed_generate_key(
        &self,
        key_spec: Option<&str>,
    ) -> Result<SeedGenerateKeyResponseWire, Error> {
        let body = SeedGenerateKeyRequest {
            key_spec: key_spec.map(str::to_string),
        };
        self.post(&["kms", "generate-key"], &body).await
    }

    /// Seed status.
    pub async fn status(&self) -> Result<SeedStatus, Error> {
        self.get(&["kms", "status"]).await
    }

    /// Seal status.
    pub async fn seal_status(&self) -> Result<SealStatus, Error> {
        self.get(&["sys", "seal-status"]).await
    }

    /// Seals the server's store.
    pub async fn seal(&self) -> Result<SealStatus, Error> {
        self.post(&["sys", "seal"], &()).await
    }

    /// Unseals with the passphrase.
    pub async fn unseal(&self, passphrase: &str) -> Result<SealStatus, Error> {
        let body = UnsealRequestWire {
            passphrase: kms_proto::b64::SecretText::new(passphrase.to_string()),
        };
        self.post(&["sys", "unseal"], &body).await
    }

    // ---- keys and aliases ----

    /// Creates a key.
    pub async fn create_key(&self, req: &CreateKeyRequest) -> Result<KeyInfo, Error> {
        self.post(&["keys"], req).await
    }

    /// One page of keys.
    pub async fn list_keys(&self, q: &ListKeysQuery) -> Result<KeyList, Error> {
        self.call::<(), _>(Method::GET, &["keys"], Some(q), None)
            .await
    }

    /// Describes a key.
    pub async fn describe_key(&self, key: &str) -> Result<KeyInfo, Error> {
        self.get(&["keys", key]).await
    }

    /// Updates a key.
    pub async fn update_key(&self, key: &str, req: &UpdateKeyRequest) -> Result<KeyInfo, Error> {
        self.call(Method::PATCH, &["keys", key], None::<&()>, Some(req))
            .await
    }

    /// Sets tags.
    pub async fn set_tags(&self, key: &str, req: &TagsRequest) -> Result<KeyInfo, Error> {
        self.call(Method::PUT, &["keys", key, "tags"], None::<&()>, Some(req))
            .await
    }

    /// Removes a tag.
    pub async fn remove_tag(&self, key: &str, name: &str) -> Result<KeyInfo, Error> {
        self.call::<(), _>(
            Method::DELETE,
            &["keys", key, "tags", name],
            None::<&()>,
            None,
        )
        .await
    }

    /// Rotates a key.
    pub async fn rotate_key(&self, key: &str) -> Result<KeyInfo, Error> {
        self.post(&["keys", key, "rotate"], &()).await
    }

    /// Enables a key.
    pub async fn enable_key(&self, key: &str) -> Result<KeyInfo, Error> {
        self.post(&["keys", key, "enable"], &()).await
    }

    /// Disables a key.
    pub async fn disable_key(&self, key: &str) -> Result<KeyInfo, Error> {
        self.post(&["keys", key, "disable"], &()).await
    }

    /// Schedules deletion after `days` (7–30; 30 by default).
    pub async fn schedule_key_deletion(
        &self,
        key: &str,
        days: Option<u32>,
    ) -> Result<KeyInfo, Error> {
        self.post(
            &["keys", key, "schedule-deletion"],
            &ScheduleDeletionRequest { days },
        )
        .await
    }

    /// Cancels a scheduled deletion.
    pub async fn cancel_key_deletion(&self, key: &str) -> Result<KeyInfo, Error> {
        self.post(&["keys", key, "cancel-deletion"], &()).await
    }

    /// The public key of an asymmetric key.
    pub async fn public_key(
        &self,
        key: &str,
        version: Option<u32>,
    ) -> Result<PublicKeyResponse, Error> {
        let q = kms_proto::keys::PublicKeyQuery { version };
        self.call::<(), _>(Method::GET, &["keys", key, "public-key"], Some(&q), None)
            .await
    }

    /// Import parameters (BYOK).
    pub async fn import_parameters(&self, key: &str) -> Result<ImportParametersResponse, Error> {
        self.post(&["keys", key, "import-parameters"], &()).await
    }

    /// Imports wrapped key material.
    pub async fn import_key_material(
        &self,
        key: &str,
        import_token: &str,
        wrapped: &[u8],
    ) -> Result<KeyInfo, Error> {
        let body = ImportKeyMaterialRequest {
            import_token: import_token.into(),
            wrapped_material: wrapped.to_vec(),
        };
        self.post(&["keys", key, "import"], &body).await
    }

    /// Lists aliases (of one key, or all).
    pub async fn list_aliases(&self, key: Option<&str>) -> Result<AliasList, Error> {
        let q = kms_proto::keys::ListAliasesQuery {
            key: key.map(str::to_string),
        };
        self.call::<(), _>(Method::GET, &["aliases"], Some(&q), None)
            .await
    }

    /// Creates an alias.
    pub async fn create_alias(&self, alias: &str, key: &str) -> Result<AliasInfo, Error> {
        let body = CreateAliasRequest {
            alias: alias.into(),
            key: key.into(),
        };
        self.post(&["aliases"], &body).await
    }

    /// Points an alias at another key.
    pub async fn update_alias(&self, alias: &str, key: &str) -> Result<AliasInfo, Error> {
        let body = UpdateAliasRequest { key: key.into() };
        self.call(Method::PUT, &["aliases", alias], None::<&()>, Some(&body))
            .await
    }

    /// Deletes an alias.
    pub async fn delete_alias(&self, alias: &str) -> Result<(), Error> {
        self.call::<(), serde_json::Value>(Method::DELETE, &["aliases", alias], None::<&()>, None)
            .await
            .map(|_| ())
    }

    // ---- crypto ----

    /// Encrypts under `key`.
    pub async fn encrypt(
        &self,
        key: &str,
        plaintext: &[u8],
        context: Option<ContextWire>,
    ) -> Result<EncryptResponse, Error> {
        let body = EncryptRequestWire {
            key: Some(key.into()),
            plaintext: Some(SecretBytes::from_slice(plaintext)),
            context,
            batch_input: None,
        };
        self.post(&["crypto", "encrypt"], &body).await
    }

    /// Encrypts a batch.
    pub async fn encrypt_batch(
        &self,
        key: Option<&str>,
        items: Vec<EncryptItemWire>,
    ) -> Result<BatchResponse<EncryptResponse>, Error> {
        let body = EncryptRequestWire {
            key: key.map(str::to_string),
            batch_input: Some(items.into_iter().map(BatchEntry::from).collect()),
            ..EncryptRequestWire::default()
        };
        self.post(&["crypto", "encrypt"], &body).await
    }

    /// Decrypts (the key is read from the ciphertext unless given).
    pub async fn decrypt(
        &self,
        ciphertext: &str,
        context: Option<ContextWire>,
        key: Option<&str>,
    ) -> Result<DecryptResponseWire, Error> {
        let body = DecryptRequest {
            key: key.map(str::to_string),
            ciphertext: Some(ciphertext.into()),
            context,
            batch_input: None,
        };
        self.post(&["crypto", "decrypt"], &body).await
    }

    /// Decrypts a batch.
    pub async fn decrypt_batch(
        &self,
        items: Vec<DecryptItem>,
    ) -> Result<BatchResponse<DecryptResponseWire>, Error> {
        let body = DecryptRequest {
            batch_input: Some(items.into_iter().map(BatchEntry::from).collect()),
            ..DecryptRequest::default()
        };
        self.post(&["crypto", "decrypt"], &body).await
    }

    /// Re-encrypts.
    pub async fn re_encrypt(&self, req: &ReEncryptRequest) -> Result<EncryptResponse, Error> {
        self.post(&["crypto", "re-encrypt"], req).await
    }

    /// A data key.
    pub async fn data_key(&self, req: &DataKeyRequest) -> Result<DataKeyResponseWire, Error> {
        self.post(&["crypto", "data-key"], req).await
    }

    /// A data key pair.
    pub async fn data_key_pair(
        &self,
        req: &DataKeyPairRequest,
    ) -> Result<DataKeyPairResponseWire, Error> {
        self.post(&["crypto", "data-key-pair"], req).await
    }

    /// Signs.
    pub async fn sign(&self, req: &SignRequest) -> Result<SignResponse, Error> {
        self.post(&["crypto", "sign"], req).await
    }

    /// Verifies a signature.
    pub async fn verify(&self, req: &VerifyRequest) -> Result<VerifyResponse, Error> {
        self.post(&["crypto", "verify"], req).await
    }

    /// Computes a MAC.
    pub async fn mac(&self, req: &MacRequest) -> Result<MacResponse, Error> {
        self.post(&["crypto", "mac"], req).await
    }

    /// Verifies a MAC.
    pub async fn verify_mac(&self, req: &MacVerifyRequest) -> Result<VerifyResponse, Error> {
        self.post(&["crypto", "mac", "verify"], req).await
    }

    /// Random bytes.
    pub async fn random(&self, number_of_bytes: usize) -> Result<RandomResponseWire, Error> {
        self.post(&["crypto", "random"], &RandomRequest { number_of_bytes })
            .await
    }

    // ---- tokens, policies, audit ----

    /// Creates a token (the secret is in the answer only).
    pub async fn create_token(&self, req: &CreateTokenRequest) -> Result<CreatedTokenWire, Error> {
        self.post(&["auth", "tokens"], req).await
    }

    /// Lists tokens.
    pub async fn list_tokens(&self) -> Result<TokenList, Error> {
        self.get(&["auth", "tokens"]).await
    }

    /// Revokes a token by id.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenInfo, Error> {
        self.call::<(), _>(Method::DELETE, &["auth", "tokens", id], None::<&()>, None)
            .await
    }

    /// Creates or replaces a policy.
    pub async fn put_policy(&self, policy: &PolicyWire) -> Result<PolicyWire, Error> {
        self.call(
            Method::PUT,
            &["auth", "policies", &policy.name],
            None::<&()>,
            Some(policy),
        )
        .await
    }

    /// Reads a policy.
    pub async fn policy(&self, name: &str) -> Result<PolicyWire, Error> {
        self.get(&["auth", "policies", name]).await
    }

    /// Lists policies.
    pub async fn list_policies(&self) -> Result<PolicyList, Error> {
        self.get(&["auth", "policies"]).await
    }

    /// Deletes a policy.
    pub async fn delete_policy(&self, name: &str) -> Result<(), Error> {
        self.call::<(), serde_json::Value>(
            Method::DELETE,
            &["auth", "policies", name],
            None::<&()>,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Audit records.
    pub async fn audit(&self, q: &AuditQuery) -> Result<AuditList, Error> {
        self.call::<(), _>(Method::GET, &["audit"], Some(q), None)
            .await
    }

    /// Verifies the audit chain.
    pub async fn audit_verify(&self) -> Result<AuditVerifyResponse, Error> {
        self.get(&["audit", "verify"]).await
    }
}
