use regex::Regex;

use super::providers::{JWT, PROVIDERS, URL_PASSWORD};
use super::*;
use crate::corpus::{self, Quality};

#[test]
fn every_pattern_compiles() {
    // The patterns are compiled lazily; force them all once.
    assert!(!PROVIDERS.is_empty());
    assert!(JWT.as_str().starts_with(r"\b"));
    assert!(URL_PASSWORD.find("x").is_none());
    assert!(!benign("Zx9Yw8Vu7Ts6Rq5Po4Nm"));
}

#[test]
fn provider_formats_are_critical_and_never_echo_the_value() {
    let cases = [
        ("AKIA2OGYBAH6STMMNXNN", "AWS access key id"),
        ("ghp_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u", "GitHub token"),
        ("glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm", "GitLab token"),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "Slack token",
        ),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe secret key"),
        ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm token"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
            "PEM private key",
        ),
        ("redis://:S3cr3tPass@cache:6379/0", "password in a URL"),
    ];
    for (value, kind) in cases {
        let d = provider_format(value).unwrap_or_else(|| panic!("{kind} not detected"));
        assert_eq!(d.kind, kind);
        assert_eq!(d.severity, Severity::Critical);
        let shown = format!("{d:?}");
        assert!(!shown.contains(value), "{shown}");
        // Before sealing there is no fingerprint; the digest is never printed.
        assert_eq!(d.evidence.fingerprint, None);
        assert!(!shown.contains("digest"), "{shown}");
    }
}

#[test]
fn a_jwt_must_decode() {
    let real = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_eq!(
        provider_format(real).map(|d| d.kind),
        Some("JSON Web Token")
    );
    let fake = "eyJxxxxxxxxxxxxx.eyJyyyyyyyyyyyyyy.zzzz";
    assert_eq!(provider_format(fake), None);
}

#[test]
fn example_keys_and_placeholders_are_not_secrets() {
    assert_eq!(scan_pair("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"), None);
    assert_eq!(
        scan_pair(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ),
        None
    );
    assert_eq!(
        scan_pair("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db/app"),
        None
    );
    assert_eq!(
        scan_pair("DATABASE_URL", "postgres://user:password@localhost/app"),
        None
    );
    assert_eq!(scan_pair("AWS_ACCESS_KEY_ID", ""), None);
}

#[test]
fn always_secret_names_flag_any_value() {
    let d = scan_pair(
        "ECS_ENGINE_AUTH_DATA",
        r#"{"https://index.docker.io/v1/":{"auth":"x"}}"#,
    );
    assert_eq!(d.map(|d| d.severity), Some(Severity::Critical));
    assert!(scan_pair("aws_secret_access_key", "abc").is_some());
}

/// redis-cli's `REDISCLI_AUTH` is judged as `REDIS_PASSWORD` is (a cold review: first made an
/// always-secret name, it flagged references as critical and let `password` through).
#[test]
fn rediscli_auth_is_a_passwords_name() {
    for (value, found) in [
        ("Xk9vQ2mLr7Tz4wP8", Some((GENERATED_VALUE, Severity::High))),
        ("password", Some((HUMAN_VALUE, Severity::Medium))),
        ("secret", Some((HUMAN_VALUE, Severity::Medium))),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/redis-AbCdEf",
            None,
        ),
        ("/run/secrets/redis", None),
        ("${REDIS_PASSWORD}", None),
        ("<redis-password>", None),
        ("", None),
    ] {
        let judged = |name| scan_pair(name, value).map(|d| (d.kind, d.severity));
        assert_eq!(judged("REDISCLI_AUTH"), found, "{value}");
        assert_eq!(judged("REDISCLI_AUTH"), judged("REDIS_PASSWORD"), "{value}");
    }
    // redis-cli reads that spelling only.
    assert_eq!(scan_pair("REDISCLI_AUTHOR", "Xk9vQ2mLr7Tz4wP8"), None);
}

#[test]
fn names() {
    for n in [
        "DB_PASSWORD",
        "dbPassword",
        "db-password",
        "API_KEY",
        "apiKey",
        "CLIENT_SECRET",
        "GITHUB_TOKEN",
        "PRIVATE_KEY",
        "SENTRY_DSN",
        "jwtSigningKey",
        "STRIPE_SECRET_KEY",
    ] {
        assert!(credential_name(n), "{n}");
    }
    for n in [
        "PASSWORD_MIN_LENGTH",
        "TOKEN_ENDPOINT",
        "SECRET_ARN",
        "PASSWORD_FILE",
        "API_KEY_HEADER",
        "LOG_LEVEL",
        "KEY",
        "CACHE_KEY",
        "TOKEN_TTL",
        "SECRETS_DIR",
    ] {
        assert!(!credential_name(n), "{n}");
    }
}

#[test]
fn generated_values_versus_words() {
    for v in [
        "Xk9#mP2vL7qR",
        "s3cr3tpassw0rd1",
        "5f4dcc3b5aa765d61d8327deb882cf99",
    ] {
        assert!(looks_generated(v), "{v}");
    }
    for v in [
        "changeme",
        "development",
        "true",
        "8080",
        "arn:aws:iam::123456789012:role/x",
        "${TOKEN}",
        "/run/secrets/db",
        "hunter2",
        "Bearer",
    ] {
        assert!(!looks_generated(v), "{v}");
    }
}

#[test]
fn benign_look_alikes() {
    for v in [
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
        "repo/app@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
        "AROAJQABLZS4A3QDU576Q",
        "eyJsb2dMZXZlbCI6ImluZm8iLCJyZXRyaWVzIjozfQ==",
        "https://auth.example.com/oauth2/token",
        "{{ vault_secret }}",
    ] {
        assert!(benign(v), "{v}");
    }
    // git SHAs are hex: never high-entropy alone.
    assert!(!high_entropy("9fceb02d0ae598e95dc970b74767f19372d61af8"));
    assert!(high_entropy("q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo"));
}

#[test]
fn commands_and_flags() {
    let args = [
        Some("/app/server"),
        Some("--db-password=Xk9#mP2vL7qR"),
        Some("--api-token"),
        Some("tG7#kLp2Qz9x"),
        Some("--port=8080"),
        Some(
            "sh -c 'curl -H \"Authorization: Bearer ghp_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u\" x'",
        ),
    ];
    let found: Vec<usize> = scan_command(&args).into_iter().map(|(i, _)| i).collect();
    assert_eq!(found, vec![1, 3, 5]);
}

/// The kind of a MySQL client's glued password, as a report shows it.
const MYSQL_KIND: &str = "password in a MySQL client's -p argument";

/// What [`scan_command`] finds in `args`: the index and kind of each detection.
fn kinds_with_holes(args: &[Option<&str>]) -> Vec<(usize, &'static str)> {
    scan_command(args)
        .into_iter()
        .map(|(i, d)| (i, d.kind))
        .collect()
}

/// `args`, every one a string.
fn with_no_holes<'a>(args: &[&'a str]) -> Vec<Option<&'a str>> {
    args.iter().copied().map(Some).collect()
}

/// [`kinds_with_holes`] of arguments that are all strings.
fn command_kinds(args: &[&str]) -> Vec<(usize, &'static str)> {
    kinds_with_holes(&with_no_holes(args))
}

/// A shell expansion with a default written out (`${PW:-S3cret}`) falls back to the default
/// wherever the variable is unset: the default is in the file, judged as the value would be.
/// An expansion without one, an empty default, a computed default, or a default that is
/// another expansion, is computed.
#[test]
fn a_password_written_as_an_expansions_default() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    for (args, expected) in [
        (
            &[
                "sh",
                "-c",
                "mysql -uroot -p${MYSQL_ROOT_PASSWORD:-Hunter22}",
            ][..],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "mysqladmin ping -p\"${PW:=Xk9vQ2mLr7Tz4wP8}\""],
            vec![(2, MYSQL_KIND)],
        ),
        (&["mysql", "-p${PW-Hunter22}"], vec![]),
        (
            &["sh", "-c", "app --db-password ${DB_PASSWORD:-Hunter22}"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["app", "--db-password", "${DB_PASSWORD:-Hunter22}"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "app --db-password=${DB_PASSWORD:-Hunter22}"],
            vec![(2, HUMAN_VALUE)],
        ),
        // CloudFormation's `${!PW:-…}` in a `!Sub` is the shell's `${PW:-…}`.
        (
            &["sh", "-c", "mysql -p${!PW:-Hunter22}"],
            vec![(2, MYSQL_KIND)],
        ),
        (&["sh", "-c", "mysql -p${PW:-}"], vec![]),
        (&["sh", "-c", "mysql -p${PW}"], vec![]),
        (&["sh", "-c", "mysql -p${PW:-$FALLBACK}"], vec![]),
        (
            &["sh", "-c", "mysql -p${PW:-$(cat /run/secrets/pw)}"],
            vec![],
        ),
        (&["sh", "-c", "mysql -p${PW:?set MYSQL_PWD}"], vec![]),
        (&["sh", "-c", "mysql -p${PW:+Hunter22}"], vec![]),
        (&["sh", "-c", "mysql -p${PW:-password}"], vec![]),
        (
            &[
                "sh",
                "-c",
                "app --port ${PORT:-8080} --log-level=${LOG:-info}",
            ],
            vec![],
        ),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
}

