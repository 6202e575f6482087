//! The shared state of the server, and the one path every operation takes:
//! authorize against the caller's policies, run, count, audit.

use std::future::Future;
use std::sync::Arc;

use kms_core::types::{
    Decrypted, Encrypted, GeneratedDataKey, GeneratedDataKeyPair, ImportParameters, MacOutput,
    PublicKeyInfo, SignatureOutput,
};
use kms_core::{Clock, EncryptionContext, KeyMetadata, KeyRef, KmsManager, Operation};
use kms_store::{AccessRequest, AuditEvent, LocalBackend, Subject, TokenRecord};

use crate::audit::AuditLog;
use crate::auth::{Caller, FailureLimiter, RequestMeta};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Settings the handlers read.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The key of the seed API (`alias/default`).
    pub default_key: KeyRef,
    /// The most bytes a request body may have.
    pub max_request_bytes: usize,
}

impl Settings {
    /// Settings with this seed-API key and a 4 MiB request limit.
    pub fn new(default_key: &str) -> kms_core::Result<Self> {
        Ok(Self {
            default_key: KeyRef::parse(default_key)?,
            max_request_bytes: 4 * 1024 * 1024,
        })
    }
}

/// The state every handler gets: one shared allocation, so the per-request
/// clone axum makes is one reference-count increment.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl core::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    /// The KMS facade.
    pub kms: Arc<KmsManager>,
    /// The embedded store (seal state, tokens, policies, audit).
    pub store: Arc<LocalBackend>,
    /// Failed-authentication limiter and auth settings.
    pub auth: Arc<FailureLimiter>,
    /// The audit writer.
    pub audit: AuditLog,
    /// Metrics and operation counts.
    pub metrics: Arc<Metrics>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Handler settings.
    pub settings: Arc<Settings>,
}

/// What an operation is about, for authorization and audit.
#[derive(Clone, Debug)]
pub struct Act<'a> {
    name: &'static str,
    operation: Option<Operation>,
    entity_type: &'static str,
    key: Option<&'a KeyRef>,
    names: Vec<String>,
    entity: Option<String>,
    context: Option<&'a EncryptionContext>,
    meta: Option<&'a Arc<KeyMetadata>>,
}

impl<'a> Act<'a> {
    /// An operation on a key.
    pub fn key(op: Operation, key: &'a KeyRef) -> Self {
        Self {
            name: op.as_str(),
            operation: Some(op),
            entity_type: "key",
            key: Some(key),
            names: Vec::new(),
            entity: None,
            context: None,
            meta: None,
        }
    }

    /// A KMS operation on no particular key (list, random, create without alias).
    pub fn keyless(op: Operation) -> Self {
        Self {
            name: op.as_str(),
            operation: Some(op),
            entity_type: "key",
            key: None,
            names: Vec::new(),
            entity: None,
            context: None,
            meta: None,
        }
    }

    /// A decrypt-like operation whose key may be unknown until the ciphertext is read.
    pub fn maybe_key(op: Operation, key: Option<&'a KeyRef>) -> Self {
        Self {
            key,
            ..Self::keyless(op)
        }
    }

    /// An administrative operation (tokens, policies, audit, seal).
    pub fn admin(name: &'static str, entity_type: &'static str, entity: impl Into<String>) -> Self {
        Self {
            name,
            operation: None,
            entity_type,
            key: None,
            names: Vec::new(),
            entity: Some(entity.into()),
            context: None,
            meta: None,
        }
    }

    /// Adds the encryption context (for policies that require context keys).
    pub fn context(mut self, ctx: &'a EncryptionContext) -> Self {
        self.context = Some(ctx);
        self
    }

    /// Adds the key's metadata, already read (a batch's key): policies
    /// match its id and aliases without reading it again.
    pub fn resolved(mut self, meta: Option<&'a Arc<KeyMetadata>>) -> Self {
        self.meta = meta;
        self
    }

