//! Disk cache of deterministic RSA keys (the only IO of the crypto layer).
//!
//! RSA key generation is slow (≈20 ms at 1024 bits, ≈200 ms median and up to 0.5 s at 2048
//! bits), so real-mode runs fetch keys through this [`KeySource`]: each key is stored as a
//! PKCS#8 DER file named by `KeySpec::cache_name()` (SHA-256 of the keygen version and the
//! derivation inputs `(seed, owner, bits)`) under `$DRMSIM_KEY_CACHE`, or
//! `~/.cache/drmsim/keys` when unset. Writes go to a temporary file in the same directory and
//! are renamed into place, so concurrent runs never observe a partial file. Keys are a pure
//! function of their inputs, so the cache only saves time and never changes results.
//!
//! Each key file is bound to what it was derived from by a sidecar `<name>.pk8.der.bind`
//! written when the key is generated: the key's derivation inputs and cache name, the
//! SHA-256 of its PKCS#8 DER and of its public key (SPKI DER). A key is used only when
//! its sidecar names this very derivation and both hashes match what is read, so a key
//! file altered, swapped with another key's file (with or without its sidecar), or left
//! without a sidecar (a cache written before the binding existed) is reported
//! ([`KeyCacheEvent::Unbound`], [`KeyCacheEvent::Unverified`]) and regenerated from its
//! inputs, never used: a wrong key would silently change every signature of a run under
//! the same scenario and seed.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sim_core::crypto::{generate_rsa, CryptoError, KeySource, KeySpec, PrivateKey};
use thiserror::Error;

/// Environment variable naming the cache directory.
pub const KEY_CACHE_ENV: &str = "DRMSIM_KEY_CACHE";
/// Bound on keys kept in memory by one cache instance.
pub const MAX_MEMORY_KEYS: usize = 1 << 20;
/// File extension of cached keys.
pub const KEY_FILE_EXT: &str = "pk8.der";
/// Extension of the binding sidecar, appended to the key file name.
pub const BINDING_EXT: &str = "bind";
/// First line of a binding sidecar.
const BINDING_HEADER: &str = "drmsim key binding v1";
/// Largest key file or sidecar read (an RSA-2048 PKCS#8 DER is about 1.2 KB).
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// Key cache failures.
#[derive(Debug, Error)]
pub enum KeyCacheError {
    /// Neither `$DRMSIM_KEY_CACHE` nor `$HOME` is set.
    #[error("no key cache directory: set {KEY_CACHE_ENV} or HOME")]
    NoDirectory,
    /// Filesystem error.
    #[error("key cache IO at {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Generating or encoding a key failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl KeyCacheError {
    /// All key cache errors stop a real-mode run.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

/// Progress reports for a cold cache (e.g. drive an indicatif bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCacheEvent {
    /// A key is missing (or its file unreadable) and is being generated.
    Generating {
        /// Key owner.
        owner: String,
        /// Modulus size.
        bits: u32,
    },
    /// A freshly generated key was written to `path`.
    Stored {
        /// Key owner.
        owner: String,
        /// The file written.
        path: PathBuf,
    },
    /// A cached file could not be parsed and will be regenerated.
    Corrupt {
        /// The bad file.
        path: PathBuf,
    },
    /// A cached key has no binding sidecar (a cache written before bindings existed): it
    /// is regenerated once and bound.
    Unverified {
        /// The key file.
        path: PathBuf,
    },
    /// A cached key is not bound to its derivation (altered, or swapped with another key's
    /// file) and will be regenerated.
    Unbound {
        /// The key file.
        path: PathBuf,
        /// What did not match.
        why: String,
    },
    /// Pre-warming progress: `done` of `total` keys available.
    Prewarm {
        /// Keys done.
        done: usize,
        /// Keys requested.
        total: usize,
    },
}

type ProgressFn = Box<dyn Fn(&KeyCacheEvent) + Send + Sync>;

/// A [`KeySource`] backed by a directory of PKCS#8 DER files.
pub struct DiskKeyCache {
    dir: PathBuf,
    progress: Option<ProgressFn>,
    memory: Mutex<BTreeMap<KeySpec, PrivateKey>>,
    tmp_counter: AtomicU64,
}

impl std::fmt::Debug for DiskKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DiskKeyCache({})", self.dir.display())
    }
}

/// The cache directory from the environment values: `$DRMSIM_KEY_CACHE` if set and non-empty,
/// else `$HOME/.cache/drmsim/keys`.
pub fn cache_dir_from(env_value: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    match env_value {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => home
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache").join("drmsim").join("keys")),
    }
}

