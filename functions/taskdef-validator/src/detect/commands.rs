//! Where a secret sits in the syntax of command lines and connection strings: `Password=…`
//! fields of key-value connection strings, Go's `user:password@tcp(…)` DSN, the
//! `user:password` of `-u`/`--user`, and arguments computed elsewhere (`$(cat …)`, `@file`,
//! `<file`) that hold no value at all. Syntax only: what a found password is worth is decided
//! by the entry points in `detect` (which read each word of a command as a `name=value` pair,
//! and a pair's several words as a command — one recursion, so both stay there).

use std::sync::LazyLock;

use regex::Regex;

use crate::placeholder::placeholder;

/// Go's MySQL driver DSN: `user:password@tcp(host:3306)/db`.
pub(super) static GO_DSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s=])[^\s:/@]+:([^\s@]+)@(?:tcp|unix)\(")
        .unwrap_or_else(|e| panic!("DSN pattern: {e}"))
});

/// What every [`GO_DSN`] match holds.
pub(super) const DSN_KEYWORDS: &[&str] = &["@tcp(", "@unix("];

/// The password of a Go DSN in `text`, unless it is a placeholder.
pub(super) fn dsn_password(text: &str) -> Option<&str> {
    for caps in GO_DSN.captures_iter(text) {
        let Some(password) = caps.get(1) else {
            continue;
        };
        if !placeholder(password.as_str()) {
            return Some(password.as_str());
        }
    }
    None
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
pub(super) fn connection_string_password(text: &str) -> Option<&str> {
    // Every `KV_PASSWORD` match holds `=` and `password` or `pwd` in some case: most values
    // have neither, and these are cheaper than the patterns. (ASCII only: outside it, the
    // patterns' case folding is left to decide.)
    if text.is_ascii()
        && !(text.contains('=')
            && (contains_ignore_ascii_case(text, "pwd")
                || contains_ignore_ascii_case(text, "password")))
    {
        return None;
    }
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
            return Some(password);
        }
    }
    None
}

fn contains_ignore_ascii_case(text: &str, word: &str) -> bool {
    text.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// `$(cat …)`, `` `cat …` ``, `@/path` (curl), `<file`, `os.environ.get('K')`: the value is
/// computed or read from elsewhere, not written here.
pub(super) fn computed(v: &str) -> bool {
    // Bytes, not characters: each is ASCII, and a search by character decodes every one.
    matches!(v.bytes().next(), Some(b'$' | b'`' | b'@' | b'<'))
        || v.bytes().any(|b| matches!(b, b'(' | b')'))
}

/// `-u user:pass`, `--user user:pass`, and combined short flags such as curl's `-fsu`.
pub(super) fn user_flag(flag: &str) -> bool {
    let name = flag.trim_start_matches('-');
    let short = !flag.starts_with("--");
    name == "user" || (short && name.ends_with('u'))
}

/// The password of the `user:password` a [`user_flag`] takes; `None` without a `:`, or when
/// it is a group.
pub(super) fn user_password(word: &str) -> Option<&str> {
    let (user, password) = word.split_once(':')?;
    // `-u www-data:www-data`, `-u 1000:root`: a user and a group, as docker and chpst take.
    const GROUPS: &[&str] = &[
        "root", "nogroup", "nobody", "users", "staff", "wheel", "adm",
    ];
    let group = password == user
        || password.chars().all(|c| c.is_ascii_digit())
        || GROUPS.contains(&password);
    (!group).then_some(password)
}
