//! Writing an output file so that a failure or a crash never leaves a
//! partial or unauthenticated file behind. On Linux the bytes go to an
//! unnamed file (`O_TMPFILE`) in the destination's directory, which gets
//! its name (`linkat`) only on [`AtomicOutput::commit`], after an fsync: a
//! process killed with SIGKILL leaves nothing. Elsewhere (or where the file
//! system lacks `O_TMPFILE`) a hidden `.NAME.*.partial` file is renamed
//! over the destination on commit and removed when dropped without one.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug)]
enum Temp {
    #[cfg(target_os = "linux")]
    Unnamed(File),
    Named(tempfile::NamedTempFile),
}

/// An output file that appears only when complete.
#[derive(Debug)]
pub struct AtomicOutput {
    temp: Temp,
    dest: PathBuf,
    dir: PathBuf,
    overwrite: bool,
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
        })
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
