//! `LocalBackend`: the embedded keystore as a [`KmsBackend`]. This file
//! holds the type, opening and sealing, key resolution and material
//! loading; each operation lives in `op/<verb_noun>.rs`.

use std::sync::{Arc, RwLock};

use sqlx::{AnyPool, Row};

use kms_core::crypto::PreparedKey;
use kms_core::{
    AliasName, Capabilities, Error, ErrorKind, KeyId, KeyMetadata, KeyRef, KeySpec, KeyState,
    Operation, Result,
};

use crate::cache::{CHANNEL, Cache, notice, spawn_listener};
use crate::db::{Dialect, connect, db_err, is_unique_violation};
use crate::options::StoreOptions;
use crate::rows::{load_alias, load_key, material_aad, to_ms};
use crate::seal::{
    KdfParams, RootKey, Unseal, derive_kek, kek_key, open_with, root_aad, seal_with,
};

/// The embedded keystore backend.
pub struct LocalBackend {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    pub(crate) opts: StoreOptions,
    root: RwLock<Option<Arc<RootKey>>>,
    pub(crate) cache: Arc<Cache>,
    pub(crate) nonces: crate::nonce::NonceSource,
    caps: Capabilities,
    /// The task that applies other nodes' change notices (PostgreSQL only).
    listener: Option<tokio::task::AbortHandle>,
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            l.abort();
        }
    }
}

impl core::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalBackend")
            .field("url", &self.opts.redacted_url())
            .field("dialect", &self.dialect)
            .field("sealed", &self.is_sealed())
            .finish()
    }
}

pub(crate) fn precondition(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: "local",
        kind: ErrorKind::FailedPrecondition,
        message: message.into(),
        source: None,
    }
}

fn capabilities() -> Capabilities {
    Capabilities {
        operations: Operation::ALL.to_vec(),
        key_specs: KeySpec::ALL.to_vec(),
        max_plaintext: kms_core::MAX_SYMMETRIC_PLAINTEXT,
        native_batching: false,
        versioned_rotation: true,
        automatic_rotation: true,
    }
}

impl LocalBackend {
    async fn connect(opts: StoreOptions) -> Result<Self> {
        let (pool, dialect) = connect(&opts).await?;
        let cache = Arc::new(Cache::new(opts.cache_ttl));
        // Other nodes announce their changes on PostgreSQL; with no cache
        // there is nothing to evict.
        let listener = (dialect == Dialect::Postgres && cache.enabled())
            .then(|| spawn_listener(opts.url.clone(), Arc::downgrade(&cache)))
            .flatten();
        let nonces = crate::nonce::NonceSource::new(opts.rng.clone());
        Ok(Self {
            pool,
            dialect,
            opts,
            root: RwLock::new(None),
            cache,
            nonces,
            caps: capabilities(),
            listener,
        })
    }

