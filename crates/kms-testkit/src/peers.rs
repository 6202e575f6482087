//! Real peers for tests: PostgreSQL databases made per test, and the rule
//! for a missing peer (skip loudly by hand, fail under `KMS_REQUIRE_PEERS=1`).

use std::process::Command;

/// Whether missing peers must fail the run (`KMS_REQUIRE_PEERS=1`, set by `scripts/test.sh` and CI).
pub fn peers_required() -> bool {
    std::env::var("KMS_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Reports a missing peer: panics when peers are required, otherwise prints
/// a loud skip message. Returns so the caller can `return`.
pub fn missing_peer(test: &str, what: &str) {
    if peers_required() {
        panic!("{test}: required peer missing: {what} (KMS_REQUIRE_PEERS=1)");
    }
    eprintln!(
        "\n!!! SKIPPED {test}: {what}; run scripts/test.sh to test against the real peer !!!\n"
    );
}

/// A PostgreSQL database created for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

/// The server URL without a database, from `KMS_TEST_PG_URL`
/// (e.g. `postgres://postgres@127.0.0.1:5432`).
pub fn pg_server_url() -> Option<String> {
    std::env::var("KMS_TEST_PG_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('/').to_string())
}

fn psql(admin_url: &str, sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .arg(format!("{admin_url}/test"))
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl PgDatabase {
    /// Creates a fresh database, or reports the missing peer and returns `None`.
    pub fn create(test: &str) -> Option<Self> {
        let Some(admin_url) = pg_server_url() else {
            missing_peer(
                test,
                "KMS_TEST_PG_URL is not set (PostgreSQL on 127.0.0.1:5432)",
            );
            return None;
        };
        let mut raw = [0u8; 6];
        // Uniqueness only; not a secret.
        let _ = kms_core::Rng::fill(&kms_core::SystemRng, &mut raw);
        let name = format!("kms_test_{}", kms_core_hex(&raw));
        if let Err(e) = psql(&admin_url, &format!("CREATE DATABASE {name}")) {
            missing_peer(test, &format!("cannot create a PostgreSQL database: {e}"));
            return None;
        }
        let url = format!("{admin_url}/{name}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }
}

fn kms_core_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}
