//! The credential detector behind `plaintext-secret` and `secret-in-command`.
//!
//! Three detectors, most certain first, each with the filters that keep the others honest:
//! 1. provider formats (AWS access keys, GitHub, GitLab, Slack, Stripe, SendGrid, Twilio, npm,
//!    Google, PEM private keys, JWTs that decode, URLs with a password) — certain, `critical`;
//! 2. a credential-like name (`*_PASSWORD`, `*_SECRET`, `*_TOKEN`, `*_API_KEY`, …) whose value
//!    looks generated rather than like a word, a number, a flag or a reference — `high`;
//! 3. a very high-entropy value alone (base64-like, 32+ characters) — `high`.
//!
//! Name lists alone (Checkov) flag `PASSWORD_MIN_LENGTH=12`; entropy alone (detect-secrets)
//! flags image digests and git SHAs. Here a value must look like a secret *and* not look like
//! one of the known look-alikes ([`benign`]). A detection carries [`Evidence`] — kind, length,
//! short hash — and never the value.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;

use crate::finding::{Evidence, Severity};

/// A credential found in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub severity: Severity,
    /// Human-readable kind, e.g. "AWS access key id".
    pub kind: &'static str,
    pub evidence: Evidence,
}

impl Detection {
    fn new(severity: Severity, kind: &'static str, secret: &str) -> Self {
        Detection {
            severity,
            kind,
            evidence: Evidence::of(kind, secret),
        }
    }
}

/// Names whose value is a credential whatever it looks like.
const ALWAYS_SECRET_NAMES: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AWS access key id"),
    ("AWS_SECRET_ACCESS_KEY", "AWS secret access key"),
    ("AWS_SESSION_TOKEN", "AWS session token"),
    (
        "ECS_ENGINE_AUTH_DATA",
        "registry credentials (ECS_ENGINE_AUTH_DATA)",
    ),
];

/// Kind of a generated-looking value under a credential-like name (`high`).
pub const GENERATED_VALUE: &str = "credential-like name with a generated value";
/// Kind of a short or dictionary-like value under a password-like name (`medium`): still a
/// live credential.
pub const HUMAN_VALUE: &str = "credential-like name with a human-chosen value";

/// Kind of an AWS access key id detection.
pub const AWS_ACCESS_KEY_ID: &str = "AWS access key id";

struct Provider {
    kind: &'static str,
    re: Regex,
    /// Capture group holding the secret part (0 = whole match).
    group: usize,
}

fn provider(kind: &'static str, pattern: &str, group: usize) -> Provider {
    Provider {
        kind,
        // The patterns are constants, checked by the unit tests.
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("pattern of {kind}: {e}")),
        group,
    }
}

static PROVIDERS: LazyLock<Vec<Provider>> = LazyLock::new(|| {
    vec![
        provider(
            AWS_ACCESS_KEY_ID,
            r"(?:^|[^A-Z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})(?:$|[^A-Z0-9])",
            1,
        ),
        provider(
            "GitHub token",
            r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
            1,
        ),
        provider("GitLab token", r"\b(glpat-[A-Za-z0-9_\-]{20,})", 1),
        provider("Slack token", r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})", 1),
        provider(
            "Slack webhook URL",
            r"(https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,})",
            1,
        ),
        provider(
            "Stripe secret key",
            r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})",
            1,
        ),
        provider(
            "SendGrid API key",
            r"\b(SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64})",
            1,
        ),
        provider("Twilio API key", r"\b(SK[0-9a-f]{32})\b", 1),
        provider("npm token", r"\b(npm_[A-Za-z0-9]{36})\b", 1),
        provider(
            "Docker access token",
            r"\b(dckr_pat_[A-Za-z0-9_\-]{20,})",
            1,
        ),
        provider("Google API key", r"\b(AIza[0-9A-Za-z_\-]{35})", 1),
        provider(
            "PEM private key",
            r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)",
            1,
        ),
    ]
});

static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)")
        .unwrap_or_else(|e| panic!("JWT pattern: {e}"))
});

static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z][A-Za-z0-9+.\-]*://([^\s:/@]*):([^\s/@]+)@[^\s/@]+")
        .unwrap_or_else(|e| panic!("URL pattern: {e}"))
});

