#![allow(clippy::unwrap_used)]
use super::*;

fn rule(ops: &[&str], keys: &[&str], ctx: &[&str]) -> PolicyRule {
    PolicyRule {
        operations: ops.iter().map(|s| s.to_string()).collect(),
        keys: keys.iter().map(|s| s.to_string()).collect(),
        require_context_keys: ctx.iter().map(|s| s.to_string()).collect(),
    }
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

#[test]
fn globs_match_whole_names_with_star_and_question_mark() {
    assert!(glob_match("*", ""));
    assert!(glob_match("alias/app-*", "alias/app-billing"));
    assert!(glob_match("alias/app-*", "alias/app-"));
    assert!(!glob_match("alias/app-*", "alias/other"));
    assert!(glob_match("alias/?b", "alias/ab"));
    assert!(!glob_match("alias/?b", "alias/abb"));
    assert!(glob_match("*/x*y", "a/b/xzzy"));
    assert!(!glob_match("abc", "abcd"));
}

#[test]
fn a_rule_allows_only_its_operations_on_its_keys() {
    let p = Policy {
        name: "app".into(),
        rules: vec![rule(&["encrypt", "decrypt"], &["alias/app-*"], &[])],
    };
    let ok = AccessRequest {
        operation: "encrypt",
        key_names: &names(&["alias/app-1", "0e2f0000-0000-0000-0000-000000000000"]),
        context: None,
    };
    assert!(authorize(std::slice::from_ref(&p), false, &ok).is_ok());
    let wrong_op = AccessRequest {
        operation: "sign",
        ..ok
    };
    let e = authorize(std::slice::from_ref(&p), false, &wrong_op).unwrap_err();
    assert_eq!(e.kind(), kms_core::ErrorKind::PermissionDenied);
    let wrong_key = AccessRequest {
        key_names: &names(&["alias/other"]),
        ..ok
    };
    assert!(authorize(std::slice::from_ref(&p), false, &wrong_key).is_err());
    let no_key = AccessRequest {
        operation: "encrypt",
        key_names: &[],
        context: None,
    };
    assert!(authorize(&[p], false, &no_key).is_err());
}

#[test]
fn required_context_keys_must_be_present() {
    let p = Policy {
        name: "tenant".into(),
        rules: vec![rule(&["*"], &["*"], &["tenant"])],
    };
    let key = names(&["alias/x"]);
    let without = AccessRequest {
        operation: "encrypt",
        key_names: &key,
        context: None,
    };
    let e = authorize(std::slice::from_ref(&p), false, &without).unwrap_err();
    assert!(e.to_string().contains("tenant"), "{e}");
    let ctx = EncryptionContext::parse("tenant=a").unwrap();
    let with = AccessRequest {
        context: Some(&ctx),
        ..without
    };
    assert!(authorize(&[p], false, &with).is_ok());
}

#[test]
fn root_allows_everything_and_validation_refuses_unknown_operations() {
    let req = AccessRequest {
        operation: "token_create",
        key_names: &[],
        context: None,
    };
    assert!(authorize(&[], true, &req).is_ok());
    assert!(authorize(&[], false, &req).is_err());
    let bad = Policy {
        name: "p".into(),
        rules: vec![rule(&["encrypt", "explode"], &["*"], &[])],
    };
    assert!(bad.validate().unwrap_err().to_string().contains("explode"));
    let root = Policy {
        name: "root".into(),
        rules: vec![rule(&["*"], &["*"], &[])],
    };
    assert!(root.validate().is_err());
}

#[test]
fn whoever_may_use_a_key_may_describe_it() {
    let p = Policy {
        name: "enc".into(),
        rules: vec![rule(&["encrypt"], &["alias/a"], &["tenant"])],
    };
    let a = names(&["alias/a"]);
    let describe = AccessRequest {
        operation: "describe_key",
        key_names: &a,
        context: None,
    };
    assert!(authorize(std::slice::from_ref(&p), false, &describe).is_ok());
    let b = names(&["alias/b"]);
    let other = AccessRequest {
        key_names: &b,
        ..describe
    };
    assert!(authorize(&[p], false, &other).is_err());
}
