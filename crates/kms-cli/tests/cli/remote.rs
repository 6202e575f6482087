//! Every key and crypto command through a real server (`--addr`), with the
//! same output as on the local store: aliases, the key life cycle, BYOK,
//! public keys, re-encryption, data key pairs, `generate-key`, envelope
//! files (encrypt, decrypt, rewrap); and the token from `KMS_TOKEN` or
//! given after the subcommand.

use serde_json::Value;

use crate::common::{Kms, b64, bare_cmd, sh};
use crate::server::{dev_server, json, keys_of, ok, remote};

const ROOT: &str = "remote-root-token";

/// The exit code, stdout and stderr of a command expected to fail.
fn fails(mut c: assert_cmd::Command, args: &[&str], stdin: &[u8]) -> (i32, String) {
    let out = c.args(args).write_stdin(stdin.to_vec()).output().unwrap();
    assert!(
        !out.status.success(),
        "kms {} succeeded but should fail",
        args.join(" ")
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn alias_commands_work_through_a_server_with_the_same_output() {
    let s = dev_server(ROOT);
    let r = || remote(&s, ROOT);
    let local = Kms::init();
    let a = json(r(), &["key", "create", "--spec", "AES_256"]);
    let b = json(r(), &["key", "create", "--spec", "AES_256"]);
    let (a, b) = (a["key_id"].as_str().unwrap(), b["key_id"].as_str().unwrap());
    let la = local.create_key("AES_256", &[]);
    let lb = local.create_key("AES_256", &[]);

    ok(r(), &["alias", "create", "web", a], b"");
    local.ok(&["alias", "create", "web", &la]);
    assert_eq!(json(r(), &["key", "describe", "alias/web"])["key_id"], a);
    let listed = json(r(), &["alias", "list", "--key", a]);
    let listed_local = local.json(&["alias", "list", "--key", &la]);
    assert_eq!(
        listed,
        serde_json::json!([{"alias": "alias/web", "key_id": a}])
    );
    assert_eq!(
        keys_of(&listed[0]),
        keys_of(&listed_local[0]),
        "alias list has the local shape"
    );
    // The text output is the same as the local one, up to the key ids.
    let text_remote = text(ok(r(), &["alias", "list", "--key", a], b""));
    let text_local = local.ok(&["alias", "list", "--key", &la]);
    assert_eq!(text_remote.replace(a, "ID"), text_local.replace(&la, "ID"));

    ok(r(), &["alias", "update", "alias/web", b], b"");
    local.ok(&["alias", "update", "alias/web", &lb]);
    assert_eq!(json(r(), &["key", "describe", "alias/web"])["key_id"], b);
    let all = json(r(), &["alias", "list"]);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|e| e["alias"] == "alias/web" && e["key_id"] == b),
        "{all}"
    );

    ok(r(), &["alias", "delete", "web"], b"");
    let (code, err) = fails(r(), &["key", "describe", "alias/web"], b"");
    assert_eq!(code, 1, "{err}");
    assert!(
        json(r(), &["alias", "list", "--key", b])
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Deleting it again is a failed operation, as on the local store.
    let (code, _) = fails(r(), &["alias", "delete", "web"], b"");
    local.ok(&["alias", "delete", "web"]);
    let (local_code, _, _) = local.fail(&["alias", "delete", "web"], b"");
    assert_eq!(code, local_code);
}

#[test]
fn the_key_life_cycle_and_public_keys_work_through_a_server() {
    let s = dev_server(ROOT);
    let r = || remote(&s, ROOT);
    let local = Kms::init();
    let k = json(
        r(),
        &["key", "create", "--spec", "AES_256", "--alias", "life"],
    );
    let id = k["key_id"].as_str().unwrap();

    let updated = json(
        r(),
        &[
            "key",
            "update",
            id,
            "--description",
            "billing data",
            "--tag",
            "team=billing",
            "--rotation-period-days",
            "90",
        ],
    );
    assert_eq!(updated["description"], "billing data");
    assert_eq!(updated["tags"]["team"], "billing");
    assert_eq!(updated["rotation_period_days"], 90);
    assert!(updated["next_rotation_at"].is_string(), "{updated}");
    let updated = json(
        r(),
        &[
            "key",
            "update",
            "alias/life",
            "--remove-tag",
            "team",
            "--no-rotation",
        ],
    );
    assert_eq!(updated["tags"], serde_json::json!({}));
    assert!(updated["rotation_period_days"].is_null(), "{updated}");
    ok(r(), &["key", "rotate", id], b"");
    let updated = json(r(), &["key", "update", id, "--min-decryption-version", "2"]);
    assert_eq!(updated["min_decryption_version"], 2);

    assert_eq!(json(r(), &["key", "disable", id])["state"], "Disabled");
    assert_eq!(json(r(), &["key", "enable", id])["state"], "Enabled");
    let scheduled = json(r(), &["key", "schedule-deletion", id, "--days", "7"]);
    assert_eq!(scheduled["state"], "PendingDeletion");
    assert!(scheduled["deletion_date"].is_string(), "{scheduled}");
    let (code, _) = fails(r(), &["encrypt", "--key", id], b"x");
    assert_eq!(code, 1);
    let cancelled = json(r(), &["key", "cancel-deletion", id]);
    assert_eq!(cancelled["state"], "Disabled");
    assert!(cancelled["deletion_date"].is_null());
    assert_eq!(json(r(), &["key", "enable", id])["state"], "Enabled");
    // Out of range, refused by the server as by the store (exit 1 both).
    let (code, _) = fails(r(), &["key", "schedule-deletion", id, "--days", "3"], b"");
    let lid = local.create_key("AES_256", &[]);
    let (local_code, _, _) = local.fail(&["key", "schedule-deletion", &lid, "--days", "3"], b"");
    assert_eq!(code, local_code);

    // Public keys: the same PEM as the JSON, the JWK and the local shape.
    let signer = json(r(), &["key", "create", "--spec", "ECC_NIST_P256"]);
    let sid = signer["key_id"].as_str().unwrap();
    let pem = text(ok(r(), &["key", "public-key", sid], b""));
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let jwk: Value = serde_json::from_slice(&ok(
        r(),
        &["key", "public-key", sid, "--format", "jwk"],
        b"",
    ))
    .unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    let out = local.path("pub.pem");
    ok(
        r(),
        &[
            "key",
            "public-key",
            sid,
            "--version",
            "1",
            "-o",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), pem);
    let remote_json = json(r(), &["key", "public-key", sid]);
    let local_signer = local.create_key("ECC_NIST_P256", &[]);
    let local_json = local.json(&["key", "public-key", &local_signer]);
    assert_eq!(keys_of(&remote_json), keys_of(&local_json));
    assert_eq!(remote_json["pem"], pem.as_str());
    // A symmetric key has no public key.
    let (code, _) = fails(r(), &["key", "public-key", id], b"");
    assert_eq!(code, 1);
}

#[test]
fn material_wrapped_with_openssl_imports_through_a_server() {
    let s = dev_server(ROOT);
    let r = || remote(&s, ROOT);
    let local = Kms::new();
    let created = json(
        r(),
        &[
            "key", "create", "--spec", "AES_256", "--origin", "imported", "--alias", "byok",
        ],
    );
    assert_eq!(created["state"], "PendingImport");
    let id = created["key_id"].as_str().unwrap();
    let out_dir = local.path("import");
    let printed = text(ok(
        r(),
        &[
            "key",
            "import-params",
            "alias/byok",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
        b"",
    ));
    assert!(printed.contains("--import-token"), "{printed}");
    assert!(out_dir.join("wrapping-key.pem").exists());

    sh(&out_dir, "openssl rand 32 > material.bin");
    sh(
        &out_dir,
        "openssl rand 32 > eph.key; \
        openssl pkeyutl -encrypt -pubin -inkey wrapping-key.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in eph.key -out eph.wrapped && \
        openssl enc -id-aes256-wrap-pad -K $(xxd -p -c 64 eph.key) -iv A65959A6 -in material.bin -out material.wrapped && \
        cat eph.wrapped material.wrapped > wrapped.bin",
    );
    let token = out_dir.join("import-token");
    let wrapped = out_dir.join("wrapped.bin");
    let import = [
        "key",
        "import",
        id,
        "--import-token",
        token.to_str().unwrap(),
        "--wrapped",
        wrapped.to_str().unwrap(),
    ];
    let imported = json(r(), &import);
    assert_eq!(imported["state"], "Enabled");
    assert_eq!(imported["origin"], "IMPORTED");
    assert_eq!(imported["current_version"], 1);

    let ct = ok(
        r(),
        &["encrypt", "--key", "alias/byok", "--context", "a=b"],
        b"imported key at work",
    );
    assert_eq!(
        ok(r(), &["decrypt", "--context", "a=b"], &ct),
        b"imported key at work"
    );
    // The import token works once.
    let (code, err) = fails(r(), &import, b"");
    assert_eq!(code, 1, "{err}");
}

#[test]
fn reencrypt_data_key_pairs_and_generate_key_work_through_a_server() {
    let s = dev_server(ROOT);
    let r = || remote(&s, ROOT);
    let local = Kms::init();
    local.create_key("AES_256", &["--alias", "default"]);
    local.create_key("AES_256", &["--alias", "other"]);
    ok(
        r(),
        &["key", "create", "--spec", "AES_256", "--alias", "other"],
        b"",
    );

    // Re-encrypt under another key and context, then decrypt the result.
    let ct = ok(r(), &["encrypt", "--context", "v=1"], b"moving payload");
    let re = ok(
        r(),
        &[
            "reencrypt",
            "--key",
            "alias/other",
            "--context",
            "v=1",
            "--to-context",
            "v=2",
        ],
        &ct,
    );
    assert!(re.starts_with(b"kms:v1:") && re != ct);
    let (code, _) = fails(r(), &["decrypt", "--context", "v=1"], &re);
    assert_eq!(code, 1);
    assert_eq!(
        ok(r(), &["decrypt", "--context", "v=2"], &re),
        b"moving payload"
    );
    let local_ct = local.ok_stdin(&["encrypt"], b"x");
    let re_json = json_stdin(
        r(),
        &["reencrypt", "--key", "alias/other", "--context", "v=1"],
        &ct,
    );
    let re_local = local.json_stdin(&["reencrypt", "--key", "alias/other"], &local_ct);
    assert_eq!(keys_of(&re_json), keys_of(&re_local));
    let other = json(r(), &["key", "describe", "alias/other"]);
    assert_eq!(re_json["key_id"], other["key_id"]);

    // A data key pair: its private key decrypts from its ciphertext.
    let pair = json(
        r(),
        &[
            "data-key",
            "generate-pair",
            "--key",
            "alias/other",
            "--spec",
            "ECC_NIST_P256",
            "--context",
            "p=q",
        ],
    );
    let pair_local = local.json(&[
        "data-key",
        "generate-pair",
        "--key",
        "alias/other",
        "--spec",
        "ECC_NIST_P256",
    ]);
    assert_eq!(keys_of(&pair), keys_of(&pair_local));
    let private = ok(
        r(),
        &["decrypt", "--context", "p=q"],
        pair["private_key_ciphertext"].as_str().unwrap().as_bytes(),
    );
    let pem = pair["private_key_plaintext"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(
        private == b64(&body),
        "the private key differs from its ciphertext"
    );
    let no_plain = json(
        r(),
        &[
            "data-key",
            "generate-pair",
            "--key",
            "alias/other",
            "--spec",
            "ED25519",
            "--no-plaintext",
        ],
    );
    assert!(
        no_plain
            .get("private_key_plaintext")
            .is_none_or(Value::is_null),
        "{no_plain}"
    );
    assert!(no_plain["public_key"].is_string());

    // `generate-key` uses the dev server's alias/default.
    let dk = json(r(), &["generate-key", "--spec", "AES_128"]);
    let dk_local = local.json(&["generate-key", "--spec", "AES_128"]);
    assert_eq!(keys_of(&dk), keys_of(&dk_local));
    let plain = b64(dk["plaintext"].as_str().unwrap());
    assert_eq!(plain.len(), 16);
    let opened = ok(
        r(),
        &["decrypt"],
        dk["ciphertext"].as_str().unwrap().as_bytes(),
    );
    assert_eq!(opened, plain);
    let shown = text(ok(r(), &["generate-key", "--context", "a=b"], b""));
    let shown_local = local.ok(&["generate-key", "--context", "a=b"]);
    let labels = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(labels(&shown), labels(&shown_local));
}

#[test]
fn envelope_files_are_encrypted_and_decrypted_with_a_server_key() {
    let s = dev_server(ROOT);
    let r = || remote(&s, ROOT);
    let dir = tempfile::tempdir().unwrap();
    ok(
        r(),
        &["key", "create", "--spec", "AES_256", "--alias", "files"],
        b"",
    );
    let plain = dir.path().join("report.csv");
    let payload: Vec<u8> = (0..200_003u32).map(|i| (i * 131 % 253) as u8).collect();
    std::fs::write(&plain, &payload).unwrap();
    let p = plain.to_str().unwrap();
    ok(
        r(),
        &[
            "encrypt-file",
            p,
            "--key",
            "alias/files",
            "--context",
            "app=files",
        ],
        b"",
    );
    let enc = format!("{p}.enc");
    let inspected = json(r(), &["inspect-file", &enc]);
    assert_eq!(inspected["recipients"][0]["type"], "kms-key");
    let back = dir.path().join("back.csv");
    ok(
        r(),
        &[
            "decrypt-file",
            &enc,
            "--context",
            "app=files",
            "-o",
            back.to_str().unwrap(),
        ],
        b"",
    );
    assert!(std::fs::read(&back).unwrap() == payload, "the bytes differ");
    // After a rotation the file moves to the new version and still opens.
    ok(r(), &["key", "rotate", "alias/files"], b"");
    ok(
        r(),
        &[
            "rewrap-file",
            &enc,
            "--to-latest-version",
            "--context",
            "app=files",
        ],
        b"",
    );
    ok(
        r(),
        &[
            "decrypt-file",
            &enc,
            "--context",
            "app=files",
            "-o",
            back.to_str().unwrap(),
            "--force",
        ],
        b"",
    );
    assert!(
        std::fs::read(&back).unwrap() == payload,
        "the bytes differ after rewrap"
    );
    // The wrong context fails and writes nothing.
    let wrong = dir.path().join("wrong.csv");
    let (code, _) = fails(
        r(),
        &[
            "decrypt-file",
            &enc,
            "--context",
            "app=other",
            "-o",
            wrong.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 1);
    assert!(!wrong.exists());
    // Without a recipient, the server's alias/default is used.
    let armored = text(ok(
        r(),
        &["encrypt-file", "-", "--armor"],
        b"to the default key",
    ));
    assert!(
        armored.starts_with("-----BEGIN KMS ENCRYPTED FILE-----"),
        "{armored}"
    );
    assert_eq!(
        ok(r(), &["decrypt-file", "-"], armored.as_bytes()),
        b"to the default key"
    );
}

#[test]
fn the_token_comes_from_kms_token_or_from_after_the_subcommand() {
    let s = dev_server(ROOT);
    // KMS_ADDR and KMS_TOKEN from the environment.
    let mut env = bare_cmd();
    env.env("KMS_ADDR", &s.url).env("KMS_TOKEN", ROOT);
    let ct = ok(env, &["encrypt"], b"from the environment");
    let mut env = bare_cmd();
    env.env("KMS_ADDR", &s.url).env("KMS_TOKEN", ROOT);
    assert_eq!(ok(env, &["decrypt"], &ct), b"from the environment");

    // --token after the subcommand, at every depth.
    let after = |args: &[&str], stdin: &[u8]| {
        let mut c = bare_cmd();
        c.args(["--addr", &s.url]);
        let mut all = args.to_vec();
        all.extend_from_slice(&["--token", ROOT]);
        ok(c, &all, stdin)
    };
    let ct = after(&["encrypt", "--key", "alias/default"], b"after");
    assert_eq!(after(&["decrypt"], &ct), b"after");
    assert!(text(after(&["key", "list"], b"")).contains("alias/default"));
    let mut c = bare_cmd();
    c.args([
        "key",
        "describe",
        "alias/default",
        "--addr",
        &s.url,
        "--token",
        ROOT,
    ]);
    assert!(text(ok(c, &[], b"")).contains("AES_256"));
    assert!(!after(&["data-key", "generate", "--key", "alias/default"], b"").is_empty());

    // The token is really used: a wrong one after the subcommand is refused,
    // and the flag wins over KMS_TOKEN.
    let mut c = bare_cmd();
    c.args(["--addr", &s.url]);
    let (code, err) = fails(c, &["key", "list", "--token", "not-the-token"], b"");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("hint:"), "{err}");
    let mut c = bare_cmd();
    c.env("KMS_ADDR", &s.url).env("KMS_TOKEN", "not-the-token");
    ok(c, &["key", "list", "--token", ROOT], b"");
}

/// `json` with standard input.
fn json_stdin(mut c: assert_cmd::Command, args: &[&str], stdin: &[u8]) -> Value {
    c.arg("--json");
    serde_json::from_slice(&ok(c, args, stdin)).unwrap()
}
