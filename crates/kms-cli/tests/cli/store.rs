//! Store handling: init, status, unsealing, backend selection, JSON errors.

use crate::common::{Kms, bare_cmd};

#[test]
fn status_of_a_store_that_does_not_exist_says_not_initialised_and_exits_0() {
    let kms = Kms::new();
    let out = kms.ok(&["status"]);
    assert!(out.contains("not initialised"), "{out}");
    let j = kms.json(&["status"]);
    assert_eq!(j["initialised"], false);
    assert_eq!(j["backend"], "local");
    assert!(
        !std::path::Path::new(&kms.store).exists(),
        "status must not create the store"
    );
}

#[test]
fn status_json_shows_the_local_backend_and_the_key_count() {
    let kms = Kms::init();
    kms.create_key("AES_256", &[]);
    kms.create_key("HMAC_512", &[]);
    let j = kms.json(&["status"]);
    assert_eq!(j["backend"], "local");
    assert_eq!(j["available"], true);
    assert_eq!(j["initialised"], true);
    assert_eq!(j["sealed"], false);
    assert_eq!(j["key_count"], 2);
    assert_eq!(j["store"], kms.store.as_str());
    let text = kms.ok(&["status"]);
    assert!(
        text.contains("backend: local\n") && text.contains("keys: 2\n"),
        "{text}"
    );

    // Without a passphrase (and no terminal) the store shows as sealed, still exit 0.
    let out = bare_cmd()
        .args(["--json", "--store", &kms.store, "status"])
        .write_stdin("")
        .output()
        .unwrap();
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["sealed"], true);
    assert_eq!(j["initialised"], true);
}

#[test]
fn a_command_without_a_passphrase_and_no_terminal_says_to_pass_passphrase_file() {
    let kms = Kms::init();
    let out = bare_cmd()
        .args(["--store", &kms.store, "key", "list"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--passphrase-file"), "{err}");
    // The environment variable works like the flag.
    let out = bare_cmd()
        .env("KMS_STORE", &kms.store)
        .env("KMS_PASSPHRASE_FILE", &kms.pass)
        .args(["key", "list"])
        .write_stdin("")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unknown_backend_is_a_usage_error_that_names_the_available_ones() {
    let kms = Kms::init();
    let (code, _, err) = kms.fail(&["--backend", "vault", "status"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("local"), "{err}");
    kms.ok(&["--backend", "local", "status"]);
}

#[test]
fn commands_on_a_missing_store_say_to_run_init() {
    let kms = Kms::new();
    let (code, _, err) = kms.fail(&["key", "list"], b"");
    assert_eq!(code, 1);
    assert!(
        err.contains("not initialised") && err.contains("kms init"),
        "{err}"
    );
    assert!(!std::path::Path::new(&kms.store).exists());
}

#[test]
fn init_twice_is_refused_and_changes_nothing() {
    let kms = Kms::init();
    let id = kms.create_key("AES_256", &[]);
    let (code, _, err) = kms.fail(
        &[
            "init",
            "--argon2-memory-kib",
            "8192",
            "--argon2-iterations",
            "1",
        ],
        b"",
    );
    assert_eq!(code, 1);
    assert!(err.contains("already initialised"), "{err}");
    kms.describe(&id);
}

#[test]
fn errors_with_json_also_print_a_json_object_on_stderr() {
    let kms = Kms::init();
    let (code, stdout, err) = kms.fail(&["--json", "key", "describe", "alias/missing"], b"");
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let line = err.lines().find(|l| l.starts_with('{')).unwrap();
    let j: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(j["error"], "not_found");
    assert!(
        j["message"].as_str().unwrap().contains("alias/missing"),
        "{j}"
    );
    assert!(err.contains("kms key list"), "{err}");
}

#[test]
fn a_store_sealed_with_a_key_file_opens_with_it_and_not_with_a_passphrase() {
    let kms = Kms::new();
    let key_file = kms.path("root.key");
    let kf = key_file.to_str().unwrap();
    let out = bare_cmd()
        .args(["--store", &kms.store, "--key-file", kf, "init"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(key_file.exists(), "init creates a missing key file");
    let out = bare_cmd()
        .args([
            "--store",
            &kms.store,
            "--key-file",
            kf,
            "--json",
            "key",
            "create",
            "--spec",
            "AES_256",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, _) = kms.fail(&["key", "list"], b"");
    assert_eq!(code, 1);
}
