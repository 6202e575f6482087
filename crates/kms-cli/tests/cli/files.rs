//! `kms encrypt-file` / `decrypt-file` / `rewrap-file` / `inspect-file`
//! with the real binary: round trips, tampering, stdin/stdout, no
//! overwrite without --force, a SIGKILL halfway, and the age CLI both ways.

use std::path::Path;
use std::process::Stdio;

use crate::common::{Kms, bare_cmd, sh};

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 253) as u8).collect()
}

/// Compares bytes without printing them.
fn same(a: &[u8], b: &[u8], what: &str) {
    assert!(
        a == b,
        "{what}: {} bytes and {} bytes differ",
        a.len(),
        b.len()
    );
}

fn age_identity(kms: &Kms) -> (String, std::path::PathBuf) {
    let key = age::x25519::Identity::generate();
    let path = kms.path("id.txt");
    std::fs::write(
        &path,
        format!(
            "{}\n",
            age::secrecy::ExposeSecret::expose_secret(&key.to_string())
        ),
    )
    .unwrap();
    (key.to_public().to_string(), path)
}

fn age_cli() -> bool {
    let ok = std::process::Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("KMS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "the age CLI is required (KMS_REQUIRE_PEERS=1)"
        );
        eprintln!("SKIPPED: the `age` CLI is not installed (apt-get install age)");
    }
    ok
}

/// No file in `dir` other than those named.
fn only_files(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(found, want, "files in {}", dir.display());
}

#[test]
fn the_default_key_encrypts_files_and_they_decrypt_to_the_same_bytes() {
    let kms = Kms::init();
    kms.create_key("AES_256", &["--alias", "default"]);
    for (name, len) in [
        ("empty", 0usize),
        ("one", 1),
        ("exact", 2 * 65536),
        ("odd", 200_003),
    ] {
        let plain = kms.path(name);
        std::fs::write(&plain, data(len)).unwrap();
        let p = plain.to_str().unwrap();
        kms.ok(&["encrypt-file", p, "--context", "app=files"]);
        let enc = format!("{p}.enc");
        std::fs::remove_file(&plain).unwrap();
        kms.ok(&["decrypt-file", &enc, "--context", "app=files"]);
        same(&std::fs::read(&plain).unwrap(), &data(len), name);
    }
}

#[test]
fn stdin_to_stdout_works_both_ways_and_armor_is_text() {
    let kms = Kms::init();
    let key = kms.create_key("AES_256", &[]);
    let pt = data(300_000);
    let ct = kms.ok_stdin(&["encrypt-file", "-", "--key", &key, "--armor"], &pt);
    assert!(ct.starts_with(b"-----BEGIN KMS ENCRYPTED FILE-----\n"));
    let back = kms.ok_stdin(&["decrypt-file", "-"], &ct);
    same(&back, &pt, "stdin round trip");
}

