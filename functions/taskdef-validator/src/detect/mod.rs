//! The credential detector behind `plaintext-secret` and `secret-in-command`.
//!
//! Three detectors, most certain first, each with the filters that keep the others honest:
//! 1. provider formats (AWS access keys, GitHub, GitLab, Slack, Stripe, SendGrid, Twilio, npm,
//!    Google, Azure connection string keys, PEM private keys, JWTs that decode, URLs with a
//!    password) — certain, `critical`;
//! 2. a credential-like name (`*_PASSWORD`, `*_SECRET`, `*_TOKEN`, `*_API_KEY`, …) whose value
//!    looks generated rather than like a word, a number, a flag or a reference — `high`;
//! 3. a very high-entropy value alone (base64-like, 32+ characters) — `high`.
//!
//! Name lists alone (Checkov) flag `PASSWORD_MIN_LENGTH=12`; entropy alone (detect-secrets)
//! flags image digests and git SHAs. Here a value must look like a secret *and* not look like
//! one of the known look-alikes ([`benign()`]). A detection carries [`Evidence`] — kind, length,
//! short hash — and never the value.
//!
//! This file holds the entry points (`scan_pair`, `scan_reference`, `scan_command`,
//! `provider_format`, …), [`Detection`], and the verdicts that weigh a value's shape against
//! its look-alikes (`looks_generated`, `high_entropy`, `random_token`): every detection is
//! built here. A command's words are read as `name=value` pairs and a value of several words
//! as a command, one recursion, so `scan_command` stays beside `scan_pair`; a JSON object in a
//! value is read member by member the same way. A shell default (`${PW:-S3cret}`) is judged
//! by its default, unless the container defines the variable ([`Defined`]). The families below
//! import nothing of this file, and one another only one way (`benign.rs` → `providers.rs`):
//! - `providers.rs`: token formats and prefixes, JWTs, URL passwords, entropy;
//! - `names.rs`: credential-like, password-like, always-secret and public names;
//! - `benign.rs`: the look-alikes, human-chosen passwords, what is not a password;
//! - `commands.rs`: connection strings, `-u user:pass`, computed arguments;
//! - `prefilter.rs`: one pass over a value that says which token formats can be in it;
//! - `shell.rs`: a command line's words, the ends of its commands and the program of each
//!   (a MySQL client's `-pPASSWORD`, the flags a program takes its password after, a
//!   Percona DSN), and shell defaults.

use crate::finding::{Evidence, Severity};
use crate::placeholder::placeholder_for;

mod benign;
mod commands;
mod names;
mod prefilter;
mod providers;
mod shell;
mod text;

pub use benign::{benign, dictionary_like, human_password};
pub use names::{credential_name, password_name, public_name};
pub use providers::{entropy, AWS_ACCESS_KEY_ID};

use benign::{bucket_like, not_a_password, reference_like};
use names::{Name, ALWAYS_SECRET_NAMES};
use prefilter::Families;
use providers::{classes, is_hex, random_run, AWS_SECRET_KEY};
pub use shell::Defined;
use shell::Program;

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

/// Kind of a generated-looking value under a credential-like name (`high`).
pub const GENERATED_VALUE: &str = "credential-like name with a generated value";

/// Kind of a short or dictionary-like value under a password-like name (`medium`): still a
/// live credential.
pub const HUMAN_VALUE: &str = "credential-like name with a human-chosen value";

/// Looks for a provider-format credential anywhere in `text`.
pub fn provider_format(text: &str) -> Option<Detection> {
    provider_format_in(text, prefilter::families(text))
}

/// [`provider_format`] running only the formats the prefilter admitted ([`Families::ALL`]:
/// every one, what the tests compare the prefilter with).
fn provider_format_in(text: &str, families: Families) -> Option<Detection> {
    if let Some((kind, secret)) = providers::token(text, |i| families.provider(i)) {
        return Some(Detection::new(Severity::Critical, kind, secret));
    }
    if let Some(token) = families.jwt().then(|| providers::jwt(text)).flatten() {
        return Some(Detection::new(Severity::Critical, "JSON Web Token", token));
    }
    if let Some(password) = families
        .url()
        .then(|| providers::url_password(text))
        .flatten()
    {
        return Some(Detection::new(
            Severity::Critical,
            "password in a URL",
            password,
        ));
    }
    families
        .dsn()
        .then(|| commands::dsn_password(text))
        .flatten()
        .or_else(|| commands::connection_string_password(text))
        .map(|password| {
            Detection::new(
                Severity::Critical,
                "password in a connection string",
                password,
            )
        })
}

