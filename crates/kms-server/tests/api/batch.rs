//! Vault-style batches: per-item results in order, each echoing its
//! reference; one failing item does not fail the others.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn an_encrypt_batch_answers_every_item_in_order_and_a_bad_item_fails_alone() {
    let t = fresh().await;
    let a = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "batch_input": [
                {"plaintext": b64(b"one"), "reference": "r1"},
                {"plaintext": b64(b"two"), "reference": "r2", "key": "alias/missing"},
                {"plaintext": b64(b"three"), "reference": "r3", "context": "k=v"},
            ]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let r = a.body["batch_results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["reference"], "r1");
    assert!(r[0]["ciphertext"].is_string());
    assert_eq!(r[1]["reference"], "r2");
    assert_eq!(r[1]["error"]["error"], "not_found");
    assert!(r[1].get("ciphertext").is_none());
    assert_eq!(r[2]["reference"], "r3");

    let d = t
        .root(
            "POST",
            "/api/v1/crypto/decrypt",
            Some(json!({"batch_input": [
                {"ciphertext": r[2]["ciphertext"], "context": "k=v", "reference": "a"},
                {"ciphertext": r[0]["ciphertext"], "context": "k=wrong", "reference": "b"},
                {"ciphertext": r[0]["ciphertext"], "reference": "c"},
                {"ciphertext": "not-a-ciphertext", "reference": "d"},
            ]})),
        )
        .await;
    let d = d.body["batch_results"].as_array().unwrap().clone();
    assert_eq!(unb64(&d[0]["plaintext"]), b"three");
    assert_eq!(d[1]["error"]["error"], "invalid_input");
    assert_eq!(unb64(&d[2]["plaintext"]), b"one");
    assert_eq!(d[3]["error"]["error"], "invalid_input");
    assert_eq!(
        d.iter()
            .map(|x| x["reference"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["a", "b", "c", "d"]
    );
}

#[tokio::test]
async fn sign_verify_mac_and_re_encrypt_take_batches_too() {
    let t = fresh().await;
    t.key("ED25519", Some("alias/ed")).await;
    t.key("HMAC_512", Some("alias/h")).await;
    t.key("AES_128", Some("alias/dst")).await;
    let s = t
        .root(
            "POST",
            "/api/v1/crypto/sign",
            Some(json!({"key": "alias/ed", "batch_input": [
                {"message": b64(b"a"), "reference": "x"},
                {"message": b64(b"b"), "reference": "y", "message_type": "DIGEST"},
            ]})),
        )
        .await;
    let s = s.body["batch_results"].as_array().unwrap().clone();
    assert!(s[0]["signature"].is_string(), "{s:?}");
    assert_eq!(s[1]["error"]["error"], "invalid_input");
    let v = t
        .root(
            "POST",
            "/api/v1/crypto/verify",
            Some(json!({"key": "alias/ed", "batch_input": [
                {"message": b64(b"a"), "signature": s[0]["signature"], "reference": "ok"},
                {"message": b64(b"z"), "signature": s[0]["signature"], "reference": "no"},
            ]})),
        )
        .await;
    let v = v.body["batch_results"].as_array().unwrap().clone();
    assert_eq!(
        (v[0]["valid"].clone(), v[1]["valid"].clone()),
        (json!(true), json!(false))
    );
    let m = t
        .root(
            "POST",
            "/api/v1/crypto/mac",
            Some(json!({"key": "alias/h", "batch_input": [{"message": b64(b"1")}, {"message": b64(b"2")}]})),
        )
        .await;
    let m = m.body["batch_results"].as_array().unwrap().clone();
    assert_eq!(unb64(&m[0]["mac"]).len(), 64);
    let mv = t
        .root(
            "POST",
            "/api/v1/crypto/mac/verify",
            Some(json!({"key": "alias/h", "batch_input": [
                {"message": b64(b"1"), "mac": m[0]["mac"]},
                {"message": b64(b"2"), "mac": m[0]["mac"]},
            ]})),
        )
        .await;
    let mv = mv.body["batch_results"].as_array().unwrap().clone();
    assert_eq!(
        (mv[0]["valid"].clone(), mv[1]["valid"].clone()),
        (json!(true), json!(false))
    );
    let e = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "plaintext": b64(b"p")})),
        )
        .await;
    let re = t
        .root(
            "POST",
            "/api/v1/crypto/re-encrypt",
            Some(json!({"destination_key": "alias/dst", "batch_input": [
                {"ciphertext": e.body["ciphertext"], "reference": "1"},
                {"ciphertext": e.body["ciphertext"], "source_context": "x=y", "reference": "2"},
            ]})),
        )
        .await;
    let re = re.body["batch_results"].as_array().unwrap().clone();
    assert!(re[0]["ciphertext"].is_string(), "{re:?}");
    assert_eq!(re[1]["error"]["error"], "invalid_input");
}

#[tokio::test]
async fn an_empty_batch_is_refused() {
    let t = fresh().await;
    let a = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "batch_input": []})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body["message"].as_str().unwrap().contains("batch_input"));
}

