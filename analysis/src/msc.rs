//! Message sequence chart of one actor: every message it sent or received (with its fate:
//! delivered, dropped with cause, or still in flight) and its protocol outcomes, as Mermaid
//! `sequenceDiagram` text and as a standalone SVG.

use crate::error::{AnalysisError, Result};
use crate::reader::for_each_record;
use crate::report::esc;
use crate::style::FONT_FAMILY;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Default bound on chart items (a long run would give an unreadable chart anyway).
pub const DEFAULT_MAX_ITEMS: usize = 500;

/// Options of the message sequence chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MscOptions {
    /// The actor whose exchanges are shown.
    pub actor: u32,
    /// Only messages sent / outcomes at or after this virtual time, ns.
    pub from_ns: Option<u64>,
    /// Only messages sent / outcomes at or before this virtual time, ns.
    pub to_ns: Option<u64>,
    /// Most items kept (later ones are counted in [`Msc::omitted`]).
    pub max_items: usize,
}

impl MscOptions {
    /// Options for `actor` with no time window and the default item bound.
    pub fn new(actor: u32) -> Self {
        MscOptions {
            actor,
            from_ns: None,
            to_ns: None,
            max_items: DEFAULT_MAX_ITEMS,
        }
    }
}

/// A lifeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Actor id.
    pub id: u32,
    /// Actor name (`actor N` when the trace has no `actor` record for it).
    pub name: String,
    /// Actor kind (empty when unknown).
    pub kind: String,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Reached its receiver after `latency_ns`.
    Delivered {
        /// Network latency, ns.
        latency_ns: u64,
    },
    /// Dropped for `cause`.
    Dropped {
        /// Drop cause.
        cause: String,
    },
    /// No delivery or drop in the trace (window end, or run end).
    InFlight,
}

/// One row of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MscItem {
    /// A message (or a network duplicate of one).
    Message {
        /// Send time, ns.
        t_ns: u64,
        /// Message id.
        msg: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Message type.
        msg_type: String,
        /// Size, bytes (None for duplicates, whose record carries no size).
        bytes: Option<u32>,
        /// Whether this is a network duplicate.
        duplicate: bool,
        /// What became of it.
        fate: Fate,
    },
    /// A protocol outcome of the actor.
    Outcome {
        /// Outcome time, ns.
        t_ns: u64,
        /// Protocol.
        protocol: String,
        /// Status.
        status: String,
        /// Latency, ns.
        latency_ns: u64,
    },
}

/// A message sequence chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msc {
    /// The focus actor.
    pub actor: u32,
    /// Lifelines: the focus actor first, then peers in order of first exchange.
    pub participants: Vec<Participant>,
    /// Rows in trace order.
    pub items: Vec<MscItem>,
    /// Items beyond `max_items` that were left out.
    pub omitted: u64,
}

/// Files written by [`export_msc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MscPaths {
    /// `msc-<actor>.mmd` (Mermaid).
    pub mermaid: PathBuf,
    /// `msc-<actor>.svg`.
    pub svg: PathBuf,
}

