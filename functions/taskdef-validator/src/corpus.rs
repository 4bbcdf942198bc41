//! A generated, labelled corpus of environment variables for measuring the detector: every
//! provider format, credential-like names with real-looking values, and the benign
//! look-alikes that fool name lists and entropy scanners (UUIDs, git SHAs, image digests,
//! ARNs, base64 configuration, booleans, URLs without passwords, templates, AWS unique ids,
//! `…EXAMPLE` keys).
//!
//! Deterministic for a seed, so tests assert fixed precision and recall, and the benchmark
//! feeds exactly the same values to `detect-secrets` for a side-by-side figure. Generated
//! credentials are random strings in the providers' formats; none is a live credential.
//!
//! Compiled only for the unit tests and with the `corpus` feature (which `bench/` and `tests/`
//! enable): it is measurement, not detection, and the Lambda and the CLI have no use for a
//! generator of fake credentials — kept out, it costs them neither binary size nor audit.

/// One labelled sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub name: String,
    pub value: String,
    /// True when the value is a credential.
    pub secret: bool,
    /// The generator that made it (for per-category figures).
    pub category: &'static str,
}

/// A small deterministic generator (xorshift64*); the corpus needs repeatability, not
/// cryptographic randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn string(&mut self, alphabet: &str, len: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..len).map(|_| *self.pick(&chars)).collect()
    }
}

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A password as people and generators make them: mixed classes, 10–24 characters.
fn password(r: &mut Rng) -> String {
    let len = 10 + r.below(15);
    let mut s = r.string(ALNUM, len);
    // Make sure of upper, lower, digit, and often a symbol.
    let mut chars: Vec<char> = s.chars().collect();
    chars[0] = *r.pick(&UPPER.chars().collect::<Vec<_>>());
    chars[1] = *r.pick(&LOWER.chars().collect::<Vec<_>>());
    chars[2] = *r.pick(&DIGITS.chars().collect::<Vec<_>>());
    if r.below(2) == 0 {
        let i = 3 + r.below(len - 3);
        chars[i] = *r.pick(&"!#%&*+-=?@^_~".chars().collect::<Vec<_>>());
    }
    s = chars.into_iter().collect();
    s
}

