//! Making a batch of files durable at once.
//!
//! The filesystem commits concurrent `fsync`s together, so syncing a batch's
//! files from several threads at once costs about one sync, and, unlike
//! `syncfs`, waits only for this run's files, not for every other program's
//! dirty data. The threads are started once per process and then wait for
//! work: starting threads per batch (a run publishes a batch every 24
//! frames) cost memory, since the allocator keeps what each exiting thread
//! held.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

use crossbeam_channel::{Receiver, Sender};

/// Threads syncing files at once.
const SYNC_THREADS: usize = 16;

/// A file to sync and where its result goes.
type Job = (PathBuf, Sender<io::Result<()>>);

/// The syncing threads' queue; `None` when no thread could be started (the
/// caller's thread syncs then).
fn queue() -> Option<&'static Sender<Job>> {
    static QUEUE: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (jobs, work) = crossbeam_channel::unbounded::<Job>();
            let started = (0..SYNC_THREADS)
                .filter(|i| {
                    let work: Receiver<Job> = work.clone();
                    std::thread::Builder::new()
                        .name(format!("framex-sync-{i}"))
                        .spawn(move || {
                            for (path, done) in work {
                                let _ = done.send(sync_file(&path));
                            }
                        })
                        .is_ok()
                })
                .count();
            (started > 0).then_some(jobs)
        })
        .as_ref()
}

fn sync_file(path: &PathBuf) -> io::Result<()> {
    File::open(path)?.sync_data()
}

/// Syncs the data of `files` to disk, at once; the first error.
pub(super) fn sync_files(files: &[&PathBuf]) -> io::Result<()> {
    let queue = match queue() {
        Some(queue) if files.len() > 1 => queue,
        _ => return files.iter().try_for_each(|path| sync_file(path)),
    };
    let (done, results) = crossbeam_channel::unbounded();
    for path in files {
        queue
            .send(((*path).clone(), done.clone()))
            .map_err(|_| io::Error::other("the sync threads are gone"))?;
    }
    drop(done);
    let mut answered = 0;
    let mut first_error = None;
    for result in results {
        answered += 1;
        if let Err(err) = result {
            first_error.get_or_insert(err);
        }
    }
    match first_error {
        Some(err) => Err(err),
        None if answered < files.len() => Err(io::Error::other("a sync thread stopped")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_synced_and_a_missing_one_is_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..40).map(|i| dir.path().join(format!("f{i}"))).collect();
        for p in &paths {
            std::fs::write(p, b"x").unwrap();
        }
        let refs: Vec<&PathBuf> = paths.iter().collect();
        sync_files(&refs).unwrap();
        std::fs::remove_file(&paths[17]).unwrap();
        let err = sync_files(&refs).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