/// mydumper, myloader and Percona's `pt-*` tools take their password after `-p` (or
/// `--password`) as the next word too, where MySQL's own clients take the database there;
/// glued, it is theirs as well. redis-cli takes it after `-a`, the MongoDB shells and tools
/// and sshpass after `-p`.
#[test]
fn a_password_after_p_for_the_tools_that_take_one() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    const FLAG_HUMAN: &str = "credential-like flag with a value";
    for (args, expected) in [
        (
            &[
                "mydumper",
                "-u",
                "root",
                "-p",
                "Xk9vQ2mLr7Tz4wP8",
                "-o",
                "/backup",
            ][..],
            vec![(4, FLAG_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "myloader -u root --password Hunter22 -d /backup",
            ],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "myloader -u root --password hunter -d /backup"],
            vec![(2, FLAG_HUMAN)],
        ),
        (
            &[
                "sh",
                "-c",
                "pt-table-checksum -h db -u root -p Xk9vQ2mLr7Tz4wP8",
            ],
            vec![(2, FLAG_KIND)],
        ),
        (
            &[
                "/usr/bin/pt-online-schema-change",
                "-pXk9vQ2mLr7Tz4wP8",
                "--alter",
                "x",
                "D=a,t=b",
            ],
            vec![(1, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "mydumper -u root -p \"$MYSQL_PWD\" -o /b && mysql -p app",
            ],
            vec![],
        ),
        (&["mydumper", "-u", "root", "-p", "${MYSQL_PWD}"], vec![]),
        (&["mydumper", "-u", "root", "-p", "<password>"], vec![]),
        // redis-cli's `-a`, the MongoDB shells' and tools' `-p`, sshpass's `-p`.
        (
            &[
                "CMD-SHELL",
                "redis-cli -a Xk9vQ2mLr7Tz4wP8 ping | grep PONG",
            ],
            vec![(1, FLAG_KIND)],
        ),
        (
            &["redis-cli", "-h", "cache", "-a", "hunter", "ping"],
            vec![(4, FLAG_HUMAN)],
        ),
        (
            &[
                "redis-benchmark",
                "-h",
                "cache",
                "-a",
                "Xk9vQ2mLr7Tz4wP8",
                "-q",
            ],
            vec![(4, FLAG_KIND)],
        ),
        (
            &["redis-benchmark", "-h", "cache", "-a", "$REDIS_PASSWORD"],
            vec![],
        ),
        (
            &[
                "CMD-SHELL",
                "mongosh --quiet -u root -p Xk9vQ2mLr7Tz4wP8 --eval 'db.adminCommand(1)'",
            ],
            vec![(1, FLAG_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "mongodump -u root --password Xk9vQ2mLr7Tz4wP8 --out /b",
            ],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "sshpass -p Xk9vQ2mLr7Tz4wP8 ssh user@host"],
            vec![(2, FLAG_KIND)],
        ),
        // Computed, prompted for (the next word is another option), or a placeholder.
        (
            &["CMD-SHELL", "redis-cli -a \"$REDIS_PASSWORD\" ping"],
            vec![],
        ),
        (
            &[
                "CMD-SHELL",
                "redis-cli -a ${REDIS_PASSWORD} --no-auth-warning ping",
            ],
            vec![],
        ),
        (
            &[
                "mongosh",
                "-u",
                "root",
                "-p",
                "--authenticationDatabase",
                "admin",
            ],
            vec![],
        ),
        (&["mongosh", "-u", "root", "-p", "<password>"], vec![]),
        // Still only for them: MySQL's own `-p` before a database, and other programs' `-p`
        // and `-a`.
        (&["mysql", "-u", "root", "-p", "Xk9vQ2mLr7Tz4wP8"], vec![]),
        (
            &["sh", "-c", "mydumper -o /b; mkdir -p Xk9vQ2mLr7Tz4wP8"],
            vec![],
        ),
        (
            &[
                "sh",
                "-c",
                "redis-cli ping; cp -a Xk9vQ2mLr7Tz4wP8 /b; ssh -p 2222 host",
            ],
            vec![],
        ),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
}

/// A fifth review, of the expansion defaults and the programs' own password flags.
#[test]
fn the_shell_reader_after_a_fifth_review() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    const FLAG_HUMAN: &str = "credential-like flag with a value";
    for (args, expected) in [
        // A word that ends its command is still the value of the option before it.
        (
            &[
                "sh",
                "-c",
                "mydumper -u root -p Xk9vQ2mLr7Tz4wP8; echo done",
            ][..],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "mydumper -u root -p Xk9vQ2mLr7Tz4wP8&&echo"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "mydumper -u root -p Xk9vQ2mLr7Tz4wP8|gzip > b"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "mydumper -u root -p \"Xk9vQ2mLr7Tz4wP8\";"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "out=$(mydumper -u root -p Xk9vQ2mLr7Tz4wP8)"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "redis-cli -a Xk9vQ2mLr7Tz4wP8; exit $?"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "redis-cli -a 'Xk9v;Q2mLr7Tz4wP8' ping"],
            vec![(2, FLAG_KIND)],
        ),
        // A default before a separator, or quoted.
        (
            &["sh", "-c", "app --password ${PW:-Hunter22x};"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "app --password \"${PW:-Hunter22x}\";"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "mysql -p${PW:-\"Hunter22x\"}"],
            vec![(2, MYSQL_KIND)],
        ),
        // `${PW:=…}` is an expansion, not `name=value`: judged as the flag's value.
        (
            &[
                "sh",
                "-c",
                "app --password ${DB_PASSWORD:=Xk9vQ2mLr7Tz4wP8}",
            ],
            vec![(2, FLAG_KIND)],
        ),
        // Percona's DSNs carry the password as `p=`.
        (
            &[
                "pt-online-schema-change",
                "--alter",
                "ADD x INT",
                "D=app,t=users,h=db,u=root,p=Xk9vQ2mLr7Tz4wP8",
            ],
            vec![(3, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "pt-table-checksum h=db,u=root,p=Hunter22x"],
            vec![(2, FLAG_KIND)],
        ),
        (&["sh", "-c", "pt-table-checksum h=db,u=root,p=$PW"], vec![]),
        (
            &["sh", "-c", "pt-table-checksum h=db,u=root,p=hunter"],
            vec![(2, FLAG_HUMAN)],
        ),
        // Terraform's `${app-db-pw}`, and the shell's rare `${PW-x}`: not read as defaults.
        (&["sh", "-c", "mysql -uroot -p${mysql-root-pw}"], vec![]),
        (&["sh", "-c", "app --secret ${app-session-secret}"], vec![]),
        // Not every `pt-*` takes a password after `-p`.
        (&["sh", "-c", "pt-pmp -p 12345"], vec![]),
        (
            &[
                "sh",
                "-c",
                "pt-pg-summary -h db -p 5432 -U postgres; pt-pg-summary -p5432",
            ],
            vec![],
        ),
        (&["sh", "-c", "pt-deploy -p production"], vec![]),
        (
            &[
                "sh",
                "-c",
                "pt-kill -h db -u root -p Xk9vQ2mLr7Tz4wP8 --busy-time 60",
            ],
            vec![(2, FLAG_KIND)],
        ),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
    // The evidence is the default's, whichever form it takes.
    for text in [
        "app --password ${DB_PASSWORD:=Xk9vQ2mLr7Tz4wP8}",
        "app --password ${DB_PASSWORD:-Xk9vQ2mLr7Tz4wP8};",
        "mysql -p${DB_PASSWORD:-'Xk9vQ2mLr7Tz4wP8'}",
    ] {
        let found = scan_command(&[Some("sh"), Some("-c"), Some(text)]);
        assert_eq!(found.len(), 1, "{text}");
        assert_eq!(found[0].1.evidence.length, 16, "{text}");
    }
}

/// A sixth review, of the programs' password flags, JSON members, Azure keys and UUIDs.
#[test]
fn the_detector_after_a_sixth_review() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    for (args, expected) in [
        // sshpass runs a command: the options after it are that command's (`ssh -p 2222`).
        (
            &[
                "sh",
                "-c",
                "sshpass -p \"$SSHPASS\" ssh -o StrictHostKeyChecking=no -p 2222 deploy@host",
            ][..],
            vec![],
        ),
        (&["sshpass", "-e", "ssh", "-p", "2222", "host"], vec![]),
        (
            &["sh", "-c", "sshpass -f /run/secrets/pw ssh -p 2222 host"],
            vec![],
        ),
        (
            &["sh", "-c", "sshpass -p Xk9vQ2mLr7Tz4wP8 ssh -p 2222 host"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &[
                "sshpass",
                "-p",
                "Xk9vQ2mLr7Tz4wP8",
                "ssh",
                "-p",
                "2222",
                "host",
            ],
            vec![(2, FLAG_KIND)],
        ),
        // In exec form an argument is the value whole: `;`, `&`, `)` are characters of it.
        (
            &[
                "mydumper",
                "-h",
                "db",
                "-u",
                "root",
                "-p",
                "k;Xk9vQ2mZ7pLa",
                "-o",
                "/b",
            ],
            vec![(6, FLAG_KIND)],
        ),
        (
            &["redis-cli", "-a", "Qw&Xk9vQ2mZ7pLa", "ping"],
            vec![(2, FLAG_KIND)],
        ),
        // Percona's summary tools take a password too.
        (
            &["sh", "-c", "pt-mysql-summary -u root -p Xk9vQ2mLr7Tz4wP8"],
            vec![(2, FLAG_KIND)],
        ),
        // A UUID after a token's own flag is the token.
        (
            &[
                "consul",
                "members",
                "-token",
                "3f1c2a9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c",
            ],
            vec![(3, FLAG_KIND)],
        ),
        // A flag after a flag is another option, not its value.
        (
            &[
                "sh",
                "-c",
                "psql --no-password --host db; ansible-playbook --ask-become-pass --verbose x.yml",
            ],
            vec![],
        ),
        // A newline ends the command: the next line's first word is no value of a flag.
        (&["sh", "-c", "mongosh -u root -p\necho started"], vec![]),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
    // Datadog's template variables and secret handles, Jasypt's and Spring Cloud Config's
    // encrypted values: no plaintext.
    for value in [
        r#"[{"host":"%%host%%","port":5432,"username":"datadog","password":"%%env_PG_PASSWORD%%"}]"#,
        r#"{"password":"ENC[redis_password]"}"#,
        r#"{"spring.datasource.password":"ENC(G6N718UuyPE5bHyWKyuLQSm02auQPUtm)"}"#,
        r#"{"password":"{cipher}AQA5hVbvzxrIsO0IOPdZf6w5DOMxf6J2qh3aNx4YVtN3yxQ4"}"#,
    ] {
        assert_eq!(
            scan_pair("com.datadoghq.ad.instances", value),
            None,
            "{value}"
        );
    }
    // A JSON list of name/value pairs is read as the variables it holds.
    assert_eq!(
        scan_pair(
            "ENV_JSON",
            r#"[{"name":"DB_PASSWORD","value":"Xk9vQ2mLr7Tz4wP8"}]"#
        )
        .map(|d| d.kind),
        Some(GENERATED_VALUE)
    );
    // Azure keys must look random; the emulators' published keys are no secrets, URL-encoded
    // or not.
    for value in [
        "AccountEndpoint=https://localhost:8081/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==",
        "AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq%2FK1SZFPTOtr%2FKBHBeksoGMGw%3D%3D",
        "AccountName=a;AccountKey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "AccountName=a;AccountKey=YourStorageAccountKeyGoesHereReplaceWithRealKeyFromPortal==",
        "AccountName=a;AccountKey=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    ] {
        assert_eq!(scan_pair("CONNECTION", value), None, "{value}");
    }
    let encoded = "AccountName=a;AccountKey=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae%2BYc2Xu7Iv5Ow3Qp9Ls8Kr1Jt6Mh4Ng0Bf2Vd7Ce5Zx3Ay1Bz7Cx%3D%3D";
    assert_eq!(
        scan_pair("CONNECTION", encoded).map(|d| d.kind),
        Some("Azure storage account key")
    );
    // A UUID that counts up is a placeholder; ids under token-like names are ids.
    assert_eq!(
        scan_pair("splunk-token", "12345678-1234-1234-1234-123456789012"),
        None
    );
    for name in [
        "IDEMPOTENCY_TOKEN",
        "CLIENT_TOKEN",
        "CORRELATION_TOKEN",
        "PAGE_TOKEN",
    ] {
        assert_eq!(
            scan_pair(name, "3f1c2a9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c"),
            None,
            "{name}"
        );
    }
}

/// A seventh review, of the sixth's fixes.
#[test]
fn the_detector_after_a_seventh_review() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    const FLAG_HUMAN: &str = "credential-like flag with a value";
    for (args, expected) in [
        // A line continued by `\` is the same command: a Percona DSN on it is still its.
        (&["sh", "-c", "pt-online-schema-change --alter \"ADD COLUMN c INT\" \\\n  --execute \\\n  D=app,t=users,h=db,u=root,p=Xk9vQ2mZ7pL"][..], vec![(2, FLAG_KIND)]),
        (&["sh", "-c", "pt-table-checksum \\\n h=db,u=root,p=hunter"], vec![(2, FLAG_HUMAN)]),
        // In exec form no shell expands: a `)` is a character of the password.
        (&["app", "--db-password", "Xk9vQ2mZ7pL)"], vec![(2, FLAG_KIND)]),
        (&["redis-cli", "-a", "Xk9vQ2mZ7pL)", "ping"], vec![(2, FLAG_KIND)]),
        // A call in exec form is still computed.
        (&["python", "app.py", "--db-password", "os.environ.get('DB_PASSWORD')"], vec![]),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
    // Id-like words spare a token's UUID only: a client's secret or a signing key is one.
    let uuid = "d0b8122f-8dfb-46b7-b68a-f5cc4e25d000";
    for name in [
        "KEYCLOAK_CLIENT_SECRET",
        "OAUTH_CLIENT_SECRET",
        "CLIENT_API_KEY",
        "REQUEST_SIGNING_KEY",
    ] {
        assert_eq!(
            scan_pair(name, uuid).map(|d| d.kind),
            Some(GENERATED_VALUE),
            "{name}"
        );
    }
    assert_eq!(scan_pair("CLIENT_TOKEN", uuid), None);
    // A real 32-byte shared access key without a digit is still one.
    assert_eq!(
        scan_pair("SB", "Endpoint=sb://n.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=QwErTyUiOpAsDfGhJkLzXcVbNmqwertyuiopASDFGH+=")
            .map(|d| d.kind),
        Some("Azure shared access key")
    );
}

/// A shell default of a variable the container defines (in `environment` or `secrets`) is
/// never used: ECS sets the variable before the command runs. With environment files, any
/// variable may be defined there.
#[test]
fn a_default_of_a_defined_variable_is_never_used() {
    let health = [
        Some("CMD-SHELL"),
        Some("mysqladmin ping -uroot -p${MYSQL_ROOT_PASSWORD:-root} || exit 1"),
    ];
    let kinds = |defined: Defined<'_>| -> Vec<usize> {
        scan_command_within(&health, defined)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    };
    assert_eq!(kinds(Defined::default()), vec![1]);
    assert_eq!(
        kinds(Defined {
            names: &["OTHER"],
            any: false
        }),
        vec![1]
    );
    assert_eq!(
        kinds(Defined {
            names: &["MYSQL_ROOT_PASSWORD"],
            any: false
        }),
        Vec::<usize>::new()
    );
    assert_eq!(
        kinds(Defined {
            names: &[],
            any: true
        }),
        Vec::<usize>::new()
    );
    let flag = [
        Some("app"),
        Some("--password"),
        Some("${DB_PASSWORD:-Hunter22x}"),
    ];
    assert!(scan_command_within(
        &flag,
        Defined {
            names: &["DB_PASSWORD"],
            any: false
        }
    )
    .is_empty());
    assert_eq!(scan_command_within(&flag, Defined::default()).len(), 1);
}

/// A MySQL or MariaDB client's `-pPASSWORD`: only for those programs, only glued, only
/// written (not computed), and only while that program's command lasts.
#[test]
fn a_mysql_clients_glued_password() {
    for (args, expected) in [
        (
            &["mysql", "-uroot", "-pS3cr3t-Pw"][..],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["/usr/bin/mysqldump", "-u", "app", "-pwp12345", "app"],
            vec![(3, MYSQL_KIND)],
        ),
        (
            &["CMD-SHELL", "mysqladmin ping -uroot -proot || exit 1"],
            vec![(1, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "exec mariadb-dump -u app -p'Xk9vQ2mLr7Tz4wP8' app",
            ],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "MYSQL_HOST=db mysql -uapp -pHunter22;"],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "mkdir -p /b && mysql -uapp -pHunter22"],
            vec![(2, MYSQL_KIND)],
        ),
        // Prompted for, computed, or a placeholder.
        (&["mysql", "-uapp", "-p", "app"], vec![]),
        (
            &[
                "mysql",
                "-uapp",
                "-p$MYSQL_PASSWORD",
                "-p${PW}",
                "-p\"$PW\"",
            ],
            vec![],
        ),
        (
            &["sh", "-c", "mysql -uapp -p$(cat /run/secrets/db) app"],
            vec![],
        ),
        (&["mysql", "-uapp", "-p<password>"], vec![]),
        // Another program's -p: a flag, a port, a database named mysql.
        (&["mkdir", "-p", "/var/lib/mysql"], vec![]),
        (&["redis-cli", "-h", "cache", "-p6380", "ping"], vec![]),
        (&["ssh", "-p2222", "mysql"], vec![]),
        (&["psql", "-d", "mysql", "-p5432"], vec![]),
        (
            &["sh", "-c", "mysql -uapp -p app; tar -pczf /b.tgz /b"],
            vec![],
        ),
        (
            &["sh", "-c", "mysqladmin ping && redis-cli -p6380 ping"],
            vec![],
        ),
        // A flag with its value glued on is no flag name: the database after it is no value.
        (
            &[
                "sh",
                "-c",
                "mysql -uwp -p\"$MYSQL_PASSWORD\" wordpress < /s.sql",
            ],
            vec![],
        ),
        (&["mysql", "-uwp", "-p${DB_PASSWORD}", "wordpress"], vec![]),
        // Nor is the word after a MySQL client's bare `-p` or `--password` (its database).
        (&["mysql", "-uroot", "--password", "wordpress"], vec![]),
        // The forms a review found: shell keywords, lines, runners with values, glued
        // separators, substitutions, single quotes, `@`, and the client's own word.
        (
            &[
                "sh",
                "-c",
                "until mysqladmin ping -h db -uroot -pHunter22 --silent; do sleep 2; done",
            ],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "set -e\nmysql -h db -uroot -pHunter22 app < /i.sql",
            ],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &[
                "/bin/bash",
                "-o",
                "pipefail",
                "-c",
                "mysqldump -uroot -pHunter22 app | gzip > /b.gz",
            ],
            vec![(4, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "sudo -u root timeout 5 mysqladmin -uroot -pHunter22 ping",
            ],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "cd /x;mysql -uroot -pHunter22"],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "N=$(mysql -N -uroot -pHunter22 -e 'SELECT 1')"],
            vec![(2, MYSQL_KIND)],
        ),
        (&["mysql", "-uroot", "-p'$ecretPw1'"], vec![(2, MYSQL_KIND)]),
        (&["mysql", "-uroot", "-p@dm1nPass"], vec![(2, MYSQL_KIND)]),
        (&["mysql", "-uroot", "-pHunter22"], vec![(2, MYSQL_KIND)]),
        // Judged as `--password=` is: the flag's name is a placeholder.
        (&["mysql", "-uroot", "-ppassword"], vec![]),
        (&["mysql", "-uroot", "-p@@PASSWORD@@"], vec![]),
        (&["mysql"], vec![]),
        // What the review found taken for one: another line's, another user's, another
        // command's `-p`, an escaped computed one, a word of SQL.
        (
            &[
                "sh",
                "-c",
                "mysql -uapp -p\"$PW\" app < /s.sql\nredis-cli -h cache -p6380 ping",
            ],
            vec![],
        ),
        (
            &["sh", "-c", "sudo -u mysql ssh -p2222 backup@host"],
            vec![],
        ),
        (&["sh", "-c", "mysql -uroot -p$PW;tar -pcvzf /b /c"], vec![]),
        (&["sh", "-c", "mysql -uroot -p\\\"$PW\\\" app"], vec![]),
        (&["mysql", "-e", "SELECT 1 WHERE a LIKE '-prod%'"], vec![]),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
    // ASP.NET's `--Section:Key value` is a flag and its value.
    assert_eq!(
        command_kinds(&["dotnet", "App.dll", "--Database:Password", "Hunter22"]),
        vec![(3, "credential-like flag with a generated value")]
    );
    // In a variable that holds a command line.
    assert_eq!(
        scan_pair("DB_CHECK", "mysql -h db -uapp -pHunter22 -e 'SELECT 1'").map(|d| d.kind),
        Some(MYSQL_KIND)
    );
    assert_eq!(scan_pair("REDIS_ARGS", "redis-cli -p6380 ping"), None);
    // The evidence never holds the password.
    let d = scan_pair("DB_CHECK", "mysql -uapp -pHunter22").expect("found");
    assert!(!format!("{d:?}").contains("Hunter22"));
}

