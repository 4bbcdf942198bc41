//! The shapes a credential has whatever it is called: provider token formats and prefixes (AWS,
//! GitHub, GitLab, Slack, Stripe, SendGrid, Twilio, npm, Docker, Google, Azure connection
//! string keys, PEM keys), JWTs that
//! decode, passwords inside URLs, the AWS secret access key's shape, and the measures of how
//! random a value reads (entropy, character classes, hex). These answer "where in this text
//! is a token, and which", without a name or a verdict: the detections are built by the
//! entry points in `detect`, and the benign look-alikes (`benign.rs`) use the URL shape here
//! to tell a URL without a password from one with — so this module imports neither.
//! Each format carries its keywords, the literal text a match cannot be without, for the
//! prefilter (`prefilter.rs`) that decides which formats to run on a value at all.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;

use crate::placeholder::{placeholder, token_placeholder};

/// Kind of an AWS access key id detection.
pub const AWS_ACCESS_KEY_ID: &str = "AWS access key id";

pub(super) struct Provider {
    pub(super) kind: &'static str,
    pub(super) re: Regex,
    /// Capture group holding the secret part (0 = whole match).
    group: usize,
    /// Literal text of which every match holds at least one (case as written): the
    /// prefilter's keywords. The unit tests refuse a pattern without them.
    pub(super) keywords: &'static [&'static str],
    /// What a match's secret must also be, beyond the pattern (an Azure key: random).
    accepts: fn(&str) -> bool,
}

fn provider(
    kind: &'static str,
    pattern: &str,
    group: usize,
    keywords: &'static [&'static str],
) -> Provider {
    Provider {
        kind,
        // The patterns are constants, checked by the unit tests.
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("pattern of {kind}: {e}")),
        group,
        keywords,
        accepts: |_| true,
    }
}

/// [`provider`], whose secret must also pass `accepts`.
fn provider_checked(
    kind: &'static str,
    pattern: &str,
    group: usize,
    keywords: &'static [&'static str],
    accepts: fn(&str) -> bool,
) -> Provider {
    Provider {
        accepts,
        ..provider(kind, pattern, group, keywords)
    }
}

/// Keys in a provider's format that are published, not secret, the same in every
/// installation: the Azure storage emulator's (Azurite's) account key and the Cosmos DB
/// emulator's.
const PUBLISHED_KEYS: &[&str] = &[
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==",
];

/// Whether an Azure key (base64 of 32 or 64 random bytes) is one: not a published emulator
/// key, URL-encoded or not, and random — lower and upper case, as random base64 of that length
/// has all but surely, and the entropy of random text rather than of prose or a run
/// (`YourStorageAccountKeyGoesHere…==`, `AAAA…==`). Of 100,000 random keys the lowest entropy
/// was 4.31 at 44 characters and 5.02 at 88: the bar is below both.
fn azure_key(secret: &str) -> bool {
    let decoded = secret
        .replace("%2B", "+")
        .replace("%2b", "+")
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%3D", "=")
        .replace("%3d", "=");
    let bar = if decoded.len() > 48 { 4.8 } else { 4.0 };
    !PUBLISHED_KEYS.contains(&decoded.as_str())
        && decoded.bytes().any(|b| b.is_ascii_lowercase())
        && decoded.bytes().any(|b| b.is_ascii_uppercase())
        && entropy(&decoded) >= bar
}

pub(super) static PROVIDERS: LazyLock<Vec<Provider>> = LazyLock::new(|| {
    vec![
        provider(
            AWS_ACCESS_KEY_ID,
            r"(?:^|[^A-Z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})(?:$|[^A-Z0-9])",
            1,
            &["AKIA", "ASIA"],
        ),
        provider(
            "GitHub token",
            r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
            1,
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        ),
        provider(
            "GitLab token",
            r"\b(glpat-[A-Za-z0-9_\-]{20,})",
            1,
            &["glpat-"],
        ),
        provider(
            "Slack token",
            r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})",
            1,
            &["xox"],
        ),
        provider(
            "Slack webhook URL",
            r"(https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,})",
            1,
            &["hooks.slack.com/services/"],
        ),
        provider(
            "Stripe secret key",
            r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})",
            1,
            &["k_live_", "k_test_"],
        ),
        provider(
            "SendGrid API key",
            r"\b(SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64})",
            1,
            &["SG."],
        ),
        provider("Twilio API key", r"\b(SK[0-9a-f]{32})\b", 1, &["SK"]),
        provider("npm token", r"\b(npm_[A-Za-z0-9]{36})\b", 1, &["npm_"]),
        provider(
            "Docker access token",
            r"\b(dckr_pat_[A-Za-z0-9_\-]{20,})",
            1,
            &["dckr_pat_"],
        ),
        provider(
            "Google API key",
            r"\b(AIza[0-9A-Za-z_\-]{35})",
            1,
            &["AIza"],
        ),
        // Azure's connection strings: a storage account's key (64 bytes, 88 in base64), and
        // Service Bus's and Event Hubs' shared access key (32 bytes).
        // URL-encoded too (`%2B`, `%2F`, `%3D`), as a connection string in a URL's query is.
        // Azure reads the keys of a connection string in any case: the spellings written
        // (`AccountKey=`, `accountkey=`, `ACCOUNTKEY=`) are each a keyword of the prefilter.
        provider_checked(
            "Azure storage account key",
            r"(?:^|[;\s])(?:AccountKey|accountkey|ACCOUNTKEY)=((?:[A-Za-z0-9+/]|%2[BbFf]){40,}(?:=|%3[Dd]){0,2})",
            1,
            &["AccountKey=", "accountkey=", "ACCOUNTKEY="],
            azure_key,
        ),
        provider_checked(
            "Azure shared access key",
            r"(?:^|[;\s])(?:SharedAccessKey|sharedaccesskey|SHAREDACCESSKEY)=((?:[A-Za-z0-9+/]|%2[BbFf]){40,}(?:=|%3[Dd]){0,2})",
            1,
            &["SharedAccessKey=", "sharedaccesskey=", "SHAREDACCESSKEY="],
            azure_key,
        ),
        provider(
            "PEM private key",
            r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)",
            1,
            &["-----BEGIN "],
        ),
    ]
});

