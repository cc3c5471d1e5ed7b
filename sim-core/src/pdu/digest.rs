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
pub(crate) struct SizeCounter {
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
pub(crate) const ROOT_OVERHEAD: usize = 90;

/// Estimate of the canonical encoded size of `pdu` from its structure: byte fields at
/// base64 expansion (4/3), text at face value, plus markup per element.
pub fn estimate_size(pdu: &super::Pdu) -> usize {
    let mut c = SizeCounter::default();
    pdu.hash(&mut c);
    size_of_pdu_counted(&c)
}

/// [`estimate_size`] from a counter that has walked a whole PDU.
pub(crate) fn size_of_pdu_counted(c: &SizeCounter) -> usize {
    ROOT_OVERHEAD + size_of_part_counted(c)
}

/// A hasher adapter that hashes a value as if one of its byte fields were cleared, without
/// copying the value: the field is recognised by its address.
///
/// `Hash` for a `Vec<u8>` writes the length (`write_usize`) and then the bytes in one
/// `write`; when that `write` is the skipped run itself, the pair becomes `write_usize(0)` —
/// exactly what the emptied field writes. For an `Option<Vec<u8>>` field cleared to `None`
/// ([`SkipRun::optional`]) the triple `write_isize(1)` (the `Some` discriminant), length,
/// bytes becomes `write_isize(0)`. Every other call is forwarded unchanged, in order.
///
/// Used for signature/MAC values, which symbolic digests leave out (`Pdu::symbolic_digest`).
/// An empty run skips nothing (empty slices share dangling addresses): callers copy and
/// clear in the one case where that differs (an optional run that is `Some` and empty).
#[derive(Debug, Clone)]
pub(crate) struct SkipRun<H> {
    inner: H,
    run_addr: usize,
    run_len: usize,
    optional: bool,
    pending_disc: Option<isize>,
    pending_len: Option<usize>,
}

impl<H: Hasher> SkipRun<H> {
    /// Hashes into `inner`, writing the `Vec<u8>` field whose bytes are `run` as empty.
    pub(crate) fn new(inner: H, run: &[u8]) -> Self {
        SkipRun {
            inner,
            run_addr: run.as_ptr() as usize,
            run_len: run.len(),
            optional: false,
            pending_disc: None,
            pending_len: None,
        }
    }

    /// Hashes into `inner`, writing the `Option<Vec<u8>>` field holding `run` as `None`
    /// (`run` must not be empty).
    pub(crate) fn optional(inner: H, run: &[u8]) -> Self {
        SkipRun {
            optional: true,
            ..SkipRun::new(inner, run)
        }
    }

    #[inline]
    fn flush(&mut self) {
        if let Some(d) = self.pending_disc.take() {
            self.inner.write_isize(d);
        }
        if let Some(n) = self.pending_len.take() {
            self.inner.write_usize(n);
        }
    }
}

macro_rules! forward {
    ($($m:ident($t:ty)),*) => {$(
        #[inline]
        fn $m(&mut self, v: $t) {
            self.flush();
            self.inner.$m(v);
        }
    )*};
}

impl<H: Hasher + Clone> Hasher for SkipRun<H> {
    fn finish(&self) -> u64 {
        if self.pending_disc.is_none() && self.pending_len.is_none() {
            return self.inner.finish();
        }
        let mut h = self.clone();
        h.flush();
        h.inner.finish()
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if self.run_len > 0
            && self.pending_len == Some(self.run_len)
            && (!self.optional || self.pending_disc == Some(1))
            && bytes.len() == self.run_len
            && bytes.as_ptr() as usize == self.run_addr
        {
            self.pending_disc = None;
            self.pending_len = None;
            if self.optional {
                self.inner.write_isize(0);
            } else {
                self.inner.write_usize(0);
            }
            return;
        }
        self.flush();
        self.inner.write(bytes);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        if self.optional && self.pending_disc.is_some() && self.pending_len.is_none() {
            self.pending_len = Some(n);
            return;
        }
        self.flush();
        if self.optional {
            self.inner.write_usize(n);
        } else {
            self.pending_len = Some(n);
        }
    }
    #[inline]
    fn write_isize(&mut self, d: isize) {
        self.flush();
        if self.optional && d == 1 {
            self.pending_disc = Some(d);
        } else {
            self.inner.write_isize(d);
        }
    }
    forward!(
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128)
    );
}