/// A second review of the shell reader: no `name value` pair it found before is lost to a `;`,
/// `|`, `&&`, a newline or an odd space in the value, and quotes run across words.
#[test]
fn the_shell_reader_loses_no_pair() {
    const FLAG: &str = "credential-like flag with a generated value";
    for args in [
        &["app", "--password", "Xk9;v2LmqPz7"][..],
        &["app", "--api-key", "Ab3|x9Kq2LmZ7pQ"],
        &["app", "--password", "&Xk9v2LmqPz7"],
        &["app", "--password", "Xk9&&v2LmqPz7"],
        &["app", "--password\u{a0} Xk9v2LmqPz7"],
        &["sh", "-c", "app --password\nXk9v2LmqPz7"],
    ] {
        assert_eq!(
            command_kinds(args).first().map(|f| f.1),
            Some(FLAG),
            "{args:?}"
        );
    }
    assert_eq!(
        command_kinds(&["app", "--password=Xk9;v2LmqPz7"]).len(),
        1,
        "a pair with ;"
    );
    assert_eq!(
        command_kinds(&["curl", "-u", "admin:Xk9;v2LmqPz7", "https://h"]),
        vec![(2, "password in a --user argument")]
    );
    for (name, value) in [
        (
            "JAVA_OPTS",
            "-Xmx1g -Dspring.datasource.password=Xk9;v2LmqPz7",
        ),
        ("ARGS", "--token Ab3|x9Kq2LmZ7pQ --v"),
        ("OPTS", "-Xmx1g --api-key\u{a0} Ab3x9Kq2LmZ7pQ"),
    ] {
        assert!(scan_pair(name, value).is_some(), "{name}={value}");
    }
    // The whole value is its evidence, not what stands before a `;`.
    let d = scan_command(&[Some("app"), Some("--password"), Some("Sunshine;2024")]);
    assert_eq!(
        d.first().map(|(_, d)| d.evidence.length),
        Some("Sunshine;2024".len())
    );

    for (args, expected) in [
        (
            &[
                "mysql",
                "-uroot",
                "-e",
                "CREATE DATABASE x; GRANT ALL ON x.* TO u",
                "-pXk9v2LmqPz7",
            ][..],
            vec![(4, MYSQL_KIND)],
        ),
        (
            &[
                "CMD-SHELL",
                "sh -c 'echo \"waiting for db\";mysqladmin ping -pXk9v2LmqPz7'",
            ],
            vec![(1, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "mysqladmin ping '-pXk9v2LmqPz7'"],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &["sh", "-c", "mysqladmin ping \"-pXk9v2LmqPz7\""],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "docker run --rm -p 3306:3306 mysql:8 mysql -h db -pXk9v2LmqPz7",
            ],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "docker run -p 3306:3306 mysql --port 3306 -pKm4Rt8Wq2Zx",
            ],
            vec![],
        ),
        (&["mysql", "-e", "SELECT 1 WHERE a LIKE '-prod%'"], vec![]),
        (
            &["\u{a0} mysqladmin", "ping", "-pXk9v2LmqPz7"],
            vec![(2, MYSQL_KIND)],
        ),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
}

