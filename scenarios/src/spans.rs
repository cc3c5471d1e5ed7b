//! A map from dotted field paths to their positions in the TOML text, built from toml's
//! spanned parse tree. It turns serde error offsets into `[section] field` names and
//! semantic-validation paths into file:line:col.

use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array element.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// Renders a path as `network.link[0].from`; keys that are not bare TOML keys are quoted.
pub fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A key (or array element) and where it is.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Full path from the document root.
    pub path: Vec<Seg>,
    /// Byte range of the key (of the element for array elements).
    pub key: Range<usize>,
    /// Byte range of the value.
    pub value: Range<usize>,
}

/// Positions of every key of one document.
#[derive(Clone, Debug, Default)]
pub struct SpanIndex {
    entries: Vec<Entry>,
    line_starts: Vec<usize>,
    text_len: usize,
}

impl SpanIndex {
    /// Indexes `text`; `Err` carries toml's syntax error.
    pub fn build(text: &str) -> Result<SpanIndex, toml::de::Error> {
        let root = DeTable::parse(text)?;
        let mut idx = SpanIndex {
            entries: Vec::new(),
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            text_len: text.len(),
        };
        let mut path = Vec::new();
        idx.walk_table(root.get_ref(), &mut path);
        Ok(idx)
    }

    fn walk_table(&mut self, t: &DeTable<'_>, path: &mut Vec<Seg>) {
        for (k, v) in t.iter() {
            path.push(Seg::Key(k.get_ref().to_string()));
            self.entries.push(Entry {
                path: path.clone(),
                key: k.span(),
                value: v.span(),
            });
            self.walk_value(v.get_ref(), path);
            path.pop();
        }
    }

    fn walk_value(&mut self, v: &DeValue<'_>, path: &mut Vec<Seg>) {
        match v {
            DeValue::Table(t) => self.walk_table(t, path),
            DeValue::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    self.entries.push(Entry {
                        path: path.clone(),
                        key: e.span(),
                        value: e.span(),
                    });
                    self.walk_value(e.get_ref(), path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The deepest entry whose key or value contains byte `offset`.
    pub fn at_offset(&self, offset: usize) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.key.contains(&offset) || e.value.contains(&offset))
            .max_by_key(|e| (e.path.len(), std::cmp::Reverse(e.value.len())))
    }

    /// The entry at exactly `path`.
    pub fn get(&self, path: &[Seg]) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// The entry at `path` or at its longest present prefix.
    pub fn nearest(&self, path: &[Seg]) -> Option<&Entry> {
        (1..=path.len()).rev().find_map(|n| self.get(&path[..n]))
    }

    /// Keys directly under `path`.
    pub fn children<'s>(&'s self, path: &'s [Seg]) -> impl Iterator<Item = &'s Entry> + 's {
        self.entries
            .iter()
            .filter(move |e| e.path.len() == path.len() + 1 && e.path.starts_with(path))
    }

    /// Keys and elements anywhere under `path`.
    pub fn descendants<'s>(&'s self, path: &[Seg]) -> impl Iterator<Item = &'s Entry> + 's {
        let path = path.to_vec();
        self.entries
            .iter()
            .filter(move |e| e.path.len() > path.len() && e.path.starts_with(&path))
    }

    /// 1-based line and character column of byte `offset`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text_len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[scenario]\nname = \"x\"\n\n[[network.link]]\nfrom = \"a\"\n";

    #[test]
    fn paths_and_positions() {
        let idx = SpanIndex::build(DOC).unwrap();
        let p = vec![
            Seg::from("network"),
            Seg::from("link"),
            Seg::from(0),
            Seg::from("from"),
        ];
        assert_eq!(render_path(&p), "network.link[0].from");
        let e = idx.get(&p).unwrap();
        assert_eq!(idx.line_col(DOC, e.key.start), (5, 1));
        let name = idx
            .get(&[Seg::from("scenario"), Seg::from("name")])
            .unwrap();
        assert_eq!(idx.line_col(DOC, name.value.start), (2, 8));
        assert_eq!(idx.at_offset(name.value.start + 1).unwrap().path, name.path);
        assert_eq!(
            render_path(&[Seg::from("sweep"), Seg::from("population.agents")]),
            "sweep.\"population.agents\""
        );
    }

    #[test]
    fn columns_count_characters() {
        let text = "a = \"é\"\nb = 1\n";
        let idx = SpanIndex::build(text).unwrap();
        assert_eq!(idx.line_col(text, text.find('b').unwrap()), (2, 1));
        assert_eq!(idx.line_col(text, text.len()), (3, 1));
        // The closing quote is byte 7 but character 6 (é is two bytes): column 7, not 8.
        assert_eq!(idx.line_col(text, text.find('"').unwrap() + 3), (1, 7));
    }
}