static AWS_SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9/+]{40}$").unwrap_or_else(|e| panic!("secret key pattern: {e}"))
});

/// Looks for a provider-format credential anywhere in `text`.
pub fn provider_format(text: &str) -> Option<Detection> {
    for p in PROVIDERS.iter() {
        for caps in p.re.captures_iter(text) {
            let Some(m) = caps.get(p.group) else { continue };
            let secret = m.as_str();
            if token_placeholder(secret) {
                continue;
            }
            return Some(Detection::new(Severity::Critical, p.kind, secret));
        }
    }
    for m in JWT.captures_iter(text).filter_map(|c| c.get(1)) {
        if jwt_decodes(m.as_str()) {
            return Some(Detection::new(
                Severity::Critical,
                "JSON Web Token",
                m.as_str(),
            ));
        }
    }
    for caps in URL_PASSWORD.captures_iter(text) {
        let Some(password) = caps.get(2) else {
            continue;
        };
        if !placeholder(password.as_str()) {
            return Some(Detection::new(
                Severity::Critical,
                "password in a URL",
                password.as_str(),
            ));
        }
    }
    for caps in GO_DSN.captures_iter(text) {
        let Some(password) = caps.get(1) else {
            continue;
        };
        if !placeholder(password.as_str()) {
            return Some(Detection::new(
                Severity::Critical,
                "password in a connection string",
                password.as_str(),
            ));
        }
    }
    connection_string_password(text)
}

/// Go's MySQL driver DSN: `user:password@tcp(host:3306)/db`.
static GO_DSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s=])[^\s:/@]+:([^\s@]+)@(?:tcp|unix)\(")
        .unwrap_or_else(|e| panic!("DSN pattern: {e}"))
});

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

/// Does a variable name say its value is a credential?
pub fn credential_name(name: &str) -> bool {
    let tokens = name_tokens(name);
    let Some(last) = tokens.last() else {
        return false;
    };
    // The variable holds something *about* a credential, not the credential.
    const METADATA: &[&str] = &[
        "file",
        "path",
        "arn",
        "name",
        "id",
        "ids",
        "url",
        "uri",
        "endpoint",
        "host",
        "length",
        "len",
        "size",
        "ttl",
        "timeout",
        "expiry",
        "expires",
        "expiration",
        "header",
        "type",
        "algorithm",
        "alg",
        "version",
        "enabled",
        "enable",
        "disabled",
        "required",
        "policy",
        "rotation",
        "days",
        "min",
        "max",
        "count",
        "format",
        "dir",
        "location",
        "region",
        "kms",
        "param",
        "parameter",
        "ref",
        "user",
        "username",
        "prefix",
        "field",
        "key_id",
        "mode",
        "hint",
        "salt_rounds",
        "rounds",
        "strategy",
        "provider",
        "store",
        "source",
        "env",
        "backend",
        "audience",
        "issuer",
        "scope",
        "scopes",
        "realm",
        "domain",
        "bucket",
        "queue",
        "topic",
        "table",
        "group",
        "label",
        "class",
        "kind",
        "method",
        "scheme",
        "manager",
        "engine",
        "service",
        "lifetime",
        "interval",
        "period",
        "duration",
        "validity",
        "age",
        "reset",
        "sender",
        "email",
        "address",
        "account",
        "owner",
        "role",
        "tenant",
        "reference",
    ];
    if METADATA.contains(&last.as_str()) {
        return false;
    }
    // Publishable keys are meant to ship to browsers (`NEXT_PUBLIC_…`, `PUBLISHABLE_KEY`).
    if public_name(name) {
        return false;
    }
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "creds",
        "privatekey",
        "accesskey",
        "secretkey",
        "authkey",
        "signingkey",
        "dsn",
        "pgpassword",
        "pgpass",
        "requirepass",
        "masterauth",
    ];
    const KEY_QUALIFIERS: &[&str] = &[
        "api",
        "private",
        "access",
        "secret",
        "signing",
        "encryption",
        "master",
        "auth",
        "session",
        "client",
        "app",
        "account",
        "license",
        "webhook",
        "hmac",
        "jwt",
    ];
    tokens.iter().any(|t| WORDS.contains(&t.as_str()))
        || tokens
            .windows(2)
            .any(|w| w[1] == "key" && KEY_QUALIFIERS.contains(&w[0].as_str()))
}