/// A third review of the shell reader: substitutions in single quotes and redirections are
/// no passwords; a pair before another command's MySQL client is kept; a hole is a word; a
/// shell's script is read after `-ce`, `--` or `eval`; what a wrapper runs follows its `--`.
#[test]
fn the_shell_reader_after_a_third_review() {
    for args in [
        &[
            "CMD-SHELL",
            "sh -c \"mysqladmin ping -uroot -p'$(cat /run/secrets/db_root)'\"",
        ][..],
        &[
            "CMD-SHELL",
            "mysqladmin ping -uroot -p'$(cat /run/secrets/db_root)'",
        ],
        &["sh", "-c", "mysql -uroot -p'`cat /run/secrets/db`' app"],
        &["sh", "-c", "mysql -uroot -p<schema.sql"],
        &["sh", "-c", "mysql -uroot -p<<EOF"],
    ] {
        assert_eq!(command_kinds(args), vec![], "{args:?}");
    }
    assert_eq!(
        scan_pair(
            "DB_INIT",
            "mysql -uroot -p'$(cat /run/secrets/x)' -e \"SELECT 1\""
        ),
        None
    );
    let d = scan_command(&with_no_holes(&["sh", "-c", "mysql -uroot -pS3cretPw>out"]));
    assert_eq!(d.first().map(|(_, d)| d.evidence.length), Some(8));

    assert_eq!(
        command_kinds(&[
            "sh",
            "-c",
            "mongodump --username root --password S3cretPw9x --out /b && mysqldump -uroot -p\"$PW\" app",
        ]),
        vec![(2, "credential-like flag with a generated value")]
    );
    assert_eq!(
        kinds_with_holes(&[
            Some("mysql"),
            Some("-h"),
            None,
            Some("-uroot"),
            Some("-pXk9vQ2mLr7Tz4wP8")
        ]),
        vec![(4, MYSQL_KIND)]
    );
    assert_eq!(
        kinds_with_holes(&[None, Some("-pXk9vQ2mLr7Tz4wP8")]),
        vec![]
    );
    for args in [
        &["sh", "-ce", "mysqladmin ping -uroot -pXk9vQ2mLr7Tz4wP8"][..],
        &[
            "CMD-SHELL",
            "sh -ce 'mysqladmin ping -uroot -pXk9vQ2mLr7Tz4wP8'",
        ],
        &[
            "CMD-SHELL",
            "bash -c -- 'mysqladmin ping -uroot -pXk9vQ2mLr7Tz4wP8'",
        ],
        &[
            "CMD-SHELL",
            "eval \"mysqladmin ping -uroot -pXk9vQ2mLr7Tz4wP8\"",
        ],
        &[
            "CMD-SHELL",
            "./wait-for-it.sh db:3306 -- mysql -uroot -pXk9vQ2mLr7Tz4wP8",
        ],
        &[
            "CMD-SHELL",
            "runuser -u mysql -- mysql -uroot -pXk9vQ2mLr7Tz4wP8",
        ],
        &[
            "CMD-SHELL",
            "ionice -c3 mysqldump -uroot -pXk9vQ2mLr7Tz4wP8 app",
        ],
    ] {
        assert_eq!(
            command_kinds(args).first().map(|f| f.1),
            Some(MYSQL_KIND),
            "{args:?}"
        );
    }
    // In exec form too.
    assert_eq!(
        command_kinds(&[
            "wait-for-it.sh",
            "db:3306",
            "--",
            "mysql",
            "-uroot",
            "-pXk9vQ2mLr7Tz4wP8"
        ]),
        vec![(5, MYSQL_KIND)]
    );
    // `--` of a MySQL client is its own.
    assert_eq!(
        command_kinds(&["sh", "-c", "mysql -- -pHunter22; grep -- -pattern f"]).len(),
        1
    );
}

