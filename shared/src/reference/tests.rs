use super::*;
use crate::error::{NameError, ReferenceErrorKind as K};

const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret";
const UUID: &str = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE";

fn ctx() -> TaskContext {
    TaskContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    }
}

fn secret(s: &str) -> SecretArn {
    SecretArn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn sm(r: &SecretReference) -> &SecretsManagerReference {
    match r {
        SecretReference::SecretsManager(s) => s,
        other => panic!("not a Secrets Manager reference: {other:?}"),
    }
}

#[test]
fn valid_secrets_manager_references() {
    // (input, full ARN?, json key, tracks)
    let cases: Vec<(String, bool, Option<&str>, Tracks)> = vec![
        (format!("{SM}:db-AbC123"), true, None, Tracks::Current),
        (format!("{SM}:db"), false, None, Tracks::Current),
        (
            format!("{SM}:prod/app/db-AbC123"),
            true,
            None,
            Tracks::Current,
        ),
        (format!("{SM}:db-AbC123:::"), true, None, Tracks::Current),
        (
            format!("{SM}:db-AbC123:password::"),
            true,
            Some("password"),
            Tracks::Current,
        ),
        (
            format!("{SM}:db-AbC123::AWSCURRENT:"),
            true,
            None,
            Tracks::Current,
        ),
        (
            format!("{SM}:db-AbC123::AWSPREVIOUS:"),
            true,
            None,
            Tracks::Previous,
        ),
        (
            format!("{SM}:db-AbC123:username:AWSPREVIOUS:"),
            true,
            Some("username"),
            Tracks::Previous,
        ),
        (
            format!("{SM}:db-AbC123::blue:"),
            true,
            None,
            Tracks::Label("blue".into()),
        ),
        (
            format!("{SM}:db-AbC123::AWSPENDING:"),
            true,
            None,
            Tracks::Label("AWSPENDING".into()),
        ),
        (
            format!("{SM}:db-AbC123:::{UUID}"),
            true,
            None,
            Tracks::Pinned(UUID.into()),
        ),
        (
            format!("{SM}:db:host::{UUID}"),
            false,
            Some("host"),
            Tracks::Pinned(UUID.into()),
        ),
        (
            format!("{SM}:db-AbC123:::{}", "a".repeat(32)),
            true,
            None,
            Tracks::Pinned("a".repeat(32)),
        ),
        (
            format!("{SM}:db-AbC123:::{}", "b".repeat(64)),
            true,
            None,
            Tracks::Pinned("b".repeat(64)),
        ),
        (
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x-AbC123".into(),
            true,
            None,
            Tracks::Current,
        ),
    ];
    for (input, full, key, tracks) in cases {
        for location in [Location::ContainerSecret, Location::LogSecretOption] {
            let r =
                SecretReference::parse(&input, location).unwrap_or_else(|e| panic!("{input}: {e}"));
            let s = sm(&r);
            match &s.secret {
                SecretTarget::Arn(a) => assert_eq!(a.is_full(), full, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
            assert_eq!(s.json_key.as_deref(), key, "{input}");
            assert_eq!(r.tracks(), tracks, "{input}");
            // Display is canonical: `:::` with nothing in it is the same as no selectors.
            let again = SecretReference::parse(&r.to_string(), location).unwrap();
            assert_eq!(again, r, "{input} round trip via {r}");
        }
    }
}

#[test]
fn valid_parameter_references() {
    let cases: Vec<(&str, &str, bool, Tracks)> = vec![
        (
            "/app/db/password",
            "/app/db/password",
            false,
            Tracks::Current,
        ),
        ("app-password", "app-password", false, Tracks::Current),
        ("my.param_v2", "my.param_v2", false, Tracks::Current),
        (
            "/aws/reference/secretsmanager/db",
            "/aws/reference/secretsmanager/db",
            false,
            Tracks::Current,
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/app/db",
            "/app/db",
            true,
            Tracks::Current,
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/flat",
            "flat",
            true,
            Tracks::Current,
        ),
    ];
    for (input, name, is_arn, tracks) in cases {
        let r = SecretReference::parse(input, Location::ContainerSecret)
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        let SecretReference::Parameter(p) = &r else {
            panic!("{input}: {r:?}")
        };
        assert_eq!(p.name, name, "{input}");
        assert_eq!(p.arn.is_some(), is_arn, "{input}");
        assert_eq!(r.tracks(), tracks, "{input}");
        assert_eq!(r.to_string(), input, "{input}");
    }
}

#[test]
fn repository_credentials() {
    let full = SecretReference::parse(
        &format!("{SM}:dockerhub-AbC123"),
        Location::RepositoryCredentials,
    )
    .unwrap();
    assert!(matches!(sm(&full).secret, SecretTarget::Arn(_)));
    let by_name = SecretReference::parse("dockerhub", Location::RepositoryCredentials).unwrap();
    assert_eq!(sm(&by_name).secret, SecretTarget::Name("dockerhub".into()));

    let cases = [
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/x".to_string(),
            K::NotASecret,
        ),
        (
            format!("{SM}:dockerhub-AbC123:user::"),
            K::SelectorsNotAllowed,
        ),
        (format!("{SM}:dockerhub-AbC123:::"), K::SelectorsNotAllowed),
        (
            "docker hub".to_string(),
            K::Name(NameError::SecretNameCharacter(7)),
        ),
        (String::new(), K::Empty),
    ];
    for (input, kind) in cases {
        let err = SecretReference::parse(&input, Location::RepositoryCredentials).unwrap_err();
        assert_eq!(err.kind, kind, "{input}");
    }
}

#[test]
fn malformed_references_each_say_what_is_wrong() {
    let long_stage = "s".repeat(257);
    let cases: Vec<(String, K, &str)> = vec![
        (String::new(), K::Empty, "empty"),
        (
            "arn:aws:secretsmanager".into(),
            K::Arn(crate::ArnError::TooFewParts(3)),
            "6 colon-separated parts",
        ),
        (
            format!("{SM}:db-AbC123:password"),
            K::PartCount { colons: 1 },
            "found 1 colon",
        ),
        (
            format!("{SM}:db-AbC123:password:AWSCURRENT"),
            K::PartCount { colons: 2 },
            "exactly three",
        ),
        (
            format!("{SM}:db-AbC123:a:b:c:d"),
            K::PartCount { colons: 4 },
            "found 4",
        ),
        (
            format!("{SM}:db-AbC123::AWSCURRENT:{UUID}"),
            K::StageAndVersionId,
            "mutually exclusive",
        ),
        (
            format!("{SM}:db-AbC123:::{}", "a".repeat(31)),
            K::VersionIdLength(31),
            "32 to 64",
        ),
        (
            format!("{SM}:db-AbC123:::{}", "a".repeat(65)),
            K::VersionIdLength(65),
            "65 characters",
        ),
        (
            format!("{SM}:db-AbC123::{long_stage}:"),
            K::StageTooLong(257),
            "maximum is 256",
        ),
        (
            format!("{SM}:"),
            K::Name(NameError::EmptySecretName),
            "name is empty",
        ),
        (
            format!("{SM}::key::"),
            K::Name(NameError::EmptySecretName),
            "name is empty",
        ),
        (
            format!("{SM}:my*secret"),
            K::Name(NameError::SecretNameCharacter(3)),
            "position 3",
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:key/abc".into(),
            K::Arn(crate::ArnError::WrongResourceType {
                expected: "secret:",
            }),
            "secret:",
        ),
        (
            "arn:aws:secretsmanager::123456789012:secret:db".into(),
            K::Arn(crate::ArnError::MissingRegion("secretsmanager")),
            "regional",
        ),
        (
            "arn:aws:secretsmanager:us-east-1::secret:db".into(),
            K::Arn(crate::ArnError::InvalidAccount(String::new())),
            "12-digit",
        ),
        (
            "arn:aws:secretsmanager:us-east-1:1234:secret:db".into(),
            K::Arn(crate::ArnError::InvalidAccount("1234".into())),
            "`1234`",
        ),
        (
            "arn:aws:secretsmanager:useast1:123456789012:secret:db".into(),
            K::Arn(crate::ArnError::InvalidRegion("useast1".into())),
            "region `useast1`",
        ),
        (
            "arn:aws:s3:::bucket/key".into(),
            K::UnsupportedService("s3".into()),
            "service `s3`",
        ),
        (
            "arn:aws:kms:us-east-1:123456789012:key/x".into(),
            K::UnsupportedService("kms".into()),
            "kms",
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:document/x".into(),
            K::Arn(crate::ArnError::WrongResourceType {
                expected: "parameter/",
            }),
            "parameter/",
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/".into(),
            K::Name(NameError::ParameterEmptySegment),
            "empty path segment",
        ),
        (
            "arn:aws:ssm::123456789012:parameter/x".into(),
            K::Arn(crate::ArnError::MissingRegion("ssm")),
            "regional",
        ),
        (
            "app/db".into(),
            K::Name(NameError::ParameterHierarchyWithoutSlash),
            "starts with `/`",
        ),
        (
            "/app//db".into(),
            K::Name(NameError::ParameterEmptySegment),
            "empty path segment",
        ),
        (
            "/app/db/".into(),
            K::Name(NameError::ParameterEmptySegment),
            "trailing",
        ),
        (
            format!("/{}", vec!["a"; 16].join("/")),
            K::Name(NameError::ParameterTooDeep(16)),
            "maximum is 15",
        ),
        (
            "awsdb".into(),
            K::Name(NameError::ParameterReservedPrefix),
            "reserved",
        ),
        (
            "SSM-param".into(),
            K::Name(NameError::ParameterReservedPrefix),
            "reserved",
        ),
        (
            "/ssm/x".into(),
            K::Name(NameError::ParameterReservedPrefix),
            "reserved",
        ),
        (
            "my param".into(),
            K::Name(NameError::ParameterNameCharacter(3)),
            "position 3",
        ),
        (
            "/app/db:3".into(),
            K::Name(NameError::ParameterSelector(8)),
            "does not accept SSM version or label selectors",
        ),
        (
            "/app/db:live".into(),
            K::Name(NameError::ParameterSelector(8)),
            "by name or ARN",
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/app/db:7".into(),
            K::Name(NameError::ParameterSelector(8)),
            "position 8",
        ),
        (
            format!("/{}", "p".repeat(2048)),
            K::Name(NameError::ParameterNameTooLong(2049)),
            "2048",
        ),
        (
            "secret:db".into(),
            K::Name(NameError::ParameterSelector(7)),
            "position 7",
        ),
    ];
    for (input, kind, needle) in cases {
        let err = SecretReference::parse(&input, Location::ContainerSecret).expect_err(&input);
        assert_eq!(err.kind, kind, "{input}");
        let message = err.to_string();
        assert!(
            message.contains(needle),
            "{input}: message {message:?} lacks {needle:?}"
        );
    }
}

#[test]
fn errors_never_repeat_input_that_is_not_an_arn() {
    for input in [
        "hunter2 is my password",
        "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI",
        "p@ss:word",
        "ssm-hunter2",
    ] {
        let err = SecretReference::parse(input, Location::ContainerSecret).unwrap_err();
        let message = err.to_string();
        assert!(
            !message.contains("hunter2") && !message.contains("AKIA") && !message.contains("p@ss"),
            "{message}"
        );
        assert!(message.contains("characters, not shown"), "{message}");
    }
    let err = SecretReference::parse(&format!("{SM}:db:x"), Location::ContainerSecret).unwrap_err();
    assert!(err.to_string().contains(&format!("`{SM}:db:x`")), "{err}");
}

#[test]
fn matching_secrets() {
    let target = secret(&format!("{SM}:prod/db-AbC123"));
    let cases: Vec<(String, Location, Option<Match>)> = vec![
        (
            format!("{SM}:prod/db-AbC123"),
            Location::ContainerSecret,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Current,
            }),
        ),
        (
            format!("{SM}:prod/db"),
            Location::ContainerSecret,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Current,
            }),
        ),
        (
            format!("{SM}:prod/db-AbC123:password::"),
            Location::LogSecretOption,
            Some(Match {
                part: Part::JsonKey("password".into()),
                tracks: Tracks::Current,
            }),
        ),
        (
            format!("{SM}:prod/db:password:AWSPREVIOUS:"),
            Location::ContainerSecret,
            Some(Match {
                part: Part::JsonKey("password".into()),
                tracks: Tracks::Previous,
            }),
        ),
        (
            format!("{SM}:prod/db-AbC123:::{UUID}"),
            Location::ContainerSecret,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Pinned(UUID.into()),
            }),
        ),
        (
            "prod/db".into(),
            Location::RepositoryCredentials,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Current,
            }),
        ),
        (
            "prod/db-AbC123".into(),
            Location::RepositoryCredentials,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Current,
            }),
        ),
        (
            "/aws/reference/secretsmanager/prod/db".into(),
            Location::ContainerSecret,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Current,
            }),
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/prod/db"
                .into(),
            Location::ContainerSecret,
            Some(Match {
                part: Part::WholeValue,
                tracks: Tracks::Current,
            }),
        ),
        // Misses.
        (
            format!("{SM}:prod/db-XyZ789"),
            Location::ContainerSecret,
            None,
        ),
        (format!("{SM}:prod/db2"), Location::ContainerSecret, None),
        (format!("{SM}:prod"), Location::ContainerSecret, None),
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db".into(),
            Location::ContainerSecret,
            None,
        ),
        (
            "arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/db".into(),
            Location::ContainerSecret,
            None,
        ),
        ("/prod/db".into(), Location::ContainerSecret, None), // an SSM parameter, not the secret
        (
            "/aws/reference/secretsmanager/prod/db2".into(),
            Location::ContainerSecret,
            None,
        ),
        ("other".into(), Location::RepositoryCredentials, None),
    ];
    for (input, location, expected) in cases {
        let r = SecretReference::parse(&input, location).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(r.matches_secret(&target, &ctx()), expected, "{input}");
    }
    // A bare name resolves in the task's region: a task elsewhere does not read this secret.
    let elsewhere = TaskContext {
        region: "eu-west-1".into(),
        ..ctx()
    };
    let by_name = SecretReference::parse("prod/db", Location::RepositoryCredentials).unwrap();
    assert_eq!(by_name.matches_secret(&target, &elsewhere), None);
}

