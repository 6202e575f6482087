//! Key life cycle: create, describe, list, update, rotate, deletion, aliases.

use crate::common::Kms;

#[test]
fn after_a_rotation_old_ciphertexts_decrypt_and_new_ones_name_version_2() {
    let kms = Kms::init();
    kms.ok(&["key", "create", "--spec", "AES_256", "--alias", "app"]);
    let old = kms.ok_stdin(&["encrypt", "--key", "alias/app"], b"before");
    let rotated = kms.json(&["key", "rotate", "alias/app"]);
    assert_eq!(rotated["current_version"], 2);
    assert_eq!(kms.ok_stdin(&["decrypt"], &old), b"before");
    let new = kms.json_stdin(&["encrypt", "--key", "alias/app"], b"after");
    assert_eq!(new["key_version"], 2);
    assert_eq!(kms.describe("alias/app")["current_version"], 2);
    let d = kms.json_stdin(&["decrypt"], &old);
    assert_eq!(d["key_version"], 1);
}

#[test]
fn deletion_needs_seven_to_thirty_days_and_cancelling_leaves_the_key_disabled() {
    let kms = Kms::init();
    let id = kms.create_key("AES_256", &[]);
    let (code, _, err) = kms.fail(&["key", "schedule-deletion", &id, "--days", "6"], b"");
    assert_eq!(code, 1);
    assert!(err.contains("7"), "{err}");
    assert_eq!(kms.describe(&id)["state"], "Enabled");

    let scheduled = kms.json(&["key", "schedule-deletion", &id, "--days", "7"]);
    assert_eq!(scheduled["state"], "PendingDeletion");
    assert!(scheduled["deletion_date"].is_string(), "{scheduled}");
    let (_, _, err) = kms.fail(&["encrypt", "--key", &id], b"x");
    assert!(err.contains("cancel-deletion"), "{err}");

    let cancelled = kms.json(&["key", "cancel-deletion", &id]);
    assert_eq!(cancelled["state"], "Disabled");
    assert_eq!(kms.json(&["key", "enable", &id])["state"], "Enabled");
    // The default window is 30 days.
    let scheduled = kms.json(&["key", "schedule-deletion", &id]);
    assert_eq!(scheduled["state"], "PendingDeletion");
    kms.fail(&["key", "schedule-deletion", &id, "--days", "31"], b"");
}

#[test]
fn describe_json_has_the_key_metadata_fields() {
    let kms = Kms::init();
    let id = kms.create_key(
        "AES_256",
        &[
            "--alias",
            "alias/shape",
            "--description",
            "for the test",
            "--tag",
            "env=prod",
            "--rotation-period-days",
            "90",
        ],
    );
    let j = kms.describe(&id);
    for field in [
        "key_id",
        "aliases",
        "description",
        "tags",
        "spec",
        "usage",
        "state",
        "origin",
        "current_version",
        "min_decryption_version",
        "created_at",
        "rotated_at",
        "rotation_period_days",
        "next_rotation_at",
        "deletion_date",
        "backend",
    ] {
        assert!(j.get(field).is_some(), "missing {field} in {j}");
    }
    assert_eq!(j["key_id"], id.as_str());
    assert_eq!(j["aliases"], serde_json::json!(["alias/shape"]));
    assert_eq!(j["spec"], "AES_256");
    assert_eq!(j["usage"], "ENCRYPT_DECRYPT");
    assert_eq!(j["state"], "Enabled");
    assert_eq!(j["origin"], "GENERATED");
    assert_eq!(j["current_version"], 1);
    assert_eq!(j["tags"]["env"], "prod");
    assert_eq!(j["rotation_period_days"], 90);
    assert_eq!(j["backend"], "local");
    assert!(j["created_at"].as_str().unwrap().contains('T'));

    // Without --json and not on a terminal: key: value lines.
    let text = kms.ok(&["key", "describe", "alias/shape"]);
    assert!(text.contains(&format!("key_id: {id}\n")), "{text}");
    assert!(text.contains("state: Enabled\n"), "{text}");
    assert!(text.contains("current_version: 1\n"), "{text}");
}

