//! Streaming trace reader. A trace can be many gigabytes, so it is never loaded whole: lines
//! are read one at a time into a reusable buffer and parsed into a borrowed [`RawRecord`]
//! whose fields are all optional. This avoids the `#[serde(flatten)]` path of
//! `sim_core::trace::TraceRecord`, which buffers every field into an intermediate map and is
//! several times slower.

use crate::error::{AnalysisError, Result};
use serde::Deserialize;
use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::path::Path;

/// Longest accepted trace line; a line this long is corrupt or hostile, never a real record.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One trace line, borrowed from the line buffer. Field names follow the trace schema
/// (`sim-core/src/trace/record.rs`); which fields are present depends on `ev`.
#[derive(Debug, Default, Deserialize)]
pub struct RawRecord<'a> {
    /// Virtual time, ns.
    pub t: u64,
    /// Sequence number.
    pub seq: u64,
    /// Event tag (`send`, `deliver`, `outcome`, …).
    #[serde(borrow)]
    pub ev: Cow<'a, str>,
    /// `run_start`: schema version.
    pub schema: Option<u32>,
    /// `run_start`: master seed.
    pub seed: Option<u64>,
    /// `run_start`: scenario name.
    #[serde(borrow)]
    pub scenario: Option<Cow<'a, str>>,
    /// `run_start`: crypto mode.
    #[serde(borrow)]
    pub crypto: Option<Cow<'a, str>>,
    /// `actor`: actor id.
    pub id: Option<u32>,
    /// `actor`: actor kind.
    #[serde(borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// `actor`: stable name.
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    /// `actor`: network group.
    #[serde(borrow)]
    pub group: Option<Cow<'a, str>>,
    /// `actor`: CPU workers of a server (0 = no CPU model; absent in old traces).
    #[serde(default)]
    pub workers: Option<u32>,
    /// Message id.
    pub msg: Option<u64>,
    /// `duplicate`: id of the copy.
    pub dup: Option<u64>,
    /// Sender.
    pub from: Option<u32>,
    /// Receiver.
    pub to: Option<u32>,
    /// Message type.
    #[serde(borrow, rename = "type")]
    pub msg_type: Option<Cow<'a, str>>,
    /// Message size, bytes.
    pub bytes: Option<u32>,
    /// Network or protocol latency, ns.
    pub latency_ns: Option<u64>,
    /// `drop`: cause.
    #[serde(borrow)]
    pub cause: Option<Cow<'a, str>>,
    /// Acting actor (server, timer owner, initiator, adversary, note author).
    pub actor: Option<u32>,
    /// Queue length after the event.
    pub queue_len: Option<u32>,
    /// `service_start`: queueing delay, ns.
    pub queue_delay_ns: Option<u64>,
    /// `service_start`: busy workers after the start.
    pub busy: Option<u32>,
    /// `service_end`: virtual CPU time, ns.
    pub service_ns: Option<u64>,
    /// Timer id.
    pub timer: Option<u64>,
    /// `timer_set`: firing time, ns.
    pub at: Option<u64>,
    /// `outcome`: peer.
    pub peer: Option<u32>,
    /// `outcome`: protocol name.
    #[serde(borrow)]
    pub protocol: Option<Cow<'a, str>>,
    /// `outcome`: status.
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
    /// `outcome`: attempts.
    pub attempts: Option<u32>,
    /// `attack`: attack name.
    #[serde(borrow)]
    pub attack: Option<Cow<'a, str>>,
    /// `attack`: target.
    pub target: Option<u32>,
    /// `attack`: whether it succeeded.
    pub success: Option<bool>,
    /// `attack`/`violation`: detail.
    #[serde(borrow)]
    pub detail: Option<Cow<'a, str>>,
    /// `violation`: invariant name.
    #[serde(borrow)]
    pub invariant: Option<Cow<'a, str>>,
    /// `violation`: causal message chain.
    pub chain: Option<Vec<u64>>,
    /// `note`: text.
    #[serde(borrow)]
    pub text: Option<Cow<'a, str>>,
    /// `run_end`: reason.
    #[serde(borrow)]
    pub reason: Option<Cow<'a, str>>,
    /// `run_end`: events processed.
    pub events: Option<u64>,
}

impl RawRecord<'_> {
    /// A required field, or a parse error naming it.
    pub fn need<T: Copy>(&self, v: Option<T>, field: &str, line: u64) -> Result<T> {
        v.ok_or_else(|| AnalysisError::Parse {
            line,
            message: format!("`{}` record without `{field}`", self.ev),
        })
    }
}

