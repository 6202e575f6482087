//! In-memory caches. Prepared key material is immutable per (key, version)
//! and kept for the life of the process; metadata and alias resolutions are
//! trusted for `ttl` and then read again, so that a change made by another
//! process or node is seen within that time. Every write through this
//! process evicts what it changed at once, and on PostgreSQL a change
//! announced by another process or node (`NOTIFY kms_key_changes`, see
//! [`listen`]) evicts it as soon as the notice arrives.
//!
//! Every eviction advances an epoch. A reader notes the epoch before it
//! reads the database and stores what it read only if the epoch has not
//! moved meanwhile, so a read that raced with a change cannot put stale
//! metadata back after the change evicted it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use tokio::task::AbortHandle;

use kms_core::crypto::PreparedKey;
use kms_core::{KeyId, KeyMetadata};

/// Cached metadata, when it was read, and the key's revision at that read.
#[derive(Debug)]
struct MetaEntry {
    meta: Arc<KeyMetadata>,
    fetched: Instant,
    revision: i64,
}

/// The metadata map and the eviction epoch, under one lock so that a
/// conditional insert and an eviction are ordered.
#[derive(Debug, Default)]
struct MetaMap {
    entries: HashMap<KeyId, MetaEntry>,
    epoch: u64,
}

/// A read of the database began at this point of the eviction history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Epoch(u64);

#[derive(Debug, Default)]
pub(crate) struct Cache {
    ttl: Duration,
    meta: RwLock<MetaMap>,
    aliases: RwLock<HashMap<String, (KeyId, Instant)>>,
    material: RwLock<HashMap<(KeyId, u32), Arc<PreparedKey>>>,
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // A panic while holding the lock cannot leave a map half-written in a
    // way that matters here: entries are whole values.
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl Cache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            ..Self::default()
        }
    }

    /// Whether metadata is cached at all (`ttl` above zero).
    pub(crate) fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The current epoch; take it before reading what will be cached.
    pub(crate) fn epoch(&self) -> Epoch {
        Epoch(read(&self.meta).epoch)
    }

    pub(crate) fn meta(&self, id: &KeyId) -> Option<Arc<KeyMetadata>> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = read(&self.meta);
        let e = map.entries.get(id)?;
        (e.fetched.elapsed() < self.ttl).then(|| e.meta.clone())
    }

    /// An entry whatever its age, with the revision it was read at.
    pub(crate) fn stale_meta(&self, id: &KeyId) -> Option<(Arc<KeyMetadata>, i64)> {
        let map = read(&self.meta);
        map.entries.get(id).map(|e| (e.meta.clone(), e.revision))
    }

    /// Marks an entry fresh again (its revision was found unchanged).
    pub(crate) fn touch_meta(&self, id: &KeyId, rev: i64) {
        if let Some(e) = write(&self.meta).entries.get_mut(id)
            && e.revision == rev
        {
            e.fetched = Instant::now();
        }
    }

    /// Caches metadata read at `revision`, unless something was evicted
    /// since `since`: then the read may predate a change, so nothing is
    /// cached and any older entry of the key is dropped too (the next use
    /// reads again). Either way, no entry older than `meta` survives.
    pub(crate) fn put_meta(&self, meta: Arc<KeyMetadata>, revision: i64, since: Epoch) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = write(&self.meta);
        if map.epoch != since.0 {
            map.entries.remove(&meta.key_id);
            return;
        }
        let entry = MetaEntry {
            meta: meta.clone(),
            fetched: Instant::now(),
            revision,
        };
        map.entries.insert(meta.key_id, entry);
    }

    pub(crate) fn alias(&self, name: &str) -> Option<KeyId> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = read(&self.aliases);
        let (id, at) = map.get(name)?;
        (at.elapsed() < self.ttl).then_some(*id)
    }

    /// Caches an alias resolution read after `since` (see [`Cache::put_meta`]).
    pub(crate) fn put_alias(&self, name: &str, id: KeyId, since: Epoch) {
        if self.ttl.is_zero() {
            return;
        }
        // The metadata lock is held (read) across the insert, so an
        // eviction cannot slip between the epoch check and the insert.
        let meta = read(&self.meta);
        if meta.epoch != since.0 {
            return;
        }
        write(&self.aliases).insert(name.to_string(), (id, Instant::now()));
    }

    /// Forgets one alias resolution (it named a key that is gone).
    pub(crate) fn forget_alias(&self, name: &str) {
        let mut meta = write(&self.meta);
        meta.epoch += 1;
        write(&self.aliases).remove(name);
    }

    pub(crate) fn material(&self, id: &KeyId, version: u32) -> Option<Arc<PreparedKey>> {
        read(&self.material).get(&(*id, version)).cloned()
    }

    pub(crate) fn put_material(&self, id: KeyId, version: u32, key: Arc<PreparedKey>) {
        write(&self.material).insert((id, version), key);
    }

    /// Forgets a key's metadata and every alias (aliases may have moved).
    pub(crate) fn evict(&self, id: &KeyId) {
        let mut meta = write(&self.meta);
        meta.epoch += 1;
        meta.entries.remove(id);
        write(&self.aliases).clear();
    }

    /// Forgets a destroyed key entirely.
    pub(crate) fn evict_destroyed(&self, id: &KeyId) {
        self.evict(id);
        write(&self.material).retain(|(k, _), _| k != id);
    }

    /// Forgets all metadata and aliases but keeps key material (which
    /// never changes): changes may have been missed.
    pub(crate) fn evict_all_metadata(&self) {
        let mut meta = write(&self.meta);
        meta.epoch += 1;
        meta.entries.clear();
        write(&self.aliases).clear();
    }

    /// Forgets everything (sealing).
    pub(crate) fn clear(&self) {
        self.evict_all_metadata();
        write(&self.material).clear();
    }
}

