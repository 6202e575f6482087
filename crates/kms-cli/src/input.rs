//! Reading input (a file or stdin) and writing output (a file or stdout).
//! Buffers that may hold plaintext are `Zeroizing`.

use std::fs;
use std::io::{IsTerminal as _, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kms_core::Passphrase;
use zeroize::Zeroizing;

use crate::error::CliError;

/// The most bytes read from --input or stdin (the KMS limits are far lower;
/// this only keeps a mistaken multi-gigabyte input out of memory).
const MAX_INPUT: u64 = 4 * 1024 * 1024;

fn read_limited(reader: &mut impl Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(64 * 1024 + 1));
    reader.take(MAX_INPUT + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(std::io::Error::other(format!(
            "more than {MAX_INPUT} bytes; use `kms encrypt-file` for large data"
        )));
    }
    Ok(buf)
}

/// Reads all of `--input FILE`, or stdin when `None`.
pub fn read_input(path: Option<&Path>) -> Result<Zeroizing<Vec<u8>>, CliError> {
    match path {
        Some(p) if p != Path::new("-") => {
            let mut f = fs::File::open(p).map_err(|source| CliError::File {
                what: "cannot read",
                path: p.to_path_buf(),
                source,
            })?;
            read_limited(&mut f).map_err(|source| CliError::File {
                what: "cannot read",
                path: p.to_path_buf(),
                source,
            })
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                let _ = writeln!(
                    std::io::stderr(),
                    "reading input from the terminal; end it with Ctrl-D (or pass --input FILE)"
                );
            }
            read_limited(&mut stdin.lock()).map_err(|source| CliError::Io {
                what: "cannot read stdin",
                source,
            })
        }
    }
}

/// Reads a whole (small, non-secret) file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(|source| CliError::File {
        what: "cannot read",
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a signature or MAC file holding raw bytes or base64 text.
pub fn read_bytes_or_base64(path: &Path) -> Result<Vec<u8>, CliError> {
    let raw = read_file(path)?;
    Ok(decode_bytes_or_base64(raw))
}

/// Base64 text (surrounding whitespace ignored) is decoded; anything else is taken as raw bytes.
fn decode_bytes_or_base64(raw: Vec<u8>) -> Vec<u8> {
    if let Ok(text) = core::str::from_utf8(&raw) {
        let text = text.trim();
        if !text.is_empty()
            && let Ok(decoded) = STANDARD.decode(text)
        {
            return decoded;
        }
    }
    raw
}

/// Writes `bytes` to `--output FILE` (mode 0600 when `secret`), or to stdout.
pub fn write_output(path: Option<&Path>, bytes: &[u8], secret: bool) -> Result<(), CliError> {
    match path {
        Some(p) if p != Path::new("-") => write_file(p, bytes, secret),
        _ => write_stdout(bytes),
    }
}

/// Writes a file, replacing it; secret files are created readable by the owner only.
pub fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), CliError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let err = |source| CliError::File {
        what: "cannot write",
        path: path.to_path_buf(),
        source,
    };
    let mut f = opts.open(path).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.flush().map_err(err)
}

/// Writes bytes to stdout.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|source| CliError::Io {
            what: "cannot write to stdout",
            source,
        })
}

/// Reads a passphrase file; one trailing newline (`\n` or `\r\n`) is stripped.
pub fn read_passphrase_file(path: &Path) -> Result<Passphrase, CliError> {
    let bytes = Zeroizing::new(read_file(path)?);
    let text = core::str::from_utf8(&bytes).map_err(|_| {
        CliError::usage(
            format!("the passphrase file {} is not UTF-8 text", path.display()),
            "write the passphrase as text, or use --key-file for a binary root key",
        )
    })?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if text.is_empty() {
        return Err(CliError::usage(
            format!("the passphrase file {} is empty", path.display()),
            "write the passphrase into it (one line)",
        ));
    }
    Ok(Passphrase::new(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_files_may_be_raw_or_base64() {
        assert_eq!(decode_bytes_or_base64(b"AAEC\n".to_vec()), vec![0, 1, 2]);
        let raw = vec![0xff, 0x00, 0x10];
        assert_eq!(decode_bytes_or_base64(raw.clone()), raw);
    }

    #[test]
    fn passphrase_files_lose_one_trailing_newline_only() -> Result<(), CliError> {
        let dir = tempfile::tempdir().map_err(|source| CliError::Io {
            what: "tempdir",
            source,
        })?;
        let p = dir.path().join("pass");
        write_file(&p, b"two words \n\n", true)?;
        assert_eq!(read_passphrase_file(&p)?.expose_secret(), "two words \n");
        write_file(&p, b"crlf\r\n", true)?;
        assert_eq!(read_passphrase_file(&p)?.expose_secret(), "crlf");
        write_file(&p, b"\n", true)?;
        assert!(read_passphrase_file(&p).is_err());
        Ok(())
    }
}