#[test]
fn matching_parameters() {
    let param = ParameterArn::parse("arn:aws:ssm:us-east-1:123456789012:parameter/app/db").unwrap();
    let current = Some(Match {
        part: Part::WholeValue,
        tracks: Tracks::Current,
    });
    let cases: Vec<(&str, Option<Match>)> = vec![
        ("/app/db", current.clone()),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/app/db",
            current.clone(),
        ),
        ("/app/db2", None),
        ("/app", None),
        ("app/db".trim_start_matches('x'), None),
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db", None),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db",
            None,
        ),
    ];
    for (input, expected) in cases {
        let Ok(r) = SecretReference::parse(input, Location::ContainerSecret) else {
            assert!(expected.is_none(), "{input}");
            continue;
        };
        assert_eq!(r.matches_parameter(&param, &ctx()), expected, "{input}");
    }
    let elsewhere = TaskContext {
        region: "eu-west-1".into(),
        ..ctx()
    };
    let by_name = SecretReference::parse("/app/db", Location::ContainerSecret).unwrap();
    assert_eq!(by_name.matches_parameter(&param, &elsewhere), None);
}

#[test]
fn which_label_moves_reach_a_reference() {
    assert!(Tracks::Current.follows_label("AWSCURRENT"));
    assert!(Tracks::Previous.follows_label("AWSCURRENT"));
    assert!(!Tracks::Current.follows_label("AWSPENDING"));
    assert!(!Tracks::Current.follows_label("blue"));
    assert!(Tracks::Label("blue".into()).follows_label("blue"));
    assert!(!Tracks::Label("blue".into()).follows_label("AWSCURRENT"));
    assert!(!Tracks::Pinned(UUID.into()).follows_label("AWSCURRENT"));
    assert!(Tracks::Pinned(UUID.into()).is_pinned());
}