/// The default cache directory for this process.
pub fn default_cache_dir() -> Result<PathBuf, KeyCacheError> {
    cache_dir_from(std::env::var_os(KEY_CACHE_ENV), std::env::var_os("HOME"))
        .ok_or(KeyCacheError::NoDirectory)
}

impl DiskKeyCache {
    /// A cache in `dir` (created if missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, KeyCacheError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| KeyCacheError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(DiskKeyCache {
            dir,
            progress: None,
            memory: Mutex::new(BTreeMap::new()),
            tmp_counter: AtomicU64::new(0),
        })
    }

    /// A cache in [`default_cache_dir`].
    pub fn open_default() -> Result<Self, KeyCacheError> {
        Self::open(default_cache_dir()?)
    }

    /// Installs a progress callback (called on the generating thread).
    pub fn with_progress(mut self, f: impl Fn(&KeyCacheEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds (or will hold) the key for `spec`.
    pub fn path_for(&self, spec: &KeySpec) -> PathBuf {
        self.dir
            .join(format!("{}.{KEY_FILE_EXT}", spec.cache_name()))
    }

    /// The binding sidecar of the key file for `spec`.
    pub fn binding_path_for(&self, spec: &KeySpec) -> PathBuf {
        self.dir.join(format!(
            "{}.{KEY_FILE_EXT}.{BINDING_EXT}",
            spec.cache_name()
        ))
    }

    fn report(&self, e: KeyCacheEvent) {
        if let Some(f) = &self.progress {
            f(&e);
        }
    }

    /// Loads or generates the key for `spec`.
    pub fn get(&self, spec: &KeySpec) -> Result<PrivateKey, KeyCacheError> {
        spec.check()?;
        if let Ok(m) = self.memory.lock() {
            if let Some(k) = m.get(spec) {
                return Ok(k.clone());
            }
        }
        let path = self.path_for(spec);
        let key = match read_bounded(&path) {
            Ok(Some(bytes)) => match PrivateKey::from_pkcs8_der(&bytes) {
                Ok(k) if k.bits() == spec.bits => match self.check_binding(spec, &bytes, &k) {
                    Ok(()) => Some(k),
                    Err(None) => {
                        self.report(KeyCacheEvent::Unverified { path: path.clone() });
                        None
                    }
                    Err(Some(why)) => {
                        self.report(KeyCacheEvent::Unbound {
                            path: path.clone(),
                            why,
                        });
                        None
                    }
                },
                _ => {
                    self.report(KeyCacheEvent::Corrupt { path: path.clone() });
                    None
                }
            },
            Ok(None) => None,
            Err(source) => return Err(KeyCacheError::Io { path, source }),
        };
        let key = match key {
            Some(k) => k,
            None => {
                self.report(KeyCacheEvent::Generating {
                    owner: spec.owner.clone(),
                    bits: spec.bits,
                });
                let k = generate_rsa(spec)?;
                let der = k.to_pkcs8_der()?;
                self.store(&path, &der)?;
                self.store(
                    &self.binding_path_for(spec),
                    binding_text(spec, &der, &k).as_bytes(),
                )?;
                self.report(KeyCacheEvent::Stored {
                    owner: spec.owner.clone(),
                    path,
                });
                k
            }
        };
        if let Ok(mut m) = self.memory.lock() {
            if m.len() < MAX_MEMORY_KEYS {
                m.insert(spec.clone(), key.clone());
            }
        }
        Ok(key)
    }

    /// Makes sure every key of `specs` is cached, reporting `Prewarm` progress.
    pub fn prewarm(&self, specs: &[KeySpec]) -> Result<(), KeyCacheError> {
        for (i, spec) in specs.iter().enumerate() {
            self.get(spec)?;
            self.report(KeyCacheEvent::Prewarm {
                done: i + 1,
                total: specs.len(),
            });
        }
        Ok(())
    }

    /// Checks the sidecar of `spec`'s key file against the key read (`der`, parsed as `key`).
    /// `Err(None)`: there is no sidecar; `Err(Some(why))`: it does not match.
    fn check_binding(
        &self,
        spec: &KeySpec,
        der: &[u8],
        key: &PrivateKey,
    ) -> Result<(), Option<String>> {
        let path = self.binding_path_for(spec);
        let have = match read_bounded(&path) {
            Ok(Some(b)) => b,
            Ok(None) => return Err(None),
            Err(e) => return Err(Some(format!("binding sidecar: {e}"))),
        };
        let want = binding_text(spec, der, key);
        if have == want.as_bytes() {
            return Ok(());
        }
        // Say what differs: another key's sidecar, or this sidecar with another key file.
        let text = String::from_utf8_lossy(&have);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .unwrap_or("")
                .to_string()
        };
        Err(Some(if field("cache_name") != spec.cache_name() {
            format!(
                "the binding is for another key ({} {})",
                field("owner"),
                field("cache_name")
            )
        } else {
            "the key file is not the key recorded when it was generated (its SHA-256 differs)"
                .into()
        }))
    }

    /// Atomic write: temp file in the same directory, flushed, then renamed over `path`.
    fn store(&self, path: &Path, der: &[u8]) -> Result<(), KeyCacheError> {
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".tmp-{}-{n}.{KEY_FILE_EXT}", std::process::id()));
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| KeyCacheError::Io { path: p, source }
        };
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(der).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|source| {
            let _ = fs::remove_file(&tmp);
            KeyCacheError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }
}

