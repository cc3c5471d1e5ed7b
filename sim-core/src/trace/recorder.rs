//! The trace recorder: numbers records, serialises them to canonical JSON lines, digests
//! the bytes and hands each line to a [`LineSink`] (the scenarios crate writes it to disk).

use super::{TraceEvent, TraceRecord};
use sha2::{Digest, Sha256};

/// Receives canonical trace lines (each ends with `\n`). Implemented outside sim-core for files.
pub trait LineSink {
    /// Accepts one serialised record.
    fn write_line(&mut self, line: &[u8]);
}

/// Discards lines (the digest is still computed when recording is on).
#[derive(Debug, Default)]
pub struct NullSink;

impl LineSink for NullSink {
    fn write_line(&mut self, _line: &[u8]) {}
}

/// Keeps every line in memory (tests, small runs).
#[derive(Debug, Default)]
pub struct VecSink {
    /// The concatenated lines.
    pub bytes: Vec<u8>,
}

impl LineSink for VecSink {
    fn write_line(&mut self, line: &[u8]) {
        self.bytes.extend_from_slice(line);
    }
}

impl<T: LineSink + ?Sized> LineSink for Box<T> {
    fn write_line(&mut self, line: &[u8]) {
        (**self).write_line(line)
    }
}

/// A callback that sees every record.
pub type Observer = Box<dyn FnMut(&TraceRecord)>;

/// What to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceConfig {
    /// Record anything at all (off for raw engine benchmarks).
    pub enabled: bool,
    /// Record timer set/fire/cancel (the largest share of a big trace).
    pub timers: bool,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig {
            enabled: true,
            timers: true,
        }
    }
}

/// Numbers, serialises, digests and forwards trace records.
pub struct TraceRecorder {
    config: TraceConfig,
    next_seq: u64,
    hasher: Sha256,
    buf: Vec<u8>,
    sink: Box<dyn LineSink>,
    observers: Vec<Observer>,
}

impl std::fmt::Debug for TraceRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceRecorder")
            .field("config", &self.config)
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

impl TraceRecorder {
    /// A recorder writing to `sink`.
    pub fn new(config: TraceConfig, sink: Box<dyn LineSink>) -> Self {
        TraceRecorder {
            config,
            next_seq: 0,
            hasher: Sha256::new(),
            buf: Vec::with_capacity(256),
            sink,
            observers: Vec::new(),
        }
    }

    /// A recorder that records nothing.
    pub fn disabled() -> Self {
        Self::new(
            TraceConfig {
                enabled: false,
                timers: false,
            },
            Box::new(NullSink),
        )
    }

    /// Registers a callback that sees every record (online monitors, progress). Observers
    /// see the same records whether or not the trace is written: outcomes and scores never
    /// depend on `[trace] enabled`.
    pub fn observe(&mut self, f: Observer) {
        self.observers.push(f);
    }

    /// Whether anyone wants records: the trace is written or an observer is attached. The
    /// engine builds a record only when this holds.
    #[inline]
    pub fn active(&self) -> bool {
        self.config.enabled || !self.observers.is_empty()
    }

    /// Whether records are being kept.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Whether timer records are being kept.
    #[inline]
    pub fn timers(&self) -> bool {
        self.config.enabled && self.config.timers
    }

    /// Records `ev` at virtual time `t_ns`: written and digested when the trace is on,
    /// shown to the observers either way.
    pub fn record(&mut self, t_ns: u64, ev: TraceEvent) {
        if !self.config.enabled {
            if !self.observers.is_empty() {
                let rec = TraceRecord {
                    t: t_ns,
                    seq: self.next_seq,
                    ev,
                };
                self.next_seq += 1;
                for o in &mut self.observers {
                    o(&rec);
                }
            }
            return;
        }
        let rec = TraceRecord {
            t: t_ns,
            seq: self.next_seq,
            ev,
        };
        self.next_seq += 1;
        self.buf.clear();
        rec.write_json(&mut self.buf);
        self.buf.push(b'\n');
        self.hasher.update(&self.buf);
        self.sink.write_line(&self.buf);
        for o in &mut self.observers {
            o(&rec);
        }
    }

    /// Records written so far (0 when the trace is off).
    pub fn records(&self) -> u64 {
        if self.config.enabled {
            self.next_seq
        } else {
            0
        }
    }

    /// Hex SHA-256 over every line written so far (the run's trace digest); `None` when
    /// the trace is off: there is no trace to identify.
    pub fn digest(&self) -> Option<String> {
        self.config
            .enabled
            .then(|| hex::encode(self.hasher.clone().finalize()))
    }

    /// Hex SHA-256 over every line written so far (the SHA-256 of empty input when the
    /// trace is off; prefer [`TraceRecorder::digest`]).
    pub fn digest_hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }

    /// Takes the sink back (e.g. to flush and close a file).
    pub fn into_sink(self) -> Box<dyn LineSink> {
        self.sink
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_covers_every_byte_and_seq_counts() {
        let mut a = TraceRecorder::new(TraceConfig::default(), Box::new(NullSink));
        let mut b = TraceRecorder::new(TraceConfig::default(), Box::new(NullSink));
        let note = |text: &str| TraceEvent::Note {
            actor: 1,
            text: text.into(),
        };
        a.record(5, note("x"));
        b.record(5, note("y"));
        assert_ne!(a.digest_hex(), b.digest_hex());
        assert_eq!(a.records(), 1);
    }

    /// The hand-opened line is byte for byte what serde writes for the flattened record
    /// (so trace digests do not depend on which one wrote the line).
    #[test]
    fn hand_written_record_prefix_equals_the_serde_line() {
        let evs = vec![
            TraceEvent::TimerFire { actor: 3, timer: 9 },
            TraceEvent::Note {
                actor: 1,
                text: "quote \" backslash \\ newline \n é".into(),
            },
            TraceEvent::Send {
                msg: u64::MAX,
                from: 0,
                to: u32::MAX,
                msg_type: "roap:roRequest".into(),
                bytes: 1234,
            },
            TraceEvent::RunStart {
                schema: 1,
                seed: 7,
                scenario: "s".into(),
                crypto: "symbolic".into(),
            },
        ];
        for (i, ev) in evs.into_iter().enumerate() {
            let rec = TraceRecord {
                t: 10_000_000_000 + i as u64,
                seq: i as u64,
                ev,
            };
            let mut out = b"prefix".to_vec();
            rec.write_json(&mut out);
            assert_eq!(
                std::str::from_utf8(&out[6..]).unwrap(),
                serde_json::to_string(&rec).unwrap()
            );
        }
    }

    #[test]
    fn line_format_is_flat_json_with_tag() {
        let mut r = TraceRecorder::new(TraceConfig::default(), Box::new(NullSink));
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let s2 = seen.clone();
        r.observe(Box::new(move |rec| s2.borrow_mut().push(rec.clone())));
        r.record(10, TraceEvent::TimerFire { actor: 3, timer: 9 });
        let line = serde_json::to_string(&seen.borrow()[0]).unwrap();
        assert_eq!(
            line,
            r#"{"t":10,"seq":0,"ev":"timer_fire","actor":3,"timer":9}"#
        );
        let back: TraceRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, seen.borrow()[0]);
    }
}
