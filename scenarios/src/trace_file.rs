//! The trace file implementing `sim_core::trace::LineSink`: buffered JSON Lines, or the
//! same lines as a sequence of independent gzip members (see [`GZIP_BLOCK_BYTES`]).
//!
//! The sink half goes into the engine's `TraceRecorder`; the [`TraceFile`] handle stays
//! with the runner, which calls [`TraceFile::finish`] on every exit path (and `Drop`
//! flushes as a last resort), so a trace is never left half-buffered.
//!
//! Gzip blocks are compressed on one writer thread, fed through a bounded channel of
//! [`GZIP_BLOCKS_IN_FLIGHT`] blocks: the simulation thread only appends lines to a buffer,
//! and on a machine with a second core the compression costs the run no wall time. The
//! bytes written depend only on the lines (fixed level, fixed block boundaries), never on
//! thread timing. Each member is a complete gzip stream, so a run killed mid-write leaves
//! every finished block readable (`gzip -d` and the analysis reader stop at the torn one).

use crate::model::TraceFormat;
use flate2::write::GzEncoder;
use flate2::Compression;
use sim_core::trace::LineSink;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Write buffer size: large enough that a busy run does few syscalls.
const BUF_BYTES: usize = 1 << 20;
/// Uncompressed bytes per gzip member: large enough for a good ratio (JSON Lines repeat
/// their keys), small enough that a torn file loses little and readers stream.
pub const GZIP_BLOCK_BYTES: usize = 1 << 20;
/// Blocks queued for the compressor thread before the simulation waits for it (memory cap:
/// this many blocks plus the one being filled).
pub const GZIP_BLOCKS_IN_FLIGHT: usize = 4;
/// gzip level. Measured on lifecycle-10k's trace with the zlib-rs backend (1 MiB blocks):
/// level 1 4.1x at 214 MB/s, 2 5.9x at 125 MB/s, 3 6.7x at 102 MB/s, 6 7.8x at 57 MB/s. A run
/// produces trace lines at 20-40 MB/s, so level 3 keeps the writer thread well ahead while
/// leaving a margin over the 5x the format promises.
const GZIP_LEVEL: u32 = 3;

enum Writer {
    Plain(BufWriter<File>),
    Gzip(GzipPipe),
}

/// The simulation side of the gzip pipeline.
struct GzipPipe {
    block: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Writer::Plain(_) => "Writer::Plain",
            Writer::Gzip(_) => "Writer::Gzip",
        })
    }
}

impl GzipPipe {
    fn start(file: File) -> GzipPipe {
        let (tx, rx) = sync_channel::<Vec<u8>>(GZIP_BLOCKS_IN_FLIGHT);
        let worker = std::thread::Builder::new()
            .name("trace-gzip".into())
            .spawn(move || compress_blocks(rx, file))
            .expect("spawn the trace compressor thread");
        GzipPipe {
            block: Vec::with_capacity(GZIP_BLOCK_BYTES + 4096),
            tx: Some(tx),
            worker: Some(worker),
        }
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.block.extend_from_slice(line);
        if self.block.len() >= GZIP_BLOCK_BYTES {
            self.ship()?;
        }
        Ok(())
    }

    /// Hands the current block to the compressor (waits when it is behind).
    fn ship(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(GZIP_BLOCK_BYTES + 4096));
        match &self.tx {
            Some(tx) if tx.send(block).is_ok() => Ok(()),
            // The worker stopped: its error is reported by `close`.
            _ => self
                .close()
                .and(Err(io::Error::other("trace compressor stopped"))),
        }
    }

    /// Ships the last block, waits for every block to be on disk, reports the first error.
    fn close(&mut self) -> io::Result<()> {
        let shipped = if self.tx.is_some() && !self.block.is_empty() {
            let block = std::mem::take(&mut self.block);
            self.tx
                .as_ref()
                .map(|tx| tx.send(block).is_ok())
                .unwrap_or(false)
        } else {
            true
        };
        self.tx = None;
        let joined = match self.worker.take() {
            Some(w) => w
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("trace compressor panicked"))),
            None => Ok(()),
        };
        joined?;
        if shipped {
            Ok(())
        } else {
            Err(io::Error::other("trace compressor stopped"))
        }
    }
}

