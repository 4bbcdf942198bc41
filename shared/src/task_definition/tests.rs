use proptest::prelude::*;
use serde_json::json;

use super::*;

fn read(v: &Value) -> TaskDefinition {
    TaskDefinition::from_json(v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[test]
fn finds_references_in_every_location() {
    let td: Value =
        serde_json::from_str(include_str!("../../testdata/taskdef-references.json")).unwrap();
    let found = read(&td).references();
    let summary: Vec<(usize, Location, &str, bool)> = found
        .iter()
        .map(|f| {
            (
                f.container_index,
                f.location,
                f.pointer.as_str(),
                matches!(f.parsed, Some(Ok(_))),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                0,
                Location::ContainerSecret,
                "/containerDefinitions/0/secrets/0/valueFrom",
                true
            ),
            (
                0,
                Location::ContainerSecret,
                "/containerDefinitions/0/secrets/1/valueFrom",
                true
            ),
            (
                0,
                Location::ContainerSecret,
                "/containerDefinitions/0/secrets/2/valueFrom",
                false
            ),
            (
                0,
                Location::LogSecretOption,
                "/containerDefinitions/0/logConfiguration/secretOptions/0/valueFrom",
                true
            ),
            (
                0,
                Location::RepositoryCredentials,
                "/containerDefinitions/0/repositoryCredentials/credentialsParameter",
                true
            ),
            (
                1,
                Location::ContainerSecret,
                "/containerDefinitions/1/secrets/0/valueFrom",
                true
            ),
        ]
    );
    assert_eq!(found[0].container.as_deref(), Some("web"));
    assert_eq!(found[0].entry_name.as_deref(), Some("DB_PASSWORD"));
    assert_eq!(found[5].container.as_deref(), Some("sidecar"));
}

/// CloudFormation's PascalCase reads as the same model; an intrinsic function in place of a
/// reference is kept as unresolved, and pointers are camelCase whatever the input's case.
#[test]
fn pascal_case_and_intrinsics() {
    let cfn = json!({
        "ContainerDefinitions": [{
            "Name": "app",
            "Secrets": [
                {"Name": "A", "ValueFrom": {"Ref": "DbSecret"}},
                {"Name": "B", "ValueFrom": "/app/b"},
                {"Name": "C", "ValueFrom": 42}
            ]
        }]
    });
    let found = read(&cfn).references();
    assert_eq!(found.len(), 3);
    assert_eq!(
        found[0].pointer,
        "/containerDefinitions/0/secrets/0/valueFrom"
    );
    assert_eq!(found[0].raw, None);
    assert!(found[0].unresolved);
    assert!(found[0].parsed.is_none());
    assert!(matches!(
        found[1].parsed,
        Some(Ok(SecretReference::Parameter(_)))
    ));
    assert_eq!(found[1].container.as_deref(), Some("app"));
    assert_eq!(found[1].entry_name.as_deref(), Some("B"));
    // Not a string, not an intrinsic: kept, so a rule can point at it.
    assert_eq!(found[2].raw, None);
    assert!(!found[2].unresolved);

    let camel = json!({
        "containerDefinitions": [{
            "name": "app",
            "secrets": [
                {"name": "A", "valueFrom": {"Ref": "DbSecret"}},
                {"name": "B", "valueFrom": "/app/b"},
                {"name": "C", "valueFrom": 42}
            ]
        }]
    });
    assert_eq!(read(&camel), read(&cfn));

    // A whole list computed by CloudFormation is unresolved; a map that is not an intrinsic
    // function is merely empty.
    let computed = read(&json!({"ContainerDefinitions": {"Fn::If": ["c", [], []]}}));
    assert!(computed.container_definitions.unresolved);
    assert!(computed.references().is_empty());
    let odd = read(&json!({"containerDefinitions": {"a": 1, "b": 2}}));
    assert!(!odd.container_definitions.unresolved);
}

/// An intrinsic item of a list of strings (a command's `!Sub`) is kept as the expression, at
/// its index, as a string field keeps one; in a list of anything else (a container, a
/// variable) it is skipped — read the fast way and through serde alike.
#[test]
fn an_intrinsic_item_is_kept_in_a_list_of_strings_only() {
    let sub = json!({"Fn::Sub": "mysql -h ${Db} -pX"});
    let v = json!({"ContainerDefinitions": [
        {"Ref": "AWS::NoValue"},
        {"Name": "app",
         "Command": ["sh", {"Ref": "AWS::NoValue"}, sub.clone()],
         "Environment": [{"Fn::If": ["C", {"Name": "A", "Value": "a"}, {"Ref": "AWS::NoValue"}]}]}
    ]});
    let model = read(&v);
    assert_eq!(
        TaskDefinition::from_json_by_serde(&v).ok(),
        Some(model.clone())
    );
    let containers: Vec<usize> = model
        .container_definitions
        .iter()
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(containers, vec![1]);
    let (_, app) = &model.container_definitions.items[0];
    assert!(app.environment.is_empty());
    let command: Vec<(usize, Option<&str>)> =
        app.command.iter().map(|(i, t)| (*i, t.literal())).collect();
    assert_eq!(command, vec![(0, Some("sh")), (1, None), (2, None)]);
    assert_eq!(
        app.command.items[2].1,
        Text::Unresolved(sub),
        "the !Sub is kept whole"
    );
}

/// What is not a task definition is an error that names the field and never shows a value.
#[test]
fn shape_errors_name_the_field_and_hide_the_value() {
    for (junk, path) in [
        (json!(null), "."),
        (json!([1, 2]), "."),
        (json!({"containerDefinitions": "x"}), "containerDefinitions"),
        (
            json!({"containerDefinitions": [1, {"secrets": 3}]}),
            "containerDefinitions",
        ),
        (
            json!({"containerDefinitions": [{"secrets": 3}]}),
            "containerDefinitions[0]",
        ),
    ] {
        let e = TaskDefinition::from_json(&junk).unwrap_err();
        assert!(e.path.starts_with(path), "{junk}: {e}");
    }
    let v = json!({"containerDefinitions": [{"environment": [{"name": "X", "value": ["Xk9#mP2vL7qR"]}]}]});
    let e = TaskDefinition::from_json(&v).unwrap_err().to_string();
    assert!(
        e.contains("environment[0]: value") && !e.contains("Xk9#"),
        "{e}"
    );
    let v = json!({"containerDefinitions": [{"environment": "DB_PASSWORD=Xk9#mP2vL7qR"}]});
    let e = TaskDefinition::from_json(&v).unwrap_err().to_string();
    assert!(
        e.contains("containerDefinitions[0]: environment") && !e.contains("Xk9#"),
        "{e}"
    );
}

#[test]
fn error_messages_drop_quoted_values() {
    assert_eq!(
        without_values(r#"invalid type: string "A=Xk9#mP2v", expected a list"#),
        "invalid type: a string, expected a list"
    );
    // A value with an embedded `", ` (escaped by serde) is dropped whole.
    let message = format!(
        "invalid type: string {:?}, expected a list",
        "Xk9#mP2v\", tail-of-the-secret"
    );
    assert_eq!(
        without_values(&message),
        "invalid type: a string, expected a list"
    );
    let message = format!("invalid value: string {:?}", "ends with a backslash\\");
    assert_eq!(without_values(&message), "invalid value: a string");
    assert_eq!(without_values("string \"unterminated"), "a string");
    assert_eq!(
        without_values("invalid type: integer `482913`, expected a string or a map"),
        "invalid type: an integer, expected a string or a map"
    );
    assert_eq!(
        without_values("floating point `1.5` and boolean `true`"),
        "a number and a boolean"
    );
}

// ---- JSON → model and SDK → model agree ----------------------------------------------------

use aws_sdk_ecs::types as ecs;

/// A log driver, its options and its secret options.
type Log = (String, Vec<(String, String)>, Vec<(String, String)>);

/// One generated container, in a neutral form both the JSON and the SDK builders are made from.
#[derive(Debug, Clone)]
struct Gen {
    name: Option<String>,
    image: Option<String>,
    environment: Vec<(Option<String>, Option<String>)>,
    secrets: Vec<(String, String)>,
    files: Vec<String>,
    command: Vec<String>,
    health: Option<Vec<String>>,
    labels: Option<Vec<(String, String)>>,
    log: Option<Log>,
    repository: Option<String>,
    privileged: Option<bool>,
    user: Option<String>,
    readonly: Option<bool>,
}

fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123".to_owned()),
        Just(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123:password::".to_owned()
        ),
        Just("arn:aws:secretsmanager:us-east-1:123456789012:secret:db::AWSPREVIOUS:".to_owned()),
        Just("arn:aws:ssm:eu-west-1:123456789012:parameter/app/token".to_owned()),
        Just("/app/db".to_owned()),
        Just("rds!db-0123".to_owned()),
        Just("not a reference".to_owned()),
        "[a-z/:!-]{0,20}",
    ]
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_ =:/-]{0,12}"
}