/// Reads at most [`MAX_KEY_FILE_BYTES`] of `path`; `None` when it does not exist.
fn read_bounded(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::new();
    f.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_KEY_FILE_BYTES} bytes"
        )));
    }
    Ok(Some(buf))
}

/// The binding sidecar text of `key` (PKCS#8 DER `der`) generated for `spec`.
fn binding_text(spec: &KeySpec, der: &[u8], key: &PrivateKey) -> String {
    use sha2::{Digest, Sha256};
    let public = key.public().spki_der().unwrap_or_default();
    format!(
        "{BINDING_HEADER}\ncache_name {}\nseed {}\nowner {}\nbits {}\npkcs8_sha256 {}\npublic_key_sha256 {}\n",
        spec.cache_name(),
        spec.seed,
        spec.owner.escape_default(),
        spec.bits,
        hex::encode(Sha256::digest(der)),
        hex::encode(Sha256::digest(public)),
    )
}

impl KeySource for DiskKeyCache {
    fn private_key(&self, spec: &KeySpec) -> Result<PrivateKey, CryptoError> {
        self.get(spec).map_err(|e| match e {
            KeyCacheError::Crypto(c) => c,
            other => CryptoError::KeySource(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn cache_dir_prefers_env_then_home() {
        assert_eq!(
            cache_dir_from(Some("/x/keys".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/keys"))
        );
        assert_eq!(
            cache_dir_from(Some("".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.cache/drmsim/keys"))
        );
        assert_eq!(cache_dir_from(None, None), None);
    }

    #[test]
    fn cold_then_warm_then_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let ev = events.clone();
        let cache = DiskKeyCache::open(tmp.path().join("keys"))
            .unwrap()
            .with_progress(move |e| ev.lock().unwrap().push(e.clone()));
        let spec = KeySpec::new(3, "device/1", 1024);
        let expected = generate_rsa(&spec).unwrap();

        let k1 = cache.get(&spec).unwrap();
        assert_eq!(k1.id(), expected.id());
        let path = cache.path_for(&spec);
        assert!(path.exists());
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("{}.pk8.der", spec.cache_name())
        );
        assert_eq!(fs::read(&path).unwrap(), expected.to_pkcs8_der().unwrap());
        assert!(matches!(
            events.lock().unwrap()[0],
            KeyCacheEvent::Generating { bits: 1024, .. }
        ));
        // The key and its binding, no temp files left behind.
        let mut names: Vec<String> = fs::read_dir(cache.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let name = spec.cache_name();
        assert_eq!(
            names,
            vec![format!("{name}.pk8.der"), format!("{name}.pk8.der.bind")]
        );
        let binding = fs::read_to_string(cache.binding_path_for(&spec)).unwrap();
        assert!(binding.starts_with("drmsim key binding v1\n"), "{binding}");
        assert!(binding.contains(&format!("cache_name {name}\n")));
        assert!(binding.contains("owner device/1\n") && binding.contains("bits 1024\n"));

        // A second instance reads the file instead of generating.
        let warm = DiskKeyCache::open(cache.dir()).unwrap();
        let n_events = events.lock().unwrap().len();
        assert_eq!(warm.private_key(&spec).unwrap().id(), expected.id());
        assert_eq!(events.lock().unwrap().len(), n_events);

        // A corrupt file is reported and regenerated to the same key.
        fs::write(&path, b"garbage").unwrap();
        let ev2 = events.clone();
        let again = DiskKeyCache::open(cache.dir())
            .unwrap()
            .with_progress(move |e| ev2.lock().unwrap().push(e.clone()));
        assert_eq!(again.get(&spec).unwrap().id(), expected.id());
        assert!(events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, KeyCacheEvent::Corrupt { .. })));
        assert_eq!(fs::read(&path).unwrap(), expected.to_pkcs8_der().unwrap());

        // Unsupported sizes are refused before any IO.
        assert!(again.get(&KeySpec::new(3, "x", 512)).is_err());
    }

    /// Keys generated into `dir` for two owners, with the events of a fresh cache.
    fn two_keys(dir: &Path) -> (KeySpec, KeySpec, Vec<u8>, Vec<u8>) {
        let cache = DiskKeyCache::open(dir).unwrap();
        let (a, b) = (KeySpec::new(5, "ri/0", 1024), KeySpec::new(5, "ri/1", 1024));
        cache.get(&a).unwrap();
        cache.get(&b).unwrap();
        let da = fs::read(cache.path_for(&a)).unwrap();
        let db = fs::read(cache.path_for(&b)).unwrap();
        (a, b, da, db)
    }

    fn events_of(dir: &Path, spec: &KeySpec) -> (PrivateKey, Vec<KeyCacheEvent>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let ev = events.clone();
        let cache = DiskKeyCache::open(dir)
            .unwrap()
            .with_progress(move |e| ev.lock().unwrap().push(e.clone()));
        let k = cache.get(spec).unwrap();
        let e = events.lock().unwrap().clone();
        (k, e)
    }

    fn unbound(events: &[KeyCacheEvent]) -> Option<String> {
        events.iter().find_map(|e| match e {
            KeyCacheEvent::Unbound { why, .. } => Some(why.clone()),
            _ => None,
        })
    }

    #[test]
    fn swapped_key_files_are_regenerated_not_used() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (a, b, da, db) = two_keys(dir);
        let cache = DiskKeyCache::open(dir).unwrap();
        // Both are valid RSA-1024 keys: without the binding the swap would go unnoticed.
        fs::write(cache.path_for(&a), &db).unwrap();
        fs::write(cache.path_for(&b), &da).unwrap();
        let (ka, ev) = events_of(dir, &a);
        assert_eq!(ka.id(), generate_rsa(&a).unwrap().id());
        let why = unbound(&ev).expect("the swap is reported");
        assert!(why.contains("SHA-256 differs"), "{why}");
        assert_eq!(fs::read(cache.path_for(&a)).unwrap(), da, "regenerated");

        // Swapping key files together with their sidecars is caught too.
        let bind = |s: &KeySpec| cache.binding_path_for(s);
        let (ba, bb) = (fs::read(bind(&a)).unwrap(), fs::read(bind(&b)).unwrap());
        fs::write(cache.path_for(&a), &db).unwrap();
        fs::write(bind(&a), &bb).unwrap();
        fs::write(bind(&b), &ba).unwrap();
        let (ka, ev) = events_of(dir, &a);
        assert_eq!(ka.id(), generate_rsa(&a).unwrap().id());
        let why = unbound(&ev).expect("the swap is reported");
        assert!(why.contains("another key (ri/1"), "{why}");
        assert_eq!(fs::read(cache.path_for(&a)).unwrap(), da);
    }

    #[test]
    fn altered_or_unbound_key_files_are_regenerated() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (a, _, da, _) = two_keys(dir);
        let cache = DiskKeyCache::open(dir).unwrap();
        // Another valid key of the same size in place of the cached one.
        let other = generate_rsa(&KeySpec::new(6, "ri/0", 1024)).unwrap();
        fs::write(cache.path_for(&a), other.to_pkcs8_der().unwrap()).unwrap();
        let (ka, ev) = events_of(dir, &a);
        assert_eq!(ka.id(), generate_rsa(&a).unwrap().id());
        assert!(unbound(&ev).is_some());
        assert_eq!(fs::read(cache.path_for(&a)).unwrap(), da);

        // A key without its sidecar (a cache from before bindings) is regenerated once,
        // then bound.
        fs::remove_file(cache.binding_path_for(&a)).unwrap();
        let (_, ev) = events_of(dir, &a);
        assert!(matches!(ev[0], KeyCacheEvent::Unverified { .. }), "{ev:?}");
        assert!(cache.binding_path_for(&a).is_file());
        let (_, ev) = events_of(dir, &a);
        assert!(ev.is_empty(), "{ev:?}");
    }
}
