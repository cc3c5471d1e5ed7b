//! `[[adversary.rules]]` → the programmable attacker's rules (`sim_core::adversary::rules`),
//! with every check that needs the rule language itself: actions and their parameters,
//! field names per message kind (docs/pdus.md), re-signing only with a key the attacker
//! holds. Validation reports each problem at its field; the builder uses the same code.

use crate::model::{Adversary, AdversaryKind, Edit, Position, Rule};
use sim_core::adversary::rules::{self as r, field, Action, Dest, EditOp, Match};

/// Default hold time of `delay` and `reorder`, ns.
pub const DEFAULT_HOLD_NS: u64 = 1_000_000_000;

/// A problem: the field (relative to the rule, e.g. `["edits", "0", "field"]`) and what is
/// wrong with it.
pub type RuleProblem = (Vec<String>, String);

fn concrete_kinds(rule: &Rule) -> Vec<&str> {
    rule.when
        .kind
        .iter()
        .map(String::as_str)
        .filter(|k| !k.ends_with('*'))
        .collect()
}

fn edits(edits: &[Edit], kinds: &[&str], out: &mut Vec<RuleProblem>) -> Vec<r::Edit> {
    let mut v = Vec::new();
    for (k, e) in edits.iter().enumerate() {
        let at = |f: &str| vec!["edits".to_string(), k.to_string(), f.to_string()];
        let mut path = None;
        for kind in kinds {
            match field::validate(kind, &e.field) {
                Ok(p) => path = Some(p),
                Err(m) => out.push((at("field"), m)),
            }
        }
        let path = match path {
            Some(p) => p,
            None => match field::FieldPath::parse(&e.field) {
                Ok(p) => p,
                Err(m) => {
                    out.push((at("field"), m));
                    continue;
                }
            },
        };
        let op =
            e.op.as_deref()
                .unwrap_or(if e.value.is_some() { "set" } else { "" });
        let op = match op {
            "set" => match &e.value {
                Some(x) => EditOp::Set(x.clone()),
                None => {
                    out.push((at("value"), "`set` needs a `value`".into()));
                    continue;
                }
            },
            "flip" => EditOp::Flip,
            "remove" => EditOp::Remove,
            "swap" => {
                let from_field = match e.from_field.as_deref().map(field::FieldPath::parse) {
                    Some(Ok(p)) => Some(p),
                    Some(Err(m)) => {
                        out.push((at("from_field"), m));
                        continue;
                    }
                    None => None,
                };
                if let Some(k) = &e.from {
                    if !sim_core::pdu::ALL_KINDS.contains(&k.as_str()) {
                        out.push((at("from"), format!("unknown message kind `{k}`")));
                    }
                }
                EditOp::Swap {
                    kind: e.from.clone(),
                    field: from_field,
                }
            }
            "add_extension" => EditOp::AddExtension {
                xsi_type: e.xsi_type.clone().unwrap_or_else(|| "roap:Unknown".into()),
                critical: e.critical,
            },
            "" => {
                out.push((
                    at("op"),
                    "an edit needs `value` (set) or `op` = flip | remove | swap | add_extension"
                        .into(),
                ));
                continue;
            }
            o => {
                out.push((
                    at("op"),
                    format!("unknown op `{o}` (set, flip, remove, swap, add_extension)"),
                ));
                continue;
            }
        };
        v.push(r::Edit { field: path, op });
    }
    v
}

