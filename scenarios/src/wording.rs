//! Error messages in the user's words. serde, toml and clap describe a bad value in Rust's
//! vocabulary ("invalid value: integer `-5`, expected u32", "invalid digit found in
//! string"); a scenario author thinks in the format's: "must be a whole number from 0 to
//! 4294967295, not -5". Every message a user can see from the scenario loader, the sweep
//! axes and the command line passes through here.

/// The words for what serde says it expected: a Rust type name or a visitor's phrase.
pub fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    let whole = |lo: &str, hi: &str| format!("a whole number from {lo} to {hi}");
    match e {
        "u8" => whole("0", "255"),
        "u16" => whole("0", "65535"),
        "u32" => whole("0", "4294967295"),
        "u64" | "usize" | "u128" => whole("0", "18446744073709551615"),
        "i8" => whole("-128", "127"),
        "i16" => whole("-32768", "32767"),
        "i32" => whole("-2147483648", "2147483647"),
        "i64" | "isize" | "i128" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a string" | "a borrowed string" | "string" => "text in quotes".to_string(),
        "a character" | "char" => "a single character in quotes".to_string(),
        "a sequence" => "a list in brackets, such as [1, 2]".to_string(),
        "a map" | "a table" => "a table, such as { name = value }".to_string(),
        "unit" => "nothing".to_string(),
        "option" => "a value".to_string(),
        _ => {
            if e.starts_with("struct ") || e.starts_with("tuple struct ") {
                "a table, such as { name = value }".to_string()
            } else if e.starts_with("enum ") {
                "one of the names docs/scenario-format.md lists for it".to_string()
            } else if let Some(n) = e
                .strip_prefix("an array of length ")
                .or_else(|| e.strip_prefix("a tuple of size "))
            {
                format!("a list of {n} values")
            } else if let Some(rest) = e.strip_prefix("a duration string") {
                format!("a duration{rest}")
            } else {
                e.to_string()
            }
        }
    }
}

/// The words for the value serde found (its `Unexpected` rendering).
pub fn found_words(found: &str) -> String {
    let f = found.trim();
    let ticked = |prefix: &str| {
        f.strip_prefix(prefix)
            .map(|r| r.trim().trim_matches('`').to_string())
    };
    if let Some(v) = ticked("integer ").or_else(|| ticked("floating point ")) {
        return v;
    }
    if let Some(v) = ticked("boolean ") {
        return v;
    }
    if let Some(v) = f.strip_prefix("string ") {
        return format!("the text {v}");
    }
    if let Some(v) = ticked("char ") {
        return format!("the text \"{v}\"");
    }
    match f {
        "sequence" => "a list".to_string(),
        "map" => "a table".to_string(),
        "unit value" => "nothing".to_string(),
        "Option value" => "an optional value".to_string(),
        "newtype struct" | "newtype variant" | "struct variant" | "tuple variant" => {
            "a table".to_string()
        }
        "unit variant" | "enum" => "a name".to_string(),
        other => other.to_string(),
    }
}

/// A short hint when the value is nearly right: a number in quotes, a duration without a
/// unit, `"true"` in quotes.
fn hint(expected: &str, found: &str) -> String {
    let unquoted = found
        .strip_prefix("string \"")
        .and_then(|s| s.strip_suffix('"'));
    let number = found
        .strip_prefix("integer `")
        .or_else(|| found.strip_prefix("floating point `"))
        .and_then(|s| s.strip_suffix('`'));
    let is_number_type = matches!(
        expected,
        "u8" | "u16"
            | "u32"
            | "u64"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "isize"
            | "f32"
            | "f64"
    );
    if let Some(text) = unquoted {
        if is_number_type && text.trim().parse::<f64>().is_ok() {
            return " (write the number without quotes)".to_string();
        }
        if expected == "a boolean" && matches!(text, "true" | "false") {
            return format!(" (write {text} without quotes)");
        }
    }
    if let Some(n) = number {
        if expected.starts_with("a duration") {
            return format!(" (a duration needs a unit: write \"{n}s\" or \"{n}ms\")");
        }
    }
    if let Some(n) = found.strip_prefix("floating point `") {
        if expected.starts_with('u') || expected.starts_with('i') {
            let n = n.trim_end_matches('`');
            return format!(" ({n} has a fractional part)");
        }
    }
    String::new()
}