/// A name that says its value is public: `NEXT_PUBLIC_…`, `VITE_PUBLIC_…`, `…_PUBLISHABLE_KEY`.
pub fn public_name(name: &str) -> bool {
    name_tokens(name)
        .iter()
        .any(|t| t == "public" || t == "publishable")
}

/// A name that says its value is a password or key *itself* — the credential word is its last
/// (`DB_PASSWORD`, `MYSQL_ROOT_PASSWORD`, `JWT_SECRET`, `STRIPE_API_KEY`, `AUTH_TOKEN_2`) —
/// so that any literal under it is a credential, however weak. Narrower than
/// [`credential_name`], which also admits `PASSWORD_FOR_DB`-like names for generated values.
pub fn password_name(name: &str) -> bool {
    if !credential_name(name) {
        return false;
    }
    let tokens = name_tokens(name);
    // A trailing number or environment qualifies the credential (`DB_PASSWORD_2`, `…_PROD`).
    let core: Vec<&str> = tokens
        .iter()
        .map(String::as_str)
        .rev()
        .skip_while(|t| {
            t.chars().all(|c| c.is_ascii_digit())
                || matches!(
                    *t,
                    "prod"
                        | "production"
                        | "dev"
                        | "staging"
                        | "stage"
                        | "qa"
                        | "uat"
                        | "local"
                        | "old"
                        | "new"
                        | "current"
                        | "previous"
                        | "value"
                        | "plain"
                        | "plaintext"
                        | "raw"
                )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let Some(&last) = core.last() else {
        return false;
    };
    const LAST: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "secretkey",
        "privatekey",
        "accesskey",
        "authkey",
        "signingkey",
        "credential",
        "credentials",
        "creds",
        "pgpassword",
        "pgpass",
        "requirepass",
        "masterauth",
    ];
    const KEY_QUALIFIERS: &[&str] = &[
        "api",
        "private",
        "access",
        "secret",
        "signing",
        "encryption",
        "master",
        "auth",
        "session",
        "client",
        "app",
        "license",
        "webhook",
        "hmac",
        "jwt",
    ];
    LAST.contains(&last)
        || (last == "key"
            && core.len() >= 2
            && KEY_QUALIFIERS.contains(&core[core.len() - 2]))
        // Rails' `SECRET_KEY_BASE`.
        || core.ends_with(&["secret", "key", "base"])
}

/// A literal under a [`password_name`] that is a credential even though it does not look
/// generated: a human-chosen password (`admin`, `postgres`, `Summer2024`, a 10-character
/// client secret). Not: a placeholder, a reference or path, a URL, a number, a flag, a value
/// with spaces (prose), an e-mail address or a host name.
pub fn human_password(name: &str, v: &str) -> bool {
    let len = v.chars().count();
    (4..=512).contains(&len)
        && !strict_placeholder_for(name, v)
        && !not_a_password(v)
        && !reference_like(v)
}

/// An e-mail address, a host name, a reference (`ssm:`, `file:`, `rds!…`) or a secret's name
/// (`myapp/prod/db`): what a credential-like name holds when it names rather than holds.
fn reference_like(v: &str) -> bool {
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
fn not_a_password(v: &str) -> bool {
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

/// Password fields of key-value connection strings (ADO.NET, ODBC, JDBC properties, libpq,
/// URL query parameters): `Password=…`, `Pwd=…`, quoted, braced or bare.
static KV_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:^|[;,\s?&])(?:password|pwd)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{([^}]*)\}|([^;,&\s"']+))"#,
    )
    .unwrap_or_else(|e| panic!("connection string pattern: {e}"))
});

/// Another key of a connection string, so that a lone `password=x` (a flag) is not taken for
/// one.
static KV_OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[;,\s?&])(?:server|data source|host|hostname|hostaddr|addr|address|user id|uid|user|username|database|dbname|initial catalog|port|driver|dsn|sslmode|trusted_connection|integrated security|ssl|abortconnect|connecttimeout|defaultdatabase)\s*=",
    )
    .unwrap_or_else(|e| panic!("connection string pattern: {e}"))
});