/// What every [`JWT`] match holds: the base64 of `{"`.
pub(super) const JWT_KEYWORDS: &[&str] = &["eyJ"];

/// What every [`URL_PASSWORD`] match holds.
pub(super) const URL_KEYWORDS: &[&str] = &["://"];

pub(super) static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)")
        .unwrap_or_else(|e| panic!("JWT pattern: {e}"))
});

pub(super) static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z][A-Za-z0-9+.\-]*://([^\s:/@]*):([^\s/@]+)@[^\s/@]+")
        .unwrap_or_else(|e| panic!("URL pattern: {e}"))
});

pub(super) static AWS_SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9/+]{40}$").unwrap_or_else(|e| panic!("secret key pattern: {e}"))
});

/// The first provider-format token in `text` that is not a placeholder: its kind and its
/// secret part. Only the formats `try_provider` admits (by index in [`PROVIDERS`]) are run.
pub(super) fn token(
    text: &str,
    try_provider: impl Fn(usize) -> bool,
) -> Option<(&'static str, &str)> {
    for (i, p) in PROVIDERS.iter().enumerate() {
        if !try_provider(i) {
            continue;
        }
        for caps in p.re.captures_iter(text) {
            let Some(m) = caps.get(p.group) else { continue };
            let secret = m.as_str();
            if token_placeholder(secret) || !(p.accepts)(secret) {
                continue;
            }
            return Some((p.kind, secret));
        }
    }
    None
}

/// The first JSON Web Token in `text` that decodes.
pub(super) fn jwt(text: &str) -> Option<&str> {
    JWT.captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .find(|token| jwt_decodes(token))
}

/// The first password of a URL in `text` (`scheme://user:password@host`) that is not a
/// placeholder.
pub(super) fn url_password(text: &str) -> Option<&str> {
    // Most URLs hold no password: the match-only search says so for a fraction of a search
    // for the capture groups (the provider formats, whose keywords rarely occur without a
    // match, go straight to the captures).
    // Every match holds `@` (the end of its user info): a URL without one (most) is not
    // searched at all.
    if memchr::memchr(b'@', text.as_bytes()).is_none() || !URL_PASSWORD.is_match(text) {
        return None;
    }
    for caps in URL_PASSWORD.captures_iter(text) {
        let Some(password) = caps.get(2) else {
            continue;
        };
        if !placeholder(password.as_str()) {
            return Some(password.as_str());
        }
    }
    None
}

/// A JWT is only a JWT when its header and payload decode to JSON objects (and the header
/// names an algorithm): random `eyJ…` strings are not flagged.
fn jwt_decodes(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let decode = |part: &str| -> Option<serde_json::Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .filter(serde_json::Value::is_object)
    };
    decode(header).is_some_and(|h| h.get("alg").is_some()) && decode(payload).is_some()
}

/// Shannon entropy in bits per character.
pub fn entropy(v: &str) -> f64 {
    if !v.is_ascii() {
        return entropy_of_chars(v);
    }
    // ASCII (nearly every value): counts in an array, no map.
    let mut counts = [0u32; 128];
    for b in v.bytes() {
        counts[usize::from(b & 0x7f)] += 1;
    }
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = f64::from(k) / n as f64;
            -p * p.log2()
        })
        .sum()
}

fn entropy_of_chars(v: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in v.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

pub(super) fn classes(v: &str) -> usize {
    // One pass: lower, upper, digit, other.
    let mut seen = [false; 4];
    for c in v.chars() {
        let class = if c.is_ascii_lowercase() {
            0
        } else if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_digit() {
            2
        } else {
            3
        };
        seen[class] = true;
    }
    seen.iter().filter(|b| **b).count()
}

pub(super) fn is_hex(v: &str) -> bool {
    v.chars().all(|c| c.is_ascii_hexdigit())
}

/// One run of letters and digits, for [`super::random_token`].
pub(super) fn random_run(v: &str) -> bool {
    let len = v.chars().count();
    if len < 16 {
        return false;
    }
    if len >= 32 && is_hex(v) && v.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let class = |c: char| {
        if c.is_ascii_lowercase() {
            0
        } else if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_digit() {
            2
        } else {
            3
        }
    };
    let classes: Vec<u8> = v.chars().map(class).collect();
    let switches = classes.windows(2).filter(|w| w[0] != w[1]).count();
    let kinds = [0, 1, 2].iter().filter(|k| classes.contains(k)).count();
    kinds == 3 && switches * 2 >= len && entropy(v) >= 3.5
}
