//! `drmsim explore`: starting from bundled scenarios with no adversary, it rediscovers each
//! pre-change weakness of the seeds within a small budget and finds nothing on the current
//! text; its findings are standalone reproducers that show the violation with the attack
//! acting; the search is the same whatever `--jobs`; shards merge.

use scenarios::explore::{explore, merge, ExploreOptions, ExploreReport};
use scenarios::loader::load_str;
use std::path::{Path, PathBuf};

fn bundled(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

/// A bundled scenario with `[variants]` lines set (replacing the same keys if present).
fn with_variants(name: &str, set: &[(&str, &str)]) -> String {
    let mut text: String = bundled(name)
        .lines()
        .filter(|l| {
            !set.iter()
                .any(|(k, _)| l.trim_start().starts_with(&format!("{k} =")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    if !text.contains("\n[variants]\n") {
        text.push_str("\n[variants]\n");
    }
    let lines: String = set.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    text.replace("\n[variants]\n", &format!("\n[variants]\n{lines}"))
}

fn out_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("drmsim-explore-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn search(text: &str, tag: &str, runs: u64, jobs: usize) -> (ExploreReport, PathBuf) {
    // The file name (in reports and reproducers) is the tag without a `-jN` suffix.
    let name = tag.trim_end_matches("-j1").trim_end_matches("-j2");
    let sc = load_str(text, &format!("{name}.toml")).unwrap_or_else(|e| panic!("{tag}: {e}"));
    let out = out_dir(tag);
    let r = explore(
        &sc,
        &ExploreOptions {
            runs,
            time: None,
            jobs,
            seed: 1,
            shard: (1, 1),
            out: out.clone(),
            shrink: true,
            progress: false,
        },
    )
    .unwrap_or_else(|e| panic!("{tag}: {e}"));
    (r, out)
}

/// Each finding's reproducer, run on its own, still violates its invariant, and the attack
/// (when it has moves) acts: shrinking never kept a reduction where it did not.
fn reproducers_show_their_violation(r: &ExploreReport, out: &Path) {
    for f in &r.findings {
        let text = std::fs::read_to_string(out.join(&f.file)).unwrap();
        assert!(text.contains("# Message sequence chart"), "{}", f.file);
        let o = scenarios::explore::run::run_text(&text, &f.file);
        assert!(o.error.is_none(), "{}: {:?}", f.file, o.error);
        assert!(
            o.violations.iter().any(|v| v.invariant == f.invariant),
            "{}: the reproducer no longer violates {}",
            f.file,
            f.invariant
        );
        if !f.moves.is_empty() {
            assert!(
                o.attempts.values().sum::<u64>() > 0,
                "{}: the attack never acted",
                f.file
            );
        }
    }
}

fn found(r: &ExploreReport, invariants: &[&str]) -> bool {
    r.findings
        .iter()
        .any(|f| invariants.contains(&f.invariant.as_str()))
}

#[test]
fn an_unsigned_metering_response_is_found_and_the_signed_one_is_not() {
    // Seed 004: a forged unsigned MeteringReportResponse makes the Device delete data.
    let pre = with_variants("metering.toml", &[("metering_response_signed", "false")]);
    let (r, out) = search(&pre, "metering-pre", 160, 2);
    assert!(
        found(&r, &["metering_deleted_only_after_authentic_success"]),
        "{}",
        scenarios::explore::render(&r)
    );
    reproducers_show_their_violation(&r, &out);
    let (r, _) = search(&bundled("metering.toml"), "metering", 160, 2);
    assert!(r.findings.is_empty(), "{}", scenarios::explore::render(&r));
    assert!(r.runs == 161, "the honest run plus 160: {}", r.runs);
}

#[test]
fn reused_move_nonces_without_ri_tracking_are_found_and_the_current_text_holds() {
    // Seed 003: without RI nonce tracking and with nonces reused on retry, a request the
    // network or an attacker makes the Device retry is accepted twice.
    let pre = with_variants(
        "move.toml",
        &[
            ("ri_nonce_tracking", "false"),
            ("move_fresh_nonce_retries", "false"),
        ],
    );
    let (r, out) = search(&pre, "move-pre", 64, 2);
    assert!(
        found(&r, &["no_request_accepted_twice", "no_rights_duplicated"]),
        "{}",
        scenarios::explore::render(&r)
    );
    reproducers_show_their_violation(&r, &out);
    let (r, _) = search(&bundled("move.toml"), "move", 200, 2);
    assert!(r.findings.is_empty(), "{}", scenarios::explore::render(&r));
}

#[test]
fn a_dea_without_nonce_tracking_is_found() {
    // Seed 000: a DEA that tracks no nonces accepts a repeated Proxy Join again.
    let pre = with_variants("user-domains-10k.toml", &[("dea_nonce_tracking", "false")]);
    let (r, out) = search(&pre, "dea-nonce-pre", 200, 2);
    assert!(
        found(&r, &["no_request_accepted_twice", "domain_within_limit"]),
        "{}",
        scenarios::explore::render(&r)
    );
    reproducers_show_their_violation(&r, &out);
    let (r, _) = search(&bundled("user-domains-10k.toml"), "dea", 200, 2);
    assert!(r.findings.is_empty(), "{}", scenarios::explore::render(&r));
}

#[test]
fn per_ri_device_counting_is_found_and_counting_once_holds() {
    // Seed 000 §7.4.1 note: a DEA counting a User Domain's Devices per RI lets each RI fill
    // the domain.
    let pre = with_variants("user-domains-full.toml", &[("dea_count_once", "false")]);
    let (r, out) = search(&pre, "count-pre", 32, 2);
    assert!(
        found(&r, &["domain_within_limit"]),
        "{}",
        scenarios::explore::render(&r)
    );
    reproducers_show_their_violation(&r, &out);
    let (r, _) = search(&bundled("user-domains-full.toml"), "count", 200, 2);
    assert!(r.findings.is_empty(), "{}", scenarios::explore::render(&r));
}

/// explore.json without the wall-time fields.
fn stable(out: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("explore.json")).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("wall_s");
    o.remove("runs_per_s");
    v
}

#[test]
fn the_same_search_finds_the_same_whatever_the_thread_count() {
    let pre = with_variants(
        "move.toml",
        &[
            ("ri_nonce_tracking", "false"),
            ("move_fresh_nonce_retries", "false"),
        ],
    );
    let (r1, o1) = search(&pre, "det-j1", 48, 1);
    let (_, o2) = search(&pre, "det-j2", 48, 2);
    assert!(!r1.findings.is_empty());
    assert_eq!(stable(&o1), stable(&o2));
    for f in &r1.findings {
        assert_eq!(
            std::fs::read_to_string(o1.join(&f.file)).unwrap(),
            std::fs::read_to_string(o2.join(&f.file))
                .unwrap()
                .replace(&o2.display().to_string(), &o1.display().to_string()),
            "{}",
            f.file
        );
    }
    // Another search seed draws other plans.
    let sc = load_str(&pre, "det.toml").unwrap();
    let o3 = out_dir("det-seed2");
    let r3 = explore(
        &sc,
        &ExploreOptions {
            runs: 48,
            time: None,
            jobs: 2,
            seed: 2,
            shard: (1, 1),
            out: o3,
            shrink: false,
            progress: false,
        },
    )
    .unwrap();
    assert_ne!(r1.acted, r3.acted, "seed 2 acted exactly like seed 1");
}

#[test]
fn shards_merge_into_one_deduplicated_report() {
    let pre = with_variants("metering.toml", &[("metering_response_signed", "false")]);
    let sc = load_str(&pre, "shards.toml").unwrap();
    let mut dirs = Vec::new();
    let mut found_total = 0;
    for k in 1..=2 {
        let out = out_dir(&format!("shard{k}"));
        let r = explore(
            &sc,
            &ExploreOptions {
                runs: 80,
                time: None,
                jobs: 1,
                seed: 1,
                shard: (k, 2),
                out: out.clone(),
                shrink: false,
                progress: false,
            },
        )
        .unwrap();
        assert_eq!(r.shard, format!("{k}/2"));
        found_total += r.findings.len();
        dirs.push(out);
    }
    let merged_dir = out_dir("merged");
    let m = merge(&dirs, &merged_dir).unwrap();
    assert_eq!(m.runs, 2 * 81);
    assert!(m.findings.len() <= found_total);
    let mut sigs: Vec<&str> = m.findings.iter().map(|f| f.signature.as_str()).collect();
    let n = sigs.len();
    sigs.dedup();
    assert_eq!(sigs.len(), n, "duplicate signatures after merge");
    for f in &m.findings {
        assert!(merged_dir.join(&f.file).exists(), "{}", f.file);
    }
    // A shard of another scenario is refused.
    let other = load_str(&bundled("move.toml"), "move.toml").unwrap();
    let od = out_dir("other");
    explore(
        &other,
        &ExploreOptions {
            runs: 1,
            time: None,
            jobs: 1,
            seed: 1,
            shard: (1, 1),
            out: od.clone(),
            shrink: false,
            progress: false,
        },
    )
    .unwrap();
    let e = merge(&[dirs[0].clone(), od], &out_dir("bad-merge")).unwrap_err();
    assert!(e.to_string().contains("another scenario"), "{e}");
}

#[test]
fn an_explore_table_is_validated_field_by_field() {
    let text = bundled("move.toml") + "\n[explore]\nactions = [\"drop\", \"dorp\"]\ninvariants = [\"no_rights_duplicatd\"]\ncompromised = [\"agent-0\"]\n";
    let e = load_str(&text, "bad.toml").unwrap_err().to_string();
    assert!(
        e.contains("actions") && e.contains("did you mean `drop`"),
        "{e}"
    );
    assert!(e.contains("did you mean `no_rights_duplicated`"), "{e}");
    assert!(e.contains("\"agent-0\" is not an endpoint name"), "{e}");
    let skew = bundled("move.toml") + "\n[explore]\nactions = [\"skew\"]\n";
    let e = load_str(&skew, "skew.toml").unwrap_err().to_string();
    assert!(e.contains("needs a compromised agent"), "{e}");
}
