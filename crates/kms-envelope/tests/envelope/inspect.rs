//! inspect-file's output, pinned against a checked-in expected file.

use kms_envelope::format::Argon2Params;
use kms_envelope::{EncryptionService, Recipient, Recipients};

use crate::common::*;

/// A fixed age recipient so the output is stable.
const AGE_RECIPIENT: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

#[tokio::test]
async fn inspect_output_matches_the_snapshot() {
    let svc = EncryptionService::new(None);
    let to = Recipients {
        list: vec![
            Recipient::parse(AGE_RECIPIENT).unwrap(),
            Recipient::Passphrase(
                kms_core::Passphrase::new("hunter2-secret".into()),
                Argon2Params {
                    memory_kib: 8,
                    iterations: 1,
                    parallelism: 1,
                },
            ),
        ],
        threshold: Some(2),
    };
    let ct = seal(&svc, &data(2 * 65536 + 10), &to, &ctx("a=b"), false).await;
    let info = svc.inspect_stream(&ct[..]).await.unwrap();
    let mut text = info.to_string();
    text.push('\n');
    text.push_str(&serde_json::to_string_pretty(&info).unwrap());
    text.push('\n');
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/inspect.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text, expected,
        "inspect output changed; rerun with UPDATE_SNAPSHOTS=1 if on purpose"
    );
    assert!(!text.contains("hunter2"));
    let armored = seal(&svc, b"x", &to, &ctx(""), true).await;
    assert!(svc.inspect_stream(&armored[..]).await.unwrap().armored);
}
