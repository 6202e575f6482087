//! `kms.toml` from the CLI: `kms config show` prints the effective
//! configuration (file < `KMS_*` < flags, and defaults) with sources and
//! without secrets; `[cli] addr` and `token_file` are used, and flags and
//! the environment win over them.

use std::path::Path;

use serde_json::Value;

use crate::common::{Kms, bare_cmd};
use crate::server::{dev_server, ok};

/// The line of `text` that starts with `prefix`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in\n{text}"))
}

/// The setting `key` of `kms config show --json`.
fn setting<'a>(shown: &'a Value, key: &str) -> &'a Value {
    shown["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {shown}"))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn config_show_prints_the_effective_settings_with_their_sources_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kms.toml");
    let token_file = dir.path().join("token");
    write(&token_file, "token-in-a-file\n");
    write(
        &cfg,
        &format!(
            "[kms.local]\nstore = \"postgres://kms:hunter2@db.example:5432/kms?sslmode=require\"\n\n[server]\nlisten = \"0.0.0.0:9000\"\n\n[cli]\naddr = \"http://127.0.0.1:1\"\ntoken_file = \"{}\"\n",
            token_file.display()
        ),
    );
    let show = |json: bool, extra: &[&str]| {
        let mut c = bare_cmd();
        c.env("KMS_CONFIG", &cfg)
            .env("KMS_DEFAULT_KEY", "alias/from-env")
            .env("KMS_TOKEN", "tok-secret-from-env");
        if json {
            c.arg("--json");
        }
        c.args(["config", "show"]).args(extra);
        String::from_utf8(ok(c, &[], b"")).unwrap()
    };
    let text = show(false, &["--listen", "127.0.0.1:9999"]);
    for secret in ["hunter2", "tok-secret-from-env", "token-in-a-file"] {
        assert!(!text.contains(secret), "{secret} shown in\n{text}");
    }
    assert!(
        text.contains(&format!("# config file: {}", cfg.display())),
        "{text}"
    );
    assert!(text.contains("\n[server]\n"), "{text}");
    let l = line(&text, "listen = ");
    assert!(
        l.starts_with("listen = \"127.0.0.1:9999\"") && l.ends_with("# flag --listen"),
        "{l}"
    );
    let l = line(&text, "default_key = ");
    assert!(
        l.contains("\"alias/from-env\"") && l.ends_with("# env KMS_DEFAULT_KEY"),
        "{l}"
    );
    let l = line(&text, "max_request_bytes = ");
    assert!(l.contains("4194304") && l.ends_with("# default"), "{l}");
    let l = line(&text, "store = ");
    assert!(
        l.contains("\"postgres://kms:***@db.example:5432/kms?sslmode=require\"")
            && l.ends_with("# file"),
        "{l}"
    );
    // The token is not a key of kms.toml: shown commented out, redacted.
    let l = line(&text, "# token = ");
    assert!(
        l.contains("\"<redacted>\"") && l.ends_with("# env KMS_TOKEN"),
        "{l}"
    );
    let l = line(&text, "addr = ");
    assert!(
        l.contains("\"http://127.0.0.1:1\"") && l.ends_with("# file"),
        "{l}"
    );
    assert!(line(&text, "# key_file =").ends_with("# unset"), "{text}");

    // The same as JSON; a local store flag wins over the file's address.
    let json: Value = serde_json::from_str(&show(true, &["--store", "/tmp/x.db"])).unwrap();
    assert!(!json.to_string().contains("hunter2"));
    assert_eq!(json["path"], cfg.display().to_string());
    assert_eq!(json["backend"], "local");
    let listen = setting(&json, "server.listen");
    assert_eq!(listen["value"], "0.0.0.0:9000");
    assert_eq!(listen["source"], "file");
    let store = setting(&json, "kms.local.store");
    assert_eq!(store["value"], "/tmp/x.db");
    assert_eq!(store["source"], "flag --store");
    let addr = setting(&json, "cli.addr");
    assert!(addr["value"].is_null(), "{addr}");
    assert_eq!(addr["source"], "flag --store");
}