/// The PostgreSQL channel on which changes to keys are announced.
pub(crate) const CHANNEL: &str = "kms_key_changes";

/// The payload prefix of a notice about a destroyed key.
const DESTROYED: &str = "destroyed:";

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(1);

/// The payload announcing a change to `id` (or its destruction).
pub(crate) fn notice(id: &KeyId, destroyed: bool) -> String {
    if destroyed {
        format!("{DESTROYED}{id}")
    } else {
        id.to_string()
    }
}

impl Cache {
    /// Applies a notice from another process or node.
    fn apply_notice(&self, payload: &str) {
        let (destroyed, id) = match payload.strip_prefix(DESTROYED) {
            Some(id) => (true, id),
            None => (false, payload),
        };
        match id.parse::<KeyId>() {
            Ok(id) if destroyed => self.evict_destroyed(&id),
            Ok(id) => self.evict(&id),
            // Not ours to understand: forget everything that could be stale.
            Err(_) => self.evict_all_metadata(),
        }
    }
}

/// Starts listening for change notices on PostgreSQL at `url`, evicting
/// what they name from `cache` until the cache is dropped. `None` outside
/// a Tokio runtime (then the cache lifetime alone bounds staleness).
pub(crate) fn spawn_listener(url: String, cache: Weak<Cache>) -> Option<AbortHandle> {
    let rt = tokio::runtime::Handle::try_current().ok()?;
    Some(rt.spawn(listen(url, cache)).abort_handle())
}

