//! Values that stand for "no real value here": templates, prose, redactions, names.
//!
//! Every detector asks this before it reports a value, so this is where false alarms are won
//! or lost. Once any literal under a credential-like name is a finding (a weak password is a
//! live credential), the only thing between a team and a scanner they switch off is telling
//! `${DB_PASSWORD}`, `your-staging-secret-key-here`, `********` and
//! `postgresql://user:DATABASE_PASSWORD@DATABASE_ENDPOINT` from a password. What counts (the
//! README's list, each a table test):
//!
//! - **templates**, filled in elsewhere: `${…}`, `%{…}`, `{{ … }}`, `$(…)`, `%(…)s`, `#{…}`,
//!   `$VAR`, `<…>`, `[…]`-wrapped names, `@VAR@`, `__VAR__`;
//! - **redactions**: only `*`, `x`, `X`, `•`, `.`, `-`, `#` (at least three), or a value that
//!   starts with four of them (`****1234`), or the words redacted / masked / hidden; a run of
//!   six `x` inside a value (`sk_live_xxxxxxxxxxxx`);
//! - **prose**: a word such as `your`, `changeme`, `placeholder`, `example`, `dummy`, `sample`,
//!   `fake`, `todo`, `fixme`, `replace`, `insert` among the value's words
//!   (`your-staging-secret-key-…`, `FLWSECK_TEST-your_…`, `<insert token>`), or a value that is
//!   only such words and credential words (`secret`, `password`, `my-password`);
//! - **names instead of values**: the variable's own name, or an upper-case identifier of two
//!   or more words that names a credential (`DATABASE_PASSWORD`, `DB_PASS`);
//! - **documented examples**: AWS's `…EXAMPLE` keys, and the example keys of provider
//!   documentation that appear in tutorials (Stripe's and jwt.io's).

use std::sync::LazyLock;

use regex::Regex;

/// Words that mark a value as prose about a value rather than the value.
const PROSE: &[&str] = &[
    "your",
    "yours",
    "changeme",
    "change",
    "placeholder",
    "example",
    "examples",
    "dummy",
    "sample",
    "fake",
    "todo",
    "tbd",
    "fixme",
    "replace",
    "replaceme",
    "insert",
    "redacted",
    "masked",
    "hidden",
    "notset",
    "unset",
    "undefined",
    "goes",
    "set",
    "replaced",
    "runtime",
    "unknown",
    "provided",
    "tbc",
];

/// Words that name a credential (a value made only of these, and of a few fillers, is a name).
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "token",
    "key",
    "apikey",
    "api",
    "credential",
    "credentials",
    "auth",
    "access",
    "private",
    "client",
    "db",
    "database",
    "user",
    "username",
    "my",
    "the",
    "a",
    "here",
    "value",
    "string",
    "default",
    "none",
    "null",
    "nil",
    "empty",
    "test",
    "dev",
    "prod",
    "staging",
    "local",
    "new",
    "old",
];

/// Example credentials from provider documentation and tutorials.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    // Stripe's documentation test key.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    // jwt.io's default token signature and secret.
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "your-256-bit-secret",
];

/// Template markers, each balanced: an unclosed `${` inside a random password is not one.
static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\$\{[^{}]*\}|%\{[^{}]*\}|\{\{[^{}]*\}\}|\$\([^()]*\)|#\{[^{}]*\}",
        r"|%\([A-Za-z_][A-Za-z0-9_]*\)[sdr]",
        r"|^%[A-Za-z_][A-Za-z0-9_]*%$",
        r"|^\$(?:[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*)$",
        r"|^<[^<>]+>$",
        r"|^%[-+# 0-9.]*[svdqxXfgt]$",
        // Datadog's Autodiscovery template variables (`%%env_PG_PASSWORD%%`, `%%host%%`).
        r"|^%%[A-Za-z_][A-Za-z0-9_.]*%%$",
        // Spring Cloud Config's encrypted values.
        r"|^\{cipher\}",
    ))
    .unwrap_or_else(|e| panic!("template pattern: {e}"))
});