/// Rewrites one serde/toml deserialisation message in the user's words. Messages it does
/// not recognise (the format's own, already worded for users) pass through unchanged.
pub fn plain(msg: &str) -> String {
    let msg = msg.trim();
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some(i) = rest.rfind(", expected ") {
                let (found, expected) = (&rest[..i], &rest[i + ", expected ".len()..]);
                return format!(
                    "must be {}, not {}{}",
                    expected_words(expected),
                    found_words(found),
                    hint(expected.trim(), found.trim())
                );
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        if let Some((n, expected)) = rest.split_once(", expected ") {
            return format!("must be {}, not a list of {n}", expected_words(expected));
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        if let Some((bad, tail)) = rest.split_once('`') {
            let tail = tail.trim_start_matches(',').trim();
            if let Some(list) = tail.strip_prefix("expected one of ") {
                return format!("must be one of {list}, not `{bad}`");
            }
            if let Some(list) = tail.strip_prefix("expected ") {
                return format!("must be {list}, not `{bad}`");
            }
            return format!("`{bad}` is not a name this field knows");
        }
    }
    if msg == "wanted string or table" {
        return "must be a name in quotes (or a table)".to_string();
    }
    if let Some(rest) = msg.strip_prefix("expected struct ") {
        let end = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        return format!(
            "must be a table, such as {{ name = value }}{}",
            &rest[end..]
        );
    }
    msg.to_string()
}

/// The words for a command-line whole number of type `T` (`--seed`, `--jobs`).
pub trait WholeNumber: std::str::FromStr + Copy {
    /// What the option accepts, e.g. "a whole number from 0 to 4294967295".
    const WORDS: &'static str;
}

impl WholeNumber for u32 {
    const WORDS: &'static str = "a whole number from 0 to 4294967295";
}

impl WholeNumber for u64 {
    const WORDS: &'static str = "a whole number from 0 to 18446744073709551615";
}

impl WholeNumber for usize {
    const WORDS: &'static str = "a whole number from 0 to 18446744073709551615";
}

/// A clap value parser for a whole-number option that says what it wants in words
/// ("must be a whole number from 0 to …, not `abc`") instead of "invalid digit found in
/// string".
pub fn whole_number<T: WholeNumber>(s: &str) -> Result<T, String> {
    let t = s.trim();
    t.strip_prefix('+')
        .unwrap_or(t)
        .replace('_', "")
        .parse::<T>()
        .map_err(|_| {
            let fractional = t.parse::<i128>().is_err() && t.parse::<f64>().is_ok();
            let extra = if fractional && !t.starts_with('-') {
                " (no fractional part)"
            } else {
                ""
            };
            format!("must be {}{extra}, not `{s}`", T::WORDS)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_vocabulary_becomes_the_formats() {
        assert_eq!(
            plain("invalid value: integer `-5`, expected u32"),
            "must be a whole number from 0 to 4294967295, not -5"
        );
        assert_eq!(
            plain("invalid type: string \"x\", expected f64"),
            "must be a number, not the text \"x\""
        );
        assert_eq!(
            plain("invalid type: floating point `8.5`, expected u32"),
            "must be a whole number from 0 to 4294967295, not 8.5 (8.5 has a fractional part)"
        );
        assert_eq!(
            plain("invalid type: string \"yes\", expected a boolean"),
            "must be true or false, not the text \"yes\""
        );
        assert_eq!(
            plain("invalid type: integer `30`, expected a duration string such as \"30s\""),
            "must be a duration such as \"30s\", not 30 (a duration needs a unit: write \"30s\" or \"30ms\")"
        );
        assert_eq!(
            plain("unknown variant `x`, expected `drop` or `reject`"),
            "must be `drop` or `reject`, not `x`"
        );
        assert_eq!(
            plain("probability 2 is outside [0, 1]"),
            "probability 2 is outside [0, 1]"
        );
    }

    #[test]
    fn command_line_numbers_say_what_they_want() {
        assert_eq!(whole_number::<u64>("42"), Ok(42));
        assert_eq!(whole_number::<u64>("1_000"), Ok(1000));
        assert_eq!(
            whole_number::<u64>("abc").unwrap_err(),
            "must be a whole number from 0 to 18446744073709551615, not `abc`"
        );
        assert_eq!(
            whole_number::<u32>("2.5").unwrap_err(),
            "must be a whole number from 0 to 4294967295 (no fractional part), not `2.5`"
        );
        assert!(whole_number::<u32>("-1").is_err());
    }
}
