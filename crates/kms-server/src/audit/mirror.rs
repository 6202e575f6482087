//! The optional JSON-lines mirror of the audit log: each batch's records,
//! one JSON object per line, appended and synced before the requests of
//! the batch are answered.

use std::io::Write as _;
use std::path::Path;

use kms_store::AuditRecord;
use tokio::io::AsyncWriteExt as _;

use super::record_to_wire;

fn lines(records: &[AuditRecord]) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, &record_to_wire(r)).map_err(|e| e.to_string())?;
        buf.push(b'\n');
    }
    Ok(buf)
}

fn cannot_open(path: &Path, e: std::io::Error) -> String {
    format!("the mirror file {} cannot be opened ({e})", path.display())
}

fn cannot_write(path: &Path, e: std::io::Error) -> String {
    tracing::error!(error = %e, "audit mirror write failed");
    format!("the mirror file {} cannot be written ({e})", path.display())
}

/// Opens the mirror for appending (once per writer; the writer task, too,
/// opens it this way: one open is not worth a trip to the blocking pool).
fn open(path: &Path) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| cannot_open(path, e))
}

/// Appends and syncs `records` (for the writer task).
pub(super) async fn write(
    file: &mut Option<tokio::fs::File>,
    path: &Path,
    records: &[AuditRecord],
) -> Result<(), String> {
    let buf = lines(records)?;
    let f = match file {
        Some(f) => f,
        None => file.insert(tokio::fs::File::from_std(open(path)?)),
    };
    let res = async {
        f.write_all(&buf).await?;
        f.sync_data().await
    }
    .await;
    res.map_err(|e| cannot_write(path, e))
}

/// Appends and syncs `records` (for the writer thread).
pub(super) fn write_blocking(
    file: &mut Option<std::fs::File>,
    path: &Path,
    records: &[AuditRecord],
) -> Result<(), String> {
    let buf = lines(records)?;
    let f = match file {
        Some(f) => f,
        None => file.insert(open(path)?),
    };
    f.write_all(&buf)
        .and_then(|()| f.sync_data())
        .map_err(|e| cannot_write(path, e))
}