/// `${VAR}`, `%{ … }`, `{{ x }}`, `$(cmd)`, `%(x)s`, `#{x}`, `%VAR%`, `$VAR`, `<x>`, `[NAME]`,
/// `@NAME@`, `__NAME__`, a format verb (`%s`), Datadog's `%%env_X%%` and `ENC[handle]`:
/// filled in by a template engine, a shell, a `format()`, an agent or a person. And what is
/// decrypted where it is used — Jasypt's `ENC(…)`, Spring Cloud Config's `{cipher}…` — no
/// more a plaintext secret than a reference is.
pub fn template(v: &str) -> bool {
    let v = v.trim();
    let wrapped = |open: &str, close: &str| {
        v.len() > open.len() + close.len()
            && v.starts_with(open)
            && v.ends_with(close)
            && v[open.len()..v.len() - close.len()]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    };
    // Every `TEMPLATE` alternative holds `$`, `%`, `{`, `#` or `<`: most values have none,
    // and looking is cheaper than the pattern.
    let marked = v.contains(['$', '%', '{', '#', '<']);
    (marked && TEMPLATE.is_match(v))
        || (v.starts_with("ENC[") && v.ends_with(']'))
        || (v.starts_with("ENC(") && v.ends_with(')'))
        || wrapped("[", "]")
        || wrapped("@", "@")
        || wrapped("__", "__")
}

/// `********`, `xxxx`, `••••`, `****1234`, `[REDACTED]`.
pub fn redaction(v: &str) -> bool {
    let v = v.trim();
    let mask = |c: char| matches!(c, '*' | 'x' | 'X' | '•' | '.' | '-' | '#');
    let count = v.chars().count();
    (count >= 3 && v.chars().all(mask))
        || v.chars().take(4).filter(|&c| c == '*' || c == '•').count() == 4
        || (count <= 24
            && separated(v)
                .iter()
                .any(|w| matches!(w.as_str(), "redacted" | "masked" | "hidden")))
}