/// The password of a key-value connection string, unless it is a placeholder.
fn connection_string_password(text: &str) -> Option<Detection> {
    let url_query = text.contains("://") && text.contains('?');
    if !(KV_OTHER.is_match(text) || url_query || text.starts_with("jdbc:")) {
        return None;
    }
    for caps in KV_PASSWORD.captures_iter(text) {
        let Some(m) = (1..=4).find_map(|i| caps.get(i)) else {
            continue;
        };
        let password = m.as_str();
        // `Password={{resolve:ssm:/db/pw}}`: a CloudFormation dynamic reference, not a value.
        if password.starts_with("{resolve:") || password.starts_with("{{resolve:") {
            continue;
        }
        if !password.trim().is_empty() && !placeholder(password) {
            return Some(Detection::new(
                Severity::Critical,
                "password in a connection string",
                password,
            ));
        }
    }
    None
}

/// Splits `DB_PASSWORD`, `dbPassword`, `db-password`, `db.password` into lower-case words.
fn name_tokens(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        let letter_to_digit = c.is_ascii_digit()
            && current
                .chars()
                .last()
                .is_some_and(|p| p.is_ascii_alphabetic());
        if (c.is_ascii_uppercase() && prev_lower || letter_to_digit) && !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    // One all-caps word ending in a credential word (`DBPASSWORD`, `PGPASSWORD`): split it.
    if let [only] = tokens.as_slice() {
        for suffix in ["password", "passwd", "secret", "token", "apikey"] {
            if let Some(head) = only.strip_suffix(suffix) {
                if !head.is_empty() && name.chars().all(|c| !c.is_ascii_lowercase()) {
                    return vec![head.to_owned(), suffix.to_owned()];
                }
            }
        }
    }
    tokens
}

/// Values that look like secrets to entropy or name rules but are not: the false positives of
/// the anchors (SPEC §5).
pub fn benign(value: &str) -> bool {
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
            .unwrap_or_else(|e| panic!("{e}"))
    });
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
        || NUMBERISH.is_match(v)
        || lower.starts_with("arn:")
        || DIGEST.is_match(v)
        || UUID.is_match(v)
        || UNIQUE_ID.is_match(v)
        || v.contains("EXAMPLE")
        // Publishable keys are meant to be public (they ship in web pages).
        || v.starts_with("pk_live_")
        || v.starts_with("pk_test_")
        || template(v)
        || (lower.contains("://") && URL_PASSWORD.find(v).is_none())
        || path_like(v)
        || v.chars().any(char::is_whitespace)
        || decodes_to_text(v)
}

use crate::placeholder::{
    credential_words, placeholder, placeholder_for, strict_placeholder_for, template,
    token_placeholder,
};

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

/// Shannon entropy in bits per character.
pub fn entropy(v: &str) -> f64 {
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

fn classes(v: &str) -> usize {
    [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|b| *b)
    .count()
}

fn is_hex(v: &str) -> bool {
    v.chars().all(|c| c.is_ascii_hexdigit())
}

/// Does a value under a credential-like name look generated (rather than a word, a number, a
/// flag or a reference)?
pub fn looks_generated(v: &str) -> bool {
    let len = v.chars().count();
    if len < 8 || benign(v) {
        return false;
    }
    let c = classes(v);
    // Mixed classes: `P@ssw0rd!`, `s3cr3t-Val`. Hex of 16+ (`openssl rand -hex`) counts too.
    c >= 3
        || (c == 2 && v.chars().any(|c| c.is_ascii_digit()) && len >= 10 && entropy(v) >= 2.8)
        || (is_hex(v) && len >= 16)
}

/// A value that is very likely a generated key whatever its name: base64-like, 32+ characters,
/// three character classes, high entropy — and not hex (digests, git SHAs).
pub fn high_entropy(v: &str) -> bool {
    let len = v.len();
    (32..=4096).contains(&len)
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c))
        && !is_hex(v)
        && classes(v.trim_end_matches('=')) >= 3
        && entropy(v) >= 4.3
        && !benign(v)
        && !bucket_like(v)
}

