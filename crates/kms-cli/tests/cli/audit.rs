//! The CLI on a local store appends to the store's audit log, the chain a
//! server on the same store continues.

use std::collections::BTreeSet;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::Kms;
use crate::server::{json, ok, remote, spawn};

/// `kms --store … --passphrase-file …` run by the OS user `alice`.
fn as_alice(kms: &Kms) -> Command {
    let mut c = kms.cmd();
    c.env("USER", "alice");
    c
}

fn records(kms: &Kms) -> Vec<Value> {
    let list = json(as_alice(kms), &["audit", "list", "--limit", "1000"]);
    list.as_array().unwrap().clone()
}

fn field<'a>(r: &'a Value, name: &str) -> &'a str {
    r[name].as_str().unwrap_or_default()
}

#[test]
fn local_commands_are_audited_and_a_server_on_the_store_continues_the_chain() {
    let kms = Kms::init();
    let key = json(
        as_alice(&kms),
        &["key", "create", "--spec", "AES_256", "--alias", "app"],
    );
    let id = key["key_id"].as_str().unwrap().to_string();
    let plaintext = b"plaintext-never-in-the-log";
    let ct = ok(
        as_alice(&kms),
        &["encrypt", "--key", "alias/app", "--context", "env=prod"],
        plaintext,
    );
    let out = as_alice(&kms)
        .args(["decrypt", "--context", "env=dev"])
        .write_stdin(ct.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a wrong context must fail");
    ok(as_alice(&kms), &["key", "rotate", "alias/app"], b"");
    let token = json(
        as_alice(&kms),
        &["token", "create", "--principal", "ops", "--policy", "root"],
    );
    let secret = token["token"].as_str().unwrap().to_string();
    let token_id = token["id"].as_str().unwrap().to_string();

    // Every record names the OS user and the local source; the resolution
    // before each operation (describe_key) is recorded too, as through a server.
    let local = records(&kms);
    for r in &local {
        assert_eq!(field(r, "principal"), "cli:alice", "{r}");
        assert_eq!(field(r, "source"), "local", "{r}");
    }
    let ops: Vec<(&str, &str, &str)> = local
        .iter()
        .filter(|r| field(r, "operation") != "describe_key")
        .map(|r| {
            (
                field(r, "operation"),
                field(r, "entity_id"),
                field(r, "outcome"),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("create_key", id.as_str(), "ok"),
            ("encrypt", id.as_str(), "ok"),
            ("decrypt", id.as_str(), "error:invalid_input"),
            ("rotate_key", id.as_str(), "ok"),
            ("token_create", token_id.as_str(), "ok"),
        ]
    );
    let rotated = local
        .iter()
        .find(|r| field(r, "operation") == "rotate_key")
        .unwrap();
    assert_eq!(rotated["key_version"], 2);
    assert_eq!(rotated["entity_type"], "key");
    let created = local.last().unwrap();
    assert_eq!(created["entity_type"], "token");
    // One request id per invocation: five commands, five ids, each shared by
    // the command's describe_key and its operation.
    let ids: BTreeSet<&str> = local.iter().map(|r| field(r, "request_id")).collect();
    assert_eq!(ids.len(), 5, "{local:#?}");
    let encrypt_id = local
        .iter()
        .find(|r| field(r, "operation") == "encrypt")
        .map(|r| field(r, "request_id"))
        .unwrap();
    let encrypt_records: Vec<&str> = local
        .iter()
        .filter(|r| field(r, "request_id") == encrypt_id)
        .map(|r| field(r, "operation"))
        .collect();
    assert_eq!(encrypt_records, ["describe_key", "encrypt"]);
    // Never plaintext, ciphertext or the token.
    let dump = serde_json::to_string(&local).unwrap();
    assert!(!dump.contains("plaintext-never-in-the-log"));
    assert!(!dump.contains(String::from_utf8_lossy(&ct).trim()));
    assert!(!dump.contains(&secret));
    let text = String::from_utf8(ok(as_alice(&kms), &["audit", "verify"], b"")).unwrap();
    assert!(text.contains("intact"), "{text}");

    // A server on the same store appends to the same chain.
    let mut cmd = kms.std_cmd();
    cmd.args(["server", "--listen", "127.0.0.1:0"]);
    let s = spawn(cmd);
    let ct2 = ok(
        remote(&s, &secret),
        &["encrypt", "--key", "alias/app"],
        b"x",
    );
    assert!(ct2.starts_with(b"kms:v1:"));
    let v = json(remote(&s, &secret), &["audit", "verify"]);
    assert_eq!(v["ok"], true, "{v}");
    drop(s);

    // And the CLI after it: the chain is one, in order, intact.
    ok(as_alice(&kms), &["key", "rotate", "alias/app"], b"");
    let all = records(&kms);
    let seqs: Vec<i64> = all.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>());
    let server_part: Vec<&Value> = all[local.len()..]
        .iter()
        .filter(|r| field(r, "principal") == "ops")
        .collect();
    assert!(
        server_part
            .iter()
            .any(|r| field(r, "operation") == "encrypt" && field(r, "outcome") == "ok"),
        "{all:#?}"
    );
    assert!(server_part.iter().all(|r| field(r, "source") != "local"));
    let last = all.last().unwrap();
    assert_eq!(
        (field(last, "principal"), field(last, "operation")),
        ("cli:alice", "rotate_key")
    );
    let v = json(as_alice(&kms), &["audit", "verify"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["records"].as_u64().unwrap(), all.len() as u64);
}

#[test]
fn policy_and_token_changes_on_the_store_are_audited_and_a_missing_user_is_cli() {
    let kms = Kms::init();
    let policy = kms.path("p.json");
    std::fs::write(
        &policy,
        r#"{"rules": [{"operations": ["encrypt"], "keys": ["alias/*"]}]}"#,
    )
    .unwrap();
    let nobody = || {
        let mut c = kms.cmd();
        c.env_remove("USER");
        c
    };
    ok(
        nobody(),
        &["policy", "put", "app", "--file", policy.to_str().unwrap()],
        b"",
    );
    let token = json(
        nobody(),
        &["token", "create", "--principal", "app", "--policy", "app"],
    );
    let token_id = token["id"].as_str().unwrap();
    ok(nobody(), &["token", "revoke", token_id], b"");
    ok(nobody(), &["policy", "delete", "app"], b"");
    // A failed change is recorded with its error outcome.
    let out = nobody()
        .args(["token", "revoke", "tok_missing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    let got: Vec<(String, String, String, String, String)> = records(&kms)
        .iter()
        .map(|r| {
            (
                field(r, "principal").to_string(),
                field(r, "operation").to_string(),
                field(r, "entity_type").to_string(),
                field(r, "entity_id").to_string(),
                field(r, "outcome").to_string(),
            )
        })
        .collect();
    let row = |op: &str, ty: &str, id: &str, outcome: &str| {
        (
            "cli".to_string(),
            op.to_string(),
            ty.to_string(),
            id.to_string(),
            outcome.to_string(),
        )
    };
    assert_eq!(
        got,
        [
            row("policy_write", "policy", "app", "ok"),
            row("token_create", "token", token_id, "ok"),
            row("token_revoke", "token", token_id, "ok"),
            row("policy_delete", "policy", "app", "ok"),
            row("token_revoke", "token", "tok_missing", "error:not_found"),
        ]
    );
}
