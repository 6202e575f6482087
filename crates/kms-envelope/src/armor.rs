//! ASCII armor: `-----BEGIN KMS ENCRYPTED FILE-----`, standard padded
//! base64 in lines of exactly 64 columns (the last one shorter or equal),
//! `-----END KMS ENCRYPTED FILE-----`. LF or CRLF line ends. The decoder is
//! strict: a short line before the last, padding before the end, characters
//! outside base64, or anything but whitespace after the END line is refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::Carried;
use crate::format::{ARMOR_BEGIN, ARMOR_END};

const LINE_BYTES: usize = 48;
const LINE_CHARS: usize = 64;
const MAX_LINE: usize = 80;

/// Encodes bytes into armor text.
#[derive(Debug, Default)]
pub struct ArmorEncoder {
    pending: Vec<u8>,
    started: bool,
}

impl ArmorEncoder {
    /// A new encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the armor text of `data` to `out`.
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if !self.started {
            out.extend_from_slice(ARMOR_BEGIN.as_bytes());
            out.push(b'\n');
            self.started = true;
        }
        if !self.pending.is_empty() {
            let need = LINE_BYTES - self.pending.len();
            let take = need.min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < LINE_BYTES {
                return;
            }
            let line = std::mem::take(&mut self.pending);
            push_line(&line, out);
        }
        let mut lines = data.chunks_exact(LINE_BYTES);
        for line in &mut lines {
            push_line(line, out);
        }
        self.pending.extend_from_slice(lines.remainder());
    }

    /// Appends the last line and the END line.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.update(&[], out);
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            push_line(&line, out);
        }
        out.extend_from_slice(ARMOR_END.as_bytes());
        out.push(b'\n');
    }
}

fn push_line(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + LINE_CHARS + 1, 0);
    // 48 bytes encode to exactly 64 characters; fewer to at most 64.
    let n = STANDARD
        .encode_slice(bytes, &mut out[start..start + LINE_CHARS])
        .unwrap_or(0);
    out.truncate(start + n);
    out.push(b'\n');
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Begin,
    Body,
    /// A line shorter than 64 (or padded) was seen: only END may follow.
    BodyEnded,
    After,
}

/// Decodes armor text, line by line.
#[derive(Debug)]
pub struct ArmorDecoder {
    state: State,
    lines: u64,
}

impl Default for ArmorDecoder {
    fn default() -> Self {
        Self {
            state: State::Begin,
            lines: 0,
        }
    }
}

impl ArmorDecoder {
    /// A new decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the complete lines of `text` into `out`; returns how many
    /// bytes of `text` were used (a trailing partial line is left).
    pub fn feed(&mut self, text: &[u8], out: &mut Vec<u8>) -> Result<usize, Carried> {
        let mut used = 0;
        while let Some(nl) = text[used..].iter().position(|b| *b == b'\n') {
            let line = &text[used..used + nl];
            self.line(line, out)?;
            used += nl + 1;
        }
        if text.len() - used > MAX_LINE {
            return Err(Carried::Armor("a line is longer than 64 characters"));
        }
        Ok(used)
    }

    /// At end of input: decodes a last line without newline and checks the END line was seen.
    pub fn finish(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<(), Carried> {
        if !rest.is_empty() {
            self.line(rest, out)?;
        }
        if self.state != State::After {
            return Err(Carried::Truncated);
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<(), Carried> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.lines += 1;
        match self.state {
            State::Begin => {
                if line != ARMOR_BEGIN.as_bytes() {
                    return Err(Carried::Armor("the first line is not the BEGIN line"));
                }
                self.state = State::Body;
            }
            State::Body | State::BodyEnded if line == ARMOR_END.as_bytes() => {
                if self.lines == 2 {
                    return Err(Carried::Armor("the armor holds no data"));
                }
                self.state = State::After;
            }
            State::BodyEnded => {
                return Err(Carried::Armor("a short or padded line before the last one"));
            }
            State::Body => {
                if line.len() > LINE_CHARS || line.is_empty() || !line.len().is_multiple_of(4) {
                    return Err(Carried::Armor(
                        "a base64 line is not 64 characters (or a shorter multiple of 4 at the end)",
                    ));
                }
                if line.len() < LINE_CHARS || line.ends_with(b"=") {
                    self.state = State::BodyEnded;
                }
                let start = out.len();
                out.resize(start + LINE_BYTES, 0);
                let n = STANDARD
                    .decode_slice(line, &mut out[start..])
                    .map_err(|_| Carried::Armor("invalid or non-canonical base64"))?;
                out.truncate(start + n);
            }
            State::After => {
                if !line.iter().all(u8::is_ascii_whitespace) {
                    return Err(Carried::TrailingData);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armor(data: &[u8]) -> Vec<u8> {
        let mut e = ArmorEncoder::new();
        let mut out = Vec::new();
        for part in data.chunks(7) {
            e.update(part, &mut out);
        }
        e.finish(&mut out);
        out
    }

    fn dearmor(text: &[u8]) -> Result<Vec<u8>, Carried> {
        let mut d = ArmorDecoder::new();
        let mut out = Vec::new();
        let used = d.feed(text, &mut out)?;
        d.finish(&text[used..], &mut out)?;
        Ok(out)
    }

    #[test]
    fn armor_round_trips_with_64_column_lines() {
        for len in [1usize, 47, 48, 49, 96, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let text = armor(&data);
            let s = String::from_utf8(text.clone()).unwrap();
            let lines: Vec<&str> = s.lines().collect();
            assert_eq!(lines[0], ARMOR_BEGIN);
            assert_eq!(*lines.last().unwrap(), ARMOR_END);
            for l in &lines[1..lines.len() - 2] {
                assert_eq!(l.len(), 64);
            }
            assert_eq!(dearmor(&text).unwrap(), data);
            let crlf = s.replace('\n', "\r\n");
            assert_eq!(dearmor(crlf.as_bytes()).unwrap(), data);
        }
    }

    #[test]
    fn non_canonical_armor_is_refused() {
        let data = vec![9u8; 100];
        let s = String::from_utf8(armor(&data)).unwrap();
        let short_first = s.replacen(&s[35..99], &s[35..95], 1);
        assert!(dearmor(short_first.as_bytes()).is_err());
        assert!(dearmor(format!("{s}junk\n").as_bytes()).is_err());
        assert!(dearmor(s.replace(ARMOR_END, "").as_bytes()).is_err());
        assert!(dearmor(format!(" {s}").as_bytes()).is_err());
        assert!(dearmor(format!("{s}\n\n").as_bytes()).is_ok());
    }
}