/// How a value's authenticator (signature or MAC) sits in it, for digests that leave it out.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthRun<'a> {
    /// A `Vec<u8>` field (empty when unsigned): hashed as empty in place.
    Bytes(&'a [u8]),
    /// An `Option<Vec<u8>>` field holding these (non-empty) bytes: hashed as `None` in place.
    Optional(&'a [u8]),
    /// Nothing to leave out (no authenticator, or an optional one that is `None`).
    Nothing,
    /// A case the in-place walk does not cover (`Some` of an empty value): copy and clear.
    Copy,
}

impl<'a> AuthRun<'a> {
    /// The run of an `Option<Vec<u8>>` authenticator.
    pub(crate) fn of_option(v: &'a Option<Vec<u8>>) -> AuthRun<'a> {
        match v {
            None => AuthRun::Nothing,
            Some(b) if b.is_empty() => AuthRun::Copy,
            Some(b) => AuthRun::Optional(b),
        }
    }

    /// A hasher over `inner` that leaves this run out (`None` for [`AuthRun::Copy`]).
    pub(crate) fn skipping<H: Hasher>(self, inner: H) -> Option<SkipRun<H>> {
        match self {
            AuthRun::Bytes(b) => Some(SkipRun::new(inner, b)),
            AuthRun::Optional(b) => Some(SkipRun::optional(inner, b)),
            AuthRun::Nothing => Some(SkipRun::new(inner, &[])),
            AuthRun::Copy => None,
        }
    }
}

/// FNV-1a of `(tag, v)` with `run` (a field of `v`) left out, and the size estimate of `v`
/// ([`estimate_size_of`]), in one walk; `None` for [`AuthRun::Copy`].
pub(crate) fn digest_and_size_skipping<T: Hash + ?Sized>(
    tag: &str,
    v: &T,
    run: AuthRun<'_>,
) -> Option<(u64, usize)> {
    let mut h = Tee(run.skipping(Fnv1a::default())?, SizeCounter::default());
    tag.hash(&mut h.0);
    v.hash(&mut h);
    Some((h.0.finish(), size_of_part_counted(&h.1)))
}

/// FNV-1a of `(tag, v)` with `run` (a field of `v`) left out; `None` for [`AuthRun::Copy`].
pub(crate) fn digest_skipping<T: Hash + ?Sized>(tag: &str, v: &T, run: AuthRun<'_>) -> Option<u64> {
    let mut h = run.skipping(Fnv1a::default())?;
    (tag, v).hash(&mut h);
    Some(h.finish())
}

/// Two hashers fed the same calls (one walk computing a digest and a size estimate).
#[derive(Debug)]
pub(crate) struct Tee<A, B>(pub A, pub B);

macro_rules! tee {
    ($($m:ident($t:ty)),*) => {$(
        #[inline]
        fn $m(&mut self, v: $t) {
            self.0.$m(v);
            self.1.$m(v);
        }
    )*};
}

impl<A: Hasher, B: Hasher> Hasher for Tee<A, B> {
    fn finish(&self) -> u64 {
        self.0.finish()
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
        self.1.write(bytes);
    }
    tee!(
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_usize(usize),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_isize(isize)
    );
}

/// Estimate of the canonical size of any PDU part (an RO, a domain key, a metering report…)
/// from its structure, as [`estimate_size`] does for whole PDUs but without the root overhead.
/// Used to charge hashing costs in symbolic mode without producing XML.
pub fn estimate_size_of<T: Hash + ?Sized>(v: &T) -> usize {
    let mut c = SizeCounter::default();
    v.hash(&mut c);
    size_of_part_counted(&c)
}

/// [`estimate_size_of`] from a counter that has walked the part.
pub(crate) fn size_of_part_counted(c: &SizeCounter) -> usize {
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

    /// The in-place digest (the signature/MAC run hashed as cleared) equals the digest of a
    /// cleared copy, for random PDUs of every kind, signed and unsigned, and for the parts
    /// with their own authenticators; the one-walk size is the size estimate.
    #[test]
    fn skipping_the_authenticator_in_place_equals_digesting_a_cleared_copy() {
        use crate::crypto::Signable;
        use crate::pdu::{sample, ALL_KINDS};
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        let mut skipped_runs = 0;
        for i in 0..ALL_KINDS.len() * 40 {
            let mut p = sample::random_pdu(i, &mut rng);
            if i % 3 == 0 {
                p.clear_authenticator();
            }
            let mut c = p.clone();
            c.clear_authenticator();
            let expect = fnv1a_of(&(c.kind(), &c));
            if c != p {
                skipped_runs += 1;
            }
            assert_eq!(p.symbolic_digest(), expect, "{} #{i}", p.kind());
            assert_eq!(
                p.symbolic_digest_and_size(),
                (expect, estimate_size(&p)),
                "{} #{i}",
                p.kind()
            );
            // A different signature never changes the digest; a different field does.
            let mut q = p.clone();
            q.clear_authenticator();
            assert_eq!(q.symbolic_digest(), expect);
            assert_ne!(fnv1a_of(&(p.kind(), &p)), 0);
        }
        assert!(
            skipped_runs > ALL_KINDS.len() * 10,
            "signed samples: {skipped_runs}"
        );
        // Parts: an RO with and without its optional signature, the MACed parts.
        let mut g = sample::Gen::new(&mut rng);
        let pro = g.protected_ro();
        let mut ro = pro.ro.clone();
        for sig in [None, Some(vec![]), Some(vec![7u8; 128])] {
            ro.signature = sig;
            let mut c = ro.clone();
            c.signature = None;
            let expect = fnv1a_of(&("ro", &c));
            assert_eq!(ro.symbolic_digest(), expect);
            assert_eq!(
                ro.symbolic_digest_and_len(),
                (expect, estimate_size_of(&ro))
            );
        }
        assert_eq!(
            pro.symbolic_digest_and_len(),
            (pro.symbolic_digest(), pro.signed_len())
        );
        let mut dk = g.domain_info().domain_keys.remove(0);
        dk.mac = vec![1, 2, 3];
        let mut c = dk.clone();
        c.mac.clear();
        assert_eq!(dk.symbolic_digest(), fnv1a_of(&("domainKey", &c)));
        assert_eq!(
            dk.symbolic_digest_and_len(),
            (dk.symbolic_digest(), estimate_size_of(&dk))
        );
    }

    #[test]
    fn fnv1a_matches_published_vectors() {
        // FNV-1a 64 test vectors (Fowler/Noll/Vo): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
