//! In-memory caches. Prepared key material is immutable per (key, version)
//! and kept for the life of the process; metadata and alias resolutions are
//! trusted for `ttl` and then read again, so that a change made by another
//! process or node is seen within that time. Every write through this
//! process evicts what it changed at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use kms_core::crypto::PreparedKey;
use kms_core::{KeyId, KeyMetadata};

/// Cached metadata, when it was read, and the key's revision at that read.
#[derive(Debug)]
struct MetaEntry {
    meta: Arc<KeyMetadata>,
    fetched: Instant,
    revision: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Cache {
    ttl: Duration,
    meta: RwLock<HashMap<KeyId, MetaEntry>>,
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

    pub(crate) fn meta(&self, id: &KeyId) -> Option<Arc<KeyMetadata>> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = read(&self.meta);
        let e = map.get(id)?;
        (e.fetched.elapsed() < self.ttl).then(|| e.meta.clone())
    }

    /// An entry whatever its age, with the revision it was read at.
    pub(crate) fn stale_meta(&self, id: &KeyId) -> Option<(Arc<KeyMetadata>, i64)> {
        let map = read(&self.meta);
        map.get(id).map(|e| (e.meta.clone(), e.revision))
    }

    /// Marks an entry fresh again (its revision was found unchanged).
    pub(crate) fn touch_meta(&self, id: &KeyId, rev: i64) {
        if let Some(e) = write(&self.meta).get_mut(id)
            && e.revision == rev
        {
            e.fetched = Instant::now();
        }
    }

    pub(crate) fn put_meta(&self, meta: Arc<KeyMetadata>, revision: i64) {
        if self.ttl.is_zero() {
            return;
        }
        let entry = MetaEntry {
            meta: meta.clone(),
            fetched: Instant::now(),
            revision,
        };
        write(&self.meta).insert(meta.key_id, entry);
    }

    pub(crate) fn alias(&self, name: &str) -> Option<KeyId> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = read(&self.aliases);
        let (id, at) = map.get(name)?;
        (at.elapsed() < self.ttl).then_some(*id)
    }

    pub(crate) fn put_alias(&self, name: &str, id: KeyId) {
        if self.ttl.is_zero() {
            return;
        }
        write(&self.aliases).insert(name.to_string(), (id, Instant::now()));
    }

    pub(crate) fn material(&self, id: &KeyId, version: u32) -> Option<Arc<PreparedKey>> {
        read(&self.material).get(&(*id, version)).cloned()
    }

    pub(crate) fn put_material(&self, id: KeyId, version: u32, key: Arc<PreparedKey>) {
        write(&self.material).insert((id, version), key);
    }

    /// Forgets a key's metadata and every alias (aliases may have moved).
    pub(crate) fn evict(&self, id: &KeyId) {
        write(&self.meta).remove(id);
        write(&self.aliases).clear();
    }

    /// Forgets a destroyed key entirely.
    pub(crate) fn evict_destroyed(&self, id: &KeyId) {
        self.evict(id);
        write(&self.material).retain(|(k, _), _| k != id);
    }

    /// Forgets everything (sealing).
    pub(crate) fn clear(&self) {
        write(&self.meta).clear();
        write(&self.aliases).clear();
        write(&self.material).clear();
    }
}
