//! Error messages speak the user's words: a bad value is described in the scenario format's
//! terms ("a whole number from 0 to 4294967295", "a number", "true or false", "a duration
//! such as …"), never in Rust's ("expected u32", "invalid type: string"), with
//! file:line:col pointing at the value. Same for the sweep axes and the command line.

use scenarios::load_str;
use scenarios::spans::SpanIndex;
use std::path::Path;
use std::process::Command;

/// Lines 1-8; additions start at line 9.
const BASE: &str = "[scenario]
name = \"t\"
seed = 1
horizon = \"30s\"

[population]
groups = [\"home\", \"core\"]
agents = 5
";

fn err(text: &str) -> String {
    match load_str(text, "bad.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn bad_values_are_described_in_the_formats_words() {
    // Columns count to the value: `agents = ` is 9 characters.
    assert_eq!(
        err(&BASE.replace("agents = 5", "agents = -5")),
        "bad.toml:8:10: [population] agents: must be a whole number from 0 to 4294967295, not -5"
    );
    assert_eq!(
        err(&with("[network]\nloss = \"x\"\n")),
        "bad.toml:10:8: [network] loss: must be a number, not the text \"x\""
    );
    assert_eq!(
        err(&with("[costs.ri]\nworkers = 8.5\n")),
        "bad.toml:10:11: [costs.ri] workers: must be a whole number from 0 to 4294967295, \
         not 8.5 (8.5 has a fractional part)"
    );
    assert_eq!(
        err(&with("[trace]\nenabled = \"yes\"\n")),
        "bad.toml:10:11: [trace] enabled: must be true or false, not the text \"yes\""
    );
    assert_eq!(
        err(&with("[trace]\nenabled = \"true\"\n")),
        "bad.toml:10:11: [trace] enabled: must be true or false, not the text \"true\" \
         (write true without quotes)"
    );
    assert_eq!(
        err(&BASE.replace("agents = 5", "agents = \"5\"")),
        "bad.toml:8:10: [population] agents: must be a whole number from 0 to 4294967295, \
         not the text \"5\" (write the number without quotes)"
    );
    assert_eq!(
        err(&BASE.replace("horizon = \"30s\"", "horizon = 30")),
        "bad.toml:4:11: [scenario] horizon: must be a duration such as \"250ms\", \"30s\" or \
         \"5m\", not 30 (a duration needs a unit: write \"30s\" or \"30ms\")"
    );
    assert_eq!(
        err(&BASE.replace("seed = 1", "seed = 1\ncrypto = 3")),
        "bad.toml:4:10: [scenario] crypto: must be `real` or `symbolic`, not 3"
    );
    assert_eq!(
        err(&BASE.replace("seed = 1", "seed = 1\nrsa_bits = \"big\"")),
        "bad.toml:4:12: [scenario] rsa_bits: must be 1024 or 2048, not the text \"big\""
    );
    assert_eq!(
        err(&BASE.replace("groups = [\"home\", \"core\"]", "groups = 5")),
        "bad.toml:7:10: [population] groups: must be a list in brackets, such as [1, 2], not 5"
    );
    assert_eq!(
        err(&with("[expect]\nmin_completion = 5\n")),
        "bad.toml:10:18: [expect] min_completion: must be a table, such as { name = value }, \
         not 5"
    );
    assert_eq!(
        err(&BASE.replace("agents = 5", "agents = 99999999999")),
        "bad.toml:8:10: [population] agents: must be a whole number from 0 to 4294967295, \
         not 99999999999"
    );
}

#[test]
fn a_bad_value_inside_an_inline_table_is_named_and_pointed_at() {
    // `latency = { dist = "lognormal", median = ` is 41 characters.
    assert_eq!(
        err(&with(
            "[network]\nlatency = { dist = \"lognormal\", median = 20, sigma = 0.3 }\n"
        )),
        "bad.toml:10:42: [network.latency] median: must be a duration such as \"250ms\", \
         \"30s\" or \"5m\", not 20 (a duration needs a unit: write \"20s\" or \"20ms\")"
    );
    assert_eq!(
        err(&with(
            "[network]\nlatency = { dist = \"lognormal\", median = \"20ms\", sigma = \"a\" }\n"
        )),
        "bad.toml:10:58: [network.latency] sigma: must be a number, not the text \"a\""
    );
    assert_eq!(
        err(&with(
            "[expect]\nmin_completion = { registration = \"high\" }\n"
        )),
        "bad.toml:10:35: [expect.min_completion] registration: must be a number, \
         not the text \"high\""
    );
}

#[test]
fn sweep_axis_values_are_pointed_at_one_by_one() {
    // `"population.agents" = [10, ` is 27 characters: the bad value is at column 28;
    // `"network.loss" = [0.1, ` is 23.
    assert_eq!(
        err(&with("[sweep]\n\"population.agents\" = [10, -3]\n")),
        "bad.toml:10:28: [sweep] \"population.agents\": value -3: must be a whole number \
         from 0 to 4294967295, not -3"
    );
    assert_eq!(
        err(&with("[sweep]\n\"network.loss\" = [0.1, \"lots\"]\n")),
        "bad.toml:10:24: [sweep] \"network.loss\": value \"lots\": must be a number, \
         not the text \"lots\""
    );
    // A path that names no field is the key's fault: shown at the key.
    assert_eq!(
        err(&with("[sweep]\n\"population.agentz\" = [1]\n")),
        "bad.toml:10:1: [sweep] \"population.agentz\": value 1: names no field: unknown field \
         `agentz` in [population]; did you mean `agents`?"
    );
}

/// Words of Rust's vocabulary no message may show a user.
const LEAKS: &[&str] = &[
    "expected u8",
    "expected u16",
    "expected u32",
    "expected u64",
    "expected usize",
    "expected i32",
    "expected i64",
    "expected f32",
    "expected f64",
    "invalid type",
    "invalid value",
    "invalid length",
    "unknown variant",
    "a sequence",
    "a map",
    "expected struct",
    "expected enum",
    "wanted string",
    "1..=",
];

fn bundled(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn no_rust_type_names_leak_for_any_wrong_value_of_any_field() {
    // Every `key = value` of scenarios covering every section, replaced in turn by each of
    // these wrong values: every rejection is located and in the format's words.
    let files = [
        "quickstart.toml",
        "capacity.toml",
        "lifecycle-10k.toml",
        "examples/move-replay.toml",
        "examples/user-domains.toml",
        "examples/real-crypto-sce.toml",
        "examples/ri-flood.toml",
        "examples/lossy-wan-sweep.toml",
        "examples/metering-spoof.toml",
    ];
    let bad_values = [
        "-5",
        "8.5",
        "\"x\"",
        "true",
        "[1]",
        "{ a = 1 }",
        "99999999999",
        "\"5\"",
        "\"yes\"",
    ];
    let mut checked = 0usize;
    for f in files {
        let text = bundled(f);
        let idx = SpanIndex::build(&text).unwrap();
        for e in idx.descendants(&[]) {
            let between = &text[e.key.end.min(e.value.start)..e.value.start];
            if between.trim() != "=" {
                continue;
            }
            for bad in bad_values {
                let mut t = String::with_capacity(text.len() + 16);
                t.push_str(&text[..e.value.start]);
                t.push_str(bad);
                t.push_str(&text[e.value.end..]);
                let Err(error) = load_str(&t, "bad.toml") else {
                    continue;
                };
                checked += 1;
                let msg = error.to_string();
                for leak in LEAKS {
                    assert!(
                        !msg.contains(leak),
                        "{f}: `{}` = {bad}: `{leak}` in: {msg}",
                        scenarios::spans::render_path(&e.path)
                    );
                }
                for line in msg.lines() {
                    let mut parts = line.splitn(4, ':');
                    assert_eq!(parts.next(), Some("bad.toml"), "{line}");
                    assert!(
                        parts.next().unwrap().parse::<usize>().is_ok(),
                        "no line: {line}"
                    );
                    assert!(
                        parts.next().unwrap().parse::<usize>().is_ok(),
                        "no column: {line}"
                    );
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} rejections checked");
}

fn drmsim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn command_line_numbers_are_described_in_words() {
    let qs = concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart.toml");
    let cases: [(&[&str], &str); 5] = [
        (
            &["run", qs, "--seed", "abc"],
            "error: invalid value 'abc' for '--seed <N>': must be a whole number from 0 to \
             18446744073709551615, not `abc`",
        ),
        (
            &["sweep", qs, "--out", "/nonexistent/x", "--jobs", "2.5"],
            "error: invalid value '2.5' for '--jobs <N>': must be a whole number from 0 to \
             18446744073709551615 (no fractional part), not `2.5`",
        ),
        (
            &["sweep", qs, "--out", "/nonexistent/x", "--seeds", "-1"],
            "error: invalid value '-1' for '--seeds <N>': must be a whole number from 0 to \
             18446744073709551615, not `-1`",
        ),
        (
            &["check", qs, "--seeds", "three"],
            "error: invalid value 'three' for '--seeds <N>': must be a whole number from 0 to \
             18446744073709551615, not `three`",
        ),
        (
            &["bench", "engine", "--actors", "99999999999"],
            "error: invalid value '99999999999' for '--actors <ACTORS>': must be a whole \
             number from 0 to 4294967295, not `99999999999`",
        ),
    ];
    for (args, want) in cases {
        let (code, stderr) = drmsim(args);
        assert_eq!(code, 2, "{args:?}");
        assert_eq!(stderr.lines().next(), Some(want), "{args:?}");
        for leak in ["invalid digit", "u32", "u64", "usize", "ParseIntError"] {
            assert!(!stderr.contains(leak), "{args:?}: {stderr}");
        }
    }
}