    /// Adds a name policies match the key patterns against (a new key's alias).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }
}

/// What the audit record says about an operation's result.
pub trait Audited {
    /// The entity id (key id, token id) the result names.
    fn audit_entity(&self) -> Option<String> {
        None
    }
    /// The key version used.
    fn audit_version(&self) -> Option<u32> {
        None
    }
}

macro_rules! audited_key_version {
    ($($t:ty),*) => {$(
        impl Audited for $t {
            fn audit_entity(&self) -> Option<String> { Some(self.key_id.to_string()) }
            fn audit_version(&self) -> Option<u32> { Some(self.version) }
        }
    )*};
}
audited_key_version!(
    Encrypted,
    Decrypted,
    GeneratedDataKey,
    GeneratedDataKeyPair,
    SignatureOutput,
    MacOutput,
    PublicKeyInfo
);

impl Audited for Arc<KeyMetadata> {
    fn audit_entity(&self) -> Option<String> {
        Some(self.key_id.to_string())
    }
    fn audit_version(&self) -> Option<u32> {
        Some(self.current_version)
    }
}

impl Audited for ImportParameters {
    fn audit_entity(&self) -> Option<String> {
        Some(self.key_id.to_string())
    }
}

impl Audited for TokenRecord {
    fn audit_entity(&self) -> Option<String> {
        Some(self.id.clone())
    }
}

impl<T: Audited> Audited for (T, zeroize::Zeroizing<String>) {
    fn audit_entity(&self) -> Option<String> {
        self.0.audit_entity()
    }
}

macro_rules! audited_plain {
    ($($t:ty),*) => {$( impl Audited for $t {} )*};
}
audited_plain!(
    (),
    bool,
    Vec<u8>,
    kms_core::types::KeyPage,
    Vec<kms_core::types::AliasEntry>,
    Vec<TokenRecord>,
    Vec<kms_store::Policy>,
    Option<kms_store::Policy>,
    Vec<kms_store::AuditRecord>,
    kms_store::AuditVerification
);

/// An operation that was tried: its result and what its audit record says.
#[derive(Debug)]
pub struct Attempt<T> {
    /// The result.
    pub result: kms_core::Result<T>,
    /// The record to append (without the caller, source and time, which
    /// [`AppState::event_for`] adds).
    pub note: AuditNote,
}

/// What one operation's audit record says about it: its subject (the same
/// [`Subject`] the CLI's audited calls record), outcome and item count. A
/// batch folds the notes of items that share subject and outcome into one
/// note with their count, so items build no full record each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditNote {
    /// Operation, entity type and id, key version.
    pub subject: Subject,
    /// `ok`, `denied` or `error:<code>`.
    pub outcome: std::borrow::Cow<'static, str>,
    /// How many items the record stands for.
    pub items: u32,
}

impl AuditNote {
    /// Whether `other` can be counted into this note.
    pub fn same_as(&self, other: &Self) -> bool {
        self.subject == other.subject && self.outcome == other.outcome
    }
}

