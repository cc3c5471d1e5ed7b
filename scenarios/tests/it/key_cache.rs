//! The on-disk RSA key cache never changes a run: a key file that was altered or swapped
//! with another is detected through its binding and regenerated, and the real-crypto run
//! gets the same trace digest as with a clean cache.

use std::path::Path;
use std::process::Command;

/// quickstart with real crypto, 3 agents, 5 s: a handful of RSA-1024 keys.
fn tiny_real() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart.toml"))
        .unwrap()
        .replace("crypto = \"symbolic\"", "crypto = \"real\"")
        .replace("agents = 50", "agents = 3")
        .replace("horizon = \"30s\"", "horizon = \"5s\"")
        .replace("over = \"5s\"", "over = \"1s\"")
}

/// Runs `file` with the key cache in `cache`; returns (trace digest, stderr).
fn run(file: &Path, cache: &Path, out: &Path) -> (String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_drmsim"))
        .env("DRMSIM_KEY_CACHE", cache)
        .args([
            "run",
            file.to_str().unwrap(),
            "--no-progress",
            "--force",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    (s["trace_digest"].as_str().unwrap().to_string(), err)
}

fn key_files(cache: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".pk8.der"))
        .collect();
    v.sort();
    v
}

#[test]
fn altered_and_swapped_key_files_are_regenerated_and_the_digest_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("real.toml");
    std::fs::write(&file, tiny_real()).unwrap();
    let cache = tmp.path().join("keys");
    let out = tmp.path().join("out");
    let (clean, _) = run(&file, &cache, &out);
    let keys = key_files(&cache);
    assert!(keys.len() >= 4, "{keys:?}");
    let bound: Vec<_> = keys
        .iter()
        .map(|k| format!("{}.bind", k.display()))
        .collect();
    assert!(bound.iter().all(|b| Path::new(b).is_file()));
    let originals: Vec<Vec<u8>> = keys.iter().map(|k| std::fs::read(k).unwrap()).collect();

    // Swap two key files (both valid keys of the same size), alter a third.
    std::fs::write(&keys[0], &originals[1]).unwrap();
    std::fs::write(&keys[1], &originals[0]).unwrap();
    let mut altered = originals[2].clone();
    let n = altered.len();
    altered[n - 40] ^= 0x5a;
    std::fs::write(&keys[2], &altered).unwrap();

    let (again, err) = run(&file, &cache, &out);
    assert_eq!(
        again, clean,
        "the run's digest does not depend on the cache"
    );
    assert_eq!(err.matches("warning: key cache:").count(), 3, "{err}");
    assert!(err.contains("regenerating"), "{err}");
    for (k, want) in keys.iter().zip(&originals) {
        assert_eq!(&std::fs::read(k).unwrap(), want, "{} restored", k.display());
    }
    // A third run finds a clean cache: no warnings.
    let (third, err) = run(&file, &cache, &out);
    assert_eq!(third, clean);
    assert!(!err.contains("warning: key cache"), "{err}");
}
