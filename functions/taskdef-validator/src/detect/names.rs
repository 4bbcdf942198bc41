//! What a variable's name says about its value: a credential (`DB_PASSWORD`, `JWT_SECRET`,
//! `STRIPE_API_KEY`), a password or key itself rather than a setting about one
//! (`PASSWORD_MIN_LENGTH`, `TOKEN_TTL`), always a credential (`AWS_SECRET_ACCESS_KEY`), or
//! meant to be public (`NEXT_PUBLIC_…`, `…_PUBLISHABLE_KEY`). Names only, never values, so it
//! imports nothing of the detector; `public_name` lives here rather than with the benign
//! look-alikes because `credential_name` needs it, and the look-alikes need no name.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Names whose value is a credential whatever it looks like.
pub(super) const ALWAYS_SECRET_NAMES: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AWS access key id"),
    ("AWS_SECRET_ACCESS_KEY", "AWS secret access key"),
    ("AWS_SESSION_TOKEN", "AWS session token"),
    (
        "ECS_ENGINE_AUTH_DATA",
        "registry credentials (ECS_ENGINE_AUTH_DATA)",
    ),
];

/// Names that hold a password though none of their words says so: redis-cli (and valkey-cli)
/// read the server's password from `REDISCLI_AUTH` instead of `-a` (that spelling only). Judged
/// as any password's name is: a reference or a placeholder is not a finding, a word is.
const PASSWORD_NAMES: &[&str] = &["REDISCLI_AUTH"];

/// What a name says, worked out once per distinct name ([`Name::new`]): variables are named
/// alike across containers, files and revisions (`LOG_LEVEL`, `DB_PASSWORD`), and splitting a
/// name into words and looking each word up was a tenth of a scan. Only the names of variables,
/// labels and options are kept (and only names of letters, digits, `_`, `.` and `-`); a
/// command's words are worked out each time
/// ([`Name::work_out`]), as the word read as a flag's name may be a password (`-pS3cr3t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Name {
    credential: bool,
    password: bool,
    public: bool,
    /// A token that names a request or a position, not an access (`IDEMPOTENCY_TOKEN`,
    /// `CLIENT_TOKEN`, `PAGE_TOKEN`): a UUID under it is an id ([`Name::names_an_id`]).
    id_like: bool,
}

type Kept =
    std::cell::RefCell<std::collections::HashMap<Box<str>, Name, foldhash::fast::RandomState>>;

thread_local! {
    // Seeded per process: a file cannot be written so that its names collide.
    static KEPT: Kept = Kept::default();
}

/// Names longer than this are worked out each time rather than kept.
const KEPT_NAME_BYTES: usize = 128;

/// Distinct names kept per thread; the memo starts afresh when full, so a file of millions
/// of names costs no more memory than this.
const KEPT_NAMES: usize = 4096;

