//! Real age v1 files: what we write with `FileFormat::Age` opens with the
//! `age` CLI, and what `age -e` writes opens here. Skips loudly without the
//! CLI unless KMS_REQUIRE_PEERS=1.

use std::io::Write as _;
use std::process::{Command, Stdio};

use kms_core::EncryptionContext;
use kms_envelope::{
    AgeIdentity, EncryptOptions, EncryptionService, FileFormat, Identity, Recipient, Recipients,
};

use crate::common::*;

fn age_cli() -> bool {
    let found = Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("KMS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "the age CLI is required (KMS_REQUIRE_PEERS=1)"
        );
        eprintln!("SKIPPED: the `age` CLI is not installed (apt-get install age)");
    }
    found
}

fn run(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new("age")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "age {args:?} failed");
    out.stdout
}

#[tokio::test]
async fn files_we_write_as_age_open_with_age_and_age_files_open_here() {
    if !age_cli() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let key_file = dir.path().join("key.txt");
    std::fs::write(
        &key_file,
        format!(
            "{}\n",
            age::secrecy::ExposeSecret::expose_secret(&key.to_string())
        ),
    )
    .unwrap();
    let recipient = key.to_public().to_string();
    let svc = EncryptionService::new(None);
    let none = EncryptionContext::new();
    let ids = [Identity::Age(AgeIdentity::from_key(key))];
    for armor in [false, true] {
        for len in [0usize, 5, 65536, 300_000] {
            let pt = data(len);
            let mut ct = Vec::new();
            let opts = EncryptOptions {
                armor,
                format: FileFormat::Age,
                ..Default::default()
            };
            let to = Recipients::any_of(vec![Recipient::parse(&recipient).unwrap()]);
            svc.encrypt_stream(&pt[..], &mut ct, &to, &none, &opts)
                .await
                .unwrap();
            let back = run(&["-d", "-i", key_file.to_str().unwrap()], &ct);
            assert_eq!(back, pt, "age -d of our file (armor {armor}, {len} bytes)");
            let mut args = vec!["-e", "-r", recipient.as_str()];
            if armor {
                args.push("-a");
            }
            let theirs = run(&args, &pt);
            assert_eq!(
                open(&svc, &theirs, &ids, &none).await.unwrap(),
                pt,
                "our decrypt of age -e (armor {armor}, {len} bytes)"
            );
        }
    }
}

#[tokio::test]
async fn age_files_refuse_contexts_thresholds_and_kms_keys() {
    let svc = EncryptionService::new(None);
    let (r, _) = age_pair();
    let opts = EncryptOptions {
        format: FileFormat::Age,
        ..Default::default()
    };
    let mut out = Vec::new();
    let to = Recipients::any_of(vec![r]);
    assert!(
        svc.encrypt_stream(&b"x"[..], &mut out, &to, &ctx("a=b"), &opts)
            .await
            .is_err()
    );
    let to = Recipients::any_of(vec![Recipient::parse("alias/default").unwrap()]);
    assert!(
        svc.encrypt_stream(&b"x"[..], &mut out, &to, &EncryptionContext::new(), &opts)
            .await
            .is_err()
    );
}
