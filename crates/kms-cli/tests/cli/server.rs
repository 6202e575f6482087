//! `kms server`, and every key and crypto command through a server with
//! `--addr`/`--token`; tokens, policies and the audit log from the CLI.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{Kms, bare_cmd};

/// A running `kms server`.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(mut cmd: std::process::Command) -> Server {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("kms server exited").unwrap();
        if let Some(rest) = line.strip_prefix("Listening:") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

fn dev_server(token: &str) -> Server {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kms"));
    for v in ["KMS_ADDR", "KMS_TOKEN", "KMS_STORE", "KMS_CONFIG"] {
        cmd.env_remove(v);
    }
    cmd.args([
        "server",
        "--dev",
        "--dev-root-token",
        token,
        "--listen",
        "127.0.0.1:0",
    ]);
    spawn(cmd)
}

fn remote(s: &Server, token: &str) -> Command {
    let mut c = bare_cmd();
    c.args(["--addr", &s.url, "--token", token]);
    c
}

fn ok(mut c: Command, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = c.args(args).write_stdin(stdin.to_vec()).output().unwrap();
    assert!(
        out.status.success(),
        "kms {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn json(c: Command, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&ok(c, &all, b"")).unwrap()
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn key_and_crypto_commands_work_through_a_server_with_the_same_output() {
    let s = dev_server("cli-root-token");
    let r = || remote(&s, "cli-root-token");
    let local = Kms::init();

    // The same key description, field for field.
    let remote_key = json(
        r(),
        &["key", "create", "--spec", "AES_256", "--alias", "app"],
    );
    let local_key = local.json(&["key", "create", "--spec", "AES_256", "--alias", "app"]);
    assert_eq!(keys_of(&remote_key), keys_of(&local_key));
    assert_eq!(remote_key["aliases"], local_key["aliases"]);
    let described = json(r(), &["key", "describe", "alias/app"]);
    assert_eq!(described["key_id"], remote_key["key_id"]);

    // Encrypt / decrypt / re-encrypt print the same shapes.
    let ct = ok(
        r(),
        &["encrypt", "--key", "alias/app", "--context", "env=prod"],
        b"secret\n",
    );
    assert!(ct.starts_with(b"kms:v1:") && ct.ends_with(b"\n"));
    let pt = ok(r(), &["decrypt", "--context", "env=prod"], &ct);
    assert_eq!(pt, b"secret\n");
    let out = r()
        .args(["decrypt", "--context", "env=dev"])
        .write_stdin(ct.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    ok(r(), &["key", "rotate", "alias/app"], b"");
    assert_eq!(
        ok(r(), &["decrypt", "--context", "env=prod"], &ct),
        b"secret\n"
    );
    let ct2 = ok(r(), &["encrypt", "--key", "alias/app"], b"x");
    assert!(ct2.starts_with(b"kms:v1:"));

    // Data keys, random, signatures, MACs.
    let dk = json(r(), &["data-key", "generate", "--key", "alias/app"]);
    let dk_local = local.json(&["data-key", "generate", "--key", "alias/app"]);
    assert_eq!(keys_of(&dk), keys_of(&dk_local));
    let rnd = ok(r(), &["random", "24"], b"");
    assert_eq!(String::from_utf8(rnd).unwrap().trim().len(), 32);
    let signer = json(r(), &["key", "create", "--spec", "ECC_NIST_P256"]);
    let id = signer["key_id"].as_str().unwrap();
    let sig = ok(r(), &["sign", "--key", id], b"message");
    let sig_file = local.path("sig.txt");
    std::fs::write(&sig_file, &sig).unwrap();
    let verdict = ok(
        r(),
        &[
            "verify",
            "--key",
            id,
            "--signature",
            sig_file.to_str().unwrap(),
        ],
        b"message",
    );
    assert_eq!(String::from_utf8(verdict).unwrap().trim(), "valid");
    let hmac = json(r(), &["key", "create", "--spec", "HMAC_256"]);
    let hid = hmac["key_id"].as_str().unwrap();
    let mac = ok(r(), &["mac", "generate", "--key", hid], b"m");
    let mac_file = local.path("mac.txt");
    std::fs::write(&mac_file, &mac).unwrap();
    let verdict = ok(
        r(),
        &[
            "mac",
            "verify",
            "--key",
            hid,
            "--mac",
            mac_file.to_str().unwrap(),
        ],
        b"m",
    );
    assert_eq!(String::from_utf8(verdict).unwrap().trim(), "valid");

    // Listing, aliases, state.
    let list = json(r(), &["key", "list"]);
    assert!(
        list.to_string()
            .contains(remote_key["key_id"].as_str().unwrap())
    );
    ok(r(), &["key", "disable", "alias/app"], b"");
    let out = r()
        .args(["encrypt", "--key", "alias/app"])
        .write_stdin(b"x".to_vec())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let status = json(r(), &["status"]);
    assert_eq!(status["sealed"], false);
    assert_eq!(status["store"], s.url.as_str());
}

#[test]
fn without_a_token_the_server_refuses_with_a_hint() {
    let s = dev_server("cli-root-token-2");
    let out = bare_cmd()
        .args(["--addr", &s.url, "key", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn tokens_policies_and_audit_are_managed_on_the_local_store_and_used_by_the_server() {
    let kms = Kms::init();
    kms.ok(&["key", "create", "--spec", "AES_256", "--alias", "default"]);
    let policy = kms.path("app.json");
    std::fs::write(
        &policy,
        r#"{"rules": [{"operations": ["encrypt"], "keys": ["alias/default"]}]}"#,
    )
    .unwrap();
    kms.ok(&["policy", "put", "app", "--file", policy.to_str().unwrap()]);
    let created = kms.json(&["token", "create", "--principal", "app", "--policy", "app"]);
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("kms_"));
    let listed = kms.ok(&["token", "list"]);
    assert!(listed.contains("app") && !listed.contains(&token));

    let mut cmd = kms.std_cmd();
    cmd.env_remove("KMS_ADDR")
        .args(["server", "--listen", "127.0.0.1:0"]);
    let s = spawn(cmd);
    let ct = ok(remote(&s, &token), &["encrypt"], b"hello");
    assert!(ct.starts_with(b"kms:v1:"));
    let out = remote(&s, &token)
        .args(["decrypt"])
        .write_stdin(ct)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "decrypt is not in the policy");
    assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied"));

    // The audit log, read through the server and on the store.
    let root = kms.json(&["token", "create", "--principal", "ops", "--policy", "root"]);
    let root = root["token"].as_str().unwrap();
    let v = json(remote(&s, root), &["audit", "verify"]);
    assert_eq!(v["ok"], true);
    let records = json(remote(&s, root), &["audit", "list", "--principal", "app"]);
    let outcomes: Vec<(&str, &str)> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["operation"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .filter(|(op, _)| *op != "describe_key")
        .collect();
    // The CLI reads the key's metadata before each operation (describe_key, also audited).
    assert_eq!(outcomes, [("encrypt", "ok"), ("decrypt", "denied")]);
    drop(s);
    assert!(kms.ok(&["audit", "verify"]).contains("intact"));
    let id = created["id"].as_str().unwrap();
    kms.ok(&["token", "revoke", id]);
    assert!(
        kms.ok(&["token", "list"]).contains("revoked")
            || kms
                .json(&["token", "list"])
                .to_string()
                .contains("revoked_at\":\"20")
    );
}

#[test]
fn config_show_redacts_secrets_and_an_unknown_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kms.toml");
    std::fs::write(
        &cfg,
        "[kms]\ndev_backend = \"age\"\nprod_backend = \"cosmian\"\nenvironment = \"${PROVISIONING_ENV:-dev}\"\n\n[kms.cosmian]\nserver_url = \"https://kms.example.com\"\napi_key = \"sk-super-secret\"\n",
    )
    .unwrap();
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
    std::fs::write(&cfg, "[kms]\nbakend = \"local\"\n").unwrap();
    let out = bare_cmd()
        .args(["config", "show", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bakend"));
}