/// What the reader saw besides the records themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Records parsed.
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// The file ended in a partial line that did not parse (a run killed mid-write); it was
    /// skipped. Any other malformed line is an error.
    pub truncated_tail: bool,
}

/// Calls `f` with every record of the trace at `path`, in file order.
pub fn for_each_record<F>(path: &Path, f: F) -> Result<ReadStats>
where
    F: FnMut(u64, &RawRecord<'_>) -> Result<()>,
{
    let reader = crate::trace_io::open_trace(path)?;
    for_each_record_in(reader, f).map_err(|e| match e {
        AnalysisError::Io { source, .. } => AnalysisError::io(path, source),
        other => other,
    })
}

/// Calls `f(line_number, record)` for every record read from `reader`.
pub fn for_each_record_in<R, F>(mut reader: R, mut f: F) -> Result<ReadStats>
where
    R: BufRead,
    F: FnMut(u64, &RawRecord<'_>) -> Result<()>,
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut stats = ReadStats::default();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = match (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
        {
            Ok(n) => n,
            // A gzip trace whose last member was torn (writer killed): what came before it
            // is intact; the partial line in `buf` is dropped like any torn last line.
            Err(e) if crate::trace_io::is_torn_tail(&e) => {
                stats.truncated_tail = true;
                break;
            }
            Err(e) => return Err(AnalysisError::io("<trace>", e)),
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        stats.bytes += n as u64;
        let complete = buf.last() == Some(&b'\n');
        if !complete && n > MAX_LINE_BYTES {
            return Err(AnalysisError::LineTooLong {
                line: line_no,
                limit_bytes: MAX_LINE_BYTES,
            });
        }
        let line = trim_line(&buf);
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<RawRecord<'_>>(line) {
            Ok(rec) => {
                stats.records += 1;
                f(line_no, &rec)?;
            }
            Err(e) => {
                if !complete {
                    // Last line, no newline, unparsable: the writer died mid-line.
                    stats.truncated_tail = true;
                    break;
                }
                return Err(AnalysisError::Parse {
                    line: line_no,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(stats)
}

/// Strips the line terminator (`\n` or `\r\n`) and surrounding ASCII whitespace.
fn trim_line(buf: &[u8]) -> &[u8] {
    let mut s = buf;
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<(Vec<(u64, String)>, ReadStats)> {
        let mut out = Vec::new();
        let st = for_each_record_in(s.as_bytes(), |_, r| {
            out.push((r.seq, r.ev.to_string()));
            Ok(())
        })?;
        Ok((out, st))
    }

    #[test]
    fn reads_lines_and_skips_blank() {
        let (v, st) = read("{\"t\":0,\"seq\":0,\"ev\":\"run_end\",\"reason\":\"x\",\"events\":1}\n\n{\"t\":1,\"seq\":1,\"ev\":\"note\",\"actor\":1,\"text\":\"a\\\"b\"}\r\n").unwrap();
        assert_eq!(v, vec![(0, "run_end".into()), (1, "note".into())]);
        assert_eq!(st.records, 2);
        assert!(!st.truncated_tail);
    }

    #[test]
    fn truncated_tail_is_tolerated_but_middle_garbage_is_not() {
        let (_, st) =
            read("{\"t\":0,\"seq\":0,\"ev\":\"note\",\"actor\":1,\"text\":\"a\"}\n{\"t\":1,\"se")
                .unwrap();
        assert!(st.truncated_tail);
        let e = read(
            "{\"t\":0,\"seq\":0,\"ev\":\"note\"}\n{garbage\n{\"t\":1,\"seq\":1,\"ev\":\"note\"}\n",
        )
        .unwrap_err();
        assert!(matches!(e, AnalysisError::Parse { line: 2, .. }), "{e}");
    }

    #[test]
    fn wrong_field_type_is_an_error_not_a_panic() {
        let e = read("{\"t\":\"zero\",\"seq\":0,\"ev\":\"note\"}\n").unwrap_err();
        assert!(matches!(e, AnalysisError::Parse { line: 1, .. }));
        let e = read("{\"t\":0,\"seq\":0,\"ev\":\"send\",\"bytes\":-5}\n").unwrap_err();
        assert!(matches!(e, AnalysisError::Parse { .. }));
    }
}
