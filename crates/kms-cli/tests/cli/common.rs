//! The harness: a temporary store and commands pointed at it.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The passphrase of every test store.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Environment variables that would leak into a test from the developer's shell.
const KMS_ENV: &[&str] = &[
    "KMS_BACKEND",
    "KMS_STORE",
    "KMS_PASSPHRASE_FILE",
    "KMS_KEY_FILE",
    "KMS_LOG",
    "KMS_ADDR",
    "KMS_TOKEN",
    "KMS_CACERT",
    "KMS_CONFIG",
];

/// A key store for one test.
pub struct Kms {
    pub dir: TempDir,
    /// `--store`: a path in `dir`, or a database URL.
    pub store: String,
    pub pass: PathBuf,
}

impl Kms {
    /// A store location in a fresh temporary directory, not initialised yet.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("kms.db").display().to_string();
        Self::at(dir, store)
    }

    /// A store at `store` (e.g. a PostgreSQL URL), not initialised yet.
    pub fn with_store(store: String) -> Self {
        Self::at(tempfile::tempdir().unwrap(), store)
    }

    fn at(dir: TempDir, store: String) -> Self {
        let pass = dir.path().join("passphrase");
        std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
        Self { dir, store, pass }
    }

    /// A new, initialised store (cheap Argon2 parameters).
    pub fn init() -> Self {
        let kms = Self::new();
        kms.initialise();
        kms
    }

    /// `kms init` with cheap Argon2 parameters.
    pub fn initialise(&self) {
        self.ok(&[
            "init",
            "--argon2-memory-kib",
            "8192",
            "--argon2-iterations",
            "1",
        ]);
    }

    /// A path inside the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `kms --store … --passphrase-file …`, with the developer's KMS_* variables removed.
    pub fn cmd(&self) -> Command {
        let mut cmd = bare_cmd();
        cmd.arg("--store")
            .arg(&self.store)
            .arg("--passphrase-file")
            .arg(&self.pass);
        cmd
    }

    /// The same as a `std::process::Command` (for spawning and killing).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kms"));
        for v in KMS_ENV {
            cmd.env_remove(v);
        }
        cmd.arg("--store")
            .arg(&self.store)
            .arg("--passphrase-file")
            .arg(&self.pass);
        cmd
    }

    /// Runs with `stdin`, returns the output whatever the exit code.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.cmd()
            .args(args)
            .write_stdin(stdin.to_vec())
            .output()
            .unwrap()
    }

    /// Runs with `stdin` and asserts success; returns stdout.
    pub fn ok_stdin(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "kms {} failed with {:?}\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs and asserts success; returns stdout as text.
    pub fn ok(&self, args: &[&str]) -> String {
        String::from_utf8(self.ok_stdin(args, b"")).unwrap()
    }

    /// Runs with `--json` and asserts success; returns the parsed stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_stdin(args, b"")
    }

    /// Runs with `--json` and `stdin`; returns the parsed stdout.
    pub fn json_stdin(&self, args: &[&str], stdin: &[u8]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ok_stdin(&all, stdin);
        serde_json::from_slice(&out).unwrap_or_else(|e| {
            panic!(
                "kms {} printed no JSON ({e}): {}",
                args.join(" "),
                String::from_utf8_lossy(&out)
            )
        })
    }

    /// Runs and asserts failure; returns the exit code, stdout and stderr.
    pub fn fail(&self, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "kms {} succeeded but should fail\nstdout: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Creates a key; returns its id.
    pub fn create_key(&self, spec: &str, extra: &[&str]) -> String {
        let mut args = vec!["key", "create", "--spec", spec];
        args.extend_from_slice(extra);
        let meta = self.json(&args);
        meta["key_id"].as_str().unwrap().to_string()
    }

    /// `key describe --json`.
    pub fn describe(&self, key: &str) -> Value {
        self.json(&["key", "describe", key])
    }
}

/// `kms` with no store flags and the developer's KMS_* variables removed.
pub fn bare_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kms"));
    for v in KMS_ENV {
        cmd.env_remove(v);
    }
    cmd
}

/// Runs a shell command line in `dir` and asserts success; returns stdout.
pub fn sh(dir: &Path, script: &str) -> String {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Decodes standard base64.
pub fn b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap()
}

/// Encodes standard base64.
pub fn to_b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A small non-cryptographic generator for test delays and names.
pub struct TestRng(u64);

impl TestRng {
    /// Seeded from the standard library's per-process random hash keys.
    pub fn new() -> Self {
        use std::hash::BuildHasher as _;
        let seed = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        Self(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
