//! Where each value of a document is: one map from JSON pointer to line, filled by every
//! reader (the JSON walker, the YAML builder, and the dispatch for Terraform's resources and
//! heredocs) and read through [`super::Document::line`]. Apart from the readers so that they
//! share it without importing one another or the dispatch.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Where each value of a document is: pointer (keys with their first letter lower-cased, so
/// PascalCase files answer camelCase pointers) → 1-based line. Pointers are kept as 64-bit
/// hashes, not strings: a file of many deeply nested values would otherwise cost a pointer
/// string per value, far more than the file itself.
///
/// Recorded as a list, in the order the readers meet the values (a pointer's first line
/// counts), and looked up by a scan of the list — or, after [`SCANNED`] lookups, through an
/// index built then (a scan compares a few hundred entries in the time the index takes to
/// insert a dozen, so the scans cost at most about what the index does). Every value
/// of every file is recorded and few are ever looked up (one per finding): inserting each
/// into a hash map cost a fiftieth of a scan, where a push costs next to nothing.
#[derive(Debug, Default)]
pub(super) struct LineMap {
    entries: Vec<(u64, usize)>,
    index: OnceLock<HashMap<u64, usize, BuildHasherDefault<Prehashed>>>,
    /// Lookups made by scanning.
    scans: AtomicUsize,
}

/// Lookups made by scanning the list before it is indexed. A finding's line may take a few
/// lookups (a missing field is placed at its nearest ancestor), and a file has a few findings
/// per container: at 8, most task definitions built the index (a hash map of every value) for
/// a dozen lookups, a fiftieth of a scan.
const SCANNED: usize = 32;

