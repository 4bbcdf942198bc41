//! One pass over a value that says which token formats can be in it at all.
//!
//! Every value of every task definition is asked for a provider-format token, and almost none
//! holds one. Running each format's pattern on each value made the pattern count the cost of a
//! value; here one Aho-Corasick automaton looks for every format's keywords at once — the
//! literal text a match cannot be without (`AKIA`, `ghp_`, `eyJ`, `://`, `@tcp(`, …) — and
//! only the formats whose keywords occur are run. A keyword is necessary, never sufficient:
//! the patterns still decide, so a value yields the same detection with or without this pass
//! (the unit tests check each format's keywords against its pattern and compare both paths).
//! The keywords live beside their patterns (`providers.rs`, `commands.rs`); this module
//! imports both and neither imports it.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::commands::DSN_KEYWORDS;
use super::providers::{JWT_KEYWORDS, PROVIDERS, URL_KEYWORDS};

/// The formats worth running on a value, one bit each: the providers by their index in
/// [`PROVIDERS`], then JWTs, URL passwords and Go DSNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Families(u32);

const JWT_BIT: u32 = 1 << 29;
const URL_BIT: u32 = 1 << 30;
const DSN_BIT: u32 = 1 << 31;

impl Families {
    /// Every format: the detector without the prefilter.
    #[cfg(test)]
    pub(super) const ALL: Families = Families(u32::MAX);

    pub(super) fn provider(self, index: usize) -> bool {
        index < 29 && self.0 & (1 << index) != 0
    }

    pub(super) fn jwt(self) -> bool {
        self.0 & JWT_BIT != 0
    }

    pub(super) fn url(self) -> bool {
        self.0 & URL_BIT != 0
    }

    pub(super) fn dsn(self) -> bool {
        self.0 & DSN_BIT != 0
    }
}

struct Prefilter {
    automaton: AhoCorasick,
    /// The family bit of each keyword, by pattern id.
    bits: Vec<u32>,
}

/// Every keyword with its family's bit.
pub(super) fn keywords() -> Vec<(&'static str, u32)> {
    let mut out = Vec::new();
    for (i, p) in PROVIDERS.iter().enumerate() {
        // More than 29 providers would need a wider set: the tests fail first.
        let bit = if i < 29 { 1 << i } else { u32::MAX };
        out.extend(p.keywords.iter().map(|k| (*k, bit)));
    }
    out.extend(JWT_KEYWORDS.iter().map(|k| (*k, JWT_BIT)));
    out.extend(URL_KEYWORDS.iter().map(|k| (*k, URL_BIT)));
    out.extend(DSN_KEYWORDS.iter().map(|k| (*k, DSN_BIT)));
    out
}

static PREFILTER: LazyLock<Prefilter> = LazyLock::new(|| {
    let (words, bits): (Vec<&str>, Vec<u32>) = keywords().into_iter().unzip();
    // Overlapping matches (every keyword, even inside another's match) need the standard
    // match kind.
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(words)
        // The keywords are constants, checked by the unit tests.
        .unwrap_or_else(|e| panic!("prefilter keywords: {e}"));
    Prefilter { automaton, bits }
});

/// The formats whose keywords occur in `text`.
pub(super) fn families(text: &str) -> Families {
    let p = &*PREFILTER;
    // Most values hold no keyword: one search, with the automaton's own prefilter, says so.
    if !p.automaton.is_match(text) {
        return Families(0);
    }
    Families(p.automaton.find_overlapping_iter(text).fold(0, |bits, m| {
        // Every pattern id has its bit; were one missing, run everything.
        bits | p
            .bits
            .get(m.pattern().as_usize())
            .copied()
            .unwrap_or(u32::MAX)
    }))
}