/// Whether `text` holds an AWS access key id ([`provider_format`] would name one): the
/// question asked of every variable of a container, answered without the other formats.
pub fn has_aws_access_key_id(text: &str) -> bool {
    key_id_prefix(text) && provider_format(text).is_some_and(|d| d.kind == AWS_ACCESS_KEY_ID)
}

/// Whether `text` holds `AKIA` or `ASIA` (every access key id [`provider_format`] names
/// starts with one): one pass to each `A`, where two substring searches each walked the value.
fn key_id_prefix(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'A', bytes)
        .any(|i| matches!(bytes.get(i + 1..i + 4), Some(b"KIA" | b"SIA")))
}

/// A value that looks generated under `name` and is none of what a credential-like name also
/// holds: a placeholder for it, a word that is no password, a reference. The judgement of a
/// variable, a flag's value and a MySQL client's `-p` alike.
fn generated_under(name: &str, v: &str) -> bool {
    looks_generated(v) && !placeholder_for(name, v) && !not_a_password(v) && !reference_like(v)
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
    high_entropy_of(v).is_some()
}

/// [`high_entropy`], with the entropy it measured (so that no caller measures it again).
fn high_entropy_of(v: &str) -> Option<f64> {
    let len = v.len();
    if !(32..=4096).contains(&len)
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c))
        || is_hex(v)
        || classes(v.trim_end_matches('=')) < 3
    {
        return None;
    }
    let e = entropy(v);
    (e >= 4.3 && !benign(v) && !bucket_like(v)).then_some(e)
}

/// Checks one `name=value` pair (an environment variable, a Docker label, a log option, a
/// `--flag=value` argument).
pub fn scan_pair(name: &str, value: &str) -> Option<Detection> {
    scan_pair_named(name, value, Name::new)
}

/// [`scan_pair`], with `words` saying what the name says: [`Name::new`] (kept) for the names
/// of variables, labels and options, [`Name::work_out`] (not kept) for words of a command,
/// where what stands before `=` or after a dash may be the password itself (`-pS3cr3t`).
fn scan_pair_named(name: &str, value: &str, words: fn(&str) -> Name) -> Option<Detection> {
    // `${DB_PASSWORD:-S3cret}`: whoever expands it (an entry point's shell, envsubst) falls
    // back to the default, and the default is written here in plaintext.
    let value_trimmed = value.trim();
    let value_trimmed = shell::expansion_default(value_trimmed).unwrap_or(value_trimmed);
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
    let words = words(name);
    if let Some(d) = provider_format(value) {
        // A Google API key under a public name (`NEXT_PUBLIC_FIREBASE_API_KEY`) is a browser
        // key, meant to ship in web pages (and restricted by referrer).
        if !(d.kind == "Google API key" && words.public()) {
            return Some(d);
        }
        return None;
    }
    if uuid_token(&words, name, value_trimmed) {
        return Some(Detection::new(
            Severity::High,
            GENERATED_VALUE,
            value_trimmed,
        ));
    }
    let generated = words.credential() && generated_under(name, value_trimmed);
    if generated && !dictionary_like(value_trimmed) {
        return Some(Detection::new(
            Severity::High,
            GENERATED_VALUE,
            value_trimmed,
        ));
    }
    if generated || (words.password() && human_password(name, value_trimmed)) {
        return Some(Detection::new(Severity::Medium, HUMAN_VALUE, value_trimmed));
    }
    // A value of several words (`JAVA_OPTS=-Xmx512m -Dspring.datasource.password=…`): each
    // word as a command's argument would be.
    if value_trimmed.len() <= 8192 && text::has_whitespace(value_trimmed) {
        if let Some(d) = scan_words(value_trimmed) {
            return Some(d);
        }
    }
    scan_entropy(value_trimmed).or_else(|| json_members(value_trimmed))
}