fn secrets(r: &mut Rng, out: &mut Vec<Sample>) {
    let mut push =
        |name: String, value: String, category| out.push(sample(&name, value, true, category));
    let akia = format!("{}{}", r.pick(&["AKIA", "ASIA"]), r.string(BASE32, 16));
    push(
        "AWS_ACCESS_KEY_ID".into(),
        akia.clone(),
        "aws-access-key-id",
    );
    push(
        r.pick(&["S3_KEY", "UPLOAD_ACCESS", "BACKUP_ID", "LEGACY_KEY_ID"])
            .to_string(),
        format!("{}{}", r.pick(&["AKIA", "ASIA"]), r.string(BASE32, 16)),
        "aws-access-key-id",
    );
    push(
        "AWS_SECRET_ACCESS_KEY".into(),
        r.string(BASE64, 40),
        "aws-secret-access-key",
    );
    push(
        format!("GH_{}", r.pick(&["TOKEN", "PAT", "AUTH"])),
        format!(
            "{}_{}",
            r.pick(&["ghp", "gho", "ghs", "ghu"]),
            r.string(ALNUM, 36)
        ),
        "github",
    );
    push(
        "CI_CLONE".into(),
        format!("github_pat_{}_{}", r.string(ALNUM, 22), r.string(ALNUM, 59)),
        "github",
    );
    push(
        "GITLAB".into(),
        format!("glpat-{}", r.string(ALNUM, 20)),
        "gitlab",
    );
    push(
        "SLACK_BOT".into(),
        format!(
            "xoxb-{}-{}-{}",
            r.string(DIGITS, 12),
            r.string(DIGITS, 13),
            r.string(ALNUM, 24)
        ),
        "slack",
    );
    push(
        "ALERT_HOOK".into(),
        format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            r.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8),
            r.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            r.string(ALNUM, 24)
        ),
        "slack",
    );
    push(
        "PAYMENTS".into(),
        format!(
            "{}_{}_{}",
            r.pick(&["sk", "rk"]),
            r.pick(&["live", "test"]),
            r.string(ALNUM, 24)
        ),
        "stripe",
    );
    push(
        "MAILER".into(),
        format!("SG.{}.{}", r.string(ALNUM, 22), r.string(ALNUM, 43)),
        "sendgrid",
    );
    push(
        "SMS_KEY".into(),
        format!("SK{}", r.string(HEX, 32)),
        "twilio",
    );
    push("NPM".into(), format!("npm_{}", r.string(ALNUM, 36)), "npm");
    push(
        "MAPS".into(),
        format!("AIza{}", r.string(ALNUM, 35)),
        "google",
    );
    push(
        "TLS_KEY_PEM".into(),
        format!(
            "-----BEGIN {}PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----",
            r.pick(&["", "RSA ", "EC ", "OPENSSH "]),
            r.string(BASE64, 64)
        ),
        "pem",
    );
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(
        format!(
            r#"{{"sub":"{}","iat":{}}}"#,
            r.string(DIGITS, 8),
            1_700_000_000 + r.below(1_000_000)
        )
        .as_bytes(),
    );
    push(
        "SERVICE_BEARER".into(),
        format!("{header}.{payload}.{}", r.string(&format!("{ALNUM}-_"), 43)),
        "jwt",
    );
    push(
        r.pick(&["DATABASE_URL", "REDIS_URL", "AMQP_URL", "MONGO_URI"])
            .to_string(),
        format!(
            "{}://{}:{}@{}.internal:{}/app",
            r.pick(&["postgres", "redis", "amqp", "mongodb"]),
            r.pick(&["app", "svc", "admin"]),
            password(r),
            r.string(LOWER, 6),
            1000 + r.below(9000)
        ),
        "url-password",
    );
    let name = format!(
        "{}_{}",
        r.pick(&["DB", "APP", "ADMIN", "SMTP", "LDAP", "REDIS", "API", "CLIENT", "WEBHOOK", "JWT"]),
        r.pick(&[
            "PASSWORD",
            "SECRET",
            "TOKEN",
            "API_KEY",
            "PRIVATE_KEY",
            "SIGNING_KEY",
            "PASS",
            "AUTH_TOKEN"
        ])
    );
    push(name, password(r), "name+password");
    let name = format!(
        "{}{}",
        r.pick(&["session", "encryption", "hmac", "client"]),
        r.pick(&["Secret", "Key", "Token"])
    );
    let len = 32 + 32 * r.below(2);
    push(name, r.string(HEX, len), "name+hex");
    push(
        format!("{}_SECRET_KEY_BASE", r.pick(&["RAILS", "APP"])),
        r.string(HEX, 128),
        "name+hex",
    );
    push(
        r.pick(&["SIGNING_MATERIAL", "OPAQUE_BLOB", "CONFIG_SEED"])
            .to_string(),
        r.string(BASE64, 44),
        "high-entropy",
    );
}

