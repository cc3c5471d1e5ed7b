//! Scenario errors. Every variant that comes from a document names the file, line and
//! column (1-based, columns in characters) and the section and field concerned.

use std::fmt;
use std::path::PathBuf;

/// A position in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// File name as given by the user.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read scenario: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The text is not valid TOML.
    #[error("{loc}: TOML syntax error: {message}")]
    Syntax {
        /// Where.
        loc: Location,
        /// The parser's message.
        message: String,
    },
    /// A key the format does not define.
    #[error(
        "{loc}: unknown field `{field}` {}{}",
        in_section(section),
        did_you_mean(suggestion)
    )]
    UnknownField {
        /// Where the key is.
        loc: Location,
        /// Dotted path of the enclosing table (`""` for the top level).
        section: String,
        /// The unknown key.
        field: String,
        /// The closest valid key, if one is close enough.
        suggestion: Option<String>,
    },
    /// A value with the wrong type or outside its allowed range, or a missing field.
    #[error("{loc}: {}{field}: {message}", section_prefix(section))]
    Invalid {
        /// Where the value (or, for a missing field, its table) is.
        loc: Location,
        /// Dotted path of the enclosing table (`""` for the top level).
        section: String,
        /// The field (may be a short dotted path inside the section).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Several independent problems (semantic validation reports all it finds).
    #[error("{}", join(.0))]
    Multiple(Vec<ScenarioError>),
}

impl ScenarioError {
    /// Loading errors always stop the command.
    pub fn is_fatal(&self) -> bool {
        true
    }

    /// Whether this is an IO failure (exit code 2) rather than a bad scenario (exit code 1).
    pub fn is_io(&self) -> bool {
        matches!(self, ScenarioError::Io { .. })
    }

    /// The individual errors (one, or each of a `Multiple`).
    pub fn errors(&self) -> Vec<&ScenarioError> {
        match self {
            ScenarioError::Multiple(v) => v.iter().flat_map(|e| e.errors()).collect(),
            e => vec![e],
        }
    }

    /// The location, if the error has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ScenarioError::Syntax { loc, .. }
            | ScenarioError::UnknownField { loc, .. }
            | ScenarioError::Invalid { loc, .. } => Some(loc),
            ScenarioError::Io { .. } => None,
            ScenarioError::Multiple(v) => v.first().and_then(|e| e.location()),
        }
    }
}

fn in_section(section: &str) -> String {
    if section.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in [{section}]")
    }
}

fn section_prefix(section: &str) -> String {
    if section.is_empty() {
        String::new()
    } else {
        format!("[{section}] ")
    }
}

fn did_you_mean(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

fn join(v: &[ScenarioError]) -> String {
    v.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The closest candidate to `word` by normalised Damerau–Levenshtein similarity, if any
/// is similar enough to be a plausible typo (similarity >= 0.6 or edit distance <= 2).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let sim = strsim::normalized_damerau_levenshtein(word, c);
        let dist = strsim::damerau_levenshtein(word, c);
        let plausible = sim >= 0.6 || (dist <= 2 && c.len() > 2);
        if plausible && best.is_none_or(|(b, _)| sim > b) {
            best = Some((sim, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_close_names_only() {
        let fields = ["name", "description", "seed", "horizon", "event_budget"];
        assert_eq!(suggest("horizn", fields).as_deref(), Some("horizon"));
        assert_eq!(suggest("sed", fields).as_deref(), Some("seed"));
        assert_eq!(
            suggest("event_budgte", fields).as_deref(),
            Some("event_budget")
        );
        assert_eq!(suggest("frobnicate", fields), None);
    }

    #[test]
    fn rendering() {
        let loc = Location {
            file: "a.toml".into(),
            line: 4,
            col: 1,
        };
        let e = ScenarioError::UnknownField {
            loc: loc.clone(),
            section: "scenario".into(),
            field: "horizn".into(),
            suggestion: Some("horizon".into()),
        };
        assert_eq!(
            e.to_string(),
            "a.toml:4:1: unknown field `horizn` in [scenario]; did you mean `horizon`?"
        );
        let e = ScenarioError::Invalid {
            loc,
            section: String::new(),
            field: "population".into(),
            message: "missing".into(),
        };
        assert_eq!(e.to_string(), "a.toml:4:1: population: missing");
    }
}
