//! A buffered JSON-Lines trace file implementing `sim_core::trace::LineSink`.
//!
//! The sink half goes into the engine's `TraceRecorder`; the [`TraceFile`] handle stays
//! with the runner, which calls [`TraceFile::finish`] on every exit path (and `Drop`
//! flushes as a last resort), so a trace is never left half-buffered.

use sim_core::trace::LineSink;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Write buffer size: large enough that a busy run does few syscalls.
const BUF_BYTES: usize = 1 << 20;

#[derive(Debug)]
struct State {
    writer: Option<BufWriter<File>>,
    bytes: u64,
    lines: u64,
    error: Option<io::Error>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Owner handle of an open trace file.
#[derive(Debug)]
pub struct TraceFile {
    path: PathBuf,
    state: Arc<Mutex<State>>,
}

/// The writing half, handed to the trace recorder.
#[derive(Debug)]
pub struct TraceFileSink {
    state: Arc<Mutex<State>>,
}

/// What [`TraceFile::finish`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceFileStats {
    /// Bytes written.
    pub bytes: u64,
    /// Lines written.
    pub lines: u64,
}

impl TraceFile {
    /// Creates (truncates) `path` and returns the handle and the sink.
    pub fn create(path: &Path) -> io::Result<(TraceFile, TraceFileSink)> {
        let file = File::create(path)?;
        let state = Arc::new(Mutex::new(State {
            writer: Some(BufWriter::with_capacity(BUF_BYTES, file)),
            bytes: 0,
            lines: 0,
            error: None,
        }));
        Ok((
            TraceFile {
                path: path.to_path_buf(),
                state: state.clone(),
            },
            TraceFileSink { state },
        ))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and closes the file; reports the first write error if any occurred.
    /// Lines written through the sink afterwards are discarded.
    pub fn finish(self) -> io::Result<TraceFileStats> {
        let mut st = lock(&self.state);
        let flushed = match st.writer.take() {
            Some(w) => w.into_inner().map_err(|e| e.into_error()).map(drop),
            None => Ok(()),
        };
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        flushed?;
        Ok(TraceFileStats {
            bytes: st.bytes,
            lines: st.lines,
        })
    }
}

impl Drop for TraceFile {
    fn drop(&mut self) {
        // Best effort on paths that did not call finish (panics, early returns).
        if let Some(mut w) = lock(&self.state).writer.take() {
            let _ = w.flush();
        }
    }
}

impl LineSink for TraceFileSink {
    fn write_line(&mut self, line: &[u8]) {
        let mut st = lock(&self.state);
        if st.error.is_some() {
            return;
        }
        if let Some(w) = st.writer.as_mut() {
            if let Err(e) = w.write_all(line) {
                st.writer = None;
                st.error = Some(e);
                return;
            }
            st.bytes += line.len() as u64;
            st.lines += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_reach_disk_on_finish_and_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        let (f, mut s) = TraceFile::create(&p).unwrap();
        s.write_line(b"{\"a\":1}\n");
        s.write_line(b"{\"b\":2}\n");
        assert_eq!(
            f.finish().unwrap(),
            TraceFileStats {
                bytes: 16,
                lines: 2
            }
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
        // After finish, writes are ignored rather than panicking.
        s.write_line(b"late\n");
        assert_eq!(std::fs::read(&p).unwrap().len(), 16);

        let p2 = dir.path().join("u.jsonl");
        {
            let (_f, mut s) = TraceFile::create(&p2).unwrap();
            s.write_line(b"x\n");
        }
        assert_eq!(std::fs::read_to_string(&p2).unwrap(), "x\n");
    }
}
