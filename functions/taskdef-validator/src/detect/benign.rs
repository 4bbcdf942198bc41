//! The values that look like secrets to entropy or to name lists but are not: flags,
//! numbers, ARNs, digests, UUIDs, AWS unique ids, `…EXAMPLE` keys, publishable keys,
//! templates, URLs without a password, paths, prose, base64 of readable text, bucket-like
//! names, references and secrets' names, algorithm names — and, the other way round, the
//! human-chosen passwords that are credentials although they look like words. Kept apart so
//! every detector filters through the same list (SPEC §5); it uses the URL shape of
//! `providers.rs` and the placeholders, and nothing that imports it.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;

use super::providers::URL_PASSWORD;
use super::text::has_whitespace;
use crate::placeholder::{credential_words, placeholder, strict_placeholder_for, template};

/// Values that look like secrets to entropy or name rules but are not: the false positives of
/// the anchors (SPEC §5).
pub fn benign(value: &str) -> bool {
    static NUMBERISH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?[0-9][0-9_,.]*(?:[eE][+-]?[0-9]+)?(?:[a-zA-Z]{1,3})?$")
            .unwrap_or_else(|e| panic!("{e}"))
    });
    static UNIQUE_ID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:AIDA|AROA|AIPA|ANPA|ANVA|ASCA|AGPA|APKA)[A-Z0-9]{12,}$")
            .unwrap_or_else(|e| panic!("{e}"))
    });
    static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|@)sha(?:256|384|512):[0-9a-f]{32,128}$").unwrap_or_else(|e| panic!("{e}"))
    });
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const FLAGS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "null", "none", "nil",
        "enable", "disable",
    ];
    FLAGS.contains(&lower.as_str())
        || placeholder(v)
        // Each pattern only after the cheap test its matches all pass (a first character, a
        // word, a length): most values fail it.
        || ((v.starts_with(['+', '-']) || v.starts_with(|c: char| c.is_ascii_digit()))
            && NUMBERISH.is_match(v))
        || lower.starts_with("arn:")
        || (v.contains("sha") && DIGEST.is_match(v))
        || uuid(v)
        || (v.starts_with('A') && UNIQUE_ID.is_match(v))
        || v.contains("EXAMPLE")
        // Publishable keys are meant to be public (they ship in web pages).
        || v.starts_with("pk_live_")
        || v.starts_with("pk_test_")
        || template(v)
        || (lower.contains("://") && URL_PASSWORD.find(v).is_none())
        || path_like(v)
        || has_whitespace(v)
        || decodes_to_text(v)
}

/// A UUID (`3f1c2a9e-7b4d-…`): an id wherever it stands, except under a name that says it is
/// the token itself (Splunk's HEC tokens and Consul's ACL tokens are UUIDs: `scan_pair`).
pub(super) fn uuid(v: &str) -> bool {
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
            .unwrap_or_else(|e| panic!("{e}"))
    });
    v.len() == 36 && UUID.is_match(v)
}

fn path_like(v: &str) -> bool {
    (v.starts_with('/') || v.starts_with("./") || v.starts_with("~/"))
        && v.split('/').skip(1).all(|seg| {
            seg.len() <= 40
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-@:".contains(c))
        })
}