// Clippy suggests dropping the `*`s, but the closure then cannot infer its argument type.
#[allow(clippy::explicit_auto_deref)]
fn benign(r: &mut Rng, out: &mut Vec<Sample>) {
    let mut push =
        |name: &str, value: String, category| out.push(sample(name, value, false, category));
    let uuid = format!(
        "{}-{}-4{}-a{}-{}",
        r.string(HEX, 8),
        r.string(HEX, 4),
        r.string(HEX, 3),
        r.string(HEX, 3),
        r.string(HEX, 12)
    );
    push(
        *r.pick(&[
            "REQUEST_NAMESPACE",
            "TENANT_ID",
            "SESSION_TOKEN_ID",
            "INSTANCE_UUID",
        ]),
        uuid,
        "uuid",
    );
    push(
        *r.pick(&["GIT_COMMIT", "BUILD_SHA", "SOURCE_VERSION"]),
        r.string(HEX, 40),
        "git-sha",
    );
    push("SHORT_SHA", r.string(HEX, 7), "git-sha");
    push(
        *r.pick(&["IMAGE", "SIDECAR_IMAGE"]),
        format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:{}",
            r.string(HEX, 64)
        ),
        "image-digest",
    );
    push(
        "ARTIFACT_DIGEST",
        format!("sha256:{}", r.string(HEX, 64)),
        "image-digest",
    );
    push(
        *r.pick(&["DB_SECRET_ARN", "TOKEN_SECRET_ARN", "KMS_KEY"]),
        format!(
            "arn:aws:secretsmanager:us-east-1:{}:secret:{}/db-{}",
            r.string(DIGITS, 12),
            r.string(LOWER, 6),
            r.string(ALNUM, 6)
        ),
        "arn",
    );
    push(
        "TOPIC",
        format!(
            "arn:aws:sns:eu-west-1:{}:{}",
            r.string(DIGITS, 12),
            r.string(LOWER, 10)
        ),
        "arn",
    );
    let config = format!(
        r#"{{"logLevel":"{}","features":["{}","{}"],"retries":{}}}"#,
        r.pick(&["info", "debug", "warn"]),
        r.string(LOWER, 6),
        r.string(LOWER, 8),
        r.below(10)
    );
    push(
        *r.pick(&["APP_CONFIG_B64", "SETTINGS", "BOOTSTRAP_JSON_B64"]),
        b64(config.as_bytes()),
        "base64-config",
    );
    push(
        *r.pick(&[
            "FEATURE_ENABLED",
            "USE_TLS",
            "SECRET_ROTATION_ENABLED",
            "DEBUG",
        ]),
        r.pick(&["true", "false", "TRUE", "yes", "no", "on", "off", "1", "0"])
            .to_string(),
        "boolean",
    );
    push(
        *r.pick(&[
            "PORT",
            "PASSWORD_MIN_LENGTH",
            "TOKEN_TTL",
            "MAX_CONNECTIONS",
            "TIMEOUT_MS",
        ]),
        (r.below(100_000)).to_string(),
        "number",
    );
    push(
        "TOKEN_TTL",
        format!("{}{}", r.below(600), r.pick(&["s", "m", "h"])),
        "number",
    );
    push(
        *r.pick(&["TOKEN_ENDPOINT", "API_URL", "OAUTH_ISSUER", "DATABASE_URL"]),
        format!(
            "{}://{}.example.com:{}/{}",
            r.pick(&["https", "postgres", "redis"]),
            r.string(LOWER, 8),
            1000 + r.below(9000),
            r.string(LOWER, 5)
        ),
        "url",
    );
    push(
        "DATABASE_URL",
        format!(
            "postgres://app:${{DB_PASSWORD}}@{}.internal/app",
            r.string(LOWER, 5)
        ),
        "url-template",
    );
    push(
        *r.pick(&["DB_PASSWORD", "API_TOKEN", "CLIENT_SECRET"]),
        r.pick(&[
            "${DB_PASSWORD}",
            "{{ vault_secret }}",
            "$(cat /run/secrets/token)",
            "#{password}",
            "<your-token-here>",
            "changeme",
            "********",
            "REDACTED",
        ])
        .to_string(),
        "template",
    );
    push(
        *r.pick(&[
            "TOKEN_FILE",
            "PASSWORD_FILE",
            "SECRET_PATH",
            "CREDENTIALS_DIR",
        ]),
        format!("/run/secrets/{}", r.string(LOWER, 8)),
        "path",
    );
    push(
        *r.pick(&[
            "PASSWORD_POLICY",
            "TOKEN_TYPE",
            "SECRET_BACKEND",
            "AUTH_MODE",
        ]),
        r.pick(&[
            "strict",
            "Bearer",
            "vault",
            "oauth2",
            "jwt",
            "aws-secrets-manager",
        ])
        .to_string(),
        "word",
    );
    push(
        *r.pick(&["CALLER_ROLE_ID", "DEPLOY_USER_ID"]),
        format!(
            "{}{}",
            *r.pick(&["AIDA", "AROA", "AIPA", "ANPA"]),
            r.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17)
        ),
        "aws-unique-id",
    );
    push(
        "AWS_ACCESS_KEY_ID",
        "AKIAIOSFODNN7EXAMPLE".to_owned(),
        "example-key",
    );
    push(
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        "example-key",
    );
    push(
        *r.pick(&["LOG_LEVEL", "ENVIRONMENT", "AWS_REGION", "SERVICE_NAME"]),
        r.pick(&["info", "production", "eu-west-1", "payments-api", "staging"])
            .to_string(),
        "word",
    );
    push(
        "APP_VERSION",
        format!("{}.{}.{}", r.below(10), r.below(30), r.below(100)),
        "version",
    );
    push("SCHEDULE", "cron(0 12 * * ? *)".to_owned(), "sentence");
    push(
        "GREETING",
        "Hello from the payments team".to_owned(),
        "sentence",
    );
    push(
        "SUPPORT_EMAIL",
        format!("{}@example.com", r.string(LOWER, 7)),
        "email",
    );
    push(
        "STRIPE_PUBLISHABLE_KEY",
        format!("pk_live_{}", r.string(ALNUM, 24)),
        "public-key",
    );
    push(
        "OTEL_RESOURCE_ATTRIBUTES",
        format!(
            "service.name={},deployment.environment=prod",
            r.string(LOWER, 6)
        ),
        "key-value",
    );
    push(
        "JAVA_OPTS",
        format!("-Xmx{}m -XX:+UseG1GC", 256 * (1 + r.below(8))),
        "sentence",
    );
}