#[tokio::test]
async fn openapi_documents_the_single_and_the_batch_answer() {
    let t = fresh().await;
    let o = t.call("GET", "/openapi.json", None, None).await;
    assert_eq!(o.status, StatusCode::OK);
    let responses = &o.body["paths"]["/api/v1/crypto/encrypt"]["post"]["responses"];
    assert_eq!(
        responses["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/EncryptResponseOrBatch"
    );
    assert!(responses["4XX"].is_object() && responses["503"].is_object());
    let one_of = &o.body["components"]["schemas"]["EncryptResponseOrBatch"]["oneOf"];
    assert_eq!(one_of[0]["$ref"], "#/components/schemas/EncryptResponse");
    assert_eq!(one_of[1]["required"], json!(["batch_results"]));
    let item = &one_of[1]["properties"]["batch_results"]["items"]["oneOf"];
    assert_eq!(item[1]["required"], json!(["error"]));
}

#[tokio::test]
async fn an_item_that_cannot_be_read_fails_alone_with_its_reference() {
    let t = fresh().await;
    let a = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "batch_input": [
                {"plaintext": b64(b"one"), "reference": "good"},
                {"plaintext": "%%% not base64", "reference": "bad-base64"},
                {"reference": "no-plaintext"},
                {"plaintext": 42, "reference": "wrong-type"},
                "not an object",
                {"plaintext": b64(b"two"), "reference": "good-too"},
            ]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let r = a.body["batch_results"].as_array().unwrap();
    let refs: Vec<_> = r.iter().map(|x| x["reference"].clone()).collect();
    assert_eq!(
        refs,
        [
            json!("good"),
            json!("bad-base64"),
            json!("no-plaintext"),
            json!("wrong-type"),
            json!(null),
            json!("good-too")
        ]
    );
    for bad in &r[1..5] {
        assert_eq!(bad["error"]["error"], "invalid_input", "{bad}");
        assert!(bad.get("ciphertext").is_none());
    }
    assert!(
        r[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("plaintext")
    );
    assert!(r[0]["ciphertext"].is_string() && r[5]["ciphertext"].is_string());
}

#[tokio::test]
async fn a_batch_is_audited_as_one_record_per_key_version_and_outcome() {
    let t = fresh().await;
    let items: Vec<_> = (0..100)
        .map(|i| json!({"plaintext": b64(b"x"), "reference": i.to_string()}))
        .chain([json!({"plaintext": b64(b"y"), "key": "alias/missing"})])
        .collect();
    let a = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "batch_input": items})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let request_id = a.headers["x-request-id"].to_str().unwrap().to_string();
    let records: Vec<_> = t
        .store()
        .list_audit(&kms_store::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.request_id == request_id)
        .collect();
    let summary: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.event.operation.as_str(),
                r.event.outcome.as_str(),
                r.event.items,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("encrypt", "ok", 100), ("encrypt", "error:not_found", 1)]
    );
    assert!(t.store().verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn a_batch_resolves_its_key_once_yet_checks_every_item_on_its_own() {
    let t = fresh().await;
    let billing = t.key("AES_256", Some("alias/app-billing")).await;
    t.key("AES_256", Some("alias/ops")).await;
    t.key("ECC_NIST_P256", Some("alias/app-signer")).await;
    let tok = t
        .token_with(
            "batcher",
            json!([{"operations": ["encrypt"], "keys": ["alias/app-*"], "require_context_keys": ["env"]}]),
        )
        .await;
    let items = json!({"key": "alias/app-billing", "batch_input": [
        {"plaintext": b64(b"1"), "reference": "same-a", "context": "env=prod"},
        {"plaintext": b64(b"2"), "reference": "same-b", "context": "env=prod"},
        {"plaintext": b64(b"3"), "reference": "no-context"},
        {"plaintext": b64(b"4"), "reference": "by-id", "key": billing, "context": "env=prod"},
        {"plaintext": b64(b"5"), "reference": "other-key", "key": "alias/ops", "context": "env=prod"},
        {"plaintext": b64(b"6"), "reference": "missing", "key": "alias/app-missing", "context": "env=prod"},
        {"plaintext": b64(b"7"), "reference": "signing-key", "key": "alias/app-signer", "context": "env=prod"},
        {"plaintext": b64(b"8"), "reference": "back", "context": "env=prod"},
        {"plaintext": b64(&[0; 70_000]), "reference": "too-big", "context": "env=prod"},
    ]});
    let a = t
        .call("POST", "/api/v1/crypto/encrypt", Some(&tok), Some(items))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let r = a.body["batch_results"].as_array().unwrap();
    let outcome = |i: usize| {
        r[i]["error"]["error"]
            .as_str()
            .map_or_else(|| "ok".to_string(), str::to_string)
    };
    let got: Vec<(String, String)> = (0..r.len())
        .map(|i| (r[i]["reference"].as_str().unwrap().to_string(), outcome(i)))
        .collect();
    let want = [
        ("same-a", "ok"),
        ("same-b", "ok"),
        ("no-context", "permission_denied"),
        ("by-id", "ok"),
        ("other-key", "permission_denied"),
        ("missing", "not_found"),
        ("signing-key", "invalid_input"),
        ("back", "ok"),
        ("too-big", "payload_too_large"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want, "{}", a.text);
    for i in [0, 1, 3, 7] {
        assert_eq!(r[i]["key_id"], billing.as_str());
        let d = t
            .root(
                "POST",
                "/api/v1/crypto/decrypt",
                Some(json!({"ciphertext": r[i]["ciphertext"], "context": "env=prod"})),
            )
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    }

    // A key disabled between two batches is refused in the next one.
    let off = t
        .root("POST", &format!("/api/v1/keys/{billing}/disable"), None)
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    let again = t
        .call(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(&tok),
            Some(json!({"key": "alias/app-billing", "batch_input": [
                {"plaintext": b64(b"1"), "context": "env=prod"},
                {"plaintext": b64(b"2"), "context": "env=prod"},
            ]})),
        )
        .await;
    let r = again.body["batch_results"].as_array().unwrap();
    assert!(
        r.iter().all(|x| x["error"]["error"].is_string()),
        "{}",
        again.text
    );
}