/// The compressor thread: one gzip member per block, appended in arrival order.
fn compress_blocks(rx: Receiver<Vec<u8>>, file: File) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(BUF_BYTES, file);
    let mut member = Vec::with_capacity(GZIP_BLOCK_BYTES / 4);
    for block in rx {
        member.clear();
        let mut enc = GzEncoder::new(member, Compression::new(GZIP_LEVEL));
        enc.write_all(&block)?;
        member = enc.finish()?;
        out.write_all(&member)?;
    }
    out.flush()
}

#[derive(Debug)]
struct State {
    writer: Option<Writer>,
    bytes: u64,
    lines: u64,
    error: Option<io::Error>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn close_writer(w: Writer) -> io::Result<()> {
    match w {
        Writer::Plain(w) => w.into_inner().map_err(|e| e.into_error()).map(drop),
        Writer::Gzip(mut g) => g.close(),
    }
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
    /// Bytes of JSON Lines written (before compression).
    pub bytes: u64,
    /// Lines written.
    pub lines: u64,
}

impl TraceFile {
    /// Creates (truncates) a plain JSON-Lines trace at `path`; returns the handle and sink.
    pub fn create(path: &Path) -> io::Result<(TraceFile, TraceFileSink)> {
        Self::create_as(path, TraceFormat::Jsonl)
    }

    /// Creates (truncates) a trace at `path` in `format`; returns the handle and the sink.
    pub fn create_as(path: &Path, format: TraceFormat) -> io::Result<(TraceFile, TraceFileSink)> {
        let file = File::create(path)?;
        let writer = match format {
            TraceFormat::Jsonl => Writer::Plain(BufWriter::with_capacity(BUF_BYTES, file)),
            TraceFormat::Gzip => Writer::Gzip(GzipPipe::start(file)),
        };
        let state = Arc::new(Mutex::new(State {
            writer: Some(writer),
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
            Some(w) => close_writer(w),
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
        if let Some(w) = lock(&self.state).writer.take() {
            let _ = close_writer(w);
        }
    }
}

impl LineSink for TraceFileSink {
    fn write_line(&mut self, line: &[u8]) {
        let mut st = lock(&self.state);
        if st.error.is_some() {
            return;
        }
        let written = match st.writer.as_mut() {
            Some(Writer::Plain(w)) => w.write_all(line),
            Some(Writer::Gzip(g)) => g.write_line(line),
            None => return,
        };
        match written {
            Ok(()) => {
                st.bytes += line.len() as u64;
                st.lines += 1;
            }
            Err(e) => {
                st.writer = None;
                st.error = Some(e);
            }
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

    #[test]
    fn gzip_traces_are_independent_members_of_the_same_lines() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl.gz");
        let (f, mut s) = TraceFile::create_as(&p, TraceFormat::Gzip).unwrap();
        let mut want = Vec::new();
        // Enough lines for several members (blocks of GZIP_BLOCK_BYTES).
        for i in 0..60_000u32 {
            let line = format!(
                "{{\"t\":{i},\"seq\":{i},\"ev\":\"send\",\"pad\":\"{:040}\"}}\n",
                i
            );
            s.write_line(line.as_bytes());
            want.extend_from_slice(line.as_bytes());
        }
        let stats = f.finish().unwrap();
        assert_eq!(stats.lines, 60_000);
        assert_eq!(stats.bytes, want.len() as u64);
        let gz = std::fs::read(&p).unwrap();
        // More than one member: count gzip headers at member starts by decoding one by one.
        let mut members = 0;
        let mut rest: &[u8] = &gz;
        let mut got = Vec::new();
        while !rest.is_empty() {
            let mut d = flate2::bufread::GzDecoder::new(rest);
            d.read_to_end(&mut got).unwrap();
            rest = d.into_inner();
            members += 1;
        }
        assert!(members >= 3, "{members} members");
        assert_eq!(got, want);
        assert!(
            gz.len() * 5 < want.len(),
            "{} of {} bytes",
            gz.len(),
            want.len()
        );
        // Same lines, same bytes: the output depends on the lines only.
        let p2 = dir.path().join("u.jsonl.gz");
        let (f2, mut s2) = TraceFile::create_as(&p2, TraceFormat::Gzip).unwrap();
        for line in want.split_inclusive(|&b| b == b'\n') {
            s2.write_line(line);
        }
        f2.finish().unwrap();
        assert_eq!(std::fs::read(&p2).unwrap(), gz);
    }
}