fn sample(name: &str, value: String, secret: bool, category: &'static str) -> Sample {
    Sample {
        name: name.to_owned(),
        value,
        secret,
        category,
    }
}

/// Ordinary settings, none of them a credential: what most variables of a task definition
/// hold (the benchmark's typical corpus, and the settings checked without allocating).
pub const ORDINARY: &[(&str, &str)] = &[
    ("APP_VERSION", "3.27.8"),
    ("LOG_LEVEL", "info"),
    ("PORT", "8080"),
    ("FEATURE_FLAGS", "search,checkout"),
    ("API_URL", "https://api.internal.example.com/v2"),
    ("DATA_DIR", "/var/lib/app"),
    ("JAVA_OPTS", "-Xmx512m -XX:+UseG1GC"),
    ("NODE_ENV", "production"),
    ("TZ", "UTC"),
    ("WORKERS", "4"),
    ("REDIS_HOST", "cache.internal"),
    (
        "QUEUE_URL",
        "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
    ),
    ("ENABLE_TRACING", "true"),
    ("SERVICE_NAME", "checkout"),
    ("TIMEOUT_MS", "2500"),
];

/// The corpus: `rounds` rounds of every generator.
pub fn generate(seed: u64, rounds: usize) -> Vec<Sample> {
    let mut r = Rng::new(seed);
    let mut out = Vec::new();
    for _ in 0..rounds {
        secrets(&mut r, &mut out);
        benign(&mut r, &mut out);
    }
    out
}

/// Precision and recall of a classifier over the corpus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
}

impl Quality {
    pub fn measure(samples: &[Sample], mut flagged: impl FnMut(&Sample) -> bool) -> Self {
        Self::from_pairs(samples.iter().map(|s| (s.secret, flagged(s))))
    }

    /// From (is a secret, was flagged) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> Self {
        let mut q = Quality {
            true_positives: 0,
            false_positives: 0,
            false_negatives: 0,
            true_negatives: 0,
        };
        for pair in pairs {
            match pair {
                (true, true) => q.true_positives += 1,
                (false, true) => q.false_positives += 1,
                (true, false) => q.false_negatives += 1,
                (false, false) => q.true_negatives += 1,
            }
        }
        q
    }

    pub fn precision(&self) -> f64 {
        let flagged = self.true_positives + self.false_positives;
        if flagged == 0 {
            1.0
        } else {
            self.true_positives as f64 / flagged as f64
        }
    }

    pub fn recall(&self) -> f64 {
        let positives = self.true_positives + self.false_negatives;
        if positives == 0 {
            1.0
        } else {
            self.true_positives as f64 / positives as f64
        }
    }
}

/// The detector as the `plaintext-secret` rule applies it to one variable.
pub fn ecs_secrets_flags(sample: &Sample) -> bool {
    crate::detect::scan_pair(&sample.name, &sample.value).is_some()
}

/// One labelled line of the realistic set (`testdata/realistic/labels.tsv`): task definitions
/// written for this purpose in every form teams commit (register, describe, CloudFormation
/// JSON and YAML, Terraform container lists, templates and `.tf` files), each value line
/// labelled by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The file's name inside the set's directory.
    pub file: String,
    /// 1-based line of the labelled value.
    pub line: usize,
    pub secret: bool,
    pub class: String,
}

/// Reads `labels.tsv` of the realistic set in `dir`: `file<TAB>needle<TAB>1|0<TAB>class`,
/// where the needle is a substring of exactly one line of the file. An error names the row.
pub fn realistic_labels(dir: &std::path::Path) -> Result<Vec<Labelled>, String> {
    let labels =
        std::fs::read_to_string(dir.join("labels.tsv")).map_err(|e| format!("labels.tsv: {e}"))?;
    let mut out = Vec::new();
    for (n, row) in labels.lines().enumerate() {
        if row.starts_with('#') || row.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split('\t').collect();
        let [file, needle, secret, class] = fields[..] else {
            return Err(format!("labels.tsv line {}: expected 4 fields", n + 1));
        };
        let text = std::fs::read_to_string(dir.join(file))
            .map_err(|e| format!("labels.tsv line {}: {file}: {e}", n + 1))?;
        let hits: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .map(|(i, _)| i + 1)
            .collect();
        let [line] = hits[..] else {
            return Err(format!(
                "labels.tsv line {}: `{needle}` is on {} lines of {file}, not one",
                n + 1,
                hits.len()
            ));
        };
        out.push(Labelled {
            file: file.to_owned(),
            line,
            secret: secret == "1",
            class: class.to_owned(),
        });
    }
    Ok(out)
}
