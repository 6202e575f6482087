//! Writing an output file so that a failure or a crash never leaves a
//! partial or unauthenticated file behind. On Linux the bytes go to an
//! unnamed file (`O_TMPFILE`) in the destination's directory, which gets
//! its name (`linkat`) only on [`AtomicOutput::commit`], after an fsync: a
//! process killed with SIGKILL leaves nothing. Elsewhere (or where the file
//! system lacks `O_TMPFILE`) a hidden `.NAME.*.partial` file is renamed
//! over the destination on commit and removed when dropped without one.
//!
//! Written through [`AtomicOutput::writer`], the file is also synced ahead:
//! every [`SYNC_AHEAD`] bytes a background thread starts an `fdatasync`, so
//! the disk writes while the next chunks are sealed and the final fsync of
//! [`AtomicOutput::commit`] has only the tail left to flush.

use std::fs::File;
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

#[derive(Debug)]
enum Temp {
    #[cfg(target_os = "linux")]
    Unnamed(File),
    Named(tempfile::NamedTempFile),
}

/// Bytes written between two background syncs.
pub const SYNC_AHEAD: u64 = 32 * 1024 * 1024;

/// The background syncer: a thread that runs `fdatasync` on a clone of the
/// file descriptor whenever it is poked (pokes while one runs coalesce).
#[derive(Debug, Default)]
struct Syncer {
    poke: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    unsynced: u64,
}

impl Syncer {
    fn wrote(&mut self, n: usize, file: &File) {
        self.unsynced += n as u64;
        if self.unsynced < SYNC_AHEAD {
            return;
        }
        self.unsynced = 0;
        if self.poke.is_none() {
            // Without a second descriptor there is no sync ahead; commit
            // still syncs everything.
            let Ok(clone) = file.try_clone() else { return };
            let (tx, rx) = sync_channel::<()>(1);
            let spawned = std::thread::Builder::new()
                .name("kms-sync-ahead".into())
                .spawn(move || {
                    while rx.recv().is_ok() {
                        // An error here shows again in commit's own sync.
                        let _ = clone.sync_data();
                    }
                });
            let Ok(thread) = spawned else { return };
            self.poke = Some(tx);
            self.thread = Some(thread);
        }
        if let Some(tx) = &self.poke
            && let Err(TrySendError::Disconnected(())) = tx.try_send(())
        {
            self.poke = None;
        }
    }

    /// Stops the thread (after its current sync).
    fn stop(&mut self) {
        self.poke = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An output file that appears only when complete.
#[derive(Debug)]
pub struct AtomicOutput {
    temp: Temp,
    dest: PathBuf,
    dir: PathBuf,
    overwrite: bool,
    syncer: Syncer,
}

/// Writes to an [`AtomicOutput`], syncing ahead in the background.
#[derive(Debug)]
pub struct OutputWriter<'a>(&'a mut AtomicOutput);

impl Write for OutputWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.file().write(buf)?;
        self.0.wrote(n);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let n = self.0.file().write_vectored(bufs)?;
        self.0.wrote(n);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.file().flush()
    }
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { what, source }
}

impl AtomicOutput {
    /// Prepares `dest`; refuses an existing file unless `overwrite`.
    pub fn create(dest: &Path, overwrite: bool) -> Result<Self> {
        if !overwrite && dest.exists() {
            return Err(Error::OutputExists(dest.to_path_buf()));
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{Mode, OFlags};
            if let Ok(fd) = rustix::fs::open(
                &dir,
                OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::RUSR | Mode::WUSR,
            ) {
                return Ok(Self {
                    temp: Temp::Unnamed(File::from(fd)),
                    dest: dest.to_path_buf(),
                    dir,
                    overwrite,
                    syncer: Syncer::default(),
                });
            }
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", file_name(dest)))
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(io("cannot create the output file"))?;
        Ok(Self {
            temp: Temp::Named(tmp),
            dest: dest.to_path_buf(),
            dir,
            overwrite,
            syncer: Syncer::default(),
        })
    }

    /// A writer that also syncs ahead (see the module docs).
    pub fn writer(&mut self) -> OutputWriter<'_> {
        OutputWriter(self)
    }

    fn wrote(&mut self, n: usize) {
        let file = match &self.temp {
            #[cfg(target_os = "linux")]
            Temp::Unnamed(f) => f,
            Temp::Named(t) => t.as_file(),
        };
        self.syncer.wrote(n, file);
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match &mut self.temp {
            #[cfg(target_os = "linux")]
            Temp::Unnamed(f) => f,
            Temp::Named(t) => t.as_file_mut(),
        }
    }

    /// Fsyncs the file, gives it the destination's name and fsyncs the directory.
    pub fn commit(mut self) -> Result<()> {
        self.syncer.stop();
        self.file()
            .sync_all()
            .map_err(io("cannot sync the output file"))?;
        let dest = self.dest.clone();
        match self.temp {
            #[cfg(target_os = "linux")]
            Temp::Unnamed(f) => {
                use std::os::fd::AsRawFd as _;
                let proc_path = format!("/proc/self/fd/{}", f.as_raw_fd());
                let link = |to: &Path| {
                    rustix::fs::linkat(
                        rustix::fs::CWD,
                        proc_path.as_str(),
                        rustix::fs::CWD,
                        to,
                        rustix::fs::AtFlags::SYMLINK_FOLLOW,
                    )
                };
                if self.overwrite {
                    let staged = self.dir.join(format!(
                        ".{}.{}.partial",
                        file_name(&dest),
                        std::process::id()
                    ));
                    let _ = std::fs::remove_file(&staged);
                    link(&staged).map_err(|e| io("cannot name the output file")(e.into()))?;
                    std::fs::rename(&staged, &dest).map_err(io("cannot rename the output file"))?;
                } else {
                    link(&dest).map_err(|e| {
                        if e == rustix::io::Errno::EXIST {
                            Error::OutputExists(dest.clone())
                        } else {
                            io("cannot name the output file")(e.into())
                        }
                    })?;
                }
            }
            Temp::Named(t) => {
                if self.overwrite {
                    t.persist(&dest)
                        .map_err(|e| io("cannot rename the output file")(e.error))?;
                } else {
                    t.persist_noclobber(&dest).map_err(|e| {
                        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                            Error::OutputExists(dest.clone())
                        } else {
                            io("cannot rename the output file")(e.error)
                        }
                    })?;
                }
            }
        }
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