/// A UUID is an id — but under a name that says the value is the token or key itself it is
/// that token (Splunk's `splunk-token`, Consul's and Nomad's ACL tokens, Heroku's API keys),
/// unless the name says the token names a request or a position (`IDEMPOTENCY_TOKEN`,
/// `PAGE_TOKEN`). A UUID without a hex letter or a digit (`00000000-…`, `12345678-1234-…`) is a
/// placeholder: a random one has both.
fn uuid_token(words: &Name, name: &str, v: &str) -> bool {
    words.password()
        && !words.names_an_id()
        && benign::uuid(v)
        && v.bytes().any(|b| matches!(b, b'a'..=b'f' | b'A'..=b'F'))
        && v.bytes().any(|b| b.is_ascii_digit())
        && entropy(v) >= 3.0
        && !placeholder_for(name, v)
}

/// Largest JSON value in a variable read member by member ([`json_members`]).
const MAX_JSON_VALUE: usize = 64 * 1024;

/// A JSON object or list in a value (`SPRING_APPLICATION_JSON`, an application's config
/// blob): each member's name and string value, at any depth, judged as a variable of that
/// name would be ([`scan_pair`]). The first detection; `None` for anything that is not JSON.
fn json_members(value: &str) -> Option<Detection> {
    fn walk(name: &str, v: &serde_json::Value) -> Option<Detection> {
        match v {
            serde_json::Value::String(s) => scan_pair(name, s),
            serde_json::Value::Array(items) => items.iter().find_map(|i| walk(name, i)),
            serde_json::Value::Object(members) => {
                // `{"name": "DB_PASSWORD", "value": "…"}`, as ECS writes variables.
                if let (Some(serde_json::Value::String(n)), Some(serde_json::Value::String(v))) =
                    (members.get("name"), members.get("value"))
                {
                    if let Some(d) = scan_pair(n, v) {
                        return Some(d);
                    }
                }
                members.iter().find_map(|(k, v)| walk(k, v))
            }
            _ => None,
        }
    }
    let open = value.starts_with('{') && value.ends_with('}')
        || value.starts_with('[') && value.ends_with(']');
    if !open || value.len() > MAX_JSON_VALUE {
        return None;
    }
    // serde_json refuses nesting deeper than 128 levels: no recursion runs away here.
    let parsed: serde_json::Value = serde_json::from_str(value).ok()?;
    // A list's strings have no name of their own: they are judged as values, not pairs.
    match &parsed {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => walk("", &parsed),
        _ => None,
    }
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
    if high_entropy_of(v).is_some_and(|e| e >= 4.5) {
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
    (may_be_aws_secret_key(value)
        && AWS_SECRET_KEY.is_match(v)
        && !is_hex(v)
        && !v.contains("EXAMPLE")
        && classes(v) >= 3)
        .then(|| Detection::new(Severity::Critical, "AWS secret access key", v))
}

/// Whether `value` has the length of every [`AWS_SECRET_KEY`] match (40 ASCII characters,
/// once trimmed): the cheap question a caller asks before the costlier ones.
pub fn may_be_aws_secret_key(value: &str) -> bool {
    value.trim().len() == 40
}

/// Whether an entry point of one argument is a script that runs the command after it as a
/// command line of its own (`docker-entrypoint.sh`), rather than a program the command
/// gives arguments to or a runner (the shell reader reads `gosu`, `sh -c` through).
pub fn entry_point_script(entry: &[Option<&str>]) -> bool {
    match entry {
        [Some(program)] => !program.starts_with('-') && !shell::runs_a_command(program),
        _ => false,
    }
}

/// Checks a command (`command`, `entryPoint`, `healthCheck.command`): each argument, each
/// word of a shell string, `--password=x`, `--password x`, `-u user:password` and
/// `-e TOKEN=x`. Returns the argument index and the detection.
pub fn scan_command(args: &[Option<&str>]) -> Vec<(usize, Detection)> {
    scan_command_within(args, Defined::default())
}

/// [`scan_command`] for a container that defines `defined`: a shell default of one of its
/// variables (`-p${MYSQL_ROOT_PASSWORD:-root}`) is never used, and is no finding.
pub fn scan_command_within(args: &[Option<&str>], defined: Defined<'_>) -> Vec<(usize, Detection)> {
    let mut found = Vec::new();
    // Words pair across arguments (`["--token", "x"]`), and the program of
    // `["mysql", "-pS3cret"]` is read across them too ([`Program::reads_text`]).
    let mut previous: Option<&str> = None;
    let mut program = Program::within(defined);
    for (i, arg) in args.iter().enumerate() {
        let Some(arg) = *arg else {
            previous = None;
            program.opaque();
            continue;
        };
        let text = program.reads_text();
        let mut hit = provider_format(arg);
        if !text {
            let glued = program.one_argument(arg).and_then(mysql_password);
            hit = hit.or(glued);
        }
        let in_words = read_words(arg, &mut program, text, &mut previous);
        hit = hit.or(in_words);
        if text {
            program.next_argument();
        }
        if hit.is_none() && !text::has_whitespace(arg.trim()) {
            hit = scan_entropy(arg.trim());
        }
        if let Some(d) = hit {
            found.push((i, d));
        }
    }
    found
}

/// A MySQL client's `-pPASSWORD` ([`shell::Program`] found it), when the password is one.
fn mysql_password(password: &str) -> Option<Detection> {
    // As `--password=…` is judged (the flag's name), so that `-pPASSWORD`, `-p{password}` and
    // `-p@@PASSWORD@@` are placeholders here as there.
    const NAME: &str = "password";
    (generated_under(NAME, password) || human_password(NAME, password))
        .then(|| Detection::new(Severity::High, MYSQL_P, password))
}

/// Kind of a MySQL or MariaDB client's glued `-pPASSWORD`.
pub const MYSQL_P: &str = "password in a MySQL client's -p argument";

/// Reads a command line's words in order (see [`shell`]): the first detection.
fn scan_words(text: &str) -> Option<Detection> {
    read_words(text, &mut Program::default(), true, &mut None)
}

/// The first detection among the words of `text`: a pair (`--token x`, with `previous` the
/// word before, carried on) and, when `shell_text` (not one argument of a known program,
/// [`Program::reads_text`]), a MySQL client's glued password. Every word is read, after a hit
/// too: the program and `previous` go on to the next argument, and each word pairs under the
/// program it belongs to.
fn read_words<'a>(
    text: &'a str,
    program: &mut Program,
    shell_text: bool,
    previous: &mut Option<&'a str>,
) -> Option<Detection> {
    let mut hit = None;
    for word in shell::words(text) {
        // Taken before the word is read: `-p S3cret;` ends the command, but is its value. A
        // newline ends it first (`mongosh -p`, then `echo` on the next line): a word there is
        // no value of a program's password flag (pairs of words are read as ever).
        let owner = if program.ends_before(word) {
            shell::Owner::default()
        } else {
            program.owner()
        };
        let glued = if shell_text {
            program.read(word).and_then(mysql_password)
        } else {
            None
        };
        let raw = word.text;
        let word = raw.trim_matches(|c| c == '"' || c == '\'');
        if hit.is_none() {
            hit = glued.or_else(|| pair_in(owner, program, *previous, raw, shell_text));
        }
        *previous = Some(word);
    }
    hit
}