/// A fourth review, for false alarms only: comments, quoted messages of several lines,
/// `%(password)s` templates, commands behind an entry point that takes arguments, SQL after
/// `-e`, and a computed value in quotes before a `;`.
#[test]
fn the_shell_reader_raises_no_false_alarm() {
    for args in [
        &[
            "sh",
            "-c",
            "mysqladmin ping -h localhost # -pHunter2x was removed",
        ][..],
        &[
            "sh",
            "-c",
            "echo \"Connect with:\n  mysql -h $DB_HOST -uadmin -pAdm1nPw\"; exec app",
        ],
        &[
            "sh",
            "-c",
            "echo \"Usage:\nmysqldump -uroot -pS3cretPw app\"\nexit 1",
        ],
        &["CMD-SHELL", "mysql -uroot -p%(password)s"],
        &[
            "CMD-SHELL",
            "mysqladmin ping -uroot -p%(ENV_MYSQL_PASSWORD)s",
        ],
        &["mysql", "-uroot", "-e", "-pXk9vQ2mZ"],
        &["sh", "-c", "export MYSQL_PWD=\"$PW\"; mysqldump -uroot app"],
        &["gh-ost", "--user=root", "--password=\"$PW\"", "--execute"],
    ] {
        assert_eq!(command_kinds(args), vec![], "{args:?}");
    }
    assert_eq!(
        scan_pair("DBG", "mysqladmin ping -uroot -p$PW # not -pOldPw99"),
        None
    );
    assert_eq!(
        scan_pair("BACKUP_CMD", "mysqldump -uroot -p%(password)s app"),
        None
    );
    // A comment ends at its line; what follows is read.
    assert_eq!(
        command_kinds(&[
            "sh",
            "-c",
            "# wait for the database\nmysqladmin ping -uroot -pHunter22"
        ])
        .len(),
        1
    );
    // The entry point takes the command's words as arguments, or runs them: not read alone.
    assert!(!entry_point_script(&[Some("pg_isready"), Some("-h")]));
    assert!(!entry_point_script(&[Some("gosu")]));
    assert!(!entry_point_script(&[Some("/bin/sh"), Some("-c")]));
    assert!(entry_point_script(&[Some(
        "/usr/local/bin/docker-entrypoint.sh"
    )]));
}

/// Precision and recall on the labelled corpus (3 seeds × 40 rounds ≈ 5,600 samples, 19 credential
/// kinds, 30 benign kinds). The generated credentials are all in formats the detector claims
/// to know, so recall below 0.98 is a regression; precision 0.98 leaves room for the rare
/// random password that happens to look like a word, while a single broken filter (UUIDs,
/// digests, base64 config…) costs 120 false positives and fails the test.
#[test]
fn corpus_precision_and_recall() {
    let samples: Vec<_> = [7, 11, 2026]
        .into_iter()
        .flat_map(|seed| corpus::generate(seed, 40))
        .collect();
    let q = Quality::measure(&samples, corpus::ecs_secrets_flags);
    let misses: Vec<_> = samples
        .iter()
        .filter(|s| s.secret != corpus::ecs_secrets_flags(s))
        .map(|s| (s.category, s.name.as_str(), s.secret))
        .take(20)
        .collect();
    eprintln!(
        "corpus: {} samples, precision {:.4}, recall {:.4} ({q:?})",
        samples.len(),
        q.precision(),
        q.recall()
    );
    assert!(
        q.precision() >= 0.98 && q.recall() >= 0.98,
        "precision {:.3} recall {:.3} {q:?}; first misses: {misses:?}",
        q.precision(),
        q.recall()
    );
    // Every category is represented.
    for category in [
        "aws-access-key-id",
        "jwt",
        "pem",
        "url-password",
        "uuid",
        "git-sha",
        "base64-config",
        "template",
    ] {
        assert!(samples.iter().any(|s| s.category == category), "{category}");
    }
}

#[test]
fn references_that_are_credentials() {
    for leaked in [
        "ghp_Xk9mP2vL7qR4tY8wZ3nB6cD1fG5hJ0sA2eUi",
        "xoxb-2048193756-4815162342-Qm7Rt2Xk9PzLw3Vb8NcY",
        "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo",
        "Zq8t3kVb1mXc9RyJ2wPz7LhN4sDf6GaE0uTiKoW5",
        // Review of issue 12: shorter and lower-entropy tokens.
        "OL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJ",
        "dckr_pat_EqV8ib8HDy88YtDtXbiufMdI8X2",
        "Xk9mP2vL7qRt4wZs8yBn",
        "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e",
    ] {
        assert!(scan_reference(leaked).is_some(), "{leaked}");
        assert!(!reference_is_showable(leaked));
        assert!(!shown_reference(leaked).contains(&leaked[..8]));
    }
    for name in [
        "/prod/db/password",
        "/aws/reference/secretsmanager/prod/db",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password::",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/MyServiceDatabasePassword2024",
        "MyServiceDatabasePassword2024",
        "prod-app-DB_PASSWORD",
        "/ecs/my-service/production/stripe_api_key",
        "database-url",
        "MyServiceDatabasePassword2024",
        "ProdApiKeyV2",
        "MyParam1",
        "StripeSecretKeyLive2024Q3",
        "app-prod-db-password-v2",
        "ECS_Task_Secret_001",
        // Second review: hyphenated names, generated CloudFormation names, embedded UUIDs.
        "MyApp-prod-eu-west-2-v3",
        "Team1-App2-Secret-DB",
        "ProdDB-v2-Password-1",
        "GitHubToken-v2-prod-1A",
        "api_v2_Key_3_prod_A",
        "DatabaseSecret86DBB7B3-ky8aSKdISgLw",
        "CFN-MyParameter-Z1y2X3w4V5u6",
        "MyApp-3f2a9c1e-7b4d-4e1f-9a2b-6c5d4e3f2a1b",
        "MyApp-Prod-DBPassword1",
    ] {
        assert!(scan_reference(name).is_none(), "{name}");
    }
    // Showable: ARNs, and names that do not look generated.
    assert!(reference_is_showable("/prod/db/password"));
    assert!(reference_is_showable(
        "arn:aws:ssm:eu-west-1:123456789012:parameter/app/token"
    ));
    assert!(!reference_is_showable("/app/Xk9#mP2vL7qR"));
}