#[test]
fn config_show_without_a_file_prints_the_defaults() {
    let home = tempfile::tempdir().unwrap();
    let out = bare_cmd()
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .args(["config", "show"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("# config file: none"), "{text}");
    let l = line(&text, "listen = ");
    assert!(
        l.contains("\"127.0.0.1:8082\"") && l.ends_with("# default"),
        "{l}"
    );
    let l = line(&text, "store = ");
    assert!(l.contains("kms/kms.db") && l.ends_with("# default"), "{l}");
    assert!(line(&text, "backend = ").ends_with("# default"), "{text}");
    assert!(line(&text, "# addr =").ends_with("# unset"), "{text}");
}

#[test]
fn the_cli_uses_addr_and_token_file_from_the_config_and_flags_and_env_win() {
    let s = dev_server("config-root-token");
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    write(&token_file, "config-root-token\n");
    let cfg = dir.path().join("kms.toml");
    write(
        &cfg,
        &format!(
            "[cli]\naddr = \"{}\"\ntoken_file = \"{}\"\n",
            s.url,
            token_file.display()
        ),
    );
    let with_cfg = || {
        let mut c = bare_cmd();
        c.env("KMS_CONFIG", &cfg);
        c
    };
    // Address and token from the file.
    let listed = String::from_utf8(ok(with_cfg(), &["key", "list"], b"")).unwrap();
    assert!(listed.contains("alias/default"), "{listed}");
    let ct = ok(with_cfg(), &["encrypt"], b"configured");
    assert_eq!(ok(with_cfg(), &["decrypt"], &ct), b"configured");

    // KMS_TOKEN and --token win over token_file.
    let mut c = with_cfg();
    c.env("KMS_TOKEN", "not-the-token");
    let out = c.args(["key", "list"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the environment's token was not used"
    );
    let out = with_cfg()
        .args(["key", "list", "--token", "not-the-token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the flag's token was not used");

    // --addr and KMS_ADDR win over addr (nothing listens on port 1).
    let out = with_cfg()
        .args(["--addr", "http://127.0.0.1:1", "key", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut c = with_cfg();
    c.env("KMS_ADDR", "http://127.0.0.1:1");
    assert_eq!(
        c.args(["key", "list"]).output().unwrap().status.code(),
        Some(1)
    );

    // A local store flag wins over the file's address.
    let local = Kms::init();
    let mut c = local.cmd();
    c.env("KMS_CONFIG", &cfg);
    let keys: Value = serde_json::from_slice(&ok(c, &["--json", "key", "list"], b"")).unwrap();
    assert_eq!(
        keys["keys"],
        serde_json::json!([]),
        "the local store was not used"
    );

    // A token file that cannot be read is an error naming it.
    write(
        &cfg,
        &format!(
            "[cli]\naddr = \"{}\"\ntoken_file = \"{}\"\n",
            s.url,
            dir.path().join("nope").display()
        ),
    );
    let out = with_cfg().args(["key", "list"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token_file") && err.contains("nope"), "{err}");
}

#[test]
fn config_show_redacts_secrets_and_an_unknown_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kms.toml");
    write(
        &cfg,
        "[kms]\ndev_backend = \"age\"\nprod_backend = \"cosmian\"\nenvironment = \"${PROVISIONING_ENV:-dev}\"\n\n[kms.cosmian]\nserver_url = \"https://kms.example.com\"\napi_key = \"sk-super-secret\"\n",
    );
    let out = bare_cmd()
        .args(["config", "show", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("backend: age") && !text.contains("sk-super-secret"),
        "{text}"
    );
    assert!(line(&text, "api_key = ").contains("<redacted>"), "{text}");
    write(&cfg, "[kms]\nbakend = \"local\"\n");
    let out = bare_cmd()
        .args(["config", "show", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bakend"));
}