impl Name {
    pub(super) fn new(name: &str) -> Self {
        // Only what reads as a name is kept: `DB_PASSWORD=Qx7…` written as a variable's name
        // holds its value.
        if name.len() > KEPT_NAME_BYTES
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Self::work_out(name);
        }
        KEPT.with(|kept| {
            let Ok(mut kept) = kept.try_borrow_mut() else {
                return Self::work_out(name);
            };
            if let Some(found) = kept.get(name) {
                return *found;
            }
            if kept.len() >= KEPT_NAMES {
                kept.clear();
            }
            let worked = Self::work_out(name);
            kept.insert(name.into(), worked);
            worked
        })
    }

    /// The answers for `name`, from its words, without keeping them.
    pub(super) fn work_out(name: &str) -> Self {
        if PASSWORD_NAMES.contains(&name) {
            return Name {
                credential: true,
                password: true,
                public: false,
                id_like: false,
            };
        }
        // The words of most names fit on the stack: a command's words are worked out each
        // time, and a check of an ordinary value allocates nothing.
        const ON_STACK: usize = 16;
        let mut buf = [0u8; KEPT_NAME_BYTES];
        let mut spans = [(0usize, 0usize); ON_STACK];
        if name.len() <= buf.len() {
            if let Some(n) = split_words(name, &mut buf, &mut spans) {
                let mut words = [""; ON_STACK];
                for (word, &(start, end)) in words.iter_mut().zip(&spans[..n]) {
                    *word = std::str::from_utf8(&buf[start..end]).unwrap_or("");
                }
                return Self::of_words(&words[..n]);
            }
        }
        let mut buf = vec![0u8; name.len()];
        let mut spans = vec![(0usize, 0usize); name.len() + 1];
        let n = split_words(name, &mut buf, &mut spans).unwrap_or(0);
        let words: Vec<&str> = spans[..n]
            .iter()
            .map(|&(start, end)| std::str::from_utf8(&buf[start..end]).unwrap_or(""))
            .collect();
        Self::of_words(&words)
    }

    fn of_words(words: &[&str]) -> Self {
        const ID_LIKE: &[&str] = &[
            "idempotency",
            "correlation",
            "page",
            "pagination",
            "continuation",
            "next",
            "request",
            "trace",
            "client",
            "nonce",
        ];
        let credential = credential_tokens(words);
        Name {
            credential,
            password: credential && password_tokens(words),
            public: public_tokens(words),
            // Only a token: a client's secret or a request's signing key is a credential.
            id_like: words.last() == Some(&"token") && words.iter().any(|w| ID_LIKE.contains(w)),
        }
    }

    /// Whether the name says its token is an id of a request or a position
    /// (`IDEMPOTENCY_TOKEN`, `CLIENT_TOKEN`, `PAGE_TOKEN`), not an access.
    pub(super) fn names_an_id(&self) -> bool {
        self.id_like
    }

    /// [`credential_name`].
    pub(super) fn credential(&self) -> bool {
        self.credential
    }

    /// [`password_name`].
    pub(super) fn password(&self) -> bool {
        self.password
    }

    /// [`public_name`].
    pub(super) fn public(&self) -> bool {
        self.public
    }
}

/// Does a variable name say its value is a credential?
pub fn credential_name(name: &str) -> bool {
    Name::new(name).credential()
}

fn credential_tokens(tokens: &[&str]) -> bool {
    let Some(last) = tokens.last() else {
        return false;
    };
    // The variable holds something *about* a credential, not the credential.
    static METADATA: LazyLock<WordSet> = LazyLock::new(|| {
        WordSet::new(&[
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
        ])
    });
    if METADATA.contains(last) {
        return false;
    }
    // Publishable keys are meant to ship to browsers (`NEXT_PUBLIC_…`, `PUBLISHABLE_KEY`).
    if public_tokens(tokens) {
        return false;
    }
    static WORDS: LazyLock<WordSet> = LazyLock::new(|| {
        WordSet::new(&[
            "password",
            "passwd",
            "pwd",
            "pw",
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
        ])
    });
    static KEY_QUALIFIERS: LazyLock<WordSet> = LazyLock::new(|| {
        WordSet::new(&[
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
        ])
    });
    tokens.iter().any(|t| WORDS.contains(t))
        || tokens
            .windows(2)
            .any(|w| w[1] == "key" && KEY_QUALIFIERS.contains(w[0]))
}

/// A name that says its value is public: `NEXT_PUBLIC_…`, `VITE_PUBLIC_…`, `…_PUBLISHABLE_KEY`.
pub fn public_name(name: &str) -> bool {
    Name::new(name).public()
}

fn public_tokens(tokens: &[&str]) -> bool {
    tokens.iter().any(|&t| t == "public" || t == "publishable")
}

/// A name that says its value is a password or key *itself* — the credential word is its last
/// (`DB_PASSWORD`, `MYSQL_ROOT_PASSWORD`, `JWT_SECRET`, `STRIPE_API_KEY`, `AUTH_TOKEN_2`) —
/// so that any literal under it is a credential, however weak. Narrower than
/// [`credential_name`], which also admits `PASSWORD_FOR_DB`-like names for generated values.
pub fn password_name(name: &str) -> bool {
    Name::new(name).password()
}

