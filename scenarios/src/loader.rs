//! Loading: TOML text -> spanned index -> serde structs -> semantic checks -> sweep checks.
//! Every error is rendered as `file:line:col: [section] field: message`.

use crate::error::{suggest, Location, ScenarioError};
use crate::model::{Scenario, Source};
use crate::spans::{render_path, Entry, Seg, SpanIndex};
use crate::sweep::{apply_path, SweepPoint, MAX_AXIS_VALUES, MAX_POINTS, MAX_SEEDS};
use crate::validate::{self, Problem};
use crate::wording;
use std::path::Path;
use std::sync::Arc;

/// Largest scenario file accepted (a scenario is configuration, not data).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads, parses and validates the scenario at `path`.
pub fn load_scenario(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    let path = path.as_ref();
    let io = |source| ScenarioError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Capped read: a pipe or /dev/zero has no meaningful length and must not grow forever.
    let bytes = crate::input::read_capped(path, MAX_FILE_BYTES, "scenario files").map_err(io)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    load_str(&text, &path.display().to_string())
}

/// Parses and validates scenario `text`; `file_name` is used in error messages.
pub fn load_str(text: &str, file_name: &str) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx::new(text, file_name)?;
    let mut s: Scenario = toml::from_str(text).map_err(|e| ctx.de_error(&e))?;
    s.source = Source {
        file: file_name.to_string(),
        text: Arc::from(text),
    };
    let mut errors: Vec<ScenarioError> = validate::check(&s)
        .into_iter()
        .map(|p| ctx.problem(&p))
        .collect();
    if errors.is_empty() {
        errors.extend(ctx.check_sweep(&s));
    }
    match errors.len() {
        0 => Ok(s),
        1 => Err(errors.pop().expect("one error")),
        _ => Err(ScenarioError::Multiple(errors)),
    }
}

/// One document being loaded: its text, file name and key positions.
struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    idx: SpanIndex,
}

/// Splits a path into the section (up to the last key's table) and the field.
fn split_path(path: &[Seg]) -> (String, String) {
    match path.iter().rposition(|s| matches!(s, Seg::Key(_))) {
        Some(k) => (render_path(&path[..k]), render_path(&path[k..])),
        None => (String::new(), render_path(path)),
    }
}

/// The literal a serde "invalid type/value" message quotes, as written in TOML:
/// "integer `20`" -> `20`, "string \"a\"" -> `"a"`.
fn found_literal(msg: &str) -> Option<&str> {
    let rest = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))?;
    let found = &rest[..rest.rfind(", expected ")?];
    for kind in ["integer `", "floating point `", "boolean `"] {
        if let Some(v) = found.strip_prefix(kind) {
            return v.strip_suffix('`');
        }
    }
    found.strip_prefix("string ")
}