/// Converts rule `j` of `a`; problems go to `out`.
pub fn convert_rule(a: &Adversary, j: usize, rule: &Rule, out: &mut Vec<RuleProblem>) -> r::Rule {
    let at = |f: &str| vec![f.to_string()];
    let kinds = concrete_kinds(rule);
    let mut fields = Vec::new();
    for (p, v) in &rule.when.fields {
        if kinds.is_empty() {
            out.push((
                vec!["when".into(), "fields".into()],
                "field predicates need `when.kind` naming concrete message kinds".into(),
            ));
        }
        for k in &kinds {
            if let Err(m) = field::validate(k, p) {
                out.push((vec!["when".into(), "fields".into(), p.clone()], m));
            }
        }
        if let Ok(fp) = field::FieldPath::parse(p) {
            fields.push((fp, v.clone()));
        }
    }
    let when = Match {
        kinds: rule.when.kind.clone(),
        from: rule.when.from.clone(),
        to: rule.when.to.clone(),
        from_ns: rule.when.after.map_or(0, |d| d.as_ns()),
        to_ns: rule.when.before.map_or(u64::MAX, |d| d.as_ns()),
        fields,
        nth: rule.when.nth,
    };
    let compromised = a.position == Position::Compromised;
    let after_ns = rule.after.map_or(0, |d| d.as_ns());
    let to = Dest::parse(rule.to.as_deref().unwrap_or("same"));
    let check_resign = |kinds: &[&str], out: &mut Vec<RuleProblem>| {
        if !rule.resign {
            return;
        }
        if !compromised {
            out.push((
                at("resign"),
                "re-signing needs a key: only a compromised adversary holds one".into(),
            ));
        }
        for k in kinds {
            if !r::resignable(k) {
                out.push((
                    at("resign"),
                    format!("{k} is not signed by an endpoint's private key over the message itself (transcript signature, session MAC or unsigned): it cannot be re-signed"),
                ));
            }
        }
    };
    let then = match rule.then.as_str() {
        "drop" => Action::Drop,
        "delay" => Action::Delay {
            by_ns: rule.by.map_or(DEFAULT_HOLD_NS, |d| d.as_ns()),
        },
        "reorder" => Action::Reorder {
            by_ns: rule.by.map_or(DEFAULT_HOLD_NS, |d| d.as_ns()),
        },
        "duplicate" => Action::Duplicate {
            copies: rule.copies.unwrap_or(1).max(1),
            after_ns,
        },
        "replay" => Action::Replay { to, after_ns },
        "modify" => {
            if kinds.is_empty() {
                out.push((
                    vec!["when".into(), "kind".into()],
                    "modify needs `when.kind` naming concrete message kinds (fields are per kind)"
                        .into(),
                ));
            }
            if rule.edits.is_empty() {
                out.push((at("edits"), "modify needs at least one edit".into()));
            }
            check_resign(&kinds, out);
            Action::Modify {
                edits: edits(&rule.edits, &kinds, out),
                resign: rule.resign,
            }
        }
        "inject" => {
            let built: Vec<&str> = match &rule.kind {
                Some(k) => vec![k.as_str()],
                None => kinds.clone(),
            };
            if built.is_empty() {
                out.push((
                    at("kind"),
                    "inject needs `kind` (or `when.kind` naming concrete kinds)".into(),
                ));
            }
            for k in &built {
                if !sim_core::pdu::ALL_KINDS.contains(k) {
                    out.push((at("kind"), format!("unknown message kind `{k}`")));
                }
            }
            check_resign(&built, out);
            // `$path` values read the matched message: check them against its kinds.
            for (k, e) in rule.edits.iter().enumerate() {
                if let Some(p) = e.value.as_deref().and_then(|v| v.strip_prefix('$')) {
                    for mk in &kinds {
                        if let Err(m) = field::validate(mk, p) {
                            out.push((vec!["edits".into(), k.to_string(), "value".into()], m));
                        }
                    }
                }
            }
            let checked: Vec<&str> = built
                .iter()
                .copied()
                .filter(|k| sim_core::pdu::ALL_KINDS.contains(k))
                .collect();
            Action::Inject {
                kind: rule.kind.clone(),
                to,
                edits: edits(&rule.edits, &checked, out),
                resign: rule.resign,
                after_ns,
            }
        }
        "flood" => {
            let kind = rule.kind.clone().unwrap_or_default();
            if !sim_core::pdu::ALL_KINDS.contains(&kind.as_str()) {
                out.push((
                    at("kind"),
                    format!("flood needs a message `kind`, not `{kind}`"),
                ));
            }
            let rate = rule.rate_per_s.unwrap_or(0.0);
            if !(rate.is_finite() && rate > 0.0) {
                out.push((at("rate_per_s"), "flood needs `rate_per_s` > 0".into()));
            }
            let target = rule.to.clone().unwrap_or_default();
            if target.is_empty() || target.contains(',') {
                out.push((
                    at("to"),
                    "flood needs `to`: one actor, e.g. \"ri/0\"".into(),
                ));
            }
            let ks: Vec<&str> = if sim_core::pdu::ALL_KINDS.contains(&kind.as_str()) {
                vec![kind.as_str()]
            } else {
                Vec::new()
            };
            if rule.edits.iter().any(|e| e.op.as_deref() == Some("swap")) {
                out.push((
                    at("edits"),
                    "a flood cannot swap: it sees no message".into(),
                ));
            }
            Action::Flood {
                kind: kind.clone(),
                to: target,
                rate_per_s: rate,
                edits: edits(&rule.edits, &ks, out),
            }
        }
        "skew" => {
            let ok = compromised
                && a.endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("agent/") || e.starts_with("sce_agent/"));
            if !ok {
                out.push((
                    at("then"),
                    "skew changes a compromised Device's clock: the adversary must be compromised with an agent endpoint".into(),
                ));
            }
            let by = rule.skew_s.unwrap_or(0);
            if by == 0 {
                out.push((at("skew_s"), "skew needs a non-zero `skew_s`".into()));
            }
            Action::Skew {
                by_ns: by.saturating_mul(1_000_000_000),
            }
        }
        other => {
            out.push((
                at("then"),
                format!("unknown action `{other}` (drop, delay, reorder, duplicate, replay, modify, inject, flood, skew)"),
            ));
            Action::Drop
        }
    };
    let used = |f: bool, name: &str, out: &mut Vec<RuleProblem>| {
        if f {
            out.push((
                at(name),
                format!("`{name}` does not apply to `{}`", rule.then),
            ));
        }
    };
    let t = rule.then.as_str();
    used(
        rule.by.is_some() && !matches!(t, "delay" | "reorder"),
        "by",
        out,
    );
    used(
        rule.after.is_some() && !matches!(t, "duplicate" | "replay" | "inject"),
        "after",
        out,
    );
    used(
        rule.to.is_some() && !matches!(t, "replay" | "inject" | "flood"),
        "to",
        out,
    );
    used(rule.copies.is_some() && t != "duplicate", "copies", out);
    used(
        rule.kind.is_some() && !matches!(t, "inject" | "flood"),
        "kind",
        out,
    );
    used(rule.rate_per_s.is_some() && t != "flood", "rate_per_s", out);
    used(rule.skew_s.is_some() && t != "skew", "skew_s", out);
    used(
        !rule.edits.is_empty() && !matches!(t, "modify" | "inject" | "flood"),
        "edits",
        out,
    );
    used(
        rule.resign && !matches!(t, "modify" | "inject"),
        "resign",
        out,
    );
    if rule.budget == 0 {
        out.push((at("budget"), "must be at least 1".into()));
    }
    r::Rule {
        name: rule.name.clone().unwrap_or_else(|| format!("rule/{j}")),
        when,
        then,
        budget: rule.budget,
    }
}

/// The rules of `a` (empty for the other kinds); problems go to `out` as
/// `(rule index, field, message)`.
pub fn convert(a: &Adversary, out: &mut Vec<(usize, Vec<String>, String)>) -> Vec<r::Rule> {
    if a.kind != AdversaryKind::Rules {
        return Vec::new();
    }
    a.rules
        .iter()
        .enumerate()
        .map(|(j, rule)| {
            let mut p = Vec::new();
            let r = convert_rule(a, j, rule, &mut p);
            out.extend(p.into_iter().map(|(f, m)| (j, f, m)));
            r
        })
        .collect()
}
