#![allow(clippy::unwrap_used)]
use super::*;

const SEED_001: &str = r#"
[kms]
dev_backend = "age"
prod_backend = "cosmian"
environment = "${PROVISIONING_ENV:-dev}"

[kms.age]
public_key_path = "~/.config/provisioning/age/public_key.txt"
private_key_path = "~/.config/provisioning/age/private_key.txt"

[kms.cosmian]
server_url = "${COSMIAN_KMS_URL:-https://kms.example.com}"
api_key = "${KMS_TEST_SURELY_UNSET_API_KEY}"
default_key_id = "provisioning-master-key"
tls_verify = true
"#;

#[test]
fn the_seed_001_layout_loads_as_is_with_defaults_and_tilde_expanded() {
    let c = Config::parse(SEED_001).unwrap();
    assert_eq!(c.kms.backend_name().unwrap().as_deref(), Some("age"));
    let age = c.kms.age.as_ref().unwrap();
    let p = age
        .public_key_path
        .as_ref()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        !p.starts_with('~') && p.ends_with("provisioning/age/public_key.txt"),
        "{p}"
    );
    let cos = c.kms.cosmian.as_ref().unwrap();
    assert_eq!(cos.server_url.as_deref(), Some("https://kms.example.com"));
    assert!(cos.tls_verify);
    assert!(
        c.unset_variables
            .iter()
            .any(|v| v.contains("KMS_TEST_SURELY_UNSET_API_KEY"))
    );
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let e = Config::parse("[kms]\nbackend = \"local\"\ncolour = \"red\"\n").unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
    let e = Config::parse("[server]\nlisten = \"127.0.0.1:1\"\n[server.tls]\ncert = \"x\"\n")
        .unwrap_err();
    assert!(e.to_string().contains("cert"), "{e}");
}

#[test]
fn both_backend_styles_at_once_are_refused() {
    let e = Config::parse("[kms]\nbackend = \"local\"\nprod_backend = \"x\"\n").unwrap_err();
    assert!(e.to_string().contains("backend"), "{e}");
}

#[test]
fn secrets_are_redacted_in_the_rendering() {
    let c = Config::parse("[kms.cosmian]\napi_key = \"sk-very-secret\"\n").unwrap();
    let shown = c.redacted();
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(shown.contains("redacted"));
}

#[test]
fn environment_prod_picks_prod_backend() {
    let c = Config::parse(
        "[kms]\ndev_backend = \"age\"\nprod_backend = \"cosmian\"\nenvironment = \"prod\"\n",
    )
    .unwrap();
    assert_eq!(c.kms.backend_name().unwrap().as_deref(), Some("cosmian"));
}

#[test]
fn variables_expand_with_defaults_and_a_lone_dollar_stays() {
    let mut unset = Vec::new();
    let home = std::env::var("HOME").unwrap();
    assert_eq!(
        expand_vars("a${HOME}b", "x", &mut unset).unwrap(),
        format!("a{home}b")
    );
    assert_eq!(
        expand_vars("${KMS_NOPE_X:-d/e}", "x", &mut unset).unwrap(),
        "d/e"
    );
    assert_eq!(expand_vars("p$ss", "x", &mut unset).unwrap(), "p$ss");
    assert_eq!(expand_vars("${KMS_NOPE_Y}", "x", &mut unset).unwrap(), "");
    assert_eq!(unset, vec!["KMS_NOPE_Y (in x)".to_string()]);
    assert!(expand_vars("${BAD", "x", &mut unset).is_err());
}
