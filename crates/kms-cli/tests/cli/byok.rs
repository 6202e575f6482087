//! Bring your own key: material wrapped with the OpenSSL commands that
//! `kms key import-params` prints is imported and used.

use crate::common::{Kms, sh};

#[test]
fn material_wrapped_with_the_printed_openssl_commands_imports_once_and_encrypts() {
    let kms = Kms::init();
    let created = kms.json(&[
        "key", "create", "--spec", "AES_256", "--origin", "imported", "--alias", "byok",
    ]);
    assert_eq!(created["state"], "PendingImport");
    assert_eq!(created["origin"], "IMPORTED");
    let id = created["key_id"].as_str().unwrap().to_string();
    let dir = kms.dir.path();
    let out_dir = dir.join("import");

    let printed = kms.ok(&[
        "key",
        "import-params",
        "alias/byok",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(printed.contains("RSA_AES_KEY_WRAP_SHA_256"), "{printed}");
    assert!(printed.contains("expires at"), "{printed}");
    assert!(printed.contains("-iv A65959A6"), "{printed}");
    assert!(out_dir.join("wrapping-key.pem").exists());
    assert!(out_dir.join("import-token").exists());

    // Exactly the commands of the issue, run where import-params wrote its files.
    sh(&out_dir, "openssl rand 32 > material.bin");
    let script = "openssl rand 32 > eph.key; \
        openssl pkeyutl -encrypt -pubin -inkey wrapping-key.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in eph.key -out eph.wrapped && \
        openssl enc -id-aes256-wrap-pad -K $(xxd -p -c 64 eph.key) -iv A65959A6 -in material.bin -out material.wrapped && \
        cat eph.wrapped material.wrapped > wrapped.bin";
    sh(&out_dir, script);
    // The printed commands are the same ones (with the wrapping key's path).
    for line in [
        "openssl rand 32 > eph.key",
        "-pkeyopt rsa_mgf1_md:sha256 -in eph.key -out eph.wrapped",
        "cat eph.wrapped material.wrapped > wrapped.bin",
    ] {
        assert!(printed.contains(line), "missing {line:?} in\n{printed}");
    }

    let token = out_dir.join("import-token");
    let wrapped = out_dir.join("wrapped.bin");
    let imported = kms.json(&[
        "key",
        "import",
        &id,
        "--import-token",
        token.to_str().unwrap(),
        "--wrapped",
        wrapped.to_str().unwrap(),
    ]);
    assert_eq!(imported["state"], "Enabled");
    assert_eq!(imported["current_version"], 1);

    let ct = kms.ok_stdin(
        &["encrypt", "--key", "alias/byok", "--context", "a=b"],
        b"imported key at work",
    );
    assert_eq!(
        kms.ok_stdin(&["decrypt", "--context", "a=b"], &ct),
        b"imported key at work"
    );

    let (code, _, err) = kms.fail(
        &[
            "key",
            "import",
            &id,
            "--import-token",
            token.to_str().unwrap(),
            "--wrapped",
            wrapped.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 1, "{err}");
}

#[test]
fn import_params_json_names_the_files_and_expiry() {
    let kms = Kms::init();
    let id = kms.create_key("HMAC_256", &["--origin", "imported"]);
    let out_dir = kms.path("p");
    let j = kms.json(&[
        "key",
        "import-params",
        &id,
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(j["key_id"], id.as_str());
    assert_eq!(j["wrapping_algorithm"], "RSA_AES_KEY_WRAP_SHA_256");
    assert!(j["expires_at"].as_str().is_some());
    let pem = std::fs::read_to_string(j["wrapping_key_path"].as_str().unwrap()).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    // A generated key cannot take imported material.
    let gen_id = kms.create_key("AES_256", &[]);
    let (code, _, _) = kms.fail(
        &[
            "key",
            "import-params",
            &gen_id,
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 1);
}