    /// Creates a new store (a random root key protected by `unseal`) and
    /// returns it unsealed. Fails with a conflict if the store exists.
    pub async fn init(opts: StoreOptions, unseal: &Unseal, kdf: KdfParams) -> Result<Arc<Self>> {
        let this = Self::connect(opts).await?;
        if this.seal_row().await?.is_some() {
            return Err(Error::Backend {
                backend: "local",
                kind: ErrorKind::Conflict,
                message: format!(
                    "the key store at {} is already initialised; nothing was changed",
                    this.opts.redacted_url()
                ),
                source: None,
            });
        }
        let rng = this.opts.rng.clone();
        let mut salt = [0u8; 16];
        rng.fill(&mut salt)?;
        let kek = derive_kek(unseal, &salt, kdf)?;
        let mut root_bytes = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill(&mut root_bytes[..])?;
        let wrapped = seal_with(
            &kek_key(&kek)?,
            rng.as_ref(),
            &root_aad(unseal.method()),
            &root_bytes[..],
        )?;
        let passphrase = matches!(unseal, Unseal::Passphrase(_));
        let res = sqlx::query(
            "INSERT INTO kms_seal (id, method, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism, wrapped_root_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(1i64)
        .bind(unseal.method())
        .bind(passphrase.then(|| salt.to_vec()))
        .bind(passphrase.then_some(i64::from(kdf.memory_kib)))
        .bind(passphrase.then_some(i64::from(kdf.iterations)))
        .bind(passphrase.then_some(i64::from(kdf.parallelism)))
        .bind(wrapped)
        .bind(to_ms(this.opts.clock.now()))
        .execute(&this.pool)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Backend {
                    backend: "local",
                    kind: ErrorKind::Conflict,
                    message: "the key store was initialised concurrently; nothing was changed"
                        .into(),
                    source: None,
                });
            }
            Err(e) => return Err(db_err(e)),
        }
        this.set_root(RootKey::from_bytes(&root_bytes[..])?);
        Ok(Arc::new(this))
    }

    /// Opens an existing store and unseals it.
    pub async fn open(opts: StoreOptions, unseal: &Unseal) -> Result<Arc<Self>> {
        let this = Self::open_sealed(opts).await?;
        this.unseal(unseal).await?;
        Ok(this)
    }

    /// Opens an existing store without unsealing it; every key operation
    /// answers `Sealed` until [`LocalBackend::unseal`] succeeds.
    pub async fn open_sealed(opts: StoreOptions) -> Result<Arc<Self>> {
        let this = Self::connect(opts).await?;
        if this.seal_row().await?.is_none() {
            return Err(this.not_initialised());
        }
        Ok(Arc::new(this))
    }

    fn not_initialised(&self) -> Error {
        precondition(format!(
            "the key store at {} is not initialised; run `kms init` first",
            self.opts.redacted_url()
        ))
    }

    async fn seal_row(&self) -> Result<Option<sqlx::any::AnyRow>> {
        sqlx::query(
            "SELECT method, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism, wrapped_root_key FROM kms_seal WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)
    }

    /// Unseals with a passphrase or key file. A wrong one is an error and changes nothing.
    pub async fn unseal(&self, unseal: &Unseal) -> Result<()> {
        let row = self
            .seal_row()
            .await?
            .ok_or_else(|| self.not_initialised())?;
        let bad = |e: sqlx::Error| Error::Internal(format!("the seal record is malformed: {e}"));
        let method: String = row.try_get("method").map_err(bad)?;
        if method != unseal.method() {
            let hint = if method == "passphrase" {
                "a passphrase (--passphrase-file or KMS_PASSPHRASE_FILE)"
            } else {
                "a key file (--key-file or KMS_KEY_FILE)"
            };
            return Err(Error::invalid(
                "unseal",
                format!("this key store is sealed with {hint}"),
            ));
        }
        let salt: Option<Vec<u8>> = row.try_get("kdf_salt").map_err(bad)?;
        let num = |c: &str| -> Result<u32> {
            let v: Option<i64> = row.try_get(c).map_err(bad)?;
            Ok(v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
        };
        let kdf = KdfParams {
            memory_kib: num("kdf_memory_kib")?,
            iterations: num("kdf_iterations")?,
            parallelism: num("kdf_parallelism")?,
        };
        let wrapped: Vec<u8> = row.try_get("wrapped_root_key").map_err(bad)?;
        let kek = derive_kek(unseal, salt.as_deref().unwrap_or_default(), kdf)?;
        let root = open_with(&kek_key(&kek)?, &root_aad(&method), &wrapped)
            .map_err(|_| Error::WrongUnsealKey)?;
        self.set_root(RootKey::from_bytes(&root)?);
        Ok(())
    }

    /// Seals: drops the root key and every cached key from memory.
    pub fn seal(&self) {
        *self.root.write().unwrap_or_else(|p| p.into_inner()) = None;
        self.cache.clear();
    }

    /// Whether the store is sealed.
    pub fn is_sealed(&self) -> bool {
        self.root.read().map(|r| r.is_none()).unwrap_or(true)
    }

    fn set_root(&self, root: RootKey) {
        *self.root.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(root));
    }

    /// The root key, or `Sealed`.
    pub(crate) fn root(&self) -> Result<Arc<RootKey>> {
        self.root
            .read()
            .ok()
            .and_then(|r| r.clone())
            .ok_or(Error::Sealed)
    }

    /// The database pool (for tests and tools that inspect the store).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    pub(crate) fn capabilities_ref(&self) -> &Capabilities {
        &self.caps
    }

    /// Resolves a reference to current metadata, applying what is due:
    /// destroying a key whose deletion window has passed and rotating a key
    /// whose rotation period has elapsed.
    ///
    /// Nothing is answered `not found` from the cache alone: a key or alias
    /// this process has not cached is read from the database, and a cached
    /// alias whose key is gone is resolved again (another node may have
    /// pointed it at a new key).
    pub(crate) async fn resolve(&self, key: &KeyRef) -> Result<Arc<KeyMetadata>> {
        self.root()?;
        let meta = match key {
            KeyRef::Id(id) => self.lookup(id).await?,
            KeyRef::Alias(alias) => match self.cache.alias(alias.as_str()) {
                Some(id) => match self.lookup(&id).await {
                    Err(Error::NotFound(_)) => {
                        self.cache.forget_alias(alias.as_str());
                        self.lookup(&self.load_alias(alias).await?).await?
                    }
                    other => other?,
                },
                None => self.lookup(&self.load_alias(alias).await?).await?,
            },
            other => {
                return Err(Error::invalid(
                    "key",
                    format!("{other} is not a key of the local store"),
                ));
            }
        };
        let id = meta.key_id;
        let now = self.opts.clock.now();
        if meta.state == KeyState::PendingDeletion && meta.deletion_date.is_some_and(|d| d <= now) {
            self.destroy_due(&id).await?;
            return Err(Error::NotFound(format!(
                "key {id} (destroyed when its deletion window passed)"
            )));
        }
        if meta.state == KeyState::Enabled && meta.next_rotation_at.is_some_and(|d| d <= now) {
            return self.rotate(&id, true).await;
        }
        Ok(meta)
    }

    /// A key's metadata: from the cache while fresh, else revalidated.
    async fn lookup(&self, id: &KeyId) -> Result<Arc<KeyMetadata>> {
        match self.cache.meta(id) {
            Some(m) => Ok(m),
            None => self.revalidate(id).await,
        }
    }

    /// Resolves an alias from the database and caches the answer.
    async fn load_alias(&self, alias: &AliasName) -> Result<KeyId> {
        let since = self.cache.epoch();
        let id = load_alias(&self.pool, alias)
            .await?
            .ok_or_else(|| Error::NotFound(format!("alias {alias}")))?;
        self.cache.put_alias(alias.as_str(), id, since);
        Ok(id)
    }

    /// A key's metadata as the database has it now: a cached entry is kept
    /// when its revision is unchanged (one indexed read), reloaded
    /// otherwise. Used when a cached entry's lifetime ran out, and before
    /// refusing a request because of what the cache says.
    pub(crate) async fn revalidate(&self, id: &KeyId) -> Result<Arc<KeyMetadata>> {
        if let Some((meta, rev)) = self.cache.stale_meta(id)
            && crate::rows::load_revision(&self.pool, id).await? == Some(rev)
        {
            self.cache.touch_meta(id, rev);
            return Ok(meta);
        }
        self.reload(id).await
    }

    /// Reads a key from the database into the cache.
    pub(crate) async fn reload(&self, id: &KeyId) -> Result<Arc<KeyMetadata>> {
        let since = self.cache.epoch();
        let Some((meta, rev)) = load_key(&self.pool, id).await? else {
            // Destroyed elsewhere: drop what this process still holds.
            if self.cache.stale_meta(id).is_some() {
                self.cache.evict_destroyed(id);
            }
            return Err(Error::NotFound(format!("key {id}")));
        };
        let meta = Arc::new(meta);
        self.cache.put_meta(meta.clone(), rev, since);
        Ok(meta)
    }

    /// Tells other processes and nodes that a key changed (or was
    /// destroyed), so that they evict it from their caches at once. Only
    /// PostgreSQL can (`NOTIFY`); elsewhere, and if the notice is lost, the
    /// cache lifetime bounds how long they may use what they had. Called
    /// after the change committed, so a failure is logged, not returned.
    pub(crate) async fn announce(&self, id: &KeyId, destroyed: bool) {
        if self.dialect != Dialect::Postgres {
            return;
        }
        let res = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(notice(id, destroyed))
            .execute(&self.pool)
            .await;
        if let Err(e) = res {
            tracing::warn!(key = %id, error = %e, "cannot announce a key change to other nodes; they see it when their cache entry expires");
        }
    }

    /// Destroys a key whose deletion date has passed (its material, versions, aliases and tags).
    pub(crate) async fn destroy_due(&self, id: &KeyId) -> Result<()> {
        let res = sqlx::query("DELETE FROM kms_keys WHERE id = $1 AND state = 'PendingDeletion' AND deletion_date <= $2")
            .bind(id.to_string())
            .bind(to_ms(self.opts.clock.now()))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.cache.evict_destroyed(id);
        if res.rows_affected() > 0 {
            self.announce(id, true).await;
        }
        Ok(())
    }

    /// Destroys every key whose deletion date has passed; returns how many.
    pub async fn purge_due(&self) -> Result<u64> {
        let now = to_ms(self.opts.clock.now());
        let ids = sqlx::query(
            "SELECT id FROM kms_keys WHERE state = 'PendingDeletion' AND deletion_date <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut n = 0;
        for row in ids {
            let id: String = row
                .try_get("id")
                .map_err(|e| Error::Internal(e.to_string()))?;
            self.destroy_due(&id.parse()?).await?;
            n += 1;
        }
        Ok(n)
    }

    /// The prepared key of a version, from the cache or unsealed from the database.
    pub(crate) async fn material(
        &self,
        meta: &KeyMetadata,
        version: u32,
    ) -> Result<Arc<PreparedKey>> {
        if let Some(k) = self.cache.material(&meta.key_id, version) {
            return Ok(k);
        }
        let root = self.root()?;
        let row = sqlx::query(
            "SELECT sealed_material FROM kms_key_versions WHERE key_id = $1 AND version = $2",
        )
        .bind(meta.key_id.to_string())
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::NotFound(format!("version {version} of key {}", meta.key_id)))?;
        let sealed: Vec<u8> = row
            .try_get("sealed_material")
            .map_err(|e| Error::Internal(format!("stored key version is malformed: {e}")))?;
        let material = root
            .open(&material_aad(&meta.key_id, version, meta.spec), &sealed)
            .map_err(|_| {
                Error::Internal(format!(
                    "version {version} of key {} does not unseal: the store was altered or the root key differs",
                    meta.key_id
                ))
            })?;
        let prepared = Arc::new(PreparedKey::new(meta.spec, &material)?);
        self.cache
            .put_material(meta.key_id, version, prepared.clone());
        Ok(prepared)
    }

    /// Checks that `version` may be used for `op` (decrypt, verify, export
    /// a public key). When the metadata in hand refuses it — a version newer
    /// than the newest this process knows of, or below the minimum — the key
    /// is revalidated against the database first: another process or node
    /// may have rotated it or lowered its minimum a moment ago. The fresh
    /// metadata's state is checked too, so what the database says now
    /// decides.
    pub(crate) async fn check_version(
        &self,
        key: &KeyMetadata,
        version: u32,
        op: Operation,
    ) -> Result<()> {
        if Self::usable_version(key, version).is_ok() {
            return Ok(());
        }
        let fresh = self.revalidate(&key.key_id).await?;
        fresh.check(op)?;
        Self::usable_version(&fresh, version)
    }

    /// Checks that `version` may decrypt or verify, by `meta` alone.
    pub(crate) fn usable_version(meta: &KeyMetadata, version: u32) -> Result<()> {
        if version > meta.current_version {
            return Err(Error::VersionNotUsable {
                key: meta.key_id,
                version,
                reason: "is newer than the key's newest version",
            });
        }
        if version < meta.min_decryption_version {
            return Err(Error::VersionNotUsable {
                key: meta.key_id,
                version,
                reason: "is below the key's min_decryption_version",
            });
        }
        Ok(())
    }

    /// Seals key material for storage.
    pub(crate) fn seal_material(
        &self,
        id: &KeyId,
        version: u32,
        spec: KeySpec,
        material: &[u8],
    ) -> Result<Vec<u8>> {
        self.root()?.seal(
            self.opts.rng.as_ref(),
            &material_aad(id, version, spec),
            material,
        )
    }

    /// The time `days` from now.
    pub(crate) fn days_from_now(&self, days: u32) -> i64 {
        to_ms(self.opts.clock.now() + time::Duration::days(i64::from(days)))
    }

    /// Now in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        to_ms(self.opts.clock.now())
    }
}