/// [`word_pair`], except after the flags a program takes its password after (redis-cli's
/// `-a`, mydumper's `-p`: [`shell::Owner`]), where the word is judged as a
/// password — unless it is another option (`mongosh -p --authenticationDatabase admin` asks
/// for it) — and after a MySQL client's `-p` or `--password`: its database, never its value
/// (which they take only glued or after `=`).
///
/// A Percona tool's DSN (`h=db,u=root,p=S3cret`) gives its `p=` as a password too.
/// `owner` is what `word` belongs to ([`Program::owner`]); `program` says which of the
/// container's variables are defined ([`Program::fallback`]).
fn pair_in(
    owner: shell::Owner,
    program: &Program,
    previous: Option<&str>,
    raw: &str,
    shell_text: bool,
) -> Option<Detection> {
    // In shell text, up to a separator outside quotes (`-p S3cret;`, `-a 'a;b'`); an exec-form
    // argument is the value whole. Quotes off.
    let value_part = |raw| {
        if shell_text {
            shell::value_part(raw)
        } else {
            raw.trim_matches(|c| c == '"' || c == '\'')
        }
    };
    if previous.is_some_and(|p| owner.password_flags.contains(&p)) {
        let value = value_part(raw);
        return (!value.starts_with('-'))
            .then(|| word_pair(program, Some("--password"), value, shell_text))
            .flatten();
    }
    // `sshpass -pS3cret`, `sshpass -p'S3cret'`, `sshpass '-pS3cret'`: glued, judged as the
    // word after the flag is.
    if let Some(glued) = owner.glued_password(shell::unquoted(raw)) {
        let value = value_part(glued);
        return (!value.is_empty())
            .then(|| word_pair(program, Some("--password"), value, shell_text))
            .flatten();
    }
    if owner.percona {
        if let Some(password) = shell::percona_dsn_password(value_part(raw)) {
            return word_pair(program, Some("--password"), password, shell_text);
        }
    }
    let word = raw.trim_matches(|c| c == '"' || c == '\'');
    // A computed word (`"${PW:-S3cret}";`) up to its separator: its default, if any, is whole.
    let word = if computed(word, shell_text) {
        value_part(raw)
    } else {
        word
    };
    if owner.mysql && matches!(previous, Some("-p" | "--password")) {
        return None;
    }
    word_pair(program, previous, word, shell_text)
}

