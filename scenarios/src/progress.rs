//! Progress bar on stderr over virtual time. Hidden when stderr is not a terminal, and
//! only drawn once a run has taken more than a second of wall time (short runs stay quiet).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Wall time after which the bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Progress reporting handed to the engine loop.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    allowed: bool,
    shown: Cell<bool>,
}

impl Progress {
    /// A progress bar over `horizon_ns` of virtual time; `enabled` = the user allows it.
    pub fn new(horizon_ns: u64, enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(horizon_ns / 1_000_000),
            ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ms virtual  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            started: Instant::now(),
            allowed: enabled && std::io::stderr().is_terminal(),
            shown: Cell::new(false),
        }
    }

    /// A progress reporter that never draws (tests, library use).
    pub fn hidden() -> Self {
        Self::new(0, false)
    }

    /// Reports virtual time `now_ns` and `events` processed. Cheap, but the engine should
    /// call it every few thousand events rather than per event.
    pub fn update(&self, now_ns: u64, events: u64) {
        if !self.allowed {
            return;
        }
        if !self.shown.get() {
            if self.started.elapsed() < SHOW_AFTER {
                return;
            }
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown.set(true);
        }
        self.bar.set_position(now_ns / 1_000_000);
        self.bar.set_message(format!("{events} events"));
    }

    /// Whether the user allowed progress output.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if self.shown.get() {
            self.bar.finish_and_clear();
        }
    }
}
