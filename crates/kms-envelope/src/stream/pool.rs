//! A small pool of crypto threads. Jobs are closures; each result comes
//! back on a oneshot channel, awaited in submission order by the driver.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Threads that seal and open chunk batches.
pub struct CryptoPool {
    tx: Option<mpsc::Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl CryptoPool {
    /// A pool of `threads` (at least one).
    pub fn new(threads: usize) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut workers = Vec::new();
        for _ in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let handle = std::thread::Builder::new()
                .name("kms-envelope-crypto".into())
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => break,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                })
                .map_err(|source| Error::Io {
                    what: "cannot start a crypto thread",
                    source,
                })?;
            workers.push(handle);
        }
        Ok(Self {
            tx: Some(tx),
            workers,
        })
    }

    /// The number of threads.
    pub fn size(&self) -> usize {
        self.workers.len()
    }

    /// Runs `f` on a pool thread.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> oneshot::Receiver<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        if let Some(sender) = &self.tx {
            // A send only fails when every worker is gone; the receiver then
            // reports the job as lost.
            let _ = sender.send(job);
        }
        rx
    }
}

impl Drop for CryptoPool {
    fn drop(&mut self) {
        self.tx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl core::fmt::Debug for CryptoPool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CryptoPool({} threads)", self.workers.len())
    }
}