impl AppState {
    /// Authorizes and runs `f`, counts it, and returns the result with its audit note.
    pub async fn attempt<T, F, Fut>(&self, caller: &Caller, act: Act<'_>, f: F) -> Attempt<T>
    where
        T: Audited,
        F: FnOnce() -> Fut,
        Fut: Future<Output = kms_core::Result<T>>,
    {
        let (result, resolved) = match self.authorize(caller, &act).await {
            Ok(resolved) => (f().await, resolved),
            Err(e) => (Err(e), None),
        };
        self.metrics
            .operation(act.operation, act.name, result.is_ok());
        let outcome = kms_store::audited::outcome(&result);
        let (entity, version) = match &result {
            Ok(v) => (v.audit_entity(), v.audit_version()),
            Err(_) => (None, None),
        };
        let entity_id = entity
            .or(resolved)
            .or(act.entity)
            .or_else(|| act.key.map(|k| k.to_string()))
            .unwrap_or_default();
        let note = AuditNote {
            subject: Subject {
                operation: act.name,
                entity_type: act.entity_type,
                entity_id,
                key_version: version,
            },
            outcome,
            items: 1,
        };
        Attempt { result, note }
    }

    /// The full audit record of `note` for this caller, now.
    pub fn event_for(&self, caller: &Caller, note: AuditNote) -> AuditEvent {
        AuditEvent {
            items: note.items,
            ..self.event(
                &caller.principal,
                &caller.meta,
                note.subject.operation,
                note.subject.entity_type,
                note.subject.entity_id,
                note.subject.key_version,
                note.outcome.into_owned(),
            )
        }
    }

    /// Checks the caller's policies for `act`; returns the resolved key id, if any.
    pub async fn authorize(
        &self,
        caller: &Caller,
        act: &Act<'_>,
    ) -> kms_core::Result<Option<String>> {
        if caller.root {
            // Root may do anything; the audit record takes the key id from
            // the result (or the key as named, when the operation fails).
            return Ok(None);
        }
        let mut names = act.names.clone();
        let mut resolved = None;
        if let Some(key) = act.key {
            names.push(key.to_string());
            let meta = match act.meta {
                Some(meta) => Some(meta.clone()),
                None => self.kms.describe_key(key).await.ok(),
            };
            if let Some(meta) = meta {
                names.push(meta.key_id.to_string());
                names.extend(meta.aliases.iter().map(|a| a.to_string()));
                resolved = Some(meta.key_id.to_string());
            }
        }
        let access = AccessRequest {
            operation: act.name,
            key_names: &names,
            context: act.context,
        };
        kms_store::policy::authorize(&caller.policies, caller.root, &access)?;
        Ok(resolved)
    }

    /// Authorizes, runs, audits (waiting for the commit) and returns the result.
    pub async fn run<T, F, Fut>(&self, caller: &Caller, act: Act<'_>, f: F) -> Result<T, ApiError>
    where
        T: Audited,
        F: FnOnce() -> Fut,
        Fut: Future<Output = kms_core::Result<T>>,
    {
        let a = self.attempt(caller, act, f).await;
        self.audit.record(self.event_for(caller, a.note)).await?;
        Ok(a.result?)
    }

    /// An audit event for this state's clock.
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &self,
        principal: &str,
        meta: &RequestMeta,
        operation: &str,
        entity_type: &str,
        entity_id: String,
        key_version: Option<u32>,
        outcome: String,
    ) -> AuditEvent {
        AuditEvent {
            time: self.clock.now(),
            principal: principal.to_string(),
            operation: operation.to_string(),
            entity_type: entity_type.to_string(),
            entity_id,
            key_version,
            outcome,
            request_id: meta.request_id.clone(),
            source: meta.source.clone(),
            items: 1,
        }
    }

    /// The key of the seed API.
    pub fn default_key(&self) -> &KeyRef {
        &self.settings.default_key
    }
}

impl AppState {
    /// A state over an (unsealed or sealed) store; starts the audit writer,
    /// whose task finishes after the last clone of the state is dropped.
    pub fn new(
        store: Arc<LocalBackend>,
        settings: Settings,
        auth: crate::auth::AuthSettings,
        audit_mirror: Option<std::path::PathBuf>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let opts = store.options().clone();
        let kms = Arc::new(KmsManager::new(store.clone(), opts.rng.clone()));
        let (audit, task) = AuditLog::start(store.clone(), audit_mirror);
        let state = Self(Arc::new(Shared {
            kms,
            store,
            auth: Arc::new(FailureLimiter::new(auth)),
            audit,
            metrics: Arc::new(Metrics::new()),
            clock: opts.clock,
            settings: Arc::new(settings),
        }));
        (state, task)
    }
}
