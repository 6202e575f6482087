//! Keys and aliases over HTTP.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_key_is_found_by_id_by_encoded_alias_and_by_bare_alias() {
    let t = fresh().await;
    let id = t.key("AES_256", Some("alias/app-one")).await;
    for path in [
        format!("/api/v1/keys/{id}"),
        "/api/v1/keys/alias%2Fapp-one".to_string(),
        "/api/v1/keys/app-one".to_string(),
    ] {
        let a = t.root("GET", &path, None).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
        assert_eq!(a.body["key_id"], id.as_str());
        assert_eq!(a.body["aliases"][0], "alias/app-one");
        assert_eq!(a.body["state"], "Enabled");
    }
    let missing = t.root("GET", "/api/v1/keys/alias%2Fnope", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&missing), "not_found");
}

#[tokio::test]
async fn listing_pages_through_every_key_once() {
    let t = fresh().await;
    for _ in 0..4 {
        t.key("AES_256", None).await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            Some(m) => format!("/api/v1/keys?limit=2&marker={m}"),
            None => "/api/v1/keys?limit=2".to_string(),
        };
        let a = t.root("GET", &path, None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let keys = a.body["keys"].as_array().unwrap();
        assert!(keys.len() <= 2);
        seen.extend(
            keys.iter()
                .map(|k| k["key_id"].as_str().unwrap().to_string()),
        );
        match a.body["next_marker"].as_str() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(seen.len(), 5, "4 keys and alias/default");
    assert_eq!(dedup.len(), 5);
    let bad = t.root("GET", "/api/v1/keys?limit=0", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = t.root("GET", "/api/v1/keys?colour=red", None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rotation_keeps_old_ciphertexts_decryptable_and_state_changes_follow_the_table() {
    let t = fresh().await;
    let id = t.key("AES_256", Some("alias/r")).await;
    let enc = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/r", "plaintext": b64(b"v1")})),
        )
        .await;
    assert_eq!(enc.body["version"], 1);
    let rot = t.root("POST", "/api/v1/keys/alias%2Fr/rotate", None).await;
    assert_eq!(rot.body["current_version"], 2, "{}", rot.text);
    let dec = t
        .root(
            "POST",
            "/api/v1/crypto/decrypt",
            Some(json!({"ciphertext": enc.body["ciphertext"]})),
        )
        .await;
    assert_eq!(unb64(&dec.body["plaintext"]), b"v1");
    assert_eq!(dec.body["version"], 1);

    let dis = t
        .root("POST", &format!("/api/v1/keys/{id}/disable"), None)
        .await;
    assert_eq!(dis.body["state"], "Disabled");
    let refused = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": id, "plaintext": b64(b"x")})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&refused), "failed_precondition");
    let en = t
        .root("POST", &format!("/api/v1/keys/{id}/enable"), None)
        .await;
    assert_eq!(en.body["state"], "Enabled");

    let sched = t
        .root(
            "POST",
            &format!("/api/v1/keys/{id}/schedule-deletion"),
            Some(json!({"days": 7})),
        )
        .await;
    assert_eq!(sched.body["state"], "PendingDeletion", "{}", sched.text);
    assert!(sched.body["deletion_date"].is_string());
    let too_short = t
        .root(
            "POST",
            &format!("/api/v1/keys/{id}/schedule-deletion"),
            Some(json!({"days": 3})),
        )
        .await;
    assert!(too_short.status.is_client_error());
    let cancel = t
        .root("POST", &format!("/api/v1/keys/{id}/cancel-deletion"), None)
        .await;
    assert_eq!(cancel.body["state"], "Disabled");
}

#[tokio::test]
async fn description_tags_and_rotation_period_are_updated() {
    let t = fresh().await;
    let id = t.key("AES_256", None).await;
    let up = t
        .root(
            "PATCH",
            &format!("/api/v1/keys/{id}"),
            Some(json!({"description": "billing", "set_tags": {"team": "a", "env": "prod"}, "rotation_period_days": 90})),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text);
    assert_eq!(up.body["description"], "billing");
    assert_eq!(up.body["rotation_period_days"], 90);
    let tags = t
        .root(
            "PUT",
            &format!("/api/v1/keys/{id}/tags"),
            Some(json!({"tags": {"owner": "me"}})),
        )
        .await;
    assert_eq!(
        tags.body["tags"],
        json!({"team": "a", "env": "prod", "owner": "me"})
    );
    let rm = t
        .root("DELETE", &format!("/api/v1/keys/{id}/tags/env"), None)
        .await;
    assert_eq!(rm.body["tags"], json!({"team": "a", "owner": "me"}));
    let by_tag = t.root("GET", "/api/v1/keys?tag=team=a", None).await;
    assert_eq!(by_tag.body["keys"].as_array().unwrap().len(), 1);
    let off = t
        .root(
            "PATCH",
            &format!("/api/v1/keys/{id}"),
            Some(json!({"rotation_period_days": 0})),
        )
        .await;
    assert!(off.body["rotation_period_days"].is_null(), "{}", off.text);
}

#[tokio::test]
async fn aliases_are_created_listed_repointed_and_deleted() {
    let t = fresh().await;
    let a = t.key("AES_256", None).await;
    let b = t.key("AES_256", None).await;
    let c = t
        .root(
            "POST",
            "/api/v1/aliases",
            Some(json!({"alias": "alias/svc", "key": a})),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let dup = t
        .root(
            "POST",
            "/api/v1/aliases",
            Some(json!({"alias": "svc", "key": b})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&dup), "conflict");
    let up = t
        .root("PUT", "/api/v1/aliases/svc", Some(json!({"key": b})))
        .await;
    assert_eq!(up.body["key_id"], b.as_str(), "{}", up.text);
    let list = t
        .root("GET", &format!("/api/v1/aliases?key={b}"), None)
        .await;
    assert_eq!(
        list.body["aliases"],
        json!([{"alias": "alias/svc", "key_id": b}])
    );
    let del = t.root("DELETE", "/api/v1/aliases/alias%2Fsvc", None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = t.root("GET", "/api/v1/keys/alias%2Fsvc", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn public_keys_come_as_der_and_pem_and_symmetric_keys_have_none() {
    let t = fresh().await;
    let id = t.key("ECC_NIST_P256", None).await;
    let p = t
        .root("GET", &format!("/api/v1/keys/{id}/public-key"), None)
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(!unb64(&p.body["public_key"]).is_empty());
    assert!(
        p.body["public_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert_eq!(p.body["signing_algorithms"][0], "ECDSA_SHA_256");
    let sym = t.root("GET", "/api/v1/keys/default/public-key", None).await;
    assert_eq!(sym.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn byok_import_parameters_then_wrapped_material_enables_the_key() {
    let t = fresh().await;
    let c = t
        .root(
            "POST",
            "/api/v1/keys",
            Some(json!({"spec": "AES_256", "origin": "IMPORTED"})),
        )
        .await;
    assert_eq!(c.body["state"], "PendingImport", "{}", c.text);
    let id = c.body["key_id"].as_str().unwrap();
    let p = t
        .root(
            "POST",
            &format!("/api/v1/keys/{id}/import-parameters"),
            None,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let material = [0x42u8; 32];
    let wrapped = kms_core::crypto::wrap_for_import(
        &unb64(&p.body["wrapping_public_key"]),
        &material,
        &kms_core::SystemRng,
    )
    .unwrap();
    let imp = t
        .root(
            "POST",
            &format!("/api/v1/keys/{id}/import"),
            Some(
                json!({"import_token": p.body["import_token"], "wrapped_material": b64(&wrapped)}),
            ),
        )
        .await;
    assert_eq!(imp.status, StatusCode::OK, "{}", imp.text);
    assert_eq!(imp.body["state"], "Enabled");
    let enc = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": id, "plaintext": b64(b"byok")})),
        )
        .await;
    assert_eq!(enc.status, StatusCode::OK);
}