/// Issue 13: service-managed names (`rds!…`, `redshift!…`, `events!…`) in every reference form;
/// user-chosen names with `!` are still refused with the existing message.
#[test]
fn service_managed_secret_names() {
    let task = TaskContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let name = "rds!cluster-7c1e2f3a-9b8d-4e6f-a5c4-3b2a1d0e9f8c";
    let full = secret(&format!("{SM}:{name}-AbCdEf"));
    assert_eq!(full.name, name);
    assert!(full.is_full());
    assert_eq!(full.managed_by().map(|m| m.master_credential), Some(true));
    for (reference, part, tracks) in [
        (
            format!("{SM}:{name}-AbCdEf"),
            Part::WholeValue,
            Tracks::Current,
        ),
        (format!("{SM}:{name}"), Part::WholeValue, Tracks::Current),
        (
            format!("{SM}:{name}-AbCdEf:password::"),
            Part::JsonKey("password".into()),
            Tracks::Current,
        ),
        (
            format!("{SM}:{name}:username:AWSPREVIOUS:"),
            Part::JsonKey("username".into()),
            Tracks::Previous,
        ),
    ] {
        let parsed = SecretReference::parse(&reference, Location::ContainerSecret)
            .unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(
            parsed.matches_secret(&full, &task),
            Some(Match { part, tracks }),
            "{reference}"
        );
        assert_eq!(parsed.to_string(), reference);
    }
    // By name, where a name is allowed.
    let by_name = SecretReference::parse(name, Location::RepositoryCredentials).unwrap();
    assert!(by_name.matches_secret(&full, &task).is_some());
    for other in [
        format!("{SM}:redshift!my-cluster-admin-AbC123"),
        format!("{SM}:events!connection/orders-api/9b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-QwErTy"),
    ] {
        assert!(SecretArn::parse(&other).is_ok(), "{other}");
    }
    // Not a known service, or nothing after the `!`: a user-chosen name, with the old message.
    for (bad, position) in [
        (format!("{SM}:my!secret"), 3),
        (format!("{SM}:rds!"), 4),
        (format!("{SM}:rds!db-1!x"), 9),
    ] {
        let e = SecretArn::parse(&bad).unwrap_err();
        assert_eq!(
            e,
            crate::ArnError::Name(NameError::SecretNameCharacter(position)),
            "{bad}"
        );
        assert!(e.to_string().contains("not allowed"), "{e}");
    }
}

