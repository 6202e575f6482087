//! Where input comes from: bytes already read (to detect the format) are
//! served first, then the reader; armored input is decoded on the way.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

use crate::armor::ArmorDecoder;

const TEXT_READ: usize = 64 * 1024;

/// The input of a stream, as an `AsyncRead` of the (de-armored) bytes.
pub struct Source<R> {
    inner: R,
    /// Raw mode: bytes to serve before the reader. Armor mode: text not yet decoded.
    pending: Vec<u8>,
    pos: usize,
    armor: Option<Armor>,
}

struct Armor {
    decoder: ArmorDecoder,
    decoded: Vec<u8>,
    dpos: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> Source<R> {
    /// Serves `prefix` then `inner`, decoding armor if `armored`.
    pub fn new(inner: R, prefix: Vec<u8>, armored: bool) -> Self {
        Self {
            inner,
            pending: prefix,
            pos: 0,
            armor: armored.then(|| Armor {
                decoder: ArmorDecoder::new(),
                decoded: Vec::new(),
                dpos: 0,
                eof: false,
            }),
        }
    }

    fn poll_armor(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let Some(a) = self.armor.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        loop {
            if a.dpos < a.decoded.len() {
                let n = buf.remaining().min(a.decoded.len() - a.dpos);
                buf.put_slice(&a.decoded[a.dpos..a.dpos + n]);
                a.dpos += n;
                return Poll::Ready(Ok(()));
            }
            if a.eof {
                return Poll::Ready(Ok(()));
            }
            a.decoded.clear();
            a.dpos = 0;
            let used = a
                .decoder
                .feed(&self.pending[self.pos..], &mut a.decoded)
                .map_err(|c| c.into_io())?;
            self.pos += used;
            if !a.decoded.is_empty() {
                continue;
            }
            // Need more text.
            self.pending.drain(..self.pos);
            self.pos = 0;
            let start = self.pending.len();
            self.pending.resize(start + TEXT_READ, 0);
            let mut rb = ReadBuf::new(&mut self.pending[start..]);
            let polled = Pin::new(&mut self.inner).poll_read(cx, &mut rb);
            let got = rb.filled().len();
            self.pending.truncate(start + got);
            ready!(polled)?;
            if got == 0 {
                let rest = std::mem::take(&mut self.pending);
                a.decoder
                    .finish(&rest, &mut a.decoded)
                    .map_err(|c| c.into_io())?;
                a.eof = true;
            }
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Source<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.armor.is_some() {
            return this.poll_armor(cx, buf);
        }
        if this.pos < this.pending.len() {
            let n = buf.remaining().min(this.pending.len() - this.pos);
            buf.put_slice(&this.pending[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.pending.len() {
                this.pending = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}