/// Two maps are equal when they give every pointer the same line (the order the values were
/// recorded in does not count).
impl PartialEq for LineMap {
    fn eq(&self, other: &Self) -> bool {
        self.first_lines() == other.first_lines()
    }
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

/// `pointer`, then each shorter prefix of it cut at a `/`, down to `""` (the nearest
/// ancestors first: where a value missing from the file is placed).
pub(super) fn prefixes(pointer: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(pointer), |p| {
        (!p.is_empty()).then(|| p.rfind('/').map_or("", |i| &p[..i]))
    })
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
            entries: Vec::with_capacity(values),
            ..LineMap::default()
        }
    }

    /// The line of the value at `base` followed by `pointer` (both escaped, as findings name
    /// them), without joining them.
    pub(super) fn line_below(&self, base: &str, pointer: &str) -> Option<usize> {
        self.get(pointer_hash_below(pointer_hash(base), pointer))
    }

    /// The line of the value at `base` followed by `pointer` (both escaped), or else of its
    /// nearest ancestor that has one, up to `base` itself: what
    /// [`LineMap::line_below`] gives for `pointer`, then for each shorter prefix in turn,
    /// with each prefix hashed once.
    pub(super) fn nearest_below(&self, base: &str, pointer: &str) -> Option<usize> {
        // Deeper pointers (none of a task definition's own) take the longer way.
        const DEEPEST: usize = 24;
        let mut hashes = [0u64; DEEPEST];
        let mut depth = 1;
        let mut hash = pointer_hash(base);
        hashes[0] = hash;
        for segment in pointer.split('/').skip(1) {
            let Some(slot) = hashes.get_mut(depth) else {
                return self.nearest_below_by_prefix(base, pointer);
            };
            hash = child_hash(hash, &unescape_pointer(segment));
            *slot = hash;
            depth += 1;
        }
        hashes[..depth].iter().rev().find_map(|&h| self.get(h))
    }

    /// [`LineMap::nearest_below`], one whole prefix at a time.
    fn nearest_below_by_prefix(&self, base: &str, pointer: &str) -> Option<usize> {
        prefixes(pointer).find_map(|p| self.line_below(base, p))
    }

    /// The first line recorded for `hash`.
    fn get(&self, hash: u64) -> Option<usize> {
        if self.index.get().is_none() && self.scans.fetch_add(1, Ordering::Relaxed) < SCANNED {
            return self
                .entries
                .iter()
                .find(|(h, _)| *h == hash)
                .map(|(_, line)| *line);
        }
        self.index
            .get_or_init(|| self.first_lines())
            .get(&hash)
            .copied()
    }

    /// Each pointer's first line.
    fn first_lines(&self) -> HashMap<u64, usize, BuildHasherDefault<Prehashed>> {
        let mut lines = HashMap::with_capacity_and_hasher(self.entries.len(), Default::default());
        for &(hash, line) in &self.entries {
            lines.entry(hash).or_insert(line);
        }
        lines
    }

    /// Records the line of the value at `pointer` (escaped, as findings name it).
    pub(super) fn add(&mut self, pointer: &str, line: usize) {
        self.insert(pointer_hash(pointer), line);
    }

    /// Records `line` for `hash`, unless a line was recorded for it before.
    pub(super) fn insert(&mut self, hash: u64, line: usize) {
        self.entries.push((hash, line));
        // An index built before this value would not know it: lookups scan again, and only
        // after as many as before is the index built anew (so that recording and looking up
        // in turn cannot rebuild it at every lookup).
        if self.index.get_mut().is_some() {
            self.index = OnceLock::new();
            *self.scans.get_mut() = 0;
        }
    }
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map of `n` values, `/v/0` … on lines 1 …, with `/v/0` recorded again last.
    fn map_of(n: usize) -> LineMap {
        let mut map = LineMap::default();
        for i in 0..n {
            map.add(&format!("/v/{i}"), i + 1);
        }
        map.add("/v/0", 999);
        map
    }

    /// Scanned (the first lookups) or indexed (the later ones), a map gives each pointer its
    /// first line, knows nothing of pointers it was not given, and learns values recorded
    /// after a lookup.
    #[test]
    fn the_first_line_counts_whether_scanned_or_indexed() {
        for (n, earlier) in [
            (1, 0),
            (40, 0),
            (40, SCANNED - 1),
            (40, SCANNED),
            (300, 3 * SCANNED),
        ] {
            let mut map = map_of(n);
            for _ in 0..earlier {
                assert_eq!(map.line_below("", "/v/0"), Some(1), "{n}");
            }
            assert_eq!(map.line_below("", "/v/0"), Some(1), "{n}");
            assert_eq!(map.line_below("/v", &format!("/{}", n - 1)), Some(n), "{n}");
            assert_eq!(map.line_below("", "/w/0"), None, "{n}");
            assert_eq!(
                map.index.get().is_some(),
                earlier + 3 > SCANNED,
                "{n} {earlier}"
            );
            map.add("/w/0", 7);
            map.add("/v/1", 8);
            assert_eq!(map.line_below("", "/w/0"), Some(7), "{n}");
            assert!(
                map.index.get().is_none(),
                "{n}: an index older than a value is dropped"
            );
            assert_eq!(
                map.line_below("", "/v/1"),
                Some(if n > 1 { 2 } else { 8 }),
                "{n}"
            );
        }
    }

    /// The nearest ancestor's line, hashing each prefix once, is the line the prefixes give
    /// one at a time — for present and missing values, escaped segments, a base, pointers
    /// deeper than the prefixes kept, and pointers that are not pointers.
    #[test]
    fn the_nearest_line_is_the_first_prefix_with_a_line() {
        let mut map = LineMap::default();
        map.add("", 1);
        map.add("/base", 2);
        map.add("/base/a", 3);
        map.add("/base/a/0", 4);
        map.add("/base/a~1b", 5);
        let deep: String = (0..30).map(|i| format!("/d{i}")).collect();
        for depth in [10, 20, 23, 24, 25, 30] {
            let prefix: String = (0..depth).map(|i| format!("/d{i}")).collect();
            map.add(&format!("/base{prefix}"), 100 + depth);
        }
        let pointers = [
            "",
            "/a",
            "/a/0",
            "/a/0/readonlyRootFilesystem",
            "/a/1/x/y",
            "/a~1b/c",
            "/missing/deeper",
            "no-slash",
            "/",
            "//",
        ];
        for base in ["", "/base", "/nowhere"] {
            for pointer in pointers.iter().copied().chain([deep.as_str()]) {
                let mut extra = format!("{deep}/x");
                for _ in 0..3 {
                    for p in [pointer, extra.as_str()] {
                        assert_eq!(
                            map.nearest_below(base, p),
                            map.nearest_below_by_prefix(base, p),
                            "{base:?} {p:?}"
                        );
                    }
                    extra.push_str("/y");
                }
            }
        }
        assert_eq!(
            map.nearest_below("/base", "/a/0/readonlyRootFilesystem"),
            Some(4)
        );
        assert_eq!(map.nearest_below("/base", "/a~1b/c"), Some(5));
        assert_eq!(map.nearest_below("/base", &format!("{deep}/x")), Some(130));
        assert_eq!(map.nearest_below("/nowhere", "/a"), None);
    }

    /// Equal maps give the same lines, whatever order they were recorded in.
    #[test]
    fn maps_are_equal_by_their_lines() {
        let mut a = LineMap::default();
        a.add("/a", 1);
        a.add("/b", 2);
        let mut b = LineMap::default();
        b.add("/b", 2);
        b.add("/a", 1);
        b.add("/a", 5);
        assert!(a == b);
        b.add("/c", 3);
        assert!(a != b);
    }
}
