//! Deterministic structural digests and size estimates of PDUs, computed from the derived
//! `Hash` encoding of the typed structs (no XML is produced).
//!
//! The derived `Hash` of our types writes length prefixes, discriminants and raw bytes in
//! field order; fed to a fixed FNV-1a hasher (never std's randomly keyed `RandomState`) it
//! is identical across runs and machines of the same pointer width.

use std::hash::{Hash, Hasher};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(FNV_OFFSET)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
    // Fixed-width little-endian encodings so the result does not depend on the platform.
    fn write_usize(&mut self, i: usize) {
        self.write(&(i as u64).to_le_bytes())
    }
    fn write_isize(&mut self, i: isize) {
        self.write(&(i as i64).to_le_bytes())
    }
}

/// FNV-1a of a value's `Hash` encoding.
pub fn fnv1a_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = Fnv1a::default();
    v.hash(&mut h);
    h.finish()
}

/// FNV-1a of raw bytes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::default();
    h.write(bytes);
    h.finish()
}

/// Counts what a `Hash` walk writes: byte runs (base64 fields), string runs (text fields,
/// recognised by the 0xff terminator `str` hashing appends), length-prefixed items (each
/// roughly one XML element), scalars, and the markup costs our `Hash` impls announce
/// through `write_u16`.
#[derive(Debug, Default)]
struct SizeCounter {
    raw_bytes: usize,
    string_bytes: usize,
    last_write: usize,
    items: usize,
    scalars: usize,
    markup: usize,
}

impl Hasher for SizeCounter {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.raw_bytes += bytes.len();
        self.last_write = bytes.len();
    }
    fn write_u8(&mut self, b: u8) {
        if b == 0xff {
            self.string_bytes += self.last_write;
        }
        self.last_write = 0;
    }
    fn write_u16(&mut self, markup: u16) {
        self.markup += usize::from(markup);
    }
    fn write_u32(&mut self, _: u32) {
        self.scalars += 1;
    }
    fn write_u64(&mut self, _: u64) {
        self.scalars += 1;
    }
    fn write_usize(&mut self, _: usize) {
        self.items += 1;
    }
    fn write_isize(&mut self, _: isize) {}
}

/// Bytes of markup per length-prefixed item (start + end tag of a short local name).
const MARKUP_PER_ITEM: usize = 22;
/// Bytes per scalar field (a number or date in text plus its tags).
const BYTES_PER_SCALAR: usize = 30;
/// Root element with its namespace declaration and status attribute.
const ROOT_OVERHEAD: usize = 90;

/// Estimate of the canonical encoded size of `pdu` from its structure: byte fields at
/// base64 expansion (4/3), text at face value, plus markup per element.
pub fn estimate_size(pdu: &super::Pdu) -> usize {
    let mut c = SizeCounter::default();
    pdu.hash(&mut c);
    let binary = c.raw_bytes.saturating_sub(c.string_bytes);
    ROOT_OVERHEAD
        + binary * 4 / 3
        + c.string_bytes
        + c.markup
        + c.items * MARKUP_PER_ITEM
        + c.scalars * BYTES_PER_SCALAR
}

/// Estimate of the canonical size of any PDU part (an RO, a domain key, a metering report…)
/// from its structure, as [`estimate_size`] does for whole PDUs but without the root overhead.
/// Used to charge hashing costs in symbolic mode without producing XML.
pub fn estimate_size_of<T: Hash + ?Sized>(v: &T) -> usize {
    let mut c = SizeCounter::default();
    v.hash(&mut c);
    let binary = c.raw_bytes.saturating_sub(c.string_bytes);
    binary * 4 / 3
        + c.string_bytes
        + c.markup
        + c.items * MARKUP_PER_ITEM
        + c.scalars * BYTES_PER_SCALAR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_published_vectors() {
        // FNV-1a 64 test vectors (Fowler/Noll/Vo): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