#[test]
fn key_list_pages_with_a_marker_and_filters() {
    let kms = Kms::init();
    let a = kms.create_key("AES_256", &["--tag", "team=a"]);
    let b = kms.create_key("AES_128", &["--tag", "team=b"]);
    let c = kms.create_key("HMAC_256", &["--alias", "mac"]);
    let first = kms.json(&["key", "list", "--limit", "2"]);
    assert_eq!(first["keys"].as_array().unwrap().len(), 2);
    let marker = first["next_marker"].as_str().unwrap().to_string();
    let second = kms.json(&["key", "list", "--limit", "2", "--marker", &marker]);
    assert_eq!(second["keys"].as_array().unwrap().len(), 1);
    assert!(second["next_marker"].is_null());
    let mut ids: Vec<String> = first["keys"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["keys"].as_array().unwrap())
        .map(|k| k["key_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want = vec![a.clone(), b, c.clone()];
    want.sort();
    assert_eq!(ids, want);

    let text = kms.ok(&["key", "list", "--limit", "2"]);
    assert!(text.contains(&format!("next_marker: {marker}")), "{text}");

    let by_tag = kms.json(&["key", "list", "--tag", "team=a"]);
    assert_eq!(by_tag["keys"][0]["key_id"], a.as_str());
    assert_eq!(by_tag["keys"].as_array().unwrap().len(), 1);
    let by_spec = kms.json(&["key", "list", "--spec", "HMAC_256"]);
    assert_eq!(by_spec["keys"][0]["key_id"], c.as_str());
    let by_alias = kms.json(&["key", "list", "--alias", "mac"]);
    assert_eq!(by_alias["keys"][0]["key_id"], c.as_str());
    kms.ok(&["key", "disable", &a]);
    let disabled = kms.json(&["key", "list", "--state", "Disabled"]);
    assert_eq!(disabled["keys"].as_array().unwrap().len(), 1);
}

#[test]
fn key_update_changes_description_tags_and_rotation() {
    let kms = Kms::init();
    let id = kms.create_key("AES_256", &["--tag", "a=1", "--tag", "b=2"]);
    let j = kms.json(&[
        "key",
        "update",
        &id,
        "--description",
        "new text",
        "--tag",
        "c=3",
        "--remove-tag",
        "a",
        "--rotation-period-days",
        "30",
    ]);
    assert_eq!(j["description"], "new text");
    assert_eq!(j["tags"], serde_json::json!({"b": "2", "c": "3"}));
    assert_eq!(j["rotation_period_days"], 30);
    let j = kms.json(&["key", "update", &id, "--no-rotation"]);
    assert!(j["rotation_period_days"].is_null());
    kms.ok(&["key", "rotate", &id]);
    let j = kms.json(&["key", "update", &id, "--min-decryption-version", "2"]);
    assert_eq!(j["min_decryption_version"], 2);
    let (code, _, _) = kms.fail(
        &["key", "update", &id, "--min-decryption-version", "3"],
        b"",
    );
    assert_eq!(code, 1);
    // Mutually exclusive flags are a usage error.
    let (code, _, _) = kms.fail(
        &[
            "key",
            "update",
            &id,
            "--no-rotation",
            "--rotation-period-days",
            "3",
        ],
        b"",
    );
    assert_eq!(code, 2);
}

#[test]
fn aliases_are_created_listed_moved_and_deleted() {
    let kms = Kms::init();
    let a = kms.create_key("AES_256", &[]);
    let b = kms.create_key("AES_256", &[]);
    kms.ok(&["alias", "create", "app", &a]);
    let (code, _, err) = kms.fail(&["alias", "create", "alias/app", &b], b"");
    assert_eq!(code, 1);
    assert!(err.contains("alias update"), "{err}");
    let list = kms.json(&["alias", "list"]);
    assert_eq!(
        list,
        serde_json::json!([{"alias": "alias/app", "key_id": a}])
    );
    let moved = kms.json(&["alias", "update", "app", &b]);
    assert_eq!(moved["key_id"], b.as_str());
    assert_eq!(kms.describe("alias/app")["key_id"], b.as_str());
    assert_eq!(
        kms.json(&["alias", "list", "--key", &a]),
        serde_json::json!([])
    );
    let text = kms.ok(&["alias", "list"]);
    assert_eq!(text, format!("alias/app: {b}\n"));
    kms.ok(&["alias", "delete", "alias/app"]);
    let (code, _, err) = kms.fail(&["key", "describe", "alias/app"], b"");
    assert_eq!(code, 1);
    assert!(err.contains("hint:"), "{err}");
    let (code, _, _) = kms.fail(&["alias", "delete", "app"], b"");
    assert_eq!(code, 1);
}

#[test]
fn a_malformed_key_reference_or_spec_is_a_usage_error() {
    let kms = Kms::init();
    let (code, _, err) = kms.fail(&["key", "describe", "not a key"], b"");
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = kms.fail(&["key", "create", "--spec", "AES_512"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("AES_256"), "{err}");
    let (code, _, _) = kms.fail(
        &["encrypt", "--key", "alias/x", "--context", "novalue"],
        b"",
    );
    assert_eq!(code, 2);
}