/// [`commands::computed`] for a word of shell text; an exec-form argument is expanded by no
/// shell, so a `)` in it is a character of the value (`Xk9…)`), and only a call-like `(…)`
/// (`os.environ.get('K')`) or what a program reads from elsewhere (`$`, `@file`) counts.
fn computed(word: &str, shell_text: bool) -> bool {
    if shell_text {
        commands::computed(word)
    } else {
        word.starts_with(['$', '`', '@', '<'])
            || word
                .find('(')
                .is_some_and(|open| word.get(open..).is_some_and(|rest| rest.contains(')')))
    }
}

/// A pair of words, or a word `name=value`. `program` says which shell defaults are used
/// ([`Program::fallback`]).
fn word_pair(
    program: &Program,
    previous: Option<&str>,
    word: &str,
    shell_text: bool,
) -> Option<Detection> {
    // `${PW:=S3cret}` is an expansion, not a name and a value.
    let assignment = word
        .split_once('=')
        .filter(|(name, _)| !name.bytes().any(|b| matches!(b, b'$' | b'{')));
    if let Some((name, value)) = assignment {
        // `MYSQL_PWD="$PW";`, `--password="$PW"`: computed once its quotes are off.
        let core = value
            .trim_end_matches(';')
            .trim_matches(|c| c == '"' || c == '\'');
        // `--password=${PW:-S3cret}`: the default is written here.
        let written = if computed(core, shell_text) {
            program.fallback(shell::value_part(core))
        } else {
            Some(value)
        };
        if let Some(d) =
            written.and_then(|v| scan_pair_named(name.trim_start_matches('-'), v, Name::work_out))
        {
            return Some(d);
        }
    }
    let word = if computed(word, shell_text) {
        program.fallback(shell::value_part(word))?
    } else {
        word
    };
    // A flag with a value glued on (`-p"$MYSQL_PASSWORD"`, `--key=x`) is followed by
    // something else (the database), not by its value. Names may hold `:` and `.`
    // (ASP.NET's `--Database:Password x`, `--db.password x`).
    let flag = previous.filter(|p| {
        p.starts_with('-')
            && !p.bytes().any(|b| {
                matches!(
                    b,
                    b'=' | b'"' | b'\'' | b'$' | b'`' | b'(' | b')' | b'{' | b'}'
                )
            })
    })?;
    // `--no-password --host db`: a long option after a flag is another option, not its value.
    if word.starts_with("--") {
        return None;
    }
    let name = flag.trim_start_matches('-');
    if commands::user_flag(flag) {
        let password = commands::user_password(word)?;
        return (looks_generated(password) || human_password("password", password))
            .then(|| Detection::new(Severity::High, "password in a --user argument", password));
    }
    let words = Name::work_out(name);
    if (words.credential() && generated_under(name, word)) || uuid_token(&words, name, word) {
        return Some(Detection::new(
            Severity::High,
            "credential-like flag with a generated value",
            word,
        ));
    }
    (words.password() && human_password(name, word))
        .then(|| Detection::new(Severity::High, "credential-like flag with a value", word))
}

#[cfg(test)]
mod tests;