/// Lower-case words of a value (split on anything but letters and digits, and at case
/// changes from lower to upper).
fn words(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in v.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Lower-case words between separators only (`Sample!Tree9` → `sample`, `tree9`; a camelCase
/// `HiddenValley` stays one word): what prose is made of.
fn separated(v: &str) -> Vec<String> {
    v.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A value that is prose about a value: `your-api-key`, `changeme`, `FLWSECK_TEST-your_key`,
/// `insert token here`, `set-in-ssm`. A prose word must stand between separators, in a value of
/// three or more words or one whose words are mostly filler (prose, credential words, two
/// letters or fewer, digits), so that `Sample!Tree9` or `HiddenValley42!` — passwords with a
/// word in them — are not prose.
pub fn prose(v: &str) -> bool {
    if v.is_ascii() {
        ascii_prose(v)
    } else {
        any_prose(v)
    }
}

/// What a placeholder spells out anywhere in a value, in any case (lower-case here).
const SPELLED_PLACEHOLDERS: [&str; 6] = [
    "changeme",
    "change_me",
    "change-me",
    "replace_me",
    "replaceme",
    "xxxxxx",
];

/// [`prose`] of any text.
fn any_prose(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if SPELLED_PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let w = separated(v);
    let filler = |w: &&String| {
        PROSE.contains(&w.as_str())
            || CREDENTIAL_WORDS.contains(&w.as_str())
            || w.chars().count() <= 2
            || w.chars().all(|c| c.is_ascii_digit())
    };
    w.iter().any(|w| PROSE.contains(&w.as_str()))
        && (w.len() >= 3 || w.iter().filter(filler).count() * 2 > w.len())
}

/// [`prose`] of ASCII text, its words compared where they stand rather than collected as
/// lower-case `String`s (it is asked of most values). The unit tests compare the two.
fn ascii_prose(v: &str) -> bool {
    // One search for all of them, in any case (six searches were a thirtieth of a scan of
    // credential-heavy files).
    static SPELLED: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(SPELLED_PLACEHOLDERS)
                // Constant words, checked by the unit tests.
                .unwrap_or_else(|e| panic!("spelled-out placeholders: {e}"))
        });
    if SPELLED.is_match(v) {
        return true;
    }
    let is = |list: &[&str], w: &str| list.iter().any(|p| p.eq_ignore_ascii_case(w));
    let words = || {
        v.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
    };
    if !words().any(|w| is(PROSE, w)) {
        return false;
    }
    let (mut count, mut filler) = (0, 0);
    for w in words() {
        count += 1;
        if is(PROSE, w)
            || is(CREDENTIAL_WORDS, w)
            || w.len() <= 2
            || w.bytes().all(|c| c.is_ascii_digit())
        {
            filler += 1;
        }
    }
    count >= 3 || filler * 2 > count
}

/// A value made only of credential words and fillers (`password`, `secret`, `my-db-password`):
/// a placeholder in a URL or an example, though under a password name it may be the password.
pub fn credential_words(v: &str) -> bool {
    if v.is_ascii() {
        return ascii_credential_words(v.as_bytes());
    }
    let w = words(v);
    !w.is_empty() && w.iter().all(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
}

/// [`credential_words`] of ASCII text, the words compared where they stand rather than
/// collected as lower-case `String`s (it is asked of most values).
fn ascii_credential_words(v: &[u8]) -> bool {
    let credential = |w: &[u8]| {
        CREDENTIAL_WORDS
            .iter()
            .any(|c| c.as_bytes().eq_ignore_ascii_case(w))
    };
    // The same words as [`words`]: runs of letters and digits, split before an upper-case
    // letter that follows a lower-case letter or a digit.
    let (mut start, mut prev_lower, mut any) = (None::<usize>, false, false);
    for (i, &c) in v.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                if !credential(&v[s..i]) {
                    return false;
                }
                any = true;
            }
            prev_lower = false;
            continue;
        }
        match start {
            Some(s) if c.is_ascii_uppercase() && prev_lower => {
                if !credential(&v[s..i]) {
                    return false;
                }
                any = true;
                start = Some(i);
            }
            Some(_) => {}
            None => start = Some(i),
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    match start {
        Some(s) => credential(&v[s..]),
        None => any,
    }
}

/// An upper-case identifier of two or more words that names a credential (`DATABASE_PASSWORD`,
/// `DB_PASS`, `API_KEY`): a variable's name standing where its value would go. A part of
/// digits (`ROOT_PASS_2024`) makes it a password someone chose.
pub fn variable_name(v: &str) -> bool {
    let parts: Vec<&str> = v.split('_').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && !p.chars().all(|c| c.is_ascii_digit())
        })
        && v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && parts.iter().any(|p| {
            matches!(
                p.to_ascii_lowercase().as_str(),
                "password"
                    | "passwd"
                    | "pwd"
                    | "pass"
                    | "secret"
                    | "token"
                    | "key"
                    | "apikey"
                    | "credential"
                    | "credentials"
                    | "endpoint"
                    | "host"
                    | "user"
                    | "username"
            )
        })
}

/// Is `value` a placeholder rather than a value? `name` is the variable it is assigned to, if
/// any (a value equal to its own name is a placeholder).
pub fn placeholder_for(name: &str, value: &str) -> bool {
    strict_placeholder_for(name, value) || credential_words(value.trim())
}

/// [`placeholder_for`] without the credential-words rule: under a password-like name,
/// `password` or `secret` is the (weak) password itself.
pub fn strict_placeholder_for(name: &str, value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    // Letters and digits only, lower-cased, compared where they stand (no copies: this is
    // asked of most values).
    fn squash(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
    }
    let same_as_name = !name.is_empty() && squash(name).eq(squash(v));
    same_as_name
        || template(v)
        || redaction(v)
        || prose(v)
        || variable_name(v)
        || v.contains("EXAMPLE")
        || DOCUMENTED_EXAMPLES.contains(&v)
}

