//! `kms server`, and every key and crypto command through a server with
//! `--addr`/`--token`; tokens, policies and the audit log from the CLI.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{Kms, bare_cmd};

/// A running `kms server`.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(mut cmd: std::process::Command) -> Server {
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

pub fn dev_server(token: &str) -> Server {
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

pub fn remote(s: &Server, token: &str) -> Command {
    let mut c = bare_cmd();
    c.args(["--addr", &s.url, "--token", token]);
    c
}

pub fn ok(mut c: Command, args: &[&str], stdin: &[u8]) -> Vec<u8> {
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

pub fn json(c: Command, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&ok(c, &all, b"")).unwrap()
}

pub fn keys_of(v: &Value) -> Vec<String> {
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
fn audit_list_filters_by_time_on_the_store_and_through_the_server() {
    let kms = Kms::init();
    kms.ok(&["key", "create", "--spec", "AES_256", "--alias", "default"]);
    let root = kms.json(&["token", "create", "--principal", "ops", "--policy", "root"]);
    let root = root["token"].as_str().unwrap().to_string();
    let mut cmd = kms.std_cmd();
    cmd.args(["server", "--listen", "127.0.0.1:0"]);
    let s = spawn(cmd);
    for word in ["one", "two", "three"] {
        ok(remote(&s, &root), &["encrypt"], word.as_bytes());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let times = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["time"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |c: Command, extra: &[&str]| {
        let mut args = vec!["audit", "list", "--operation", "encrypt"];
        args.extend_from_slice(extra);
        times(json(c, &args))
    };
    let all = list(remote(&s, &root), &[]);
    assert_eq!(all.len(), 3, "{all:?}");
    let middle = all[1].as_str();
    assert_eq!(list(remote(&s, &root), &["--since", middle]), all[1..]);
    assert_eq!(list(remote(&s, &root), &["--until", middle]), all[..1]);
    assert_eq!(
        list(
            remote(&s, &root),
            &["--since", middle, "--until", all[2].as_str()]
        ),
        all[1..2]
    );
    assert!(list(remote(&s, &root), &["--since", "2999-01-01T00:00:00Z"]).is_empty());
    drop(s);

    // The same on the store, without a server.
    let local = |extra: &[&str]| list(kms.cmd(), extra);
    assert_eq!(local(&[]), all);
    assert_eq!(local(&["--since", middle]), all[1..]);
    assert_eq!(local(&["--until", middle]), all[..1]);
    assert!(local(&["--until", "1970-01-01T00:00:00Z"]).is_empty());
    // A time in another offset is the same instant.
    let t = time::OffsetDateTime::parse(middle, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .to_offset(time::macros::offset!(+2));
    let shifted = t
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(local(&["--since", &shifted]), all[1..]);

    let (code, _, err) = kms.fail(&["audit", "list", "--since", "yesterday"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("RFC 3339"), "{err}");
}