#[test]
fn evidence_fingerprints_are_keyed() {
    use crate::finding::{Evidence, EvidenceKey};
    use sha2::{Digest, Sha256};
    let weak = "Summer2024!";
    let sealed = |key: Option<&EvidenceKey>| {
        let mut e = Evidence::of("password", weak);
        e.seal(key);
        e
    };
    // Without a key: kind and length only.
    let e = sealed(None);
    assert_eq!((e.fingerprint.as_deref(), e.length), (None, 11));
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(json, r#"{"kind":"password","length":11}"#);
    // With one: stable for a key, different under another, and not the plain hash.
    let k1 = EvidenceKey::new(b"org-key-0123456789abcdef".to_vec()).unwrap();
    let k2 = EvidenceKey::new(b"other-key-0123456789abcd".to_vec()).unwrap();
    let f1 = sealed(Some(&k1)).fingerprint.unwrap();
    assert_eq!(f1.len(), 16);
    assert_eq!(Some(f1.clone()), sealed(Some(&k1)).fingerprint);
    assert_ne!(Some(f1.clone()), sealed(Some(&k2)).fingerprint);
    let plain: String = Sha256::digest(weak.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_ne!(f1, plain);
    assert!(!serde_json::to_string(&sealed(Some(&k1)))
        .unwrap()
        .contains(&plain[..8]));
    assert!(EvidenceKey::new(b"short".to_vec()).is_err());
    assert_eq!(format!("{k1:?}"), "EvidenceKey(…)");
}

/// Issue 14, class 1: a human-chosen password under a password-like name is a live credential
/// (`medium`); a generated-looking one stays `high`.
#[test]
fn human_chosen_passwords_are_flagged_by_name() {
    let medium = [
        ("DB_PASSWORD", "admin"),
        ("POSTGRES_PASSWORD", "postgres"),
        ("MYSQL_ROOT_PASSWORD", "root"),
        ("MAIL_PASSWORD", "summer2024"),
        ("SMTP_PASS", "letmein"),
        ("CLIENT_SECRET", "pineapple"),
        ("JWT_SECRET", "mysupersecret"),
        ("RABBITMQ_DEFAULT_PASS", "guest"),
        ("REDIS_PASSWORD_2", "hunter22"),
        ("dbPassword", "orders"),
        ("spring.datasource.password", "springboot"),
        ("SECRET_KEY_BASE", "railsbase"),
        ("STRIPE_API_KEY", "stripekey"),
    ];
    for (name, value) in medium {
        let d = scan_pair(name, value).unwrap_or_else(|| panic!("{name}={value} missed"));
        assert_eq!(
            (d.severity, d.kind),
            (Severity::Medium, HUMAN_VALUE),
            "{name}={value}"
        );
        assert!(!format!("{d:?}").contains(value), "{d:?}");
    }
    let high = [
        ("DB_PASSWORD", "P@ssw0rd!2024"),
        ("CLIENT_SECRET", "a8Fk2LmQ9zR4"),
    ];
    for (name, value) in high {
        let d = scan_pair(name, value).unwrap_or_else(|| panic!("{name}={value} missed"));
        assert_eq!(
            (d.severity, d.kind),
            (Severity::High, GENERATED_VALUE),
            "{name}={value}"
        );
    }
}

/// Issue 14, class 4: what a password-like name may hold without being a credential.
#[test]
fn not_passwords_under_password_names() {
    let cases = [
        ("DB_PASSWORD", "${DB_PASSWORD}"),
        ("DB_PASSWORD", "********"),
        ("DB_PASSWORD", "changeme"),
        ("DB_PASSWORD", "<db-password>"),
        ("DB_PASSWORD", "DB_PASSWORD"),
        ("DB_PASSWORD", "true"),
        ("DB_PASSWORD", "abc"),
        ("DB_PASSWORD", ""),
        (
            "DB_PASSWORD",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        ),
        ("DB_PASSWORD", "/run/secrets/db_password"),
        ("DB_PASSWORD", "ssm:/prod/db/password"),
        ("DB_PASSWORD", "see the wiki for this one"),
        ("SECRET_KEY", "your-staging-secret-key-123"),
        ("FLW_SECRET_KEY", "FLWSECK_TEST-your_secret_key_here-X"),
        ("API_TOKEN", "insert-token-here"),
        ("SMTP_PASSWORD", "ops@example.com"),
        ("TOKEN_ISSUER", "auth.example.com"),
        ("SECRET_BACKEND", "vault"),
        ("PASSWORD_POLICY", "strict"),
        ("TOKEN_AUDIENCE", "payments-api"),
        ("PASSWORD_RESET_URL", "https://example.com/reset"),
        ("SECRETS_BUCKET", "acme-prod-secrets"),
        ("NEXT_PUBLIC_STRIPE_KEY", "pk_live_51HqLyjWDarjtT1zdp7dc9x"),
        ("PUBLISHABLE_KEY", "Zx9Yw8Vu7Ts6Rq5Po4Nm"),
        ("PUBLIC_CLIENT_KEY", "a8Fk2LmQ9zR4"),
        ("SECRET_NAME", "prod/db/password"),
        ("AUTH_TOKEN", "Bearer"),
        ("JWT_SECRET_KEY", "HS256"),
        ("SIGNING_KEY", "RS256"),
        ("ENCRYPTION_KEY", "aes-256-gcm"),
        ("DB_SECRET", "myapp/prod/db"),
        ("RDS_SECRET", "rds!db-1a2b3c4d-5e6f"),
        ("DB_PASSWORD", "TO_BE_REPLACED"),
        ("DB_PASSWORD", "SET_ME"),
        ("DB_PASSWORD", "set-in-ssm"),
        ("DB_PASSWORD", "provided-at-runtime"),
        ("DB_PASSWORD", "unknown"),
        ("CLIENT_SECRET", "client-secret-goes-here"),
        ("DB_PASSWORD", "%MyAppDbPassword%"),
        ("DB_PASSWORD", "file:/run/secrets/db"),
        ("MQTT_PUBLIC_KEY", "a8Fk2LmQ9zR4xW"),
    ];
    for (name, value) in cases {
        assert_eq!(scan_pair(name, value), None, "{name}={value}");
    }
}

/// Review of issue 14: values that read as placeholders to a loose test but are passwords, and
/// names written without separators or with a digit attached.
#[test]
fn passwords_with_words_in_them_and_odd_names() {
    let cases = [
        ("DB_PASSWORD", "Sample!Tree9"),
        ("DB_PASSWORD", "HiddenValley42!"),
        ("DB_PASSWORD", "TodoList#2024"),
        ("MSSQL_SA_PASSWORD", "YourStrong!Passw0rd"),
        ("DB_PASSWORD", "SUPER_SECRET_PASS_2024"),
        ("DB_PASSWORD", "ROOT_PASS_2024"),
        ("DB_PASSWORD", "$uperS3cret"),
        ("DB_PASSWORD", "Xk9#mP2vL7qR4tW8${zB3nC6"),
        ("DB_PASSWORD", "123456"),
        ("DB_PASSWORD", "password"),
        ("DB_PASSWORD", "secret"),
        ("DB_PASSWORD2", "hunter22"),
        ("SMTP_PASSWORD1", "hunter22"),
        ("SECRET2", "Xk9#mP2vL7qR"),
        ("DBPASSWORD", "hunter22"),
        ("MQTT_PUB_PASSWORD", "hunter22"),
        (
            "JAVA_OPTS",
            "-Xmx512m -Dspring.datasource.password=hunter22",
        ),
        ("REDIS_ARGS", "--requirepass hunter22 --port 6379"),
        ("ARGS", "--password hunter22"),
        ("DATABASE_URL", "postgres://app:YourPassw0rd!@db/app"),
        ("DATABASE_URL", "app:hunter22@tcp(db:3306)/app"),
    ];
    for (name, value) in cases {
        assert!(scan_pair(name, value).is_some(), "{name}={value} missed");
    }
    for args in [
        vec![
            Some("chpst"),
            Some("-u"),
            Some("www-data:www-data"),
            Some("run"),
        ],
        vec![
            Some("docker"),
            Some("run"),
            Some("-u"),
            Some("1000:root"),
            Some("img"),
        ],
    ] {
        assert!(scan_command(&args).is_empty(), "{args:?}");
    }
    assert!(!scan_command(&[
        Some("curl"),
        Some("-u"),
        Some("ops:hunter22"),
        Some("http://x")
    ])
    .is_empty());
}

/// Issue 14, class 2: connection strings in every common form, placeholders skipped.
/// Azure's connection strings carry their key as `AccountKey=` (storage) or
/// `SharedAccessKey=` (Service Bus, Event Hubs); the storage emulator's key is published in
/// Microsoft's documentation and is no secret.
#[test]
fn azure_connection_string_keys() {
    let key =
        "q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow3Qp9Ls8Kr1Jt6Mh4Ng0Bf2Vd7Ce5Zx3Ay1Bz7Cx==";
    let storage = format!(
        "DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey={key};EndpointSuffix=core.windows.net"
    );
    let bus = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow=";
    // Azure reads a connection string's keys in any case: as written in lower and upper case.
    let lower = storage.replace("AccountKey=", "accountkey=");
    let upper = storage.replace("AccountKey=", "ACCOUNTKEY=");
    let bus_lower = bus.replace("SharedAccessKey=", "sharedaccesskey=");
    let bus_upper = bus.replace("SharedAccessKey=", "SHAREDACCESSKEY=");
    for (value, kind) in [
        (storage.as_str(), "Azure storage account key"),
        (bus, "Azure shared access key"),
        (lower.as_str(), "Azure storage account key"),
        (upper.as_str(), "Azure storage account key"),
        (bus_lower.as_str(), "Azure shared access key"),
        (bus_upper.as_str(), "Azure shared access key"),
    ] {
        let d = scan_pair("CONNECTION", value).unwrap_or_else(|| panic!("{kind}"));
        assert_eq!((d.kind, d.severity), (kind, Severity::Critical));
    }
    for benign in [
        // The emulator's (Azurite's) well-known account.
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://azurite:10000/devstoreaccount1;",
        "UseDevelopmentStorage=true",
        "DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey=<your-account-key>;",
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${SB_KEY}",
    ] {
        assert_eq!(scan_pair("CONNECTION", benign), None, "{benign}");
    }
}

/// A JSON object in a variable (`SPRING_APPLICATION_JSON`, an app's config blob) is read as
/// its members' names and values, at any depth: `"password": "…"` inside it is judged as a
/// variable of that name would be.
#[test]
fn a_json_object_in_a_value_is_read_by_its_members() {
    for (value, found) in [
        (
            r#"{"spring":{"datasource":{"url":"jdbc:postgresql://db/app","password":"Xk9vQ2mLr7Tz4wP8"}}}"#,
            Some(GENERATED_VALUE),
        ),
        (
            r#"{"db":{"user":"app","password":"hunter22"}}"#,
            Some(HUMAN_VALUE),
        ),
        (
            r#"[{"name":"api","token":"Xk9vQ2mLr7Tz4wP8Xk9vQ2mL"}]"#,
            Some(GENERATED_VALUE),
        ),
        (r#"{"db":{"user":"app","password":"${DB_PASSWORD}"}}"#, None),
        (
            r#"{"db":{"password":"<password>"},"port":5432,"debug":true}"#,
            None,
        ),
        (
            r#"{"logging":{"level":"info"},"server":{"port":8080}}"#,
            None,
        ),
        (r#"{"password": "unterminated"#, None),
    ] {
        assert_eq!(
            scan_pair("SPRING_APPLICATION_JSON", value).map(|d| d.kind),
            found,
            "{value}"
        );
    }
}

/// A UUID is an id, not a secret — except under a name that says the value is the token or
/// key itself: Splunk's HEC tokens (`splunk-token`), Consul's and Nomad's ACL tokens and
/// Heroku's API keys are UUIDs.
#[test]
fn a_uuid_under_a_token_name_is_the_token() {
    let uuid = "3f1c2a9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c";
    for name in [
        "splunk-token",
        "CONSUL_HTTP_TOKEN",
        "NOMAD_TOKEN",
        "HEROKU_API_KEY",
    ] {
        assert_eq!(
            scan_pair(name, uuid).map(|d| d.kind),
            Some(GENERATED_VALUE),
            "{name}"
        );
    }
    for name in [
        "SESSION_TOKEN_ID",
        "TENANT_ID",
        "REQUEST_NAMESPACE",
        "INSTANCE_UUID",
        "TOKEN_ISSUER",
    ] {
        assert_eq!(scan_pair(name, uuid), None, "{name}");
    }
    assert_eq!(
        scan_pair("splunk-token", "00000000-0000-0000-0000-000000000000"),
        None
    );
}

/// `PW` is a password's name too (`LDAP_BIND_PW`, `ADMIN_PW`).
#[test]
fn pw_names_a_password() {
    assert_eq!(
        scan_pair("LDAP_BIND_PW", "Xk9vQ2mLr7Tz4wP8").map(|d| d.kind),
        Some(GENERATED_VALUE)
    );
    assert_eq!(
        scan_pair("ADMIN_PW", "hunter22").map(|d| d.kind),
        Some(HUMAN_VALUE)
    );
    assert_eq!(scan_pair("PW_MIN_LENGTH", "12"), None);
}

#[test]
fn connection_strings() {
    let found = [
        "Server=db.internal;Database=orders;User Id=app;Password=Summer2024;",
        "Data Source=db;Initial Catalog=orders;User ID=sa;Pwd={p@ss;word}",
        "Driver={PostgreSQL};Server=db;Port=5432;Uid=app;Pwd=hunter22;",
        "jdbc:sqlserver://db:1433;databaseName=orders;user=sa;password=Summer2024",
        "jdbc:mysql://db:3306/orders?user=app&password=hunter22&useSSL=true",
        "jdbc:postgresql://db/orders?user=app&password=hunter22",
        "host=db port=5432 dbname=orders user=app password='hunter 22'",
        "host=db user=app password=hunter22 sslmode=require",
        "mongodb://app:hunter22@db-0.internal:27017,db-1.internal:27017/orders?replicaSet=rs0",
        "mongodb+srv://app:hunter22@cluster0.abcde.mongodb.net/orders",
        "redis://:hunter22@cache:6379/0",
        "rediss://default:hunter22@cache.example.com:6380",
        "amqp://app:hunter22@mq:5672/vhost",
        "postgresql://app:hunter22@db:5432/orders",
        "mysql://root:root@db/orders",
        "jdbc:mysql://app:hunter22@db/orders",
    ];
    for value in found {
        let d = scan_pair("ConnectionStrings__Default", value)
            .unwrap_or_else(|| panic!("missed {value}"));
        assert_eq!(d.severity, Severity::Critical, "{value}");
        assert!(
            d.kind == "password in a connection string" || d.kind == "password in a URL",
            "{value}: {}",
            d.kind
        );
        assert!(!format!("{d:?}").contains("hunter"), "{d:?}");
    }
    let placeholders = [
        "Server=db;Database=orders;User Id=app;Password=${DB_PASSWORD};",
        "Server=db;Database=orders;User Id=app;Password=<password>;",
        "Server=db;Database=orders;User Id=app;Password=****;",
        "Server=db;Database=orders;Trusted_Connection=True;",
        "jdbc:postgresql://db/orders?user=app&password=${DB_PASSWORD}",
        "host=db user=app password=changeme",
        "postgresql://user:DATABASE_PASSWORD@DATABASE_ENDPOINT/db",
        "postgres://app:${DB_PASSWORD}@db/app",
        "redis://cache:6379/0",
        "https://user:your-password@example.com",
        "mongodb://USERNAME:PASSWORD@HOST:27017/db",
        "password=hunter22",
    ];
    for value in placeholders {
        assert_eq!(
            scan_pair("ConnectionStrings__Default", value),
            None,
            "{value}"
        );
    }
}

/// Issue 14, class 4: values the entropy rule must leave alone.
#[test]
fn entropy_look_alikes() {
    for value in [
        "acme-payments-prod-assets-20231105-a1b2c3d4",
        "my-company-terraform-state-eu-west-1-7f3a9c2e",
        "logs.acme-prod.eu-west-1.example.com",
        "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    ] {
        assert_eq!(scan_pair("ASSETS", value), None, "{value}");
        assert_eq!(scan_value(value), None, "{value}");
    }
}

/// Values each provider format finds (random, in the format; none is a live credential): one
/// at least, and one for each spelling its keywords allow. A format added to `PROVIDERS`
/// without an example here fails the prefilter's test.
const PROVIDER_EXAMPLES: &[(&str, &str)] = &[
    (
        "Azure storage account key",
        "AccountName=a;AccountKey=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow3Qp9Ls8Kr1Jt6Mh4Ng0Bf2Vd7Ce5Zx3Ay1Bz7Cx==",
    ),
    (
        "Azure shared access key",
        "SharedAccessKeyName=r;SharedAccessKey=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow=",
    ),
    // Each spelling of a key's name is a keyword of its own.
    (
        "Azure storage account key",
        "accountname=a;accountkey=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow3Qp9Ls8Kr1Jt6Mh4Ng0Bf2Vd7Ce5Zx3Ay1Bz7Cx==",
    ),
    (
        "Azure storage account key",
        "ACCOUNTNAME=A;ACCOUNTKEY=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow3Qp9Ls8Kr1Jt6Mh4Ng0Bf2Vd7Ce5Zx3Ay1Bz7Cx==",
    ),
    (
        "Azure shared access key",
        "sharedaccesskeyname=r;sharedaccesskey=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow=",
    ),
    (
        "Azure shared access key",
        "SHAREDACCESSKEYNAME=R;SHAREDACCESSKEY=q3Vx9Lk2Pz7Rt5Wm8Nb4Hj6Gf1Ds0Ae+Yc2Xu7Iv5Ow=",
    ),
    ("AWS access key id", "AKIA2OGYBAH6STMMNXNN"),
    ("AWS access key id", "ASIA2OGYBAH6STMMNXNN"),
    ("GitHub token", "ghp_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u"),
    ("GitHub token", "gho_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u"),
    ("GitHub token", "ghu_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u"),
    ("GitHub token", "ghs_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u"),
    ("GitHub token", "ghr_R8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2aE8u"),
    (
        "GitHub token",
        "github_pat_11AB2CD3E0R8x2Lq9ZtY4mN7_vB1cK6pW3sD5fH0jG2aE8uR8x2Lq9ZtY4mN7vB1cK6pW3sD5fH0jG2a",
    ),
    ("GitLab token", "glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm"),
    (
        "Slack token",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "Slack webhook URL",
        "https://hooks.slack.com/services/T0ABC1234/B0DEF5678/Zx9Yw8Vu7Ts6Rq5Po4Nm",
    ),
    ("Stripe secret key", "rk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("Stripe secret key", "sk_test_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh"),
    (
        "SendGrid API key",
        "SG.Zx9Yw8Vu7Ts6Rq5Po4Nm.Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv",
    ),
    ("Twilio API key", "SK0123456789abcdef0123456789abcdef"),
    ("npm token", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("Docker access token", "dckr_pat_Zx9Yw8Vu7Ts6Rq5Po4Nm3L"),
    ("Google API key", "AIzaSyZx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed9"),
    (
        "PEM private key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
    ),
];

/// Replaces every keyword in `text` with as many `#`.
fn without_keywords(text: &str, keywords: &[&str]) -> String {
    keywords
        .iter()
        .fold(text.to_owned(), |t, k| t.replace(k, &"#".repeat(k.len())))
}

#[test]
fn the_prefilter_lets_every_format_through_and_its_keywords_are_necessary() {
    use super::commands::{DSN_KEYWORDS, GO_DSN};
    use super::providers::{JWT_KEYWORDS, URL_KEYWORDS};
    // One bit per provider in the prefilter's set.
    assert!(PROVIDERS.len() <= 29, "widen prefilter::Families");
    for p in PROVIDERS.iter() {
        let examples: Vec<&str> = PROVIDER_EXAMPLES
            .iter()
            .filter(|(k, _)| *k == p.kind)
            .map(|(_, e)| *e)
            .collect();
        assert!(
            !examples.is_empty(),
            "{}: no example in PROVIDER_EXAMPLES",
            p.kind
        );
        assert!(!p.keywords.is_empty(), "{}: no prefilter keyword", p.kind);
        // Each keyword is some example's: none is there for nothing.
        for k in p.keywords {
            assert!(
                examples.iter().any(|e| e.contains(k)),
                "{}: no example holds {k}",
                p.kind
            );
        }
        for example in examples {
            assert!(
                p.re.is_match(example),
                "{}: the example does not match",
                p.kind
            );
            // Through the prefilter, the detector finds it.
            assert_eq!(
                provider_format(example).map(|d| d.kind),
                Some(p.kind),
                "{}",
                p.kind
            );
            // Without its keywords the pattern cannot match: they are necessary.
            let stripped = without_keywords(example, p.keywords);
            assert!(!p.re.is_match(&stripped), "{}: {stripped}", p.kind);
        }
    }
    let others: [(&str, &Regex, &[&str], &str); 3] = [
        (
            "JSON Web Token",
            &JWT,
            JWT_KEYWORDS,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
        (
            "password in a URL",
            &URL_PASSWORD,
            URL_KEYWORDS,
            "redis://:S3cr3tPass@cache:6379/0",
        ),
        (
            "password in a connection string",
            &GO_DSN,
            DSN_KEYWORDS,
            "app:Zx9Yw8Vu7Ts6@tcp(db:3306)/app",
        ),
    ];
    for (kind, re, keywords, example) in others {
        assert!(re.is_match(example), "{kind}");
        assert_eq!(provider_format(example).map(|d| d.kind), Some(kind));
        let stripped = without_keywords(example, keywords);
        assert!(!re.is_match(&stripped), "{kind}: {stripped}");
    }
}

/// The URL pattern alone, as `url_password` read before it looked for an `@` first.
fn url_password_by_pattern(text: &str) -> Option<&str> {
    URL_PASSWORD
        .captures_iter(text)
        .filter_map(|c| c.get(2))
        .map(|m| m.as_str())
        .find(|p| !crate::placeholder::placeholder(p))
}

#[test]
fn a_url_without_an_at_sign_is_not_searched_and_no_answer_changes() {
    let fixed = [
        "redis://:p4ssw0rdX@h",
        "postgres://app:Zx9Yw8Vu7Ts6@db:5432/app",
        "amqp://guest:changeme@mq",
        "https://user@host/path",
        "x://u:p@",
        "a@b",
        "https://api.internal.example.com/v2",
        "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
        "mongodb+srv://u:Pa55w0rdQ@c.example.net/?retryWrites=true",
        "",
    ];
    let corpus = corpus::generate(2026, 4);
    for text in fixed
        .iter()
        .copied()
        .chain(corpus.iter().map(|s| s.value.as_str()))
    {
        assert_eq!(
            super::providers::url_password(text),
            url_password_by_pattern(text),
            "{text:?}"
        );
    }
    assert!(super::providers::url_password(fixed[1]).is_some());
}

/// Values with and without the prefilter: the same detection.
fn same_with_and_without_the_prefilter(value: &str) {
    assert_eq!(
        provider_format(value),
        provider_format_in(value, super::prefilter::Families::ALL),
        "{value:?}"
    );
}

#[test]
fn the_prefilter_changes_no_detection_on_the_corpus() {
    for s in corpus::generate(2026, 4) {
        same_with_and_without_the_prefilter(&s.value);
    }
    for (_, example) in PROVIDER_EXAMPLES {
        same_with_and_without_the_prefilter(example);
        same_with_and_without_the_prefilter(&format!("x={example};Password=Zx9Yw8Vu"));
    }
}

mod prefilter_property {
    use proptest::prelude::*;

    use super::same_with_and_without_the_prefilter;

    /// Pieces of tokens, keywords, separators and connection-string syntax, in any order.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "AKIA",
                "ASIA",
                "ghp_",
                "github_pat_",
                "glpat-",
                "xoxb-",
                "sk_live_",
                "rk_test_",
                "SG.",
                "SK",
                "npm_",
                "dckr_pat_",
                "AIza",
                "-----BEGIN ",
                "PRIVATE KEY-----",
                "eyJ",
                "://",
                "@tcp(",
                "@unix(",
                "hooks.slack.com/services/T",
                "/B",
                "Password=",
                "pwd=",
                "PWD = ",
                "Server=db;",
                "user:",
                "@",
                ":",
                ";",
                " ",
                ".",
                "-",
                "_",
                "/",
                "=",
                "?",
                "&",
                "jdbc:",
                "EXAMPLE",
                "ſ",
                "K",
            ])
            .prop_map(str::to_owned),
            "[A-Za-z0-9]{1,40}",
            "[0-9a-f]{32}",
            "[A-Z2-7]{16}",
        ]
    }

    /// Pieces of URLs with and without user info.
    fn url_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "https://",
                "redis://",
                "x+y.z-1://",
                "://",
                ":",
                "@",
                "/",
                " ",
                "?",
                "#",
                "user",
                "Zx9Yw8Vu7Ts6",
                "changeme",
                "${PASS}",
                "host",
                ":6379",
                "%40",
            ])
            .prop_map(str::to_owned),
            "[A-Za-z0-9]{1,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn the_prefilter_changes_no_detection(pieces in prop::collection::vec(piece(), 0..8)) {
            same_with_and_without_the_prefilter(&pieces.concat());
        }

        /// Looking for an `@` before the URL pattern changes no answer (on URL-shaped text,
        /// where the pattern does match).
        #[test]
        fn a_url_password_is_found_as_by_the_pattern_alone(pieces in prop::collection::vec(url_piece(), 0..10)) {
            let text = pieces.concat();
            prop_assert_eq!(
                super::super::providers::url_password(&text),
                super::url_password_by_pattern(&text),
                "{:?}", text
            );
        }

        /// The length check before the secret key's pattern turns away no value the pattern
        /// matches.
        #[test]
        fn every_secret_key_has_the_length_checked_first(
            pad in "[ \t\n]{0,2}", key in "[A-Za-z0-9/+]{38,42}", tail in "[ \t\n]{0,2}"
        ) {
            let value = format!("{pad}{key}{tail}");
            if super::super::providers::AWS_SECRET_KEY.is_match(value.trim()) {
                prop_assert!(super::super::may_be_aws_secret_key(&value), "{:?}", value);
            }
        }

        /// The one-pass look for an access key id's prefix answers as the two substring
        /// searches it replaced.
        #[test]
        fn the_key_id_prefix_check_is_the_substring_search(pieces in prop::collection::vec(piece(), 0..8)) {
            let text = pieces.concat();
            prop_assert_eq!(
                super::super::key_id_prefix(&text),
                text.contains("AKIA") || text.contains("ASIA"),
                "{:?}", text
            );
        }
    }
}