/// A placeholder written where a provider's token goes (`sk_live_xxxxxxxxxxxx`,
/// `ghp_your_token_here`, `AKIA…EXAMPLE`). Only words between separators count as prose here:
/// a random token's case changes must not read as a word.
pub fn token_placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    template(v)
        || redaction(v)
        || lower.contains("xxxxxx")
        || v.contains("EXAMPLE")
        || DOCUMENTED_EXAMPLES.contains(&v.trim())
        || lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| PROSE.contains(&w))
}

/// [`placeholder_for`] without a variable name.
pub fn placeholder(value: &str) -> bool {
    placeholder_for("", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_every_form() {
        let cases = [
            ("DB_PASSWORD", "${DB_PASSWORD}"),
            ("DB_PASSWORD", "${var.db_password}"),
            ("DB_PASSWORD", "%{ if true }x%{ endif }"),
            ("DB_PASSWORD", "{{ vault_secret }}"),
            ("DB_PASSWORD", "$(cat /run/secrets/db)"),
            ("DB_PASSWORD", "$DB_PASSWORD"),
            ("DB_PASSWORD", "#{password}"),
            ("DB_PASSWORD", "<your-password>"),
            ("DB_PASSWORD", "<password>"),
            ("DB_PASSWORD", "[DB_PASSWORD]"),
            ("DB_PASSWORD", "@DB_PASSWORD@"),
            ("DB_PASSWORD", "__DB_PASSWORD__"),
            ("DB_PASSWORD", "********"),
            ("DB_PASSWORD", "xxxxxxxx"),
            ("DB_PASSWORD", "XXX"),
            ("DB_PASSWORD", "••••••"),
            ("DB_PASSWORD", "****a1b2"),
            ("DB_PASSWORD", "[REDACTED]"),
            ("DB_PASSWORD", "REDACTED"),
            ("DB_PASSWORD", "changeme"),
            ("DB_PASSWORD", "ChangeMe123"),
            ("DB_PASSWORD", "change_me_in_prod"),
            ("DB_PASSWORD", "replace-me"),
            ("DB_PASSWORD", "TODO"),
            ("DB_PASSWORD", "fixme"),
            ("SECRET_KEY", "your-staging-secret-key-goes-here"),
            ("FLW_SECRET_KEY", "FLWSECK_TEST-your_secret_key-X"),
            ("API_TOKEN", "insert token here"),
            ("API_TOKEN", "your_api_token"),
            ("API_TOKEN", "dummy-token"),
            ("API_TOKEN", "sample_token_value"),
            ("API_TOKEN", "fake-token-123"),
            ("API_TOKEN", "placeholder"),
            ("API_TOKEN", "example-token"),
            ("DB_PASSWORD", "password"),
            ("DB_PASSWORD", "secret"),
            ("DB_PASSWORD", "my-secret-password"),
            ("DB_PASSWORD", "db_password"),
            ("DB_PASSWORD", "DB_PASSWORD"),
            ("PASSWORD", "DATABASE_PASSWORD"),
            ("DB_PASS", "DB_PASS"),
            ("TOKEN", "GITHUB_TOKEN"),
            ("", "DATABASE_ENDPOINT"),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("STRIPE_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
            ("JWT_SECRET", "your-256-bit-secret"),
            ("DB_PASSWORD", ""),
            ("DB_PASSWORD", "   "),
        ];
        for (name, value) in cases {
            assert!(placeholder_for(name, value), "{name}={value:?}");
        }
    }

    #[test]
    fn real_values_are_not_placeholders() {
        let cases = [
            ("DB_PASSWORD", "admin"),
            ("DB_PASSWORD", "postgres"),
            ("MYSQL_ROOT_PASSWORD", "root123"),
            ("MAIL_PASSWORD", "Summer2024"),
            ("DB_PASSWORD", "hunter22"),
            ("DB_PASSWORD", "P@ssw0rd!"),
            ("CLIENT_SECRET", "a8Fk2LmQ9z"),
            ("API_TOKEN", "Zx9Yw8Vu7Ts6Rq5Po4Nm"),
            ("DB_PASSWORD", "Tr0ub4dor&3"),
            ("DB_PASSWORD", "letmein"),
            ("DB_PASSWORD", "xyzzy42"),
            ("DB_PASSWORD", "masterkey"),
            ("SECRET_KEY", "django-insecure-8s7d6f5g4h3j2k1"),
            ("TOKEN", "Abc_Def"),
        ];
        for (name, value) in cases {
            assert!(!placeholder_for(name, value), "{name}={value:?}");
        }
    }

    #[test]
    fn token_placeholders_need_separated_words() {
        for v in [
            "sk_live_xxxxxxxxxxxxxxxx",
            "ghp_your_token_here_0000000000000000000000",
            "AKIAIOSFODNN7EXAMPLE",
            "xoxb-your-slack-token",
        ] {
            assert!(token_placeholder(v), "{v}");
        }
        // `Tbd`, `Fake` as case-delimited chunks of a random token are not prose.
        for v in [
            "ghp_R8xTbdZtY4mN7vB1cK6pW3sD5fH0jG2aE8u",
            "glpat-Zx9FakeVu7Ts6Rq5Po4Nm",
        ] {
            assert!(!token_placeholder(v), "{v}");
        }
    }

    /// The word lists are lower-case ASCII (the ASCII paths compare them ignoring case), and
    /// prose of ASCII text is the same question asked either way: on the corpus's values and
    /// on the edge cases of each rule.
    #[test]
    fn prose_of_ascii_agrees_with_prose_of_any_text() {
        for w in PROSE.iter().chain(CREDENTIAL_WORDS) {
            assert!(
                w.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'_'
                    || b == b'-'),
                "{w}"
            );
        }
        let mut values: Vec<String> = [
            "your-api-key",
            "YOUR_API_KEY",
            "insert token here",
            "set-in-ssm",
            "Sample!Tree9",
            "HiddenValley42!",
            "CHANGE-ME-please",
            "xXxXxX",
            "my password 12",
            "a b",
            "your",
            "yourPassword",
            "",
            "--",
            "1234 your 5678",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        values.extend(crate::corpus::generate(3, 20).into_iter().map(|s| s.value));
        let mut prose_seen = 0;
        for v in values.iter().filter(|v| v.is_ascii()) {
            assert_eq!(ascii_prose(v), any_prose(v), "{v:?}");
            prose_seen += usize::from(any_prose(v));
        }
        assert!(prose_seen >= 5, "{prose_seen}");
    }

    #[test]
    fn credential_words_of_ascii_agree_with_words() {
        for v in [
            "password",
            "my-db-password",
            "DB_PASSWORD",
            "myPassword",
            "MyDBPassword",
            "dbPass2",
            "secret key",
            "keyValue",
            "Abc_Def",
            "",
            "***",
            "a",
            "my2Password",
            "PASSWORD1",
            "token-",
            "-token",
            "apiKey",
            "APIKey",
            "the__value",
            "x_password",
        ] {
            let w = words(v);
            let expected =
                !w.is_empty() && w.iter().all(|w| CREDENTIAL_WORDS.contains(&w.as_str()));
            assert_eq!(credential_words(v), expected, "{v:?}");
        }
    }

    #[test]
    fn words_split_like_names() {
        assert_eq!(
            words("FLWSECK_TEST-yourKey"),
            ["flwseck", "test", "your", "key"]
        );
        assert_eq!(words("***"), Vec::<String>::new());
    }
}