#[test]
fn age_recipients_passphrases_and_thresholds_work_without_a_store() {
    let kms = Kms::new();
    let (recipient, id) = age_identity(&kms);
    let pass = kms.path("file-pass");
    std::fs::write(&pass, "open sesame\n").unwrap();
    let pt = data(70_000);
    let plain = kms.path("doc");
    std::fs::write(&plain, &pt).unwrap();
    let p = plain.to_str().unwrap();
    let out = bare_cmd()
        .args([
            "encrypt-file",
            p,
            "-r",
            &recipient,
            "--passphrase",
            "--file-passphrase-file",
            pass.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for how in [
        vec!["-i", id.to_str().unwrap()],
        vec!["--file-passphrase-file", pass.to_str().unwrap()],
    ] {
        let out = bare_cmd()
            .args(["decrypt-file", &format!("{p}.enc"), "-o", "-"])
            .args(&how)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        same(&out.stdout, &pt, "decrypt");
    }
    // 2 of 2: one identity is not enough.
    let (r2, id2) = {
        let key = age::x25519::Identity::generate();
        let path = kms.path("id2.txt");
        std::fs::write(
            &path,
            age::secrecy::ExposeSecret::expose_secret(&key.to_string()),
        )
        .unwrap();
        (key.to_public().to_string(), path)
    };
    let t = kms.path("t.enc");
    let out = bare_cmd()
        .args([
            "encrypt-file",
            p,
            "-r",
            &recipient,
            "-r",
            &r2,
            "--threshold",
            "2",
            "-o",
            t.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one = bare_cmd()
        .args([
            "decrypt-file",
            t.to_str().unwrap(),
            "-o",
            "-",
            "-i",
            id.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!one.status.success());
    assert!(
        String::from_utf8_lossy(&one.stderr).contains("needs 2"),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let both = bare_cmd()
        .args([
            "decrypt-file",
            t.to_str().unwrap(),
            "-o",
            "-",
            "-i",
            id.to_str().unwrap(),
            "-i",
            id2.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    same(&both.stdout, &pt, "2 of 2");
}

#[test]
fn an_existing_output_is_kept_without_force() {
    let kms = Kms::init();
    let key = kms.create_key("AES_256", &[]);
    let plain = kms.path("a.txt");
    std::fs::write(&plain, b"new").unwrap();
    let enc = kms.path("a.txt.enc");
    std::fs::write(&enc, b"precious").unwrap();
    let (code, _, err) = kms.fail(
        &["encrypt-file", plain.to_str().unwrap(), "--key", &key],
        b"",
    );
    assert_eq!(code, 1);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&enc).unwrap(), b"precious");
    kms.ok(&[
        "encrypt-file",
        plain.to_str().unwrap(),
        "--key",
        &key,
        "--force",
    ]);
    let (_, _, err) = kms.fail(&["decrypt-file", enc.to_str().unwrap()], b"");
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read(&plain).unwrap(), b"new");
}

#[test]
fn every_flipped_byte_truncation_or_append_fails_and_leaves_no_output() {
    let kms = Kms::init();
    let key = kms.create_key("AES_256", &[]);
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("s");
    std::fs::write(&plain, b"a small file to tamper with").unwrap();
    let enc = work.path().join("s.enc");
    kms.ok(&[
        "encrypt-file",
        plain.to_str().unwrap(),
        "--key",
        &key,
        "--context",
        "t=1",
    ]);
    std::fs::remove_file(&plain).unwrap();
    let good = std::fs::read(&enc).unwrap();
    let bad = work.path().join("bad.enc");
    let out = work.path().join("bad");
    let try_file = |bytes: &[u8]| {
        std::fs::write(&bad, bytes).unwrap();
        let (code, _, err) = kms.fail(
            &["decrypt-file", bad.to_str().unwrap(), "--context", "t=1"],
            b"",
        );
        assert_eq!(code, 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(!out.exists(), "a failed decrypt left {}", out.display());
        only_files(work.path(), &["s.enc", "bad.enc"]);
    };
    for pos in 0..good.len() {
        let mut b = good.clone();
        b[pos] ^= 0x20;
        try_file(&b);
    }
    try_file(&good[..good.len() - 1]);
    let mut longer = good.clone();
    longer.extend_from_slice(b"!");
    try_file(&longer);
    let (_, _, err) = kms.fail(
        &["decrypt-file", enc.to_str().unwrap(), "--context", "t=2"],
        b"",
    );
    assert!(err.contains("context"), "{err}");
}

#[test]
fn a_decrypt_killed_halfway_leaves_no_output_and_the_input_untouched() {
    let kms = Kms::init();
    let key = kms.create_key("AES_256", &[]);
    let big = kms.path("big");
    // Big enough that decryption into a pipe that is never read blocks halfway.
    std::fs::write(&big, data(64 * 1024 * 1024)).unwrap();
    kms.ok(&["encrypt-file", big.to_str().unwrap(), "--key", &key]);
    std::fs::remove_file(&big).unwrap();
    let enc = kms.path("big.enc");
    let before = std::fs::read(&enc).unwrap();
    // Feed half the file by hand, so the process is surely halfway when killed.
    let mut child = kms
        .std_cmd()
        .args(["decrypt-file", "-", "--output"])
        .arg(kms.path("big"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&before[..before.len() / 2]).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        child.kill().unwrap(); // SIGKILL
        drop(stdin);
    }
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        !kms.path("big").exists(),
        "a killed decrypt left its output"
    );
    let leftovers: Vec<_> = std::fs::read_dir(kms.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("big") && n != "big.enc")
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    same(&std::fs::read(&enc).unwrap(), &before, "the input changed");
}

#[test]
fn rewrap_changes_recipients_and_keeps_the_payload_bytes() {
    let kms = Kms::init();
    let key = kms.create_key("AES_256", &[]);
    let (recipient, id) = age_identity(&kms);
    let plain = kms.path("r");
    std::fs::write(&plain, data(100_000)).unwrap();
    let p = plain.to_str().unwrap();
    kms.ok(&["encrypt-file", p, "--key", &key]);
    let enc = format!("{p}.enc");
    let payload = |f: &str| {
        let info = kms.json(&["inspect-file", f]);
        let bytes = std::fs::read(f).unwrap();
        let h = info["header_bytes"].as_u64().unwrap() as usize;
        bytes[h..].to_vec()
    };
    let before = payload(&enc);
    kms.ok(&["rewrap-file", &enc, "--add-recipient", &recipient]);
    same(&payload(&enc), &before, "payload");
    let info = kms.json(&["inspect-file", &enc]);
    assert_eq!(info["recipients"].as_array().unwrap().len(), 2);
    let out = bare_cmd()
        .args(["decrypt-file", &enc, "-o", "-", "-i", id.to_str().unwrap()])
        .output()
        .unwrap();
    same(&out.stdout, &data(100_000), "age decrypt");
    kms.ok(&[
        "rewrap-file",
        &enc,
        "--remove-recipient",
        &key,
        "-i",
        id.to_str().unwrap(),
    ]);
    same(&payload(&enc), &before, "payload");
    let info = kms.json(&["inspect-file", &enc]);
    assert_eq!(info["recipients"][0]["type"], "age");
    // Back to the key, then rotate and move the stanza to the new version.
    kms.ok(&[
        "rewrap-file",
        &enc,
        "--add-recipient",
        &key,
        "-i",
        id.to_str().unwrap(),
    ]);
    assert_eq!(
        kms.json(&["inspect-file", &enc])["recipients"][1]["key_version"],
        1
    );
    kms.ok(&["key", "rotate", &key]);
    kms.ok(&[
        "rewrap-file",
        &enc,
        "--to-latest-version",
        "-i",
        id.to_str().unwrap(),
    ]);
    assert_eq!(
        kms.json(&["inspect-file", &enc])["recipients"][1]["key_version"],
        2
    );
    same(&payload(&enc), &before, "payload");
    std::fs::remove_file(&plain).unwrap();
    kms.ok(&["decrypt-file", &enc]);
    same(&std::fs::read(&plain).unwrap(), &data(100_000), "decrypt");
}

#[test]
fn inspect_file_shows_recipients_and_sizes_but_no_secret() {
    let kms = Kms::init();
    let key = kms.create_key("AES_256", &[]);
    let out = kms.ok_stdin(
        &[
            "encrypt-file",
            "-",
            "--key",
            &key,
            "--context",
            "secret=ctx-value",
        ],
        &data(65536),
    );
    let f = kms.path("x.enc");
    std::fs::write(&f, &out).unwrap();
    let text = kms.ok(&["inspect-file", f.to_str().unwrap()]);
    assert!(text.contains("kms envelope v1"), "{text}");
    assert!(text.contains(&key), "{text}");
    assert!(
        text.contains("1 chunks") || text.contains("in 1 chunk"),
        "{text}"
    );
    assert!(!text.contains("ctx-value"), "{text}");
    let json = kms.json(&["inspect-file", f.to_str().unwrap()]);
    assert_eq!(json["plaintext_bytes"], 65536);
    assert_eq!(json["recipients"][0]["type"], "kms-key");
}

#[test]
fn age_format_files_open_with_age_and_age_files_open_with_kms() {
    if !age_cli() {
        return;
    }
    let kms = Kms::new();
    let (recipient, id) = age_identity(&kms);
    let pt = data(150_000);
    let plain = kms.path("m");
    std::fs::write(&plain, &pt).unwrap();
    let p = plain.to_str().unwrap();
    for armor in [false, true] {
        let enc = kms.path(&format!("m-{armor}.age"));
        let mut cmd = bare_cmd();
        cmd.args([
            "encrypt-file",
            p,
            "--format",
            "age",
            "-r",
            &recipient,
            "-o",
            enc.to_str().unwrap(),
        ]);
        if armor {
            cmd.arg("--armor");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let back = std::process::Command::new("age")
            .args(["-d", "-i"])
            .arg(&id)
            .arg(&enc)
            .output()
            .unwrap();
        assert!(
            back.status.success(),
            "{}",
            String::from_utf8_lossy(&back.stderr)
        );
        same(&back.stdout, &pt, "age -d");
        let theirs = kms.path(&format!("theirs-{armor}.age"));
        sh(
            kms.dir.path(),
            &format!(
                "age -e {} -r {recipient} -o {} {p}",
                if armor { "-a" } else { "" },
                theirs.display()
            ),
        );
        let out = bare_cmd()
            .args([
                "decrypt-file",
                theirs.to_str().unwrap(),
                "-o",
                "-",
                "-i",
                id.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        same(&out.stdout, &pt, "kms decrypt-file of age -e");
        let info: serde_json::Value = serde_json::from_slice(
            &bare_cmd()
                .args(["--json", "inspect-file", theirs.to_str().unwrap()])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert_eq!(info["format"], "age");
        assert_eq!(info["recipients"][0]["type"], "X25519");
    }
}