/// Lower case, digits, `-` and `.` in short segments: an S3 bucket, a host or a resource name
/// (`acme-prod-assets-20231105-a1b2c3d4`). Generated keys mix cases or run long.
fn bucket_like(v: &str) -> bool {
    v.contains(['-', '.'])
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && v.split(['-', '.']).all(|seg| seg.len() < 16)
}

/// Checks one `name=value` pair (an environment variable, a Docker label, a log option, a
/// `--flag=value` argument).
pub fn scan_pair(name: &str, value: &str) -> Option<Detection> {
    let value_trimmed = value.trim();
    if value_trimmed.is_empty() {
        return None;
    }
    if let Some((_, kind)) = ALWAYS_SECRET_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        if !placeholder_for(name, value_trimmed) {
            return Some(Detection::new(Severity::Critical, kind, value_trimmed));
        }
        return None;
    }
    if let Some(d) = provider_format(value) {
        // A Google API key under a public name (`NEXT_PUBLIC_FIREBASE_API_KEY`) is a browser
        // key, meant to ship in web pages (and restricted by referrer).
        if !(d.kind == "Google API key" && public_name(name)) {
            return Some(d);
        }
        return None;
    }
    let generated = credential_name(name)
        && looks_generated(value_trimmed)
        && !placeholder_for(name, value_trimmed)
        && !not_a_password(value_trimmed)
        && !reference_like(value_trimmed);
    if generated && !dictionary_like(value_trimmed) {
        return Some(Detection::new(
            Severity::High,
            GENERATED_VALUE,
            value_trimmed,
        ));
    }
    if generated || (password_name(name) && human_password(name, value_trimmed)) {
        return Some(Detection::new(Severity::Medium, HUMAN_VALUE, value_trimmed));
    }
    // A value of several words (`JAVA_OPTS=-Xmx512m -Dspring.datasource.password=…`): each
    // word as a command's argument would be.
    if value_trimmed.contains(char::is_whitespace) && value_trimmed.len() <= 8192 {
        let mut previous: Option<&str> = None;
        for word in value_trimmed.split_whitespace() {
            let word = word.trim_matches(|c| c == '"' || c == '\'');
            if let Some(d) = word_pair(previous, word) {
                return Some(d);
            }
            previous = Some(word);
        }
    }
    scan_entropy(value_trimmed)
}

/// Checks what was written where a reference belongs (`valueFrom`, `credentialsParameter`):
/// a provider-format credential, an AWS secret access key, or a value too random to be a
/// name someone chose. SSM's name rules admit all of these, so the parser alone does not.
pub fn scan_reference(value: &str) -> Option<Detection> {
    let v = value.trim();
    if let Some(d) = provider_format(v) {
        return Some(d);
    }
    if AWS_SECRET_KEY.is_match(v)
        && !is_hex(v)
        && !v.contains("EXAMPLE")
        && classes(v) >= 3
        && entropy(v) >= 4.5
    {
        return Some(Detection::new(
            Severity::Critical,
            "AWS secret access key",
            v,
        ));
    }
    // Names people choose (`MyServiceDatabasePassword2024`) stay below this entropy; keys do not.
    if high_entropy(v) && entropy(v) >= 4.5 {
        return Some(Detection::new(Severity::High, "high-entropy value", v));
    }
    random_token(v).then(|| Detection::new(Severity::High, "generated token", v))
}

/// A token that reads as random rather than as words: letters, digits, `_` and `-` only, with
/// one run of 16+ letters and digits (between separators) that switches between lower case,
/// upper case and digits at least every other character, or 32+ hex digits. CamelCase names
/// switch once or twice per word (`MyServiceDbPassword2024`: 5 in 23), and the parts of
/// `MyApp-prod-eu-west-2` or `DatabaseSecret86DBB7B3-ky8aSKdISgLw` are words or short.
fn random_token(v: &str) -> bool {
    if v.chars().count() < 16
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || benign(v)
    {
        return false;
    }
    v.split(['-', '_']).any(random_run)
}