/// Second review of issue 13: the SSM path to a managed secret, a bare prefix, and Redshift's
/// `-<admin user>` names that read as full ARNs.
#[test]
fn managed_names_at_the_edges() {
    let task = TaskContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let rds = secret(&format!(
        "{SM}:rds!db-0f3c9a51-7e2b-4d8a-9c61-2b7e5f4a1d93-Xy7Zq2"
    ));
    let via_ssm = SecretReference::parse(
        "/aws/reference/secretsmanager/rds!db-0f3c9a51-7e2b-4d8a-9c61-2b7e5f4a1d93",
        Location::ContainerSecret,
    )
    .unwrap();
    assert!(via_ssm.matches_secret(&rds, &task).is_some());
    assert!(SecretReference::parse(
        "/aws/reference/secretsmanager/my!x",
        Location::ContainerSecret
    )
    .is_err());
    assert!(SecretArn::parse(&format!("{SM}:rds!-AbCdEf")).is_err());
    // `redshift!ns-master` (partial) reads as name `redshift!ns` with suffix `master`.
    let full = secret(&format!("{SM}:redshift!ns-master-XyZ123"));
    let partial = SecretReference::parse(
        &format!("{SM}:redshift!ns-master"),
        Location::ContainerSecret,
    )
    .unwrap();
    assert!(partial.matches_secret(&full, &task).is_some());
    // Other full ARNs still match only their own secret.
    let other = secret(&format!("{SM}:redshift!ns-XyZ123"));
    assert!(partial.matches_secret(&other, &task).is_none());
}