/// Base64 of readable text (JSON, YAML, a config line) is configuration, not a key.
fn decodes_to_text(v: &str) -> bool {
    if v.len() < 16 || !v.len().is_multiple_of(4) {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(v) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    printable == text.chars().count()
        && text
            .chars()
            .any(|c| c.is_whitespace() || "{}:=,\"".contains(c))
}

/// Lower case, digits, `-` and `.` in short segments: an S3 bucket, a host or a resource name
/// (`acme-prod-assets-20231105-a1b2c3d4`). Generated keys mix cases or run long.
pub(super) fn bucket_like(v: &str) -> bool {
    v.contains(['-', '.'])
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && v.split(['-', '.']).all(|seg| seg.len() < 16)
}

/// A literal under a [`password_name`](super::names::password_name) that is a credential even
/// though it does not look generated: a human-chosen password (`admin`, `postgres`,
/// `Summer2024`, a 10-character client secret). Not: a placeholder, a reference or path, a
/// URL, a number, a flag, a value with spaces (prose), an e-mail address or a host name.
pub fn human_password(name: &str, v: &str) -> bool {
    let len = v.chars().count();
    (4..=512).contains(&len)
        && !strict_placeholder_for(name, v)
        && !not_a_password(v)
        && !reference_like(v)
}

/// An e-mail address, a host name, a reference (`ssm:`, `file:`, `rds!…`) or a secret's name
/// (`myapp/prod/db`): what a credential-like name holds when it names rather than holds.
pub(super) fn reference_like(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let email = v.contains('@') && v.rsplit('@').next().is_some_and(|d| d.contains('.'));
    let host = v.contains('.')
        && v.split('.').count() >= 3
        && v.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    let reference = [
        "ssm:",
        "secretsmanager:",
        "vault:",
        "sm://",
        "/aws/reference/",
        "file:",
        "env:",
        "env.",
        "rds!",
        "redshift!",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    // A secret's name (`myapp/prod/db`): lower-case words between slashes.
    let secret_name = v.contains('/')
        && v.split('/').all(|p| {
            p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        });
    email || host || reference || secret_name
}

/// What a password-like name may hold that is not a password: a flag, an algorithm or scheme
/// name (`HS256`, `aes-256-gcm`, `Bearer`), an ARN, a digest, a UUID, an AWS unique id, a path,
/// a URL without a password, base64 of readable text, or prose (spaces). Numbers are not here:
/// `123456` under `DB_PASSWORD` is a password.
pub(super) fn not_a_password(v: &str) -> bool {
    static ALGORITHM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:[hrep]s(?:256|384|512)|eddsa|none|aes[-_]?(?:128|192|256)(?:[-_](?:gcm|cbc|ctr|ecb))?|chacha20(?:[-_]poly1305)?|sha[-_]?(?:1|256|384|512)|md5|bcrypt|argon2(?:id|i|d)?|scrypt|pbkdf2)$")
            .unwrap_or_else(|e| panic!("{e}"))
    });
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "null", "none", "nil",
        "enable", "disable", "bearer", "basic", "digest", "oauth", "oauth2", "jwt", "stdin",
        "prompt", "-", "changeit",
    ];
    let lower = v.trim().to_ascii_lowercase();
    WORDS.contains(&lower.as_str())
        || ALGORITHM.is_match(v.trim())
        || (benign(v) && !benign_only_as_a_number(v) && !credential_words(v.trim()))
}

/// `benign` because it reads as a number (and nothing else): still a password under a
/// password-like name.
fn benign_only_as_a_number(v: &str) -> bool {
    static NUMBERISH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[+-]?[0-9][0-9_,.]*(?:[eE][+-]?[0-9]+)?(?:[a-zA-Z]{1,3})?$")
            .unwrap_or_else(|e| panic!("{e}"))
    });
    NUMBERISH.is_match(v.trim())
}

/// A word with a few digits or symbols around it (`Summer2024!`, `admin123`, `Welcome1`): what
/// people choose, not what a generator makes.
pub fn dictionary_like(v: &str) -> bool {
    let core = v.trim_matches(|c: char| !c.is_ascii_alphabetic());
    let rest = v.chars().count() - core.chars().count();
    let one_case = core.chars().all(|c| c.is_ascii_lowercase())
        || core.chars().all(|c| c.is_ascii_uppercase())
        || (core.starts_with(|c: char| c.is_ascii_uppercase())
            && core.chars().skip(1).all(|c| c.is_ascii_lowercase()));
    core.len() >= 3 && rest <= 6 && core.chars().all(|c| c.is_ascii_alphabetic()) && one_case
}
