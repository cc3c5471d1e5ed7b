//! The one-page HTML report of a whole sweep, and the sweep's resource pre-check.

use crate::sweep_run::{opts, Fake};
use scenarios::load_str;
use scenarios::sweep_run::{run_sweep, SweepError};
use std::path::Path;
use std::process::{Command, Output};

fn drmsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Elements HTML never closes.
const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

/// Checks that every tag of `html` is closed in order (void elements and `<x/>` aside),
/// so no unescaped `<` from the data opened an element. Returns the elements seen.
fn balanced(html: &str) -> Result<usize, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut seen = 0;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').ok_or("a `<` with no `>`")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue; // <!DOCTYPE html>
        }
        if let Some(close) = tag.strip_prefix('/') {
            let name = close.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("not a tag: <{tag}>"));
        }
        seen += 1;
        if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    if stack.is_empty() {
        Ok(seen)
    } else {
        Err(format!("never closed: {stack:?}"))
    }
}

#[test]
fn the_balance_check_can_fail() {
    assert!(balanced("<p>a <b>c</b></p>").is_ok());
    assert!(balanced("<p>a <b>c</p>").is_err());
    assert!(balanced("<td>x<y</td>").is_err());
    assert_eq!(
        balanced("<svg><line x=\"1\"/></svg><meta charset=\"u\">"),
        Ok(3)
    );
}

/// Contents of `<tbody>` … `</tbody>` of the results table.
fn tbody(html: &str) -> &str {
    let a = html.find("<tbody>").expect("a results table") + "<tbody>".len();
    let b = html.find("</tbody>").unwrap();
    &html[a..b]
}

#[test]
fn a_sweep_writes_one_self_contained_page_with_every_chart_and_every_row() {
    // 2 populations x 2 descriptions x 2 seeds = 8 real runs of the quickstart; the
    // descriptions are markup, which must come out as text (escaped) in table and charts.
    let dir = tempfile::tempdir().unwrap();
    let q = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("quickstart.toml"))
        .unwrap();
    let file = dir.path().join("small.toml");
    std::fs::write(
        &file,
        format!(
            "{q}\n[sweep]\nseeds = 2\n\"population.agents\" = [10, 20]\n\
             \"scenario.description\" = [\"<b>bold</b> & co\", \"</table><script>x</script>\"]\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("sw");
    let o = drmsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
        "--no-progress",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let page_path = out.join("report.html");
    assert!(
        text(&o.stdout).contains(&format!("report     {}", page_path.display())),
        "{}",
        text(&o.stdout)
    );
    let html = std::fs::read_to_string(&page_path).unwrap();

    // Every chart the sweep drew, inline, body for body.
    let mut svgs: Vec<_> = std::fs::read_dir(out.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    svgs.sort();
    assert_eq!(svgs.len(), 3, "{svgs:?}");
    assert_eq!(html.matches("<svg").count(), svgs.len());
    for p in &svgs {
        let svg = std::fs::read_to_string(p).unwrap();
        let body = &svg[svg.find("<svg").unwrap()..];
        let after_open_tag = &body[body.find('>').unwrap()..];
        assert!(html.contains(after_open_tag), "{} not inlined", p.display());
    }

    // One table row per results row, cell for cell (escaped).
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let data_rows = csv.lines().count() - 1;
    assert_eq!(data_rows, 8);
    assert_eq!(tbody(&html).matches("<tr>").count(), data_rows);
    assert!(html.contains("<th>point_id</th>"));
    for line in csv.lines().skip(1) {
        let point_id = line.split(',').next().unwrap();
        assert!(
            tbody(&html).contains(&format!("<tr><td>{point_id}</td>")),
            "{point_id}"
        );
    }
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; co"));
    assert!(html.contains("&lt;/table&gt;&lt;script&gt;x&lt;/script&gt;"));
    assert!(!html.contains("<b>") && !html.contains("<script"));

    // Self-contained and well-formed.
    for external in ["src=", "href", "<link", "@import", "url("] {
        assert!(!html.contains(external), "references {external}");
    }
    let elements = balanced(&html).unwrap();
    assert!(elements > 100, "{elements}");

    // `drmsim report DIR` writes the same page again from the sweep's files.
    std::fs::remove_file(&page_path).unwrap();
    let o = drmsim(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("3 chart(s), 8 of 8 results row(s)"));
    assert_eq!(std::fs::read_to_string(&page_path).unwrap(), html);

    // An incomplete sweep has no results to report.
    std::fs::remove_file(out.join("results.csv")).unwrap();
    let o = drmsim(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("the sweep is not complete (no results.csv)"));
}

/// A sweep whose second rate value asks for ~10^13 events: over `drmsim run`'s limit.
const HUGE: &str = r#"
[scenario]
name = "huge"
seed = 1
horizon = "30s"

[population]
groups = ["g"]
agents = 4

[sweep]
"workload.ro_acquire_rate_per_min" = [1.0, 1e12]
"#;

#[test]
fn a_sweep_refuses_a_point_run_would_refuse_before_running_anything() {
    let dir = tempfile::tempdir().unwrap();
    let base = load_str(HUGE, "huge.toml").unwrap();
    let fake = Fake::new();
    let out = dir.path().join("s");
    let err = run_sweep(&base, &opts(&out, 2, None), |s, o| fake.run(s, o)).unwrap_err();
    match &err {
        SweepError::TooLarge { point_id, refusal } => {
            assert_eq!(point_id, "ro_acquire_rate_per_min=1000000000000.0-seed=1");
            assert!(refusal.estimate.events > 1e11, "{refusal}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("sweep --force runs it"), "{err}");
    assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(
        !out.join("runs").exists(),
        "nothing is written before the check"
    );

    // --force runs every point.
    let mut o = opts(&out, 2, None);
    o.force = true;
    let r = run_sweep(&base, &o, |s, o| fake.run(s, o)).unwrap();
    assert!(r.complete());
    assert_eq!(r.ran, 2);

    // The command line: exit status 2 with the estimate, nothing run.
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, HUGE).unwrap();
    let cli_out = dir.path().join("cli");
    let o = drmsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        cli_out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(
        e.contains("point ro_acquire_rate_per_min=1000000000000.0-seed=1: `drmsim run` refuses it"),
        "{e}"
    );
    assert!(e.contains("estimate: ~"), "{e}");
    assert!(!cli_out.join("runs").exists());
}
