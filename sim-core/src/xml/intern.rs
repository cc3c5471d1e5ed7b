//! Per-document string interning for the parser: names, prefixes and namespace URIs repeat
//! throughout a PDU (`keyIdentifier`, `hash`, `xsi`, the ROAP URI), so each distinct string
//! is allocated once per parse and shared as an [`Atom`].
//!
//! A fixed-size, direct-mapped cache rather than a growing map: hostile input with many
//! distinct names only evicts entries (costing an allocation, never memory growth), and
//! correctness never depends on a hit.

use std::cell::RefCell;

use super::dom::Atom;

/// Slots of the per-thread name cache.
pub(crate) const NAME_SLOTS: usize = 128;

/// The per-thread name cache shared by the parser and the tree builders.
pub(crate) type Names = Box<Interner<NAME_SLOTS>>;

thread_local! {
    /// This thread's name cache (`None` while a parse has it out, or before first use).
    static NAMES: RefCell<Option<Names>> = const { RefCell::new(None) };
}

/// Takes this thread's name cache (a new one if none is present) for a parse to own.
pub(crate) fn take_names() -> Names {
    NAMES
        .with(|n| n.borrow_mut().take())
        .unwrap_or_else(|| Box::new(Interner::new()))
}

/// Returns the name cache taken by [`take_names`].
pub(crate) fn put_names(names: Names) {
    NAMES.with(|n| *n.borrow_mut() = Some(names));
}

/// The atom for `s` from this thread's name cache: building a PDU tree reuses the atoms of
/// its fixed vocabulary instead of allocating every element name again.
pub(crate) fn intern(s: &str) -> Atom {
    NAMES.with(|n| match n.try_borrow_mut() {
        Ok(mut slot) => slot
            .get_or_insert_with(|| Box::new(Interner::new()))
            .intern(s),
        Err(_) => Atom::from(s),
    })
}

/// Longest string cached; longer ones get an atom of their own.
pub(crate) const MAX_INTERNED_BYTES: usize = 128;

/// A bounded cache of `SLOTS` atoms (a power of two) keyed by their text.
pub(crate) struct Interner<const SLOTS: usize> {
    slots: [Option<Atom>; SLOTS],
}

/// A constant-time hash of the length and the first, middle and last bytes: long namespace
/// URIs cost no more than short names, and a full comparison decides every hit.
fn hash(s: &str) -> usize {
    let b = s.as_bytes();
    let (first, mid, last) = match b {
        [] => (0, 0, 0),
        _ => (b[0], b[b.len() / 2], b[b.len() - 1]),
    };
    let key =
        b.len() as u64 | u64::from(first) << 16 | u64::from(mid) << 24 | u64::from(last) << 32;
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize
}

impl<const SLOTS: usize> Interner<SLOTS> {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        Interner {
            slots: [const { None }; SLOTS],
        }
    }

    /// The cached atom equal to `s`, if any.
    pub(crate) fn get(&self, s: &str) -> Option<&Atom> {
        let i = hash(s) & (SLOTS - 1);
        [i, (i + 1) & (SLOTS - 1)]
            .into_iter()
            .find_map(|j| self.slots[j].as_ref().filter(|a| a.as_str() == s))
    }

    /// Caches `atom` (evicting what shares its slot when both candidate slots are taken).
    pub(crate) fn insert(&mut self, atom: Atom) {
        let i = hash(&atom) & (SLOTS - 1);
        let j = (i + 1) & (SLOTS - 1);
        let k = if self.slots[i].is_none() || self.slots[j].is_some() {
            i
        } else {
            j
        };
        self.slots[k] = Some(atom);
    }

    /// The atom for `s`: the cached one, or a new one that is then cached unless longer
    /// than [`MAX_INTERNED_BYTES`] (which bounds the memory a cache can hold).
    pub(crate) fn intern(&mut self, s: &str) -> Atom {
        if s.len() > MAX_INTERNED_BYTES {
            return Atom::from(s);
        }
        if let Some(a) = self.get(s) {
            return a.clone();
        }
        let a = Atom::from(s);
        self.insert(a.clone());
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_atom_and_eviction_stays_correct() {
        let mut t = Interner::<64>::new();
        let long = "u".repeat(MAX_INTERNED_BYTES + 1);
        let (x, y) = (t.intern(&long), t.intern(&long));
        assert!(
            x == y && !Atom::ptr_eq(&x, &y),
            "long strings are not cached"
        );
        let a = t.intern("keyIdentifier");
        let b = t.intern("keyIdentifier");
        assert!(
            std::ptr::eq(a.as_str(), b.as_str()),
            "second lookup is a hit"
        );
        // Far more distinct names than slots: every answer still equals its input.
        for n in 0..1000 {
            let s = format!("n{n}");
            assert_eq!(t.intern(&s).as_str(), s);
        }
        assert_eq!(t.intern("keyIdentifier").as_str(), "keyIdentifier");
    }
}
