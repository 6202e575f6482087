//! Where output goes: the writer, through the armor encoder when asked.

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::armor::ArmorEncoder;
use crate::error::{Error, Result};

const ARMOR_FLUSH: usize = 256 * 1024;

/// The output of a stream.
pub struct Sink<W> {
    inner: W,
    armor: Option<(ArmorEncoder, Vec<u8>)>,
}

impl<W: AsyncWrite + Unpin> Sink<W> {
    /// A sink, armored or not.
    pub fn new(inner: W, armor: bool) -> Self {
        Self {
            inner,
            armor: armor.then(|| (ArmorEncoder::new(), Vec::with_capacity(ARMOR_FLUSH + 1024))),
        }
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        match &mut self.armor {
            None => self
                .inner
                .write_all(data)
                .await
                .map_err(Error::io("cannot write the output")),
            Some((enc, text)) => {
                enc.update(data, text);
                if text.len() >= ARMOR_FLUSH {
                    self.inner
                        .write_all(text)
                        .await
                        .map_err(Error::io("cannot write the output"))?;
                    text.clear();
                }
                Ok(())
            }
        }
    }

    /// Ends the armor, if any, and flushes.
    pub async fn finish(&mut self) -> Result<()> {
        if let Some((enc, text)) = &mut self.armor {
            enc.finish(text);
            self.inner
                .write_all(text)
                .await
                .map_err(Error::io("cannot write the output"))?;
            text.clear();
        }
        self.inner
            .flush()
            .await
            .map_err(Error::io("cannot write the output"))
    }
}