/// Allocations counted per thread, for [`checking_ordinary_values_allocates_nothing`]: the
/// test binary's allocator is the system's, with a count.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) struct Counting;

    // Test-only: the one way to observe allocations is to be the allocator.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
            // SAFETY: the caller's contract for `alloc` is passed on unchanged.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` above with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    /// Allocations made on this thread by `f`.
    pub(super) fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
        let before = ALLOCATIONS.with(Cell::get);
        let out = f();
        (ALLOCATIONS.with(Cell::get) - before, out)
    }
}

/// The issue's "no per-value allocation on the hot path": once a name has been seen (and the
/// patterns built), checking an ordinary setting allocates nothing. Look-alikes (example keys,
/// placeholders, base64 blobs) are rarer and are looked at more closely, which may allocate.
#[test]
fn checking_ordinary_values_allocates_nothing() {
    let extra = [
        ("JAVA_OPTS", "-Xmx512m -XX:+UseG1GC -Dfile.encoding=UTF-8"),
        ("TZ", "Europe/Berlin"),
        ("GIT_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"),
        ("REQUEST_ID_HEADER", "X-Request-Id"),
        ("TENANT_ID", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        ("BUCKET", "my-app-assets-eu-west-1"),
        (
            "SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf",
        ),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("JWT_ISSUER", "https://auth.example.com/"),
        ("SPRING_PROFILES_ACTIVE", "prod,metrics"),
        ("MAX_CONNECTIONS", "100"),
        ("IMAGE", "public.ecr.aws/nginx/nginx:1.27"),
    ];
    let pairs = corpus::ORDINARY.iter().chain(&extra).copied();
    let mut allocating = Vec::new();
    for (name, value) in pairs {
        let (_, first) = counting::allocations(|| scan_pair(name, value));
        assert!(first.is_none(), "{name} is an ordinary setting");
        let (count, _) = counting::allocations(|| scan_pair(name, value));
        if count > 0 {
            allocating.push(format!("{name}={value}: {count}"));
        }
    }
    assert!(
        allocating.is_empty(),
        "{} allocate:\n{}",
        allocating.len(),
        allocating.join("\n")
    );
    // The count sees allocations: a finding's evidence is one.
    let (count, found) = counting::allocations(|| scan_pair("DB_PASSWORD", "hunter2-Xq9#vL"));
    assert!(found.is_some() && count > 0, "{count}");
}

/// sshpass reads its options as `getopt` does: its password may be glued to `-p`
/// (`sshpass -pS3cret`, `sshpass -p'S3cret'`), judged as the word after `-p` is. Only its own
/// flags: the command it runs keeps its own (`ssh -p2222` is a port), and a value that ends in
/// a letter of its flags is still the value.
#[test]
fn a_password_glued_to_sshpass_p() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    for (args, expected) in [
        (
            &["sh", "-c", "sshpass -pXk9vQ2mLr7Tz4wP8 ssh user@host"][..],
            vec![(2, FLAG_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "sshpass -p'Xk9vQ2mLr7Tz4wP8' ssh -o BatchMode=no user@host",
            ],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "sshpass '-pXk9vQ2mLr7Tz4wP8' ssh user@host"],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sshpass", "-pXk9vQ2mLr7Tz4wP8", "ssh", "host"],
            vec![(1, FLAG_KIND)],
        ),
        // A value that ends in a letter that is one of its flags (`-P`) is still the value:
        // `ssh` after it is the command, and its `-p 2222` a port.
        (
            &["sh", "-c", "sshpass -pXk9vQ2mLr7Tz4wP ssh -p 2222 host"],
            vec![(2, FLAG_KIND)],
        ),
        // Computed, a placeholder, or not sshpass's.
        (&["sh", "-c", "sshpass -p\"$SSHPASS\" ssh host"], vec![]),
        (&["sh", "-c", "sshpass \"-p$SSHPASS\" ssh host"], vec![]),
        (&["sh", "-c", "sshpass -p'<password>' ssh host"], vec![]),
        (&["sh", "-c", "sshpass -e ssh -p2222 host"], vec![]),
        (
            &["sh", "-c", "sshpass -Ppassword: -f /run/pw ssh host"],
            vec![],
        ),
        (
            &["sh", "-c", "sshpass -f /run/pw ssh -pXk9vQ2mLr7Tz4wP8 h"],
            vec![],
        ),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
}

/// A shell's `-c` command line inside another's (`sh -c "… bash -c '…' …"`) ends at its own
/// quote, and the outer one goes on to its own: what follows is read, where the inner quote
/// used to replace the outer and the rest of the script read as one quoted string. After a
/// `-c` command line closes, the words that follow are the shell's own arguments (`$0` …),
/// not its program's: a user name after `mongosh -p'` is no password.
#[test]
fn nested_command_lines_end_where_their_quotes_do() {
    const FLAG_KIND: &str = "credential-like flag with a generated value";
    for (args, expected) in [
        (
            &[
                "bash",
                "-c",
                "set -e; sh -c \"bash -c 'initdb'\"; mysql -uroot -pXk9vQ2mLr7Tz4wP8 app",
            ][..],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "sh -c \"sh -c 'mkdir -p /x'\" && redis-cli -a Xk9vQ2mLr7Tz4wP8 ping",
            ],
            vec![(2, FLAG_KIND)],
        ),
        (
            &["sh", "-c", "sh -c \"bash -c 'mysql -pXk9vQ2mLr7Tz4wP8'\""],
            vec![(2, MYSQL_KIND)],
        ),
        (
            &[
                "sh",
                "-c",
                "sh -c 'mysql -uroot -pXk9vQ2mLr7Tz4wP8' && echo ok",
            ],
            vec![(2, MYSQL_KIND)],
        ),
        (&["sh", "-c", "sh -c 'mongosh -u root -p' admin"], vec![]),
        (
            &[
                "sh",
                "-c",
                "bash -c \"sh -c 'mongosh -u root -p' admin\" mongodb",
            ],
            vec![],
        ),
        (&["sh", "-c", "sh -c 'redis-cli -a' redis"], vec![]),
        // A single quote put into a single-quoted command line as shells do (`'"'"'`): the
        // word goes on, and so does its command.
        (
            &[
                "sh",
                "-c",
                "sshpass -e sh -c 'exec mariadb-dump -u app -p'\"'\"'Xk9vQ2mLr7Tz4wP8'\"'\"' app'",
            ],
            vec![(2, MYSQL_KIND)],
        ),
    ] {
        assert_eq!(command_kinds(args), expected, "{args:?}");
    }
}