/// The backticked words of a serde message: "unknown field `a`, expected one of `b`, `c`".
fn backticked(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

impl<'a> Ctx<'a> {
    fn new(text: &'a str, file: &'a str) -> Result<Self, ScenarioError> {
        let idx = SpanIndex::build(text).map_err(|e| {
            let off = e.span().map(|s| s.start).unwrap_or(0);
            let (line, col) = SpanIndex::default_line_col(text, off);
            ScenarioError::Syntax {
                loc: Location {
                    file: file.to_string(),
                    line,
                    col,
                },
                message: e.message().trim().to_string(),
            }
        })?;
        Ok(Ctx { text, file, idx })
    }

    fn loc(&self, offset: usize) -> Location {
        let (line, col) = self.idx.line_col(self.text, offset);
        Location {
            file: self.file.to_string(),
            line,
            col,
        }
    }

    /// Location of `path`'s key, or of its nearest present ancestor, or 1:1.
    fn loc_of_path(&self, path: &[Seg]) -> Location {
        self.loc(self.idx.nearest(path).map(|e| e.key.start).unwrap_or(0))
    }

    /// Where a problem with `entry`'s value is shown: at the value when it is written
    /// `key = value` (or is an array element), else at the key (a `[table]` header).
    fn value_offset(&self, entry: &Entry) -> usize {
        let between = self.text.get(entry.key.end..entry.value.start);
        let assigned = between.is_some_and(|b| b.trim() == "=");
        if entry.key == entry.value || assigned {
            entry.value.start
        } else {
            entry.key.start
        }
    }

    /// Location of `path`'s value when the path is present, else of its nearest ancestor's
    /// key (a missing field is reported at its table).
    fn value_loc_of_path(&self, path: &[Seg]) -> Location {
        match self.idx.get(path) {
            Some(e) => self.loc(self.value_offset(e)),
            None => self.loc_of_path(path),
        }
    }

    fn problem(&self, p: &Problem) -> ScenarioError {
        let (section, field) = split_path(&p.path);
        ScenarioError::Invalid {
            loc: self.value_loc_of_path(&p.path),
            section,
            field,
            message: p.message.clone(),
        }
    }

    /// Converts a serde/toml error into a located, named error.
    fn de_error(&self, e: &toml::de::Error) -> ScenarioError {
        let msg = e.message().trim();
        let offset = e.span().map(|s| s.start);
        let entry = offset.and_then(|o| self.idx.at_offset(o)).cloned();
        let words = backticked(msg);
        if msg.starts_with("unknown field `") && !words.is_empty() {
            let field = words[0];
            let expected = &words[1..];
            // The span points at the bad key itself or at the table that holds it.
            let (section, key_off) = match &entry {
                Some(en) if en.path.last() == Some(&Seg::Key(field.to_string())) => {
                    (en.path[..en.path.len() - 1].to_vec(), en.key.start)
                }
                Some(en) => {
                    let child = self
                        .idx
                        .children(&en.path)
                        .find(|c| c.path.last() == Some(&Seg::Key(field.to_string())));
                    (
                        en.path.clone(),
                        child.map(|c| c.key.start).unwrap_or(en.key.start),
                    )
                }
                None => {
                    let top = self.idx.get(&[Seg::Key(field.to_string())]);
                    (Vec::new(), top.map(|c| c.key.start).or(offset).unwrap_or(0))
                }
            };
            return ScenarioError::UnknownField {
                loc: self.loc(key_off),
                section: render_path(&section),
                field: field.to_string(),
                suggestion: suggest(field, expected.iter().copied()),
            };
        }
        if msg.starts_with("missing field `") && !words.is_empty() {
            // The span is the table missing the field; the root table spans the whole
            // document and matches no entry's value exactly.
            let span = e.span();
            let table = entry.as_ref().filter(|en| Some(&en.value) == span.as_ref());
            let (section, loc) = match table {
                Some(en) => (render_path(&en.path), self.loc(en.key.start)),
                None => (String::new(), self.loc(0)),
            };
            return ScenarioError::Invalid {
                loc,
                section,
                field: words[0].to_string(),
                message: "required field is missing".to_string(),
            };
        }
        let mut path = entry.as_ref().map(|e| e.path.clone()).unwrap_or_default();
        let mut at = entry
            .as_ref()
            .map(|e| self.value_offset(e))
            .or(offset)
            .unwrap_or(0);
        // A value inside an internally tagged table (`latency = { dist = …, median = 20 }`)
        // is reported on the whole table: find the one field holding the bad value.
        if let (Some(en), Some(lit)) = (&entry, found_literal(msg)) {
            if let Some(child) = self.unique_descendant(&en.path, |t| t == lit) {
                path = child.path.clone();
                at = self.value_offset(child);
            }
        }
        let mut message = wording::plain(msg);
        if msg.starts_with("unknown variant `") && !words.is_empty() {
            let bad = words[0];
            // Internally tagged enums report the whole table: point at the tag's value.
            if let Some(en) = &entry {
                let quoted = format!("\"{bad}\"");
                if let Some(child) = self.idx.children(&en.path).find(|c| {
                    self.text.get(c.value.clone()).map(str::trim) == Some(quoted.as_str())
                }) {
                    path = child.path.clone();
                    at = self.value_offset(child);
                }
            }
            if let Some(s) = suggest(bad, words[1..].iter().copied()) {
                message.push_str(&format!("; did you mean `{s}`?"));
            }
        }
        if msg == "wanted string or table" {
            // toml says this of a name (an enum) given as a number or a list: ask the
            // format for the names by parsing the file with a string in that place.
            if let Some(en) = &entry {
                let value = self.text.get(en.value.clone()).unwrap_or("").trim();
                message = match self.names_at(en) {
                    Some(names) => format!("must be {names}, not {value}"),
                    None => format!("must be a name in quotes, not {value}"),
                };
            }
        }
        let (section, field) = split_path(&path);
        ScenarioError::Invalid {
            loc: self.loc(at),
            section,
            field,
            message,
        }
    }

    /// The one entry under `path` (at any depth) whose value text satisfies `is`.
    fn unique_descendant(&self, path: &[Seg], is: impl Fn(&str) -> bool) -> Option<&Entry> {
        let mut found = self
            .idx
            .descendants(path)
            .filter(|c| self.text.get(c.value.clone()).is_some_and(|t| is(t.trim())));
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// The names a name-valued field accepts, as serde lists them (`` `a`, `b` ``): found
    /// by loading the text again with an impossible name in `entry`'s place.
    fn names_at(&self, entry: &Entry) -> Option<String> {
        let mut probe = String::with_capacity(self.text.len());
        probe.push_str(self.text.get(..entry.value.start)?);
        probe.push_str("\"<no such name>\"");
        probe.push_str(self.text.get(entry.value.end..)?);
        let e = toml::from_str::<Scenario>(&probe).err()?;
        let msg = e.message();
        let rest = msg.strip_prefix("unknown variant `<no such name>`, expected ")?;
        Some(rest.trim().to_string())
    }

    /// Checks `[sweep]`: `seeds` type and range, every axis a non-empty array whose values
    /// each produce a valid scenario, and a bounded number of points.
    fn check_sweep(&self, s: &Scenario) -> Vec<ScenarioError> {
        let Some(spec) = &s.sweep else {
            return Vec::new();
        };
        let mut errs = Vec::new();
        // Errors point at the value (or at the one bad element of an axis).
        let at_elem = |key: &str, elem: Option<usize>, message: String| {
            let path = vec![Seg::from("sweep"), Seg::from(key)];
            let mut value_path = path.clone();
            value_path.extend(elem.map(Seg::Index));
            ScenarioError::Invalid {
                loc: self.value_loc_of_path(&value_path),
                section: "sweep".to_string(),
                field: render_path(&path[1..]),
                message,
            }
        };
        let at = |key: &str, message: String| at_elem(key, None, message);
        let at_key = |key: &str, message: String| {
            let path = vec![Seg::from("sweep"), Seg::from(key)];
            ScenarioError::Invalid {
                loc: self.loc_of_path(&path),
                section: "sweep".to_string(),
                field: render_path(&path[1..]),
                message,
            }
        };
        if let Some(v) = spec.entries.get("seeds") {
            match v.as_integer() {
                Some(n) if n >= 1 && n as u64 <= MAX_SEEDS => {}
                _ => errs.push(at(
                    "seeds",
                    format!("must be a whole number from 1 to {MAX_SEEDS}, not {v}"),
                )),
            }
        }
        let base = match self.text.parse::<toml::Table>() {
            Ok(t) => t,
            Err(e) => return vec![at("seeds", e.message().to_string())],
        };
        for (key, value) in &spec.entries {
            if key == "seeds" {
                continue;
            }
            let Some(values) = value.as_array() else {
                errs.push(at(
                    key,
                    format!("an axis must be an array of values, not {value}"),
                ));
                continue;
            };
            if values.is_empty() || values.len() > MAX_AXIS_VALUES {
                errs.push(at(
                    key,
                    format!(
                        "an axis needs from 1 to {MAX_AXIS_VALUES} values, not {}",
                        values.len()
                    ),
                ));
                continue;
            }
            if key.starts_with("sweep.") || key == "sweep" {
                errs.push(at_key(key, "a sweep cannot sweep itself".to_string()));
                continue;
            }
            // Two equal values would be two points with one identity (scenario, seed):
            // the same run, and the same run directory.
            let mut seen = std::collections::BTreeSet::new();
            if let Some((i, v)) = values
                .iter()
                .enumerate()
                .find(|(_, v)| !seen.insert(v.to_string()))
            {
                errs.push(at_elem(
                    key,
                    Some(i),
                    format!("value {v} appears twice; every value of an axis must differ"),
                ));
                continue;
            }
            for (i, v) in values.iter().enumerate() {
                if let Err(e) = point(&base, &[(key.clone(), v.clone())], None) {
                    let message = format!("value {v}: {}", e.message);
                    // A path naming no field is the key's fault, shown at the key.
                    errs.push(if e.in_key {
                        at_key(key, message)
                    } else {
                        at_elem(key, Some(i), message)
                    });
                    break;
                }
            }
        }
        if errs.is_empty() && spec.point_count() > MAX_POINTS {
            errs.push(at_key(
                "seeds",
                format!(
                    "the sweep has {} points; the limit is {MAX_POINTS}",
                    spec.point_count()
                ),
            ));
        }
        errs
    }
}

impl SpanIndex {
    /// Line and column of `offset` when no index could be built (syntax errors).
    fn default_line_col(text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }
}

/// Why a sweep point could not be built.
struct PointError {
    /// What is wrong, naming the field the override broke.
    message: String,
    /// The axis path itself is wrong (it names no field), not the value.
    in_key: bool,
}

impl From<String> for PointError {
    fn from(message: String) -> Self {
        PointError {
            message,
            in_key: false,
        }
    }
}

/// Builds one concrete scenario from the base tree: applies `overrides`, drops `[sweep]`,
/// sets the seed when given, deserialises and runs the semantic checks.
fn point(
    base: &toml::Table,
    overrides: &[(String, toml::Value)],
    seed: Option<u64>,
) -> Result<Scenario, PointError> {
    let mut t = base.clone();
    t.remove("sweep");
    let key_error = |e: crate::sweep::ApplyError| PointError {
        message: e.0,
        in_key: true,
    };
    for (k, v) in overrides {
        apply_path(&mut t, k, v.clone()).map_err(key_error)?;
    }
    if let Some(seed) = seed {
        apply_path(&mut t, "scenario.seed", toml::Value::Integer(seed as i64))
            .map_err(key_error)?;
    }
    let s: Scenario = toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| {
            let msg = e.message().trim().to_string();
            let words = backticked(&msg);
            if msg.starts_with("unknown field `") && !words.is_empty() {
                let hint = suggest(words[0], words[1..].iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                // Name the table the unknown key was created in, from the axis path itself.
                let section = overrides
                    .iter()
                    .find_map(|(k, _)| {
                        let segs: Vec<&str> = k.split('.').collect();
                        let i = segs.iter().position(|s| *s == words[0])?;
                        Some(segs[..i].join("."))
                    })
                    .map(|s| {
                        if s.is_empty() {
                            "at the top level".to_string()
                        } else {
                            format!("in [{s}]")
                        }
                    })
                    .unwrap_or_default();
                PointError {
                    message: format!(
                        "names no field: unknown field `{}` {section}{hint}",
                        words[0]
                    ),
                    in_key: true,
                }
            } else {
                PointError::from(wording::plain(&msg))
            }
        })?;
    let problems = validate::check(&s);
    if let Some(p) = problems.first() {
        return Err(format!("{}: {}", render_path(&p.path), p.message).into());
    }
    Ok(s)
}

/// See [`crate::sweep::points`].
pub(crate) fn sweep_points(base: &Scenario) -> Result<SweepPoints, ScenarioError> {
    let ctx = Ctx::new(&base.source.text, &base.source.file)?;
    let spec = base.sweep.clone().unwrap_or_default();
    if let Some(e) = ctx.check_sweep(base).into_iter().next() {
        return Err(e);
    }
    let tree: toml::Table = base
        .source
        .text
        .parse()
        .map_err(|e: toml::de::Error| ctx.de_error(&e))?;
    let axes: Vec<(String, Vec<toml::Value>)> = spec
        .axes()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect();
    // Errors of a whole point are reported at the first axis (or at `seeds`).
    let key = axes
        .first()
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| "seeds".into());
    let path = vec![Seg::from("sweep"), Seg::from(key.as_str())];
    Ok(SweepPoints {
        err_loc: ctx.loc_of_path(&path),
        err_field: render_path(&path[1..]),
        tree,
        axes,
        seeds: spec.seeds().max(1),
        total: spec.point_count().max(1),
        next: 0,
        base_seed: base.scenario.seed,
        source: base.source.clone(),
    })
}

/// Lazily built sweep points (a large sweep is never held in memory at once).
#[derive(Debug)]
pub struct SweepPoints {
    err_loc: Location,
    err_field: String,
    tree: toml::Table,
    axes: Vec<(String, Vec<toml::Value>)>,
    seeds: u64,
    total: u64,
    next: u64,
    base_seed: u64,
    source: Source,
}

impl SweepPoints {
    /// Number of points in the whole sweep.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The axis values (in axis order), the repetition and the seed of point `index`,
    /// without building its scenario (cheap: used to list every point id of a sweep).
    pub fn values_and_seed(&self, index: u64) -> (Vec<&toml::Value>, u64, u64) {
        // Mixed-radix decomposition: the seed is the fastest digit, the first axis the slowest.
        let repetition = index % self.seeds;
        let mut rest = index / self.seeds;
        let mut values: Vec<&toml::Value> = Vec::with_capacity(self.axes.len());
        for (_, vals) in self.axes.iter().rev() {
            let n = vals.len() as u64;
            values.push(&vals[(rest % n) as usize]);
            rest /= n;
        }
        values.reverse();
        let seed_base = self
            .axes
            .iter()
            .zip(&values)
            .find(|((k, _), _)| k == "scenario.seed")
            .and_then(|(_, v)| v.as_integer())
            .map(|v| v as u64)
            .unwrap_or(self.base_seed);
        (values, repetition, seed_base.wrapping_add(repetition))
    }

    /// Builds point `index` (0-based, less than [`Self::total`]) on its own.
    pub fn point(&self, index: u64) -> Result<SweepPoint, ScenarioError> {
        self.build(index)
    }

    fn build(&self, index: u64) -> Result<SweepPoint, ScenarioError> {
        let (values, repetition, seed) = self.values_and_seed(index);
        let overrides: Vec<(String, toml::Value)> = self
            .axes
            .iter()
            .zip(values)
            .map(|((k, _), v)| (k.clone(), v.clone()))
            .collect();
        let mut scenario =
            point(&self.tree, &overrides, Some(seed)).map_err(|m| ScenarioError::Invalid {
                loc: self.err_loc.clone(),
                section: "sweep".into(),
                field: self.err_field.clone(),
                message: format!("point {index}: {}", m.message),
            })?;
        scenario.source = self.source.clone();
        Ok(SweepPoint {
            index,
            overrides,
            repetition,
            scenario,
        })
    }
}

impl Iterator for SweepPoints {
    type Item = Result<SweepPoint, ScenarioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.build(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.total - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}
