//! Reading input files through a size cap. `metadata().len()` says nothing about pipes or
//! character devices (`/dev/zero` reports 0 bytes and never ends), so every input is read
//! with `take(limit + 1)`: at most one byte past the limit is ever read.

use std::io::Read;
use std::path::Path;

/// Reads all of `path` if it holds at most `limit` bytes; otherwise an error naming the
/// limit (`what` says what kind of file it is, for the message).
pub fn read_capped(path: &Path, limit: u64, what: &str) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(std::io::Error::other("is a directory, not a file"));
    }
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than {limit} bytes, the limit for {what}"
        )));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_inputs_stop_at_the_cap() {
        let e = read_capped(Path::new("/dev/zero"), 1024, "a scenario").unwrap_err();
        assert_eq!(
            e.to_string(),
            "larger than 1024 bytes, the limit for a scenario"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_capped(&p, 5, "x").unwrap(), b"12345");
        assert!(read_capped(&p, 4, "x").is_err());
        assert!(read_capped(dir.path(), 4, "x").is_err());
    }
}
