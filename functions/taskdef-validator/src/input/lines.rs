//! Where each value of a document is: one map from JSON pointer to line, filled by every
//! reader (the JSON walker, the YAML builder, and the dispatch for Terraform's resources and
//! heredocs) and read through [`super::Document::line`]. Apart from the readers so that they
//! share it without importing one another or the dispatch.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Where each value of a document is: pointer (keys with their first letter lower-cased, so
/// PascalCase files answer camelCase pointers) → 1-based line. Pointers are kept as 64-bit
/// hashes, not strings: a file of many deeply nested values would otherwise cost a pointer
/// string per value, far more than the file itself.
#[derive(Debug, Default, PartialEq)]
pub(super) struct LineMap {
    lines: HashMap<u64, usize, BuildHasherDefault<Prehashed>>,
}

/// The map's keys are hashes already ([`child_hash`]): hashing them again (SipHash, the
/// default) cost as much as recording the line.
#[derive(Debug, Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; anything else is still folded in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The hash of the document's root pointer (`""`).
pub(super) const ROOT_HASH: u64 = 0x6563_732d_7365_6372;

/// The hash of a child's pointer from its parent's and its (unescaped) segment, with the
/// segment's first letter folded. Built one level at a time, so a value costs one segment's
/// hashing however deep it is.
pub(super) fn child_hash(parent: u64, segment: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // Seeded at random once per process, so that a file cannot be written offline with two
    // pointers of one hash (a finding shown on another value's line), as it could against the
    // fixed keys of `DefaultHasher::new()`. foldhash is not a keyed cryptographic hash; its
    // `quality` variant is the one meant for hashes that are kept, not only bucketed.
    static SEED: std::sync::LazyLock<foldhash::quality::RandomState> =
        std::sync::LazyLock::new(foldhash::quality::RandomState::default);
    let mut h = SEED.build_hasher();
    h.write_u64(parent);
    h.write_usize(segment.len());
    let mut chars = segment.chars();
    if let Some(first) = chars.next() {
        h.write_u32(first.to_ascii_lowercase() as u32);
    }
    h.write(chars.as_str().as_bytes());
    h.finish()
}

/// RFC 6901 unescaping of one pointer segment.
fn unescape_pointer(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

pub(super) fn pointer_hash(pointer: &str) -> u64 {
    pointer_hash_below(ROOT_HASH, pointer)
}

/// The hash of `pointer` below the value whose hash is `base`.
fn pointer_hash_below(base: u64, pointer: &str) -> u64 {
    pointer
        .split('/')
        .skip(1)
        .fold(base, |h, segment| child_hash(h, &unescape_pointer(segment)))
}

impl LineMap {
    /// An empty map with room for `values` lines.
    pub(super) fn with_capacity(values: usize) -> Self {
        LineMap {
            lines: HashMap::with_capacity_and_hasher(values, Default::default()),
        }
    }

    /// The line of the value at `base` followed by `pointer` (both escaped, as findings name
    /// them), without joining them.
    pub(super) fn line_below(&self, base: &str, pointer: &str) -> Option<usize> {
        let hash = pointer_hash_below(pointer_hash(base), pointer);
        self.lines.get(&hash).copied()
    }

    /// Records the line of the value at `pointer` (escaped, as findings name it).
    pub(super) fn add(&mut self, pointer: &str, line: usize) {
        self.insert(pointer_hash(pointer), line);
    }

    pub(super) fn insert(&mut self, hash: u64, line: usize) {
        self.lines.entry(hash).or_insert(line);
    }
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