/// One run of letters and digits, for [`random_token`].
fn random_run(v: &str) -> bool {
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

/// Whether a reference may be repeated in a message: an ARN, or a name that does not look
/// generated. Anything else may be a credential written in the wrong field.
pub fn reference_is_showable(reference: &str) -> bool {
    let v = reference.trim();
    if scan_reference(v).is_some() {
        return false;
    }
    v.starts_with("arn:") || !v.split('/').any(looks_generated)
}

/// A reference as a message may show it: itself when [`reference_is_showable`], else only its
/// length.
pub fn shown_reference(reference: &str) -> String {
    if reference_is_showable(reference) {
        reference.to_owned()
    } else {
        format!(
            "(a reference of {} characters, not shown: it looks generated)",
            reference.chars().count()
        )
    }
}

/// Checks a free-standing value (a command argument).
pub fn scan_value(value: &str) -> Option<Detection> {
    provider_format(value).or_else(|| scan_entropy(value.trim()))
}

fn scan_entropy(v: &str) -> Option<Detection> {
    high_entropy(v).then(|| Detection::new(Severity::High, "high-entropy value", v))
}

/// The 40-character AWS secret access key that goes with an access key id found nearby.
pub fn aws_secret_key(value: &str) -> Option<Detection> {
    let v = value.trim();
    (AWS_SECRET_KEY.is_match(v) && !is_hex(v) && !v.contains("EXAMPLE") && classes(v) >= 3)
        .then(|| Detection::new(Severity::Critical, "AWS secret access key", v))
}

/// Checks a command (`command`, `entryPoint`, `healthCheck.command`): each argument, each
/// word of a shell string, `--password=x`, `--password x`, `-u user:password` and
/// `-e TOKEN=x`. Returns the argument index and the detection.
pub fn scan_command(args: &[Option<&str>]) -> Vec<(usize, Detection)> {
    let mut found = Vec::new();
    let mut previous: Option<String> = None;
    for (i, arg) in args.iter().enumerate() {
        let Some(arg) = arg else {
            previous = None;
            continue;
        };
        let mut hit = provider_format(arg);
        let words: Vec<&str> = arg
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .collect();
        for word in &words {
            if hit.is_some() {
                break;
            }
            hit = word_pair(previous.as_deref(), word);
            previous = Some((*word).to_owned());
        }
        if hit.is_none() && words.len() == 1 {
            hit = scan_entropy(arg.trim());
        }
        if let Some(d) = hit {
            found.push((i, d));
        }
        previous = words.last().map(|w| (*w).to_owned());
    }
    found
}

fn word_pair(previous: Option<&str>, word: &str) -> Option<Detection> {
    // `$(cat …)`, `` `cat …` ``, `@/path` (curl), `<file`, `os.environ.get('K')`: the value is
    // computed or read from elsewhere, not written here.
    let computed = |v: &str| v.starts_with(['$', '`', '@', '<']) || v.contains(['(', ')']);
    if let Some((name, value)) = word.split_once('=') {
        if !computed(value) {
            if let Some(d) = scan_pair(name.trim_start_matches('-'), value) {
                return Some(d);
            }
        }
    }
    if computed(word) {
        return None;
    }
    let flag = previous.filter(|p| p.starts_with('-') && !p.contains('='))?;
    let name = flag.trim_start_matches('-');
    // `-u user:pass`, `--user user:pass`, and combined short flags such as curl's `-fsu`.
    let short = !flag.starts_with("--");
    if name == "user" || (short && name.ends_with('u')) {
        let (user, password) = word.split_once(':')?;
        // `-u www-data:www-data`, `-u 1000:root`: a user and a group, as docker and chpst take.
        const GROUPS: &[&str] = &[
            "root", "nogroup", "nobody", "users", "staff", "wheel", "adm",
        ];
        let group = password == user
            || password.chars().all(|c| c.is_ascii_digit())
            || GROUPS.contains(&password);
        return (!group && (looks_generated(password) || human_password("password", password)))
            .then(|| Detection::new(Severity::High, "password in a --user argument", password));
    }
    if credential_name(name)
        && looks_generated(word)
        && !placeholder_for(name, word)
        && !not_a_password(word)
        && !reference_like(word)
    {
        return Some(Detection::new(
            Severity::High,
            "credential-like flag with a generated value",
            word,
        ));
    }
    (password_name(name) && human_password(name, word))
        .then(|| Detection::new(Severity::High, "credential-like flag with a value", word))
}

#[cfg(test)]
mod tests;
