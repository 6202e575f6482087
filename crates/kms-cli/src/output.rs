//! Printing results: JSON with `--json`; otherwise a table when stdout is a
//! terminal and plain `key: value` lines when it is not (for scripts).

use std::io::{IsTerminal as _, Write as _};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use kms_core::KeyMetadata;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::input::write_stdout;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`.
    pub json: bool,
    /// Whether stdout is a terminal.
    pub tty: bool,
}

impl Output {
    /// From `--json` and stdout.
    pub fn new(json: bool) -> Self {
        Self {
            json,
            tty: std::io::stdout().is_terminal(),
        }
    }

    /// Prints a value as pretty JSON and a newline.
    pub fn print_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        let mut text = serde_json::to_string_pretty(value).map_err(|e| CliError::Io {
            what: "cannot encode JSON",
            source: std::io::Error::other(e),
        })?;
        text.push('\n');
        write_stdout(text.as_bytes())
    }

    /// Prints JSON that holds a secret (plaintext, a data key): the buffer is zeroized afterwards.
    pub fn print_secret_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        let mut buf = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer_pretty(&mut *buf, value).map_err(|e| CliError::Io {
            what: "cannot encode JSON",
            source: std::io::Error::other(e),
        })?;
        buf.push(b'\n');
        write_stdout(&buf)
    }

    /// Prints one line.
    pub fn line(&self, text: &str) -> Result<(), CliError> {
        let mut s = String::with_capacity(text.len() + 1);
        s.push_str(text);
        s.push('\n');
        write_stdout(s.as_bytes())
    }

    /// Prints fields: a two-column table on a terminal, `key: value` lines otherwise.
    pub fn record(&self, rows: &[(&str, String)]) -> Result<(), CliError> {
        if self.tty {
            let mut table = new_table();
            table.set_header(["Field", "Value"]);
            for (k, v) in rows {
                table.add_row([*k, v.as_str()]);
            }
            self.line(&table.to_string())
        } else {
            let mut s = String::new();
            for (k, v) in rows {
                s.push_str(k);
                s.push_str(": ");
                s.push_str(v);
                s.push('\n');
            }
            write_stdout(s.as_bytes())
        }
    }

    /// Prints several records: one table with a column per field on a
    /// terminal; blocks of `key: value` lines separated by a blank line otherwise.
    pub fn records(&self, header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
        if self.tty {
            let mut table = new_table();
            table.set_header(header.to_vec());
            for row in rows {
                table.add_row(row.clone());
            }
            self.line(&table.to_string())
        } else {
            let mut s = String::new();
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    s.push('\n');
                }
                for (k, v) in header.iter().zip(row) {
                    s.push_str(&k.to_ascii_lowercase().replace(' ', "_"));
                    s.push_str(": ");
                    s.push_str(v);
                    s.push('\n');
                }
            }
            write_stdout(s.as_bytes())
        }
    }

    /// Prints a key's metadata: the serialized [`KeyMetadata`] with `--json`, its fields otherwise.
    pub fn key(&self, meta: &KeyMetadata) -> Result<(), CliError> {
        if self.json {
            return self.print_json(meta);
        }
        self.record(&key_rows(meta))
    }
}

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    // Wrap to the terminal only when its width is known and usable; a
    // pseudo-terminal that reports width 0 would squeeze every column to one
    // character.
    if table.width().is_some_and(|w| w >= 40) {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table
}

/// A timestamp as RFC 3339.
pub fn time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn opt_time(t: Option<OffsetDateTime>) -> String {
    t.map(time).unwrap_or_else(|| "-".into())
}

/// Aliases joined with `, `, or `-`.
pub fn aliases(meta: &KeyMetadata) -> String {
    if meta.aliases.is_empty() {
        "-".into()
    } else {
        meta.aliases
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn key_rows(meta: &KeyMetadata) -> Vec<(&'static str, String)> {
    let tags = if meta.tags.is_empty() {
        "-".to_string()
    } else {
        meta.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    vec![
        ("key_id", meta.key_id.to_string()),
        ("aliases", aliases(meta)),
        ("description", meta.description.clone()),
        ("spec", meta.spec.to_string()),
        ("usage", meta.usage.to_string()),
        ("state", meta.state.to_string()),
        ("origin", meta.origin.as_str().to_string()),
        ("current_version", meta.current_version.to_string()),
        (
            "min_decryption_version",
            meta.min_decryption_version.to_string(),
        ),
        ("created_at", time(meta.created_at)),
        ("rotated_at", opt_time(meta.rotated_at)),
        (
            "rotation_period_days",
            meta.rotation_period_days
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        ("next_rotation_at", opt_time(meta.next_rotation_at)),
        ("deletion_date", opt_time(meta.deletion_date)),
        ("tags", tags),
        ("backend", meta.backend.clone()),
    ]
}

/// Writes a line to stderr (notes that are not the result).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