fn container() -> impl Strategy<Value = Gen> {
    (
        (
            proptest::option::of(word()),
            proptest::option::of(word()),
            proptest::collection::vec(
                (proptest::option::of(word()), proptest::option::of(word())),
                0..4,
            ),
            proptest::collection::vec((word(), reference()), 0..4),
            proptest::collection::vec(word(), 0..2),
            proptest::collection::vec(word(), 0..3),
        ),
        (
            proptest::option::of(proptest::collection::vec(word(), 1..3)),
            proptest::option::of(proptest::collection::vec((word(), word()), 0..3)),
            proptest::option::of((
                prop_oneof![Just("awslogs".to_owned()), Just("splunk".to_owned())],
                proptest::collection::vec((word(), word()), 0..2),
                proptest::collection::vec((word(), reference()), 0..3),
            )),
            proptest::option::of(reference()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(word()),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (name, image, environment, secrets, files, command),
                (health, labels, log, repository, privileged, user, readonly),
            )| Gen {
                name,
                image,
                environment,
                secrets,
                files,
                command,
                health,
                labels,
                log,
                repository,
                privileged,
                user,
                readonly,
            },
        )
}

/// The JSON ECS would print, in camelCase or CloudFormation's PascalCase.
fn to_json(family: &str, revision: i32, containers: &[Gen], pascal: bool) -> Value {
    let k = |camel: &str| -> String {
        if pascal {
            let mut c = camel.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        } else {
            camel.to_owned()
        }
    };
    let pairs = |list: &[(String, String)], value: &str| -> Value {
        Value::Array(
            list.iter()
                .map(|(n, v)| {
                    let mut m = serde_json::Map::new();
                    m.insert(k("name"), json!(n));
                    m.insert(k(value), json!(v));
                    Value::Object(m)
                })
                .collect(),
        )
    };
    let free = |list: &[(String, String)]| -> Value {
        Value::Object(list.iter().map(|(a, b)| (a.clone(), json!(b))).collect())
    };
    let mut out = Vec::new();
    for c in containers {
        let mut m = serde_json::Map::new();
        let mut put = |key: &str, v: Value| {
            m.insert(k(key), v);
        };
        if let Some(n) = &c.name {
            put("name", json!(n));
        }
        if let Some(i) = &c.image {
            put("image", json!(i));
        }
        put(
            "environment",
            Value::Array(
                c.environment
                    .iter()
                    .map(|(n, v)| {
                        let mut e = serde_json::Map::new();
                        if let Some(n) = n {
                            e.insert(k("name"), json!(n));
                        }
                        if let Some(v) = v {
                            e.insert(k("value"), json!(v));
                        }
                        Value::Object(e)
                    })
                    .collect(),
            ),
        );
        put("secrets", pairs(&c.secrets, "valueFrom"));
        put(
            "environmentFiles",
            Value::Array(
                c.files
                    .iter()
                    .map(|f| {
                        let mut e = serde_json::Map::new();
                        e.insert(k("value"), json!(f));
                        e.insert(k("type"), json!("s3"));
                        Value::Object(e)
                    })
                    .collect(),
            ),
        );
        put("command", json!(c.command));
        put("entryPoint", json!([]));
        if let Some(h) = &c.health {
            let mut e = serde_json::Map::new();
            e.insert(k("command"), json!(h));
            put("healthCheck", Value::Object(e));
        }
        if let Some(l) = &c.labels {
            put("dockerLabels", free(l));
        }
        if let Some((driver, options, secret_options)) = &c.log {
            let mut e = serde_json::Map::new();
            e.insert(k("logDriver"), json!(driver));
            e.insert(k("options"), free(options));
            e.insert(k("secretOptions"), pairs(secret_options, "valueFrom"));
            put("logConfiguration", Value::Object(e));
        }
        if let Some(r) = &c.repository {
            let mut e = serde_json::Map::new();
            e.insert(k("credentialsParameter"), json!(r));
            put("repositoryCredentials", Value::Object(e));
        }
        if let Some(p) = c.privileged {
            put("privileged", json!(p));
        }
        if let Some(u) = &c.user {
            put("user", json!(u));
        }
        if let Some(r) = c.readonly {
            put("readonlyRootFilesystem", json!(r));
        }
        out.push(Value::Object(m));
    }
    let mut td = serde_json::Map::new();
    td.insert(k("family"), json!(family));
    td.insert(k("revision"), json!(revision));
    td.insert(
        k("taskDefinitionArn"),
        json!(format!(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{revision}"
        )),
    );
    td.insert(k("requiresCompatibilities"), json!(["FARGATE"]));
    td.insert(k("networkMode"), json!("awsvpc"));
    td.insert(k("containerDefinitions"), Value::Array(out));
    Value::Object(td)
}

fn to_sdk(family: &str, revision: i32, containers: &[Gen]) -> ecs::TaskDefinition {
    let secret = |(n, v): &(String, String)| {
        ecs::Secret::builder()
            .name(n)
            .value_from(v)
            .build()
            .unwrap()
    };
    let mut td = ecs::TaskDefinition::builder()
        .family(family)
        .revision(revision)
        .task_definition_arn(format!(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{revision}"
        ))
        .requires_compatibilities(ecs::Compatibility::Fargate)
        .network_mode(ecs::NetworkMode::Awsvpc);
    for c in containers {
        let mut b = ecs::ContainerDefinition::builder()
            .set_name(c.name.clone())
            .set_image(c.image.clone())
            .set_environment(Some(
                c.environment
                    .iter()
                    .map(|(n, v)| {
                        ecs::KeyValuePair::builder()
                            .set_name(n.clone())
                            .set_value(v.clone())
                            .build()
                    })
                    .collect(),
            ))
            .set_secrets(Some(c.secrets.iter().map(secret).collect()))
            .set_environment_files(Some(
                c.files
                    .iter()
                    .map(|f| {
                        ecs::EnvironmentFile::builder()
                            .value(f)
                            .r#type(ecs::EnvironmentFileType::S3)
                            .build()
                            .unwrap()
                    })
                    .collect(),
            ))
            .set_command(Some(c.command.clone()))
            .set_entry_point(Some(Vec::new()))
            .set_privileged(c.privileged)
            .set_user(c.user.clone())
            .set_readonly_root_filesystem(c.readonly);
        if let Some(h) = &c.health {
            b = b.health_check(
                ecs::HealthCheck::builder()
                    .set_command(Some(h.clone()))
                    .build()
                    .unwrap(),
            );
        }
        if let Some(l) = &c.labels {
            b = b.set_docker_labels(Some(l.iter().cloned().collect()));
        }
        if let Some((driver, options, secret_options)) = &c.log {
            b = b.log_configuration(
                ecs::LogConfiguration::builder()
                    .log_driver(ecs::LogDriver::from(driver.as_str()))
                    .set_options(Some(options.iter().cloned().collect()))
                    .set_secret_options(Some(secret_options.iter().map(secret).collect()))
                    .build()
                    .unwrap(),
            );
        }
        if let Some(r) = &c.repository {
            b = b.repository_credentials(
                ecs::RepositoryCredentials::builder()
                    .credentials_parameter(r)
                    .build()
                    .unwrap(),
            );
        }
        td = td.container_definitions(b.build());
    }
    td.build()
}

/// Labels and options are maps: a generated duplicate key keeps its last value in both.
fn dedupe(containers: &mut [Gen]) {
    fn last_wins(list: &mut Vec<(String, String)>) {
        let mut seen = std::collections::BTreeMap::new();
        for (k, v) in list.drain(..) {
            seen.insert(k, v);
        }
        list.extend(seen);
    }
    for c in containers {
        if let Some(l) = c.labels.as_mut() {
            last_wins(l);
        }
        if let Some((_, o, _)) = c.log.as_mut() {
            last_wins(o);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The two ways in give the same model — every field, not only the references — and so the
    /// same references, for camelCase and PascalCase JSON alike.
    #[test]
    fn json_and_sdk_agree(
        family in "[a-z][a-z0-9-]{0,10}",
        revision in 1i32..5000,
        mut containers in proptest::collection::vec(container(), 0..4),
    ) {
        dedupe(&mut containers);
        let from_sdk = TaskDefinition::from(&to_sdk(&family, revision, &containers));
        for pascal in [false, true] {
            let json = to_json(&family, revision, &containers, pascal);
            let from_json = TaskDefinition::from_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&from_json, &from_sdk);
            prop_assert_eq!(from_json.references(), from_sdk.references());
        }
        let total: usize = containers
            .iter()
            .map(|c| c.secrets.len() + c.log.as_ref().map_or(0, |l| l.2.len()) + usize::from(c.repository.is_some()))
            .sum();
        prop_assert_eq!(from_sdk.references().len(), total);
    }
}

/// Review of issue 15: the places that hold references are read leniently. A `valueFrom` of
/// `null` is a reference that is not a string (not an absent one), and an odd entry — not an
/// object, a name that is a list — is kept without that part instead of failing the whole
/// task definition (which would hide every other finding in it).
#[test]
fn reference_places_are_read_leniently() {
    let td = read(&json!({"containerDefinitions": [{
        "name": "app",
        "secrets": [
            {"name": "A", "valueFrom": null},
            null,
            "DB_PASSWORD=x",
            {"name": ["a"], "valueFrom": "/app/b"},
            {"Name": "C", "ValueFrom": "/app/c"}
        ],
        "environmentFiles": [null, {"value": 3, "type": "s3"}],
        "logConfiguration": {"logDriver": "splunk", "secretOptions": [{"name": "t", "valueFrom": []}]},
        "repositoryCredentials": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123"
    }]}));
    let found = td.references();
    let summary: Vec<(&str, Option<&str>, Option<&str>, bool)> = found
        .iter()
        .map(|f| {
            (
                f.pointer.as_str(),
                f.entry_name.as_deref(),
                f.raw.as_deref(),
                f.unresolved,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "/containerDefinitions/0/secrets/0/valueFrom",
                Some("A"),
                None,
                false
            ),
            (
                "/containerDefinitions/0/secrets/3/valueFrom",
                None,
                Some("/app/b"),
                false
            ),
            (
                "/containerDefinitions/0/secrets/4/valueFrom",
                Some("C"),
                Some("/app/c"),
                false
            ),
            (
                "/containerDefinitions/0/logConfiguration/secretOptions/0/valueFrom",
                Some("t"),
                None,
                false
            ),
        ]
    );
    let container = &td.container_definitions.items[0].1;
    assert_eq!(container.environment_files.items.len(), 2);
    assert!(
        container.repository_credentials.is_some(),
        "present, though not an object"
    );
}

/// Generated, partly broken task definitions for the fast reader's property test: each field
/// absent, camelCase, PascalCase or both, holding what it should or something else.
mod shapes {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    fn junk() -> BoxedStrategy<Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3i64..3).prop_map(Value::from),
            Just(json!(1.5)),
            prop::sample::select(vec![
                "x",
                "true",
                "FALSE",
                "arn:aws:ssm:us-east-1:1:parameter/p",
                "é"
            ])
            .prop_map(Value::from),
            Just(json!(["a", "b"])),
            Just(json!([{"name": "A"}])),
            Just(json!({"Ref": "X"})),
            Just(json!({"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]})),
            Just(json!({"a": 1, "b": 2})),
            Just(json!({"é": 1})),
            Just(json!({"NAME": "x", "fAmily": "y", "vALUE": "z"})),
            Just(json!(1.0)),
            Just(json!(u64::MAX)),
            Just(json!([null, {"name": "A"}])),
        ]
        .boxed()
    }

    /// What a field usually holds (`good`) or, one time in five, anything.
    fn or_junk(good: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
        prop_oneof![4 => good, 1 => junk()].boxed()
    }

    fn text() -> BoxedStrategy<Value> {
        or_junk(
            prop_oneof![
                "[a-zA-Z0-9:/_-]{0,12}".prop_map(Value::from),
                (0u64..100).prop_map(Value::from),
                Just(json!({"Fn::Sub": ["${A}-b", {"A": "x"}]})),
            ]
            .boxed(),
        )
    }

    fn flag() -> BoxedStrategy<Value> {
        or_junk(
            prop::sample::select(vec![
                json!(true),
                json!(false),
                json!("True"),
                json!("false"),
            ])
            .boxed(),
        )
    }

    fn many(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
        or_junk(
            prop::collection::vec(
                prop_oneof![5 => item, 1 => Just(json!({"Ref": "AWS::NoValue"}))],
                0..4,
            )
            .prop_map(Value::from)
            .boxed(),
        )
    }

    fn map_of_text() -> BoxedStrategy<Value> {
        or_junk(
            prop::collection::btree_map("[a-z-]{1,6}", text(), 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed(),
        )
    }

    /// An object of `fields`, each absent, under its camelCase name, its PascalCase alias, or
    /// (rarely) both; plus an unknown key sometimes.
    fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
        let parts: Vec<BoxedStrategy<(&'static str, u8, Value)>> = fields
            .into_iter()
            .map(|(name, value)| {
                (
                    prop_oneof![3 => Just(0u8), 4 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8)],
                    value,
                )
                    .prop_map(move |(mode, v)| (name, mode, v))
                    .boxed()
            })
            .collect();
        (parts, any::<bool>())
            .prop_map(|(parts, unknown)| {
                let mut m = Map::new();
                for (name, mode, v) in parts {
                    let pascal = format!("{}{}", name[..1].to_ascii_uppercase(), &name[1..]);
                    if mode & 1 != 0 {
                        m.insert(name.to_owned(), v.clone());
                    }
                    if mode & 2 != 0 {
                        m.insert(pascal, v);
                    }
                }
                if unknown {
                    m.insert("cpu".to_owned(), json!(256));
                }
                Value::Object(m)
            })
            .boxed()
    }

    fn entry() -> BoxedStrategy<Value> {
        prop_oneof![
            9 => or_junk(object(vec![("name", text()), ("valueFrom", text())])),
            1 => Just(Value::Null),
        ]
        .boxed()
    }

    fn container() -> BoxedStrategy<Value> {
        or_junk(object(vec![
            ("name", text()),
            ("image", text()),
            (
                "environment",
                many(or_junk(object(vec![("name", text()), ("value", text())]))),
            ),
            (
                "environmentFiles",
                many(or_junk(object(vec![("value", text()), ("type", text())]))),
            ),
            ("secrets", many(entry())),
            ("command", many(text())),
            ("entryPoint", many(text())),
            (
                "healthCheck",
                or_junk(object(vec![("command", many(text()))])),
            ),
            ("dockerLabels", map_of_text()),
            (
                "logConfiguration",
                or_junk(object(vec![
                    ("logDriver", text()),
                    ("options", map_of_text()),
                    ("secretOptions", many(entry())),
                ])),
            ),
            (
                "repositoryCredentials",
                or_junk(object(vec![("credentialsParameter", text())])),
            ),
            ("privileged", flag()),
            ("user", text()),
            ("readonlyRootFilesystem", flag()),
        ]))
    }

    pub(super) fn task_definition() -> BoxedStrategy<Value> {
        object(vec![
            ("taskDefinitionArn", text()),
            ("family", text()),
            (
                "revision",
                or_junk(
                    prop_oneof![(0u64..9).prop_map(Value::from), Just(json!(u64::MAX))].boxed(),
                ),
            ),
            ("executionRoleArn", text()),
            ("taskRoleArn", text()),
            ("networkMode", text()),
            ("requiresCompatibilities", many(text())),
            (
                "runtimePlatform",
                or_junk(object(vec![("operatingSystemFamily", text())])),
            ),
            ("containerDefinitions", many(container())),
        ])
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The fast reader gives serde's model whenever it answers, and leaves to serde (which
    /// names the field) whatever it is not sure of: generated task definitions with fields of
    /// every shape, both spellings, intrinsics and junk.
    #[test]
    fn the_fast_reader_agrees_with_serde(v in shapes::task_definition()) {
        let by_serde = TaskDefinition::from_json_by_serde(&v);
        if let Some(fast) = super::fast::read(&v) {
            prop_assert_eq!(Ok(fast), by_serde.map_err(|e| e.to_string()), "{}", v);
        }
        prop_assert_eq!(
            TaskDefinition::from_json(&v).map_err(|e| e.to_string()),
            TaskDefinition::from_json_by_serde(&v).map_err(|e| e.to_string())
        );
    }
}

/// The fast reader is the path taken: it reads every well-formed task definition of the
/// generator without junk, and the shared fixture.
#[test]
fn the_fast_reader_reads_well_formed_task_definitions() {
    let td: Value =
        serde_json::from_str(include_str!("../../testdata/taskdef-references.json")).unwrap();
    assert_eq!(super::fast::read(&td).as_ref(), Some(&read(&td)));
    let pascal = json!({"Family": "f", "ContainerDefinitions": [{"Name": "a", "Environment": [{"Name": "A", "Value": 8080}], "Privileged": "true", "DockerLabels": {"k": null}}, {"Ref": "AWS::NoValue"}], "RequiresCompatibilities": {"Ref": "C"}});
    assert_eq!(super::fast::read(&pascal).as_ref(), Some(&read(&pascal)));
    // Both spellings of one field: serde's error, not a model.
    let both = json!({"family": "a", "Family": "b", "containerDefinitions": []});
    assert!(super::fast::read(&both).is_none());
    assert!(TaskDefinition::from_json(&both).is_err());
}

/// The file reader's tape ([`super::JsonTape`]) of a value, its members in reverse order (to
/// show the reader does not depend on order) and its strings owned.
fn tape(v: &Value) -> super::JsonTape<'static> {
    fn write(v: &Value, tape: &mut super::JsonTape<'static>) {
        use super::TapeNode;
        match v {
            Value::Null => drop(tape.push(TapeNode::Null)),
            Value::Bool(b) => drop(tape.push(TapeNode::Bool(*b))),
            Value::Number(n) => drop(tape.push(TapeNode::Number(n.clone()))),
            Value::String(s) => drop(tape.push(TapeNode::String(s.clone().into()))),
            Value::Array(items) => {
                let at = tape.push(TapeNode::Array { len: 0, end: 0 });
                for item in items {
                    write(item, tape);
                }
                tape.close(at, items.len());
            }
            Value::Object(m) => {
                let at = tape.push(TapeNode::Object { len: 0, end: 0 });
                for (k, v) in m.iter().rev() {
                    tape.push(TapeNode::Key(k.clone().into()));
                    write(v, tape);
                }
                tape.close(at, m.len());
            }
        }
    }
    let mut out = super::JsonTape::default();
    write(v, &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// The fast reader answers alike for both views of one value: the file reader's tape (its
    /// members in another order) reads to the model `Value` reads to, and leaves to serde what
    /// `Value` leaves. The kind a message names, and the value the tape converts to, are the
    /// same too.
    #[test]
    fn any_view_of_a_value_reads_alike(v in shapes::task_definition()) {
        let tape = tape(&v);
        let root = tape.root().unwrap();
        prop_assert_eq!(TaskDefinition::read_view(root), super::fast::read(&v), "{}", v);
        prop_assert_eq!(super::JsonView::kind(root), kind(&v));
        prop_assert_eq!(super::JsonView::to_value(root), v.clone());
        prop_assert_eq!(tape.to_value(), v);
    }
}