/// The rest of [`password_name`], for tokens [`credential_tokens`] admits.
fn password_tokens(tokens: &[&str]) -> bool {
    // A trailing number or environment qualifies the credential (`DB_PASSWORD_2`, `…_PROD`).
    let qualifier = |t: &str| {
        t.chars().all(|c| c.is_ascii_digit())
            || matches!(
                t,
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
    };
    let kept = tokens.len() - tokens.iter().rev().take_while(|t| qualifier(t)).count();
    let core = &tokens[..kept];
    let Some(&last) = core.last() else {
        return false;
    };
    static LAST: LazyLock<WordSet> = LazyLock::new(|| {
        WordSet::new(&[
            "password",
            "passwd",
            "pwd",
            "pw",
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
        ])
    });
    static KEY_QUALIFIERS: LazyLock<WordSet> = LazyLock::new(|| {
        WordSet::new(&[
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
        ])
    });
    LAST.contains(last)
        || (last == "key"
            && core.len() >= 2
            && KEY_QUALIFIERS.contains(core[core.len() - 2]))
        // Rails' `SECRET_KEY_BASE`.
        || core.ends_with(&["secret", "key", "base"])
}

/// A fixed list of words, looked up by hash. Each word of every name is looked up in lists of
/// up to ninety words, and a scan of a list compared the word byte by byte with each of the
/// same length: with names that are not kept (every one distinct, or a command's words) that
/// was a fifth of a scan.
struct WordSet(HashSet<&'static str, foldhash::fast::FixedState>);

impl WordSet {
    fn new(words: &[&'static str]) -> Self {
        WordSet(words.iter().copied().collect())
    }

    fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }
}

/// Splits `DB_PASSWORD`, `dbPassword`, `db-password`, `db.password` into lower-case words:
/// their letters go to `buf`, and each word's span in it to `spans`. Returns the number of
/// words, or `None` when `buf` or `spans` is too short for them (a `buf` as long as `name`
/// and `spans` one longer always suffice).
fn split_words(name: &str, buf: &mut [u8], spans: &mut [(usize, usize)]) -> Option<usize> {
    let (mut len, mut words, mut start) = (0usize, 0usize, 0usize);
    let mut end_word = |start: &mut usize, len: usize, words: &mut usize| -> Option<()> {
        if len > *start {
            *spans.get_mut(*words)? = (*start, len);
            *words += 1;
            *start = len;
        }
        Some(())
    };
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            end_word(&mut start, len, &mut words)?;
            prev_lower = false;
            continue;
        }
        let letter_to_digit =
            c.is_ascii_digit() && len > start && buf[len - 1].is_ascii_alphabetic();
        if c.is_ascii_uppercase() && prev_lower || letter_to_digit {
            end_word(&mut start, len, &mut words)?;
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        *buf.get_mut(len)? = c.to_ascii_lowercase() as u8;
        len += 1;
    }
    end_word(&mut start, len, &mut words)?;
    // One all-caps word ending in a credential word (`DBPASSWORD`, `PGPASSWORD`): split it.
    if words == 1 && name.chars().all(|c| !c.is_ascii_lowercase()) {
        let only = &buf[..len];
        for suffix in ["password", "passwd", "secret", "token", "apikey"] {
            if only.len() > suffix.len() && only.ends_with(suffix.as_bytes()) {
                let cut = only.len() - suffix.len();
                spans[0] = (0, cut);
                *spans.get_mut(1)? = (cut, len);
                return Some(2);
            }
        }
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words as they were split before [`split_words`], one `String` each: the reference
    /// it is held to.
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

    #[test]
    fn words_are_split_as_before() {
        let mut names: Vec<String> = crate::corpus::generate(5, 4)
            .into_iter()
            .map(|s| s.name)
            .collect();
        names.extend(
            [
                "DBPASSWORD",
                "PGPASSWORD",
                "dbPassword",
                "db2Password",
                "DB_PASSWORD_2",
                "ÄPASSWORD",
                "Äpassword",
                "",
                "__",
                "a",
                "PASSWORD",
                "XMLHttpRequest",
                "jwtSigningKey",
                "SECRET_KEY_BASE",
                "NEXT_PUBLIC_API_KEY",
                "a1b2c3",
                "V2_TOKEN",
                "x-y.z/w:v",
                "pS3cr3t",
                "Dfile.encoding",
                "A_B_C_D_E_F_G_H_I_J_K_L_M_N_O_P_Q_R",
            ]
            .map(String::from),
        );
        names.push(format!("{}_PASSWORD", "Ab".repeat(80)));
        for name in &names {
            let reference = name_tokens(name);
            let mut buf = vec![0u8; name.len()];
            let mut spans = vec![(0, 0); name.len() + 1];
            let n = split_words(name, &mut buf, &mut spans).unwrap();
            let split: Vec<&str> = spans[..n]
                .iter()
                .map(|&(a, b)| std::str::from_utf8(&buf[a..b]).unwrap())
                .collect();
            assert_eq!(split, reference, "{name}");
            let words: Vec<&str> = reference.iter().map(String::as_str).collect();
            assert_eq!(Name::work_out(name), Name::of_words(&words), "{name}");
        }
        // Too many words for the spans given: `None`, never a panic.
        let mut buf = [0u8; 64];
        let mut spans = [(0, 0); 2];
        assert_eq!(split_words("A_B_C", &mut buf, &mut spans), None);
    }

    /// A kept answer is the worked-out answer, the first time and after; the memo never holds
    /// more than [`KEPT_NAMES`] names, and long names are not kept.
    #[test]
    fn kept_names_answer_as_worked_out_and_stay_bounded() {
        let mut names: Vec<String> = crate::corpus::generate(3, 4)
            .into_iter()
            .map(|s| s.name)
            .collect();
        names.extend(
            [
                "DB_PASSWORD",
                "PASSWORD_MIN_LENGTH",
                "NEXT_PUBLIC_KEY",
                "",
                "_",
            ]
            .map(String::from),
        );
        for round in 0..2 {
            for n in &names {
                assert_eq!(Name::new(n), Name::work_out(n), "{n} (round {round})");
            }
        }
        let long = format!("{}_PASSWORD", "A".repeat(KEPT_NAME_BYTES));
        assert_eq!(Name::new(&long), Name::work_out(&long));
        assert!(Name::new(&long).password());
        for i in 0..KEPT_NAMES + 10 {
            let n = format!("VAR_{i}_TOKEN");
            assert_eq!(Name::new(&n), Name::work_out(&n), "{n}");
        }
        KEPT.with(|kept| {
            let kept = kept.borrow();
            assert!(kept.len() <= KEPT_NAMES, "{}", kept.len());
            assert!(kept.keys().all(|k| k.len() <= KEPT_NAME_BYTES));
        });
        // A command's words are not kept: the "name" before a value may be the password.
        let found = crate::detect::scan_command(&[
            Some("mysql"),
            Some("-pQx7vLm2Rt9Ks"),
            Some("appdb"),
            Some("--password=Zr8!kWq3#Lp5"),
        ]);
        assert!(!found.is_empty());
        // Nor a variable's "name" that holds its value.
        assert!(Name::new("DB_PASSWORD=Wv3Nq8Tz5Ky").credential());
        KEPT.with(|kept| {
            let kept = kept.borrow();
            for word in ["pQx7vLm2Rt9Ks", "Zr8!kWq3#Lp5", "Wv3Nq8Tz5Ky"] {
                assert!(!kept.keys().any(|k| k.contains(word)), "{word} kept");
            }
        });
    }
}
