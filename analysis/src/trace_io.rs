//! Opening a trace file in either on-disk format (docs/trace-schema.md "Formats"): plain
//! JSON Lines (`trace.jsonl`) or the same lines as consecutive gzip members
//! (`trace.jsonl.gz`). The format is told by the file's first bytes, not its name, so a
//! renamed file still reads. Readers see the JSON Lines either way, and the digest is
//! defined over them.

use crate::error::{AnalysisError, Result};
use flate2::bufread::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Read-buffer size: large reads keep the syscall count low on multi-GB files.
pub const READ_BUFFER_BYTES: usize = 1 << 20;

/// The two bytes every gzip member starts with (RFC 1952 §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` and returns a reader of its JSON Lines, decompressing gzip members.
///
/// A gzip trace torn by a killed writer ends in an incomplete member: reading it yields an
/// `UnexpectedEof` error after the last complete line, which callers treat as a truncated
/// tail.
pub fn open_trace(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| AnalysisError::io(path, e))?;
    let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, file);
    let head = buffered
        .fill_buf()
        .map_err(|e| AnalysisError::io(path, e))?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            MultiGzDecoder::new(buffered),
        )))
    } else {
        Ok(Box::new(buffered))
    }
}

/// `run_dir/name` when `name` (summary.json's `trace_file`) names a plain file in the run
/// directory: not empty, no `/` or `\\`, not `..`. `None` for any other name, which could
/// reach outside the directory.
pub fn named_trace(run_dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty() && !name.contains(['/', '\\']) && name != "..";
    plain.then(|| run_dir.join(name))
}

/// The trace file of a run directory: the one summary.json's `trace_file` names when it
/// names a plain file in the directory ([`named_trace`]), else `trace.jsonl`, else
/// `trace.jsonl.gz` when only that exists.
pub fn run_trace_path(run_dir: &Path, summary: Option<&serde_json::Value>) -> PathBuf {
    let named = summary
        .and_then(|s| s.get("trace_file"))
        .and_then(|v| v.as_str())
        .and_then(|n| named_trace(run_dir, n));
    if let Some(p) = named {
        return p;
    }
    let plain = run_dir.join("trace.jsonl");
    let gz = run_dir.join("trace.jsonl.gz");
    if !plain.exists() && gz.exists() {
        gz
    } else {
        plain
    }
}

/// The trace file of a run directory, reading `trace_file` from its summary.json when there
/// is one (see [`run_trace_path`]; an unreadable summary falls back to the default names,
/// and the digest check then reports the summary's problem).
pub fn run_trace(run_dir: &Path) -> PathBuf {
    let summary = crate::integrity::read_summary(run_dir).ok().flatten();
    run_trace_path(run_dir, summary.as_ref())
}

/// Whether an error from reading a trace means "the file ends inside a gzip member" (a
/// torn tail), as opposed to damage or an IO failure.
pub fn is_torn_tail(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::UnexpectedEof
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn both_formats_read_as_the_same_lines_and_a_torn_member_is_an_eof() {
        let dir = tempfile::tempdir().unwrap();
        let lines = b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
        let plain = dir.path().join("x");
        std::fs::write(&plain, lines).unwrap();
        let mut members = gz(&lines[..8]);
        members.extend(gz(&lines[8..]));
        let packed = dir.path().join("y");
        std::fs::write(&packed, &members).unwrap();
        for p in [&plain, &packed] {
            let mut got = Vec::new();
            open_trace(p).unwrap().read_to_end(&mut got).unwrap();
            assert_eq!(got, lines, "{}", p.display());
        }
        std::fs::write(&packed, &members[..members.len() - 5]).unwrap();
        let mut got = Vec::new();
        let err = open_trace(&packed)
            .unwrap()
            .read_to_end(&mut got)
            .unwrap_err();
        assert!(is_torn_tail(&err), "{err}");
        assert!(got.starts_with(&lines[..8]));
    }

    #[test]
    fn the_run_trace_is_found_by_summary_then_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(run_trace_path(d, None), d.join("trace.jsonl"));
        std::fs::write(d.join("trace.jsonl.gz"), b"").unwrap();
        assert_eq!(run_trace_path(d, None), d.join("trace.jsonl.gz"));
        let s = serde_json::json!({"trace_file": "../etc"});
        assert_eq!(run_trace_path(d, Some(&s)), d.join("trace.jsonl.gz"));
        let s = serde_json::json!({"trace_file": "trace.jsonl"});
        assert_eq!(run_trace_path(d, Some(&s)), d.join("trace.jsonl"));
    }
}