/// Builds the chart of `opts.actor` from the trace at `trace`.
pub fn build_msc(trace: &Path, opts: &MscOptions) -> Result<Msc> {
    if let (Some(a), Some(b)) = (opts.from_ns, opts.to_ns) {
        if a > b {
            return Err(AnalysisError::InvalidOption(format!(
                "from {a} ns is after to {b} ns"
            )));
        }
    }
    let me = opts.actor;
    let mut actors: HashMap<u32, (String, String)> = HashMap::new();
    let mut items: Vec<MscItem> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut omitted = 0u64;
    let mut seen = false;
    let in_window =
        |t: u64| opts.from_ns.is_none_or(|f| t >= f) && opts.to_ns.is_none_or(|to| t <= to);
    for_each_record(trace, |_, r| {
        let t = r.t;
        let involves = r.from == Some(me) || r.to == Some(me);
        match r.ev.as_ref() {
            "actor" => {
                if let Some(id) = r.id {
                    seen |= id == me;
                    let name = r.name.as_deref().unwrap_or("").to_string();
                    let kind = r.kind.as_deref().unwrap_or("").to_string();
                    actors.insert(id, (name, kind));
                }
            }
            "send" | "duplicate" if involves => {
                seen = true;
                if !in_window(t) {
                    return Ok(());
                }
                if items.len() >= opts.max_items {
                    omitted += 1;
                    return Ok(());
                }
                let dup = r.ev == "duplicate";
                let id = if dup { r.dup } else { r.msg };
                let (Some(id), Some(from), Some(to)) = (id, r.from, r.to) else {
                    return Ok(());
                };
                index.insert(id, items.len());
                items.push(MscItem::Message {
                    t_ns: t,
                    msg: id,
                    from,
                    to,
                    msg_type: r.msg_type.as_deref().unwrap_or("?").to_string(),
                    bytes: if dup { None } else { r.bytes },
                    duplicate: dup,
                    fate: Fate::InFlight,
                });
            }
            "deliver" | "drop" if involves => {
                let Some(&i) = r.msg.and_then(|m| index.get(&m)) else {
                    return Ok(());
                };
                if let MscItem::Message { fate, .. } = &mut items[i] {
                    *fate = if r.ev == "deliver" {
                        Fate::Delivered {
                            latency_ns: r.latency_ns.unwrap_or(0),
                        }
                    } else {
                        Fate::Dropped {
                            cause: r.cause.as_deref().unwrap_or("?").to_string(),
                        }
                    };
                }
            }
            "outcome" if r.actor == Some(me) => {
                seen = true;
                if !in_window(t) {
                    return Ok(());
                }
                if items.len() >= opts.max_items {
                    omitted += 1;
                    return Ok(());
                }
                items.push(MscItem::Outcome {
                    t_ns: t,
                    protocol: r.protocol.as_deref().unwrap_or("?").to_string(),
                    status: r.status.as_deref().unwrap_or("?").to_string(),
                    latency_ns: r.latency_ns.unwrap_or(0),
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    if !seen {
        return Err(AnalysisError::UnknownActor(me));
    }
    let participant = |id: u32| {
        let (name, kind) = actors
            .get(&id)
            .cloned()
            .unwrap_or_else(|| (format!("actor {id}"), String::new()));
        Participant { id, name, kind }
    };
    let mut participants = vec![participant(me)];
    for it in &items {
        if let MscItem::Message { from, to, .. } = it {
            for id in [*from, *to] {
                if !participants.iter().any(|p| p.id == id) {
                    participants.push(participant(id));
                }
            }
        }
    }
    Ok(Msc {
        actor: me,
        participants,
        items,
        omitted,
    })
}

/// Writes `run_dir/msc-<actor>.mmd` and `run_dir/msc-<actor>.svg` from `run_dir/trace.jsonl`.
pub fn export_msc(run_dir: &Path, opts: &MscOptions) -> Result<MscPaths> {
    let msc = build_msc(&crate::trace_io::run_trace(run_dir), opts)?;
    let mermaid = run_dir.join(format!("msc-{}.mmd", opts.actor));
    let svg = run_dir.join(format!("msc-{}.svg", opts.actor));
    std::fs::write(&mermaid, msc_mermaid(&msc)).map_err(|e| AnalysisError::io(&mermaid, e))?;
    std::fs::write(&svg, msc_svg(&msc)).map_err(|e| AnalysisError::io(&svg, e))?;
    Ok(MscPaths { mermaid, svg })
}

/// Milliseconds with three decimals (µs resolution).
fn ms(t_ns: u64) -> String {
    format!("{}.{:03} ms", t_ns / 1_000_000, (t_ns % 1_000_000) / 1_000)
}

/// Mermaid treats `;` as a statement break and `#` as an entity start; neither may appear in
/// free text, nor may line breaks.
fn mermaid_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ';' => ',',
            '#' => '_',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

/// The label of a message row.
fn message_label(
    t_ns: u64,
    msg_type: &str,
    bytes: Option<u32>,
    duplicate: bool,
    fate: &Fate,
) -> String {
    let mut s = format!("[{}] ", ms(t_ns));
    if duplicate {
        s.push_str("duplicate ");
    }
    s.push_str(msg_type);
    if let Some(b) = bytes {
        let _ = write!(s, " ({b} B)");
    }
    match fate {
        Fate::Delivered { .. } => {}
        Fate::Dropped { cause } => {
            let _ = write!(s, " dropped: {cause}");
        }
        Fate::InFlight => s.push_str(" (no delivery in trace)"),
    }
    s
}

fn outcome_label(t_ns: u64, protocol: &str, status: &str, latency_ns: u64) -> String {
    format!(
        "[{}] {protocol}: {status} after {}",
        ms(t_ns),
        ms(latency_ns)
    )
}

/// Mermaid `sequenceDiagram` text. Delivered: `->>`; dropped: `-x`; in flight: `-)`.
pub fn msc_mermaid(msc: &Msc) -> String {
    let mut o = String::from("sequenceDiagram\n");
    for p in &msc.participants {
        let _ = writeln!(o, "    participant A{} as {}", p.id, mermaid_text(&p.name));
    }
    for it in &msc.items {
        match it {
            MscItem::Message {
                t_ns,
                from,
                to,
                msg_type,
                bytes,
                duplicate,
                fate,
                ..
            } => {
                let arrow = match fate {
                    Fate::Delivered { .. } => "->>",
                    Fate::Dropped { .. } => "-x",
                    Fate::InFlight => "-)",
                };
                let label = message_label(*t_ns, msg_type, *bytes, *duplicate, fate);
                let _ = writeln!(o, "    A{from}{arrow}A{to}: {}", mermaid_text(&label));
            }
            MscItem::Outcome {
                t_ns,
                protocol,
                status,
                latency_ns,
            } => {
                let label = outcome_label(*t_ns, protocol, status, *latency_ns);
                let _ = writeln!(o, "    Note over A{}: {}", msc.actor, mermaid_text(&label));
            }
        }
    }
    if msc.omitted > 0 {
        let _ = writeln!(
            o,
            "    Note over A{}: {} more items omitted",
            msc.actor, msc.omitted
        );
    }
    o
}

/// Standalone SVG rendering of the chart (no external resources).
pub fn msc_svg(msc: &Msc) -> String {
    const COL_W: i64 = 260;
    const ROW_H: i64 = 34;
    const TOP: i64 = 90;
    const LEFT: i64 = 40;
    let n = msc.participants.len() as i64;
    let rows = msc.items.len() as i64 + i64::from(msc.omitted > 0);
    let width = LEFT * 2 + COL_W * n.max(1);
    let height = TOP + ROW_H * (rows + 1) + 40;
    let col_x = |id: u32| {
        let i = msc
            .participants
            .iter()
            .position(|p| p.id == id)
            .unwrap_or(0) as i64;
        LEFT + COL_W * i + COL_W / 2
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"{FONT_FAMILY}\" font-size=\"13\">\n\
<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n\
<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
<text x=\"{LEFT}\" y=\"28\" font-size=\"20\">Message sequence chart — {}</text>",
        esc(&msc.participants.first().map(|p| p.name.clone()).unwrap_or_default())
    );
    let bottom = TOP + ROW_H * (rows + 1);
    for p in &msc.participants {
        let x = col_x(p.id);
        let label = if p.kind.is_empty() {
            p.name.clone()
        } else {
            format!("{} ({})", p.name, p.kind)
        };
        let _ = writeln!(
            o,
            "<rect x=\"{}\" y=\"44\" width=\"{}\" height=\"30\" rx=\"4\" fill=\"#e8eef7\" stroke=\"#1f77b4\"/>\
<text x=\"{x}\" y=\"64\" text-anchor=\"middle\">{}</text>\
<line x1=\"{x}\" y1=\"74\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>",
            x - COL_W / 2 + 10,
            COL_W - 20,
            esc(&label)
        );
    }
    for (i, it) in msc.items.iter().enumerate() {
        let y = TOP + ROW_H * (i as i64 + 1);
        match it {
            MscItem::Message {
                t_ns,
                from,
                to,
                msg_type,
                bytes,
                duplicate,
                fate,
                ..
            } => {
                let (x1, x2) = (col_x(*from), col_x(*to));
                let label = message_label(*t_ns, msg_type, *bytes, *duplicate, fate);
                let (color, dash) = match fate {
                    Fate::Delivered { .. } => ("#333", ""),
                    Fate::Dropped { .. } => ("#c62828", ""),
                    Fate::InFlight => ("#777", " stroke-dasharray=\"6 4\""),
                };
                let end = match fate {
                    Fate::Dropped { .. } => x1 + (x2 - x1) * 3 / 4,
                    _ => x2,
                };
                let marker = if matches!(fate, Fate::Dropped { .. }) {
                    ""
                } else {
                    " marker-end=\"url(#arr)\""
                };
                let _ = writeln!(
                    o,
                    "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{end}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"1.5\"{dash}{marker}/>\
<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{color}\">{}</text>",
                    (x1 + x2) / 2,
                    y - 6,
                    esc(&label)
                );
                if matches!(fate, Fate::Dropped { .. }) {
                    let _ = writeln!(
                        o,
                        "<path d=\"M{} {} l10 10 M{} {} l-10 10\" stroke=\"#c62828\" stroke-width=\"2\"/>",
                        end - 5, y - 5, end + 5, y - 5
                    );
                }
            }
            MscItem::Outcome {
                t_ns,
                protocol,
                status,
                latency_ns,
            } => {
                let x = col_x(msc.actor);
                let label = outcome_label(*t_ns, protocol, status, *latency_ns);
                let fill = if status == "success" {
                    "#fff8dc"
                } else {
                    "#fde0dc"
                };
                let _ = writeln!(
                    o,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"24\" fill=\"{fill}\" stroke=\"#b59f3b\"/>\
<text x=\"{}\" y=\"{}\">{}</text>",
                    x - COL_W / 2 + 10,
                    y - 17,
                    (COL_W * 2 - 40).min(width - (x - COL_W / 2 + 10) - 10),
                    x - COL_W / 2 + 16,
                    y,
                    esc(&label)
                );
            }
        }
    }
    if msc.omitted > 0 {
        let y = TOP + ROW_H * (msc.items.len() as i64 + 1);
        let _ = writeln!(
            o,
            "<text x=\"{LEFT}\" y=\"{y}\">… {} more items omitted</text>",
            msc.omitted
        );
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_text_is_sanitised() {
        assert_eq!(mermaid_text("a;b#c\nd"), "a,b_c d");
        assert_eq!(ms(1_234_567), "1.234 ms");
        assert_eq!(ms(0), "0.000 ms");
    }
}