/// The listener task. While it is not connected, notices are lost, so it
/// forgets all cached metadata whenever it (re)connects; in between, the
/// cache lifetime bounds how stale an entry can be.
async fn listen(url: String, cache: Weak<Cache>) {
    let mut warned = false;
    loop {
        let connected = async {
            let mut l = PgListener::connect(&url).await?;
            l.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        let mut listener = match connected {
            Ok(l) => l,
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "cannot listen for key changes of other nodes; cached key metadata is trusted for its lifetime");
                    warned = true;
                }
                if cache.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        warned = false;
        loop {
            // Notices sent before LISTEN took effect, or while the
            // connection was down, are lost: forget what may be stale.
            match cache.upgrade() {
                Some(c) => c.evict_all_metadata(),
                None => return,
            }
            match drain(&mut listener, &cache).await {
                // Reconnected by the listener itself: forget again, go on.
                Drained::Reconnected => {}
                Drained::Stopped => break,
            }
        }
        if cache.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Why [`drain`] returned.
enum Drained {
    /// The connection was lost and re-established: notices may be lost.
    Reconnected,
    /// The listener failed, or the cache is gone.
    Stopped,
}

/// Applies notices until the connection is lost or the cache is gone.
async fn drain(listener: &mut PgListener, cache: &Weak<Cache>) -> Drained {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => match cache.upgrade() {
                Some(c) => c.apply_notice(n.payload()),
                None => return Drained::Stopped,
            },
            Ok(None) => return Drained::Reconnected,
            Err(e) => {
                tracing::warn!(error = %e, "lost the connection that listens for key changes of other nodes; reconnecting");
                return Drained::Stopped;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn meta(id: KeyId, version: u32) -> Arc<KeyMetadata> {
        Arc::new(KeyMetadata {
            key_id: id,
            aliases: Vec::new(),
            description: String::new(),
            tags: Default::default(),
            spec: kms_core::KeySpec::Aes256,
            usage: kms_core::KeyUsage::EncryptDecrypt,
            state: kms_core::KeyState::Enabled,
            origin: kms_core::KeyOrigin::Generated,
            current_version: version,
            min_decryption_version: 1,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            rotated_at: None,
            rotation_period_days: None,
            next_rotation_at: None,
            deletion_date: None,
            backend: "local".into(),
        })
    }

    #[test]
    fn a_read_that_raced_with_an_eviction_is_not_cached_and_drops_the_older_entry() {
        let cache = Cache::new(Duration::from_secs(3600));
        let (id, other) = (KeyId::from_bytes([1; 16]), KeyId::from_bytes([2; 16]));
        cache.put_meta(meta(id, 1), 1, cache.epoch());
        assert_eq!(cache.meta(&id).map(|m| m.current_version), Some(1));
        // A read starts, a change to some key is announced, the read ends.
        let since = cache.epoch();
        cache.evict(&other);
        cache.put_meta(meta(id, 2), 2, since);
        assert!(
            cache.meta(&id).is_none(),
            "a raced read was cached, or v1 kept"
        );
        cache.put_meta(meta(id, 2), 2, cache.epoch());
        assert_eq!(cache.meta(&id).map(|m| m.current_version), Some(2));
        // Aliases the same way.
        let since = cache.epoch();
        cache.apply_notice(&notice(&other, false));
        cache.put_alias("alias/a", id, since);
        assert_eq!(cache.alias("alias/a"), None);
        cache.put_alias("alias/a", id, cache.epoch());
        assert_eq!(cache.alias("alias/a"), Some(id));
    }

    #[test]
    fn notices_evict_what_they_name_and_a_destroyed_key_loses_its_material_too() {
        let cache = Cache::new(Duration::from_secs(3600));
        let id = KeyId::from_bytes([3; 16]);
        cache.put_meta(meta(id, 1), 1, cache.epoch());
        cache.put_alias("alias/a", id, cache.epoch());
        cache.apply_notice(&notice(&id, false));
        assert!(cache.meta(&id).is_none());
        assert_eq!(cache.alias("alias/a"), None);
        cache.put_meta(meta(id, 1), 1, cache.epoch());
        cache.apply_notice("not a key id");
        assert!(
            cache.meta(&id).is_none(),
            "an unknown notice must forget everything"
        );
        let material = kms_core::KeyMaterial::from_slice(&[7u8; 32]);
        let prepared = PreparedKey::new(kms_core::KeySpec::Aes256, &material);
        cache.put_material(id, 1, Arc::new(prepared.unwrap()));
        cache.put_meta(meta(id, 1), 1, cache.epoch());
        cache.apply_notice(&notice(&id, false));
        assert!(cache.material(&id, 1).is_some(), "a change keeps material");
        cache.apply_notice(&notice(&id, true));
        assert!(
            cache.material(&id, 1).is_none(),
            "a destroyed key keeps material"
        );
    }
}
