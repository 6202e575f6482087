#![allow(clippy::unwrap_used)]
use std::path::PathBuf;

use super::*;
use crate::ServerConfig;

fn shown(e: &Effective, key: &str) -> (Value, Source) {
    let s = e.get(key).unwrap_or_else(|| panic!("{key} is not shown"));
    (s.value.clone(), s.source)
}

#[test]
fn a_password_in_the_store_url_is_never_shown() {
    let cfg = Config::parse(
        "[kms.local]\nstore = \"postgres://kms:hunter2@db:5432/kms?sslmode=require&password=other\"\n",
    )
    .unwrap();
    let e = Effective::server(&cfg, &ServerArgs::default(), &StoreArgs::default()).unwrap();
    let text = e.render();
    let json = serde_json::to_string(&e).unwrap();
    for shown in [&text, &json, &cfg.redacted(), &format!("{cfg:?}")] {
        assert!(
            !shown.contains("hunter2") && !shown.contains("other"),
            "{shown}"
        );
    }
    assert_eq!(
        shown(&e, "kms.local.store"),
        (
            Value::from("postgres://kms:***@db:5432/kms?sslmode=require&password=***"),
            Source::File
        )
    );
}

#[test]
fn flags_win_over_the_file_and_defaults_fill_in_the_rest() {
    let cfg = Config::parse(
        "[kms.local]\nstore = \"/srv/kms.db\"\npassphrase_file = \"/run/p\"\n[server]\nlisten = \"0.0.0.0:9000\"\naudit_file = \"/var/log/a.jsonl\"\n[server.auth]\nmax_failures = 3\n",
    )
    .unwrap();
    let args = ServerArgs {
        listen: Some("127.0.0.1:9999".into()),
        ..ServerArgs::default()
    };
    let store = StoreArgs {
        key_file: Some(PathBuf::from("/etc/kms/root.key")),
        ..StoreArgs::default()
    };
    let e = Effective::server(&cfg, &args, &store).unwrap();
    assert_eq!(
        shown(&e, "server.listen"),
        (Value::from("127.0.0.1:9999"), Source::Flag("--listen"))
    );
    assert_eq!(
        shown(&e, "kms.local.store"),
        (Value::from("/srv/kms.db"), Source::File)
    );
    // A key file flag replaces the file's passphrase file: one unseal source.
    assert_eq!(
        shown(&e, "kms.local.key_file"),
        (Value::from("/etc/kms/root.key"), Source::Flag("--key-file"))
    );
    assert_eq!(
        shown(&e, "kms.local.passphrase_file"),
        (Value::Null, Source::Unset)
    );
    assert_eq!(
        shown(&e, "server.audit_file"),
        (Value::from("/var/log/a.jsonl"), Source::File)
    );
    assert_eq!(
        shown(&e, "server.default_key"),
        (Value::from(DEFAULT_SEED_KEY), Source::Default)
    );
    assert_eq!(
        shown(&e, "server.max_request_bytes"),
        (
            Value::from(DEFAULT_MAX_REQUEST_BYTES as u64),
            Source::Default
        )
    );
    assert_eq!(
        shown(&e, "server.auth.max_failures"),
        (Value::from(3), Source::File)
    );
    assert_eq!(
        shown(&e, "server.auth.lockout_secs"),
        (Value::from(60), Source::Default)
    );
    assert_eq!(
        shown(&e, "kms.backend"),
        (Value::from("local"), Source::Default)
    );
}

#[test]
fn the_shown_settings_are_the_ones_the_server_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kms.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:7001\"\ndefault_key = \"alias/seed\"\nmax_request_bytes = 1024\n",
    )
    .unwrap();
    let args = ServerArgs {
        config: Some(path.clone()),
        default_key: Some("alias/flag".into()),
        ..ServerArgs::default()
    };
    let store = StoreArgs {
        store: Some(dir.path().join("kms.db").display().to_string()),
        ..StoreArgs::default()
    };
    let resolved = ServerConfig::resolve(&args, &store).unwrap();
    let (_, file) = Config::locate(Some(&path)).unwrap().unwrap();
    let e = Effective::server(&file, &args, &store).unwrap();
    assert_eq!(shown(&e, "server.listen").0, Value::from(resolved.listen));
    assert_eq!(
        shown(&e, "server.default_key").0,
        Value::from(resolved.default_key)
    );
    assert_eq!(
        shown(&e, "server.max_request_bytes").0,
        Value::from(resolved.max_request_bytes as u64)
    );
}

#[test]
fn secrets_of_other_backends_are_redacted_and_the_rendering_is_toml_like() {
    let cfg = Config::parse(
        "[kms]\ndev_backend = \"age\"\nprod_backend = \"cosmian\"\n\n[kms.cosmian]\nserver_url = \"https://u:pw@kms.example.com\"\napi_key = \"sk-very-secret\"\n\n[server.tls]\ncert_file = \"/c\"\nkey_file = \"/k\"\nclient_principals = { \"CN=app,O=Ex\" = [\"app\"] }\n",
    )
    .unwrap();
    let e = Effective::server(&cfg, &ServerArgs::default(), &StoreArgs::default()).unwrap();
    let text = e.render();
    assert!(
        !text.contains("sk-very-secret") && !text.contains("pw@"),
        "{text}"
    );
    assert!(text.contains("api_key = \"<redacted>\""), "{text}");
    assert!(text.contains("[kms.cosmian]\n"), "{text}");
    assert!(text.contains("# file"), "{text}");
    assert!(
        text.contains("client_principals = { \"CN=app,O=Ex\" = [\"app\"] }"),
        "{text}"
    );
    assert!(
        text.contains("# key_file ="),
        "unset keys are commented out: {text}"
    );
    assert!(
        text.contains("# bootstrap_root_token_file ="),
        "flag-only settings are commented out: {text}"
    );
    assert_eq!(shown(&e, "kms.backend"), (Value::from("age"), Source::File));
}

#[test]
fn url_passwords_are_redacted_wherever_they_are() {
    for (url, want) in [
        ("postgres://kms:pw@db/kms", "postgres://kms:***@db/kms"),
        ("postgres://kms:p/w@s@db/kms", "postgres://kms:***@db/kms"),
        ("postgres://kms@db/kms", "postgres://kms@db/kms"),
        (
            "postgresql://db/kms?user=kms&password=pw#x",
            "postgresql://db/kms?user=kms&password=***#x",
        ),
        (
            "postgres://db/kms?sslpassword=pw",
            "postgres://db/kms?sslpassword=***",
        ),
        ("/var/lib/kms/kms.db", "/var/lib/kms/kms.db"),
        ("sqlite:/tmp/k.db?mode=rwc", "sqlite:/tmp/k.db?mode=rwc"),
        ("http://127.0.0.1:8082", "http://127.0.0.1:8082"),
    ] {
        assert_eq!(redact_url(url), want, "{url}");
    }
}
