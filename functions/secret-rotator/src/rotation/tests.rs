use super::*;
use crate::db::memory::{Call, MemoryDatabase};
use crate::rds::memory::FixedDirectory;
use crate::store::memory::MemoryStore;
use serde_json::json;
use std::collections::HashMap;

const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbC123";
const TOKEN: &str = "11111111-2222-4333-8444-555555555555";

fn event(step: Step) -> RotationEvent {
    RotationEvent::parse(
        json!({"Step": step.as_str(), "SecretId": ARN, "ClientRequestToken": TOKEN}),
    )
    .unwrap()
}

type TestRotator = Rotator<MemoryStore, FixedDirectory, MemoryDatabase>;

fn rotator(value: &str) -> TestRotator {
    let store = MemoryStore::new(ARN, value);
    store.start_rotation(TOKEN);
    Rotator::new(
        store,
        FixedDirectory::default(),
        MemoryDatabase::default(),
        PasswordPolicy::default(),
    )
}

async fn rotate(r: &TestRotator) -> Vec<Outcome> {
    let mut out = Vec::new();
    for step in [
        Step::CreateSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::FinishSecret,
    ] {
        out.push(r.run(&event(step)).await.unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

#[tokio::test]
async fn generic_json_rotation_replaces_only_the_password() {
    let old = json!({"engine": "generic", "username": "svc", "password": "old-pass", "url": "https://api.example.com"});
    let r = rotator(&old.to_string());
    assert_eq!(rotate(&r).await, [Outcome::Done; 4]);
    let new: Value = serde_json::from_str(&r.store.value_of("AWSCURRENT").unwrap()).unwrap();
    assert_ne!(new["password"], old["password"]);
    assert_eq!(new["password"].as_str().unwrap().len(), 32);
    for key in ["engine", "username", "url"] {
        assert_eq!(new[key], old[key], "{key}");
    }
    assert_eq!(r.store.value_of("AWSPREVIOUS").unwrap(), old.to_string());
    assert!(
        r.store.value_of("AWSPENDING").is_none(),
        "AWSPENDING is tidied off the new version"
    );
}

#[tokio::test]
async fn plain_string_rotation_replaces_the_whole_value() {
    let r = rotator("just-a-token");
    rotate(&r).await;
    let new = r.store.value_of("AWSCURRENT").unwrap();
    assert_ne!(new, "just-a-token");
    assert_eq!(new.len(), 32);
}

#[tokio::test]
async fn every_step_twice_and_the_whole_rotation_again_are_no_ops() {
    let r = rotator(r#"{"engine":"generic","password":"a"}"#);
    assert_eq!(
        r.run(&event(Step::CreateSecret)).await.unwrap(),
        Outcome::Done
    );
    assert_eq!(
        r.run(&event(Step::CreateSecret)).await.unwrap(),
        Outcome::AlreadyDone
    );
    let pending = r.store.value_of("AWSPENDING").unwrap();
    for step in [
        Step::SetSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::TestSecret,
    ] {
        r.run(&event(step)).await.unwrap();
    }
    assert_eq!(
        r.run(&event(Step::FinishSecret)).await.unwrap(),
        Outcome::Done
    );
    assert_eq!(
        r.run(&event(Step::FinishSecret)).await.unwrap(),
        Outcome::AlreadyDone
    );
    assert_eq!(r.store.value_of("AWSCURRENT").unwrap(), pending);
    // The whole rotation re-run with the same token changes nothing.
    assert_eq!(rotate(&r).await, [Outcome::AlreadyDone; 4]);
    assert_eq!(r.store.value_of("AWSCURRENT").unwrap(), pending);
}

#[tokio::test]
async fn finish_retry_tidies_a_leftover_pending_label() {
    let r = rotator(r#"{"engine":"generic","password":"a"}"#);
    r.run(&event(Step::CreateSecret)).await.unwrap();
    // Simulate a finishSecret that moved AWSCURRENT and then died.
    r.store
        .move_stage(ARN, "AWSCURRENT", Some(TOKEN), Some("v-current"))
        .await
        .unwrap();
    assert_eq!(
        r.run(&event(Step::FinishSecret)).await.unwrap(),
        Outcome::AlreadyDone
    );
    let meta = r.store.describe(ARN).await.unwrap();
    assert_eq!(meta.stages_of(TOKEN).unwrap(), ["AWSCURRENT"]);
}

#[tokio::test]
async fn the_gate_refuses_in_order_and_changes_nothing() {
    // Rotation disabled (never configured).
    let r = rotator(r#"{"engine":"generic","password":"a"}"#);
    r.store.secret.lock().unwrap().rotation_enabled = None;
    let err = r.run(&event(Step::CreateSecret)).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::RotationDisabled), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "createSecret: secret {ARN}: rotation is not enabled"
        )),
        "{err}"
    );
    // Explicitly disabled.
    r.store.secret.lock().unwrap().rotation_enabled = Some(false);
    assert!(matches!(
        r.run(&event(Step::SetSecret)).await.unwrap_err().kind,
        ErrorKind::RotationDisabled
    ));

    // Unknown token.
    let r = rotator(r#"{"engine":"generic","password":"a"}"#);
    let mut e = event(Step::CreateSecret);
    e.client_request_token = "99999999-0000-4000-8000-000000000000".into();
    let err = r.run(&e).await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::UnknownVersion { .. }),
        "{err}"
    );

    // Token that is neither current nor pending (e.g. AWSPREVIOUS).
    let r = rotator(r#"{"engine":"generic","password":"a"}"#);
    r.store
        .secret
        .lock()
        .unwrap()
        .versions
        .get_mut(TOKEN)
        .unwrap()
        .1 = vec!["AWSPREVIOUS".into()];
    let err = r.run(&event(Step::CreateSecret)).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::NotPending { .. }), "{err}");
    assert_eq!(
        r.store.calls(),
        ["DescribeSecret"],
        "the gate fails before reading or writing values"
    );

    // Token already current: every step is a successful no-op.
    let r = rotator(r#"{"engine":"generic","password":"a"}"#);
    let mut e = event(Step::CreateSecret);
    e.client_request_token = "v-current".into();
    assert_eq!(r.run(&e).await.unwrap(), Outcome::AlreadyDone);
}

#[tokio::test]
async fn engines_are_chosen_per_secret_and_unknown_ones_refused() {
    for (value, expected) in [
        (
            r#"{"engine":"generic","password":"a"}"#,
            Ok(Engine::Generic),
        ),
        (r#"plain"#, Ok(Engine::Generic)),
        (r#"12345"#, Ok(Engine::Generic)),
        (r#"["a"]"#, Ok(Engine::Generic)),
        (
            r#"{"engine":"postgres"}"#,
            Ok(Engine::Database(DbEngine::Postgres)),
        ),
        (
            r#"{"engine":"aurora-postgresql"}"#,
            Ok(Engine::Database(DbEngine::Postgres)),
        ),
        (
            r#"{"engine":"mysql"}"#,
            Ok(Engine::Database(DbEngine::MySql)),
        ),
        (
            r#"{"engine":"mariadb"}"#,
            Ok(Engine::Database(DbEngine::MySql)),
        ),
        (
            r#"{"engine":"aurora-mysql"}"#,
            Ok(Engine::Database(DbEngine::MySql)),
        ),
        (
            r#"{"engine":"oracle"}"#,
            Err("engine `oracle` is not supported"),
        ),
        (
            r#"{"engine":"Postgres"}"#,
            Err("engine `Postgres` is not supported"),
        ),
        (r#"{"engine":5}"#, Err("engine `5` is not supported")),
        (r#"{"username":"a"}"#, Err("no `engine` key")),
    ] {
        let got = engine_of(&SecretString::from(value)).map_err(|e| e.to_string());
        match expected {
            Ok(engine) => assert_eq!(got, Ok(engine), "{value}"),
            Err(needle) => {
                let message = got.unwrap_err();
                assert!(
                    message.contains(needle) && message.contains("supported")
                        || message.contains(needle),
                    "{message}"
                );
            }
        }
    }
    // An unsupported engine fails createSecret before anything is written.
    let r = rotator(r#"{"engine":"oracle","password":"a"}"#);
    let err = r.run(&event(Step::CreateSecret)).await.unwrap_err();
    assert_eq!(err.kind.error_type(), "UnsupportedEngine");
    assert!(
        err.to_string()
            .contains("postgres, aurora-postgresql, mysql, mariadb, aurora-mysql, generic"),
        "{err}"
    );
    assert!(!r.store.calls().contains(&"PutSecretValue"));
}

#[tokio::test]
async fn errors_never_contain_the_values() {
    let r = rotator(r#"{"engine":"oracle","password":"hunter2-super-secret"}"#);
    let err = r.run(&event(Step::CreateSecret)).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

fn creds(host: &str, port: u16, user: &str, master: Option<&str>) -> Credentials {
    Credentials {
        host: host.into(),
        port,
        username: user.into(),
        password: SecretString::from("pw"),
        dbname: None,
        masterarn: master.map(str::to_owned),
        ssl: None,
    }
}

#[test]
fn the_administrator_acts_only_on_its_own_server_and_never_on_itself() {
    let admin = creds("db.example", 5432, "rotation_admin", None);
    let ok = creds("DB.example", 5432, "app", Some("arn:m"));
    assert!(guard_alternating(&admin, &ok, "app_clone").is_ok());
    for (current, pending, needle) in [
        (
            creds("db.example", 5432, "rotation_admin_clone", None),
            "rotation_admin",
            "is the administrator",
        ),
        (
            creds("db.example", 5432, "rotation_admin", None),
            "rotation_admin_clone",
            "is the administrator",
        ),
        (
            creds("db.example", 5432, "app", None),
            "ROTATION_ADMIN",
            "is the administrator",
        ),
        (
            creds("db.example", 5433, "app", None),
            "app_clone",
            "own server",
        ),
        (
            creds("other.example", 5432, "app", None),
            "app_clone",
            "own server",
        ),
    ] {
        let err = guard_alternating(&admin, &current, pending)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{err}");
        assert!(!err.contains("pw"), "{err}");
    }
}

#[test]
fn the_administrator_is_always_the_one_awscurrent_names() {
    let c = creds("h", 1, "app", Some("arn:a"));
    assert_eq!(
        master_of(&c, &creds("h", 1, "app_clone", Some("arn:a")))
            .unwrap()
            .as_deref(),
        Some("arn:a")
    );
    assert!(
        master_of(&creds("h", 1, "app", None), &creds("h", 1, "app", None))
            .unwrap()
            .is_none()
    );
    for pending in [
        creds("h", 1, "app_clone", Some("arn:b")),
        creds("h", 1, "app", None),
    ] {
        assert!(matches!(
            master_of(&c, &pending),
            Err(ErrorKind::Refused(_))
        ));
    }
    assert!(master_of(
        &creds("h", 1, "app", None),
        &creds("h", 1, "app_clone", Some("arn:a"))
    )
    .is_err());
    assert_eq!(base_username("app_clone"), "app");
    assert_eq!(base_username("_clone"), "_clone");
}

#[test]
fn previous_password_keeps_the_current_endpoint_and_tls() {
    let mut current = creds("h", 1, "app", None);
    current.ssl = Some(true);
    let login = current.with_password(SecretString::from("previous"));
    assert_eq!(
        (login.host.as_str(), login.port, login.ssl),
        ("h", 1, Some(true))
    );
    assert_eq!(login.password.expose(), "previous");
}

const MASTER: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0f1e2d3c-AbCdEf";
const INSTANCE: &str = "arn:aws:rds:us-east-1:123456789012:db:orders";

fn managed_server() -> rds::Server {
    rds::Server {
        arn: Some(INSTANCE.into()),
        host: "orders.abc.us-east-1.rds.amazonaws.com".into(),
        port: 5432,
        engine: "postgres".into(),
        master_secret: Some(MASTER.into()),
    }
}

fn with_master(server: Option<rds::Server>, tags: &[(&str, &str)]) -> TestRotator {
    let app = json!({"engine": "postgres", "host": "orders.abc.us-east-1.rds.amazonaws.com", "username": "app", "password": "pw", "dbname": "orders", "ssl": false, "masterarn": MASTER});
    let mut r = rotator(&app.to_string());
    r.store.add_other(
        MASTER,
        r#"{"username":"postgres","password":"master-pw"}"#,
        tags,
    );
    r.rds = FixedDirectory(
        server
            .map(|s| vec![(rds::Resource::Instance(INSTANCE.into()), s)])
            .unwrap_or_default(),
    );
    r
}

/// Issue 13: the RDS-managed master secret holds a login only; its server comes from RDS, the
/// login always uses verified TLS and its own database, whatever the application's secret says.
#[tokio::test]
async fn a_login_only_master_gets_its_server_from_rds() {
    let r = with_master(Some(managed_server()), &[(rds::INSTANCE_TAG, INSTANCE)]);
    let admin = r.admin(MASTER, DbEngine::Postgres).await.unwrap();
    assert_eq!(
        (admin.host.as_str(), admin.port, admin.username.as_str()),
        ("orders.abc.us-east-1.rds.amazonaws.com", 5432, "postgres")
    );
    assert_eq!(
        admin.ssl,
        Some(true),
        "verified TLS, though the app says ssl: false"
    );
    assert_eq!(admin.dbname, None, "never the application's database");
    // createSecret goes through: the app secret is for the same server.
    assert_eq!(
        r.run(&event(Step::CreateSecret)).await.unwrap(),
        Outcome::Done
    );
    let pending: Value = serde_json::from_str(&r.store.value_of("AWSPENDING").unwrap()).unwrap();
    assert_eq!(pending["username"], "app_clone");
}

#[tokio::test]
async fn a_login_only_master_is_refused_unless_rds_vouches_for_it() {
    let other_secret = rds::Server {
        master_secret: Some(format!("{MASTER}x")),
        ..managed_server()
    };
    let other_resource = rds::Server {
        arn: Some("arn:aws:rds:us-east-1:123456789012:db:elsewhere".into()),
        ..managed_server()
    };
    let mysql = rds::Server {
        engine: "mysql".into(),
        ..managed_server()
    };
    let tag = [(rds::INSTANCE_TAG, INSTANCE)];
    type Case<'a> = (Option<rds::Server>, &'a [(&'a str, &'a str)], &'a str);
    let cases: Vec<Case> = vec![
        (
            Some(managed_server()),
            &[],
            "no `aws:rds:primaryDBInstanceArn`",
        ),
        (None, &tag, "which RDS does not have"),
        (Some(other_secret), &tag, "does not name this secret"),
        (Some(other_resource), &tag, "another resource"),
        (Some(mysql), &tag, "cannot administer"),
        (
            Some(managed_server()),
            &[
                (rds::INSTANCE_TAG, INSTANCE),
                (
                    rds::CLUSTER_TAG,
                    "arn:aws:rds:us-east-1:123456789012:cluster:c",
                ),
            ],
            "more than one",
        ),
    ];
    for (server, tags, needle) in cases {
        let r = with_master(server, tags);
        let err = r.admin(MASTER, DbEngine::Postgres).await.unwrap_err();
        assert!(matches!(err, ErrorKind::MasterSecret { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(needle), "{needle}: {text}");
        assert!(
            !text.contains("master-pw") && !text.contains("\"postgres\""),
            "{text}"
        );
        // And nothing was written.
        assert!(r.run(&event(Step::CreateSecret)).await.is_err());
        assert!(r.store.value_of("AWSPENDING").is_none());
    }
}

// The database steps, against the in-memory database (`db::memory`).

const TOKEN2: &str = "22222222-3333-4444-8555-666666666666";
const ADMIN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-admin-XyZ987";

fn event_for(step: Step, token: &str) -> RotationEvent {
    RotationEvent::parse(
        json!({"Step": step.as_str(), "SecretId": ARN, "ClientRequestToken": token}),
    )
    .unwrap()
}

async fn rotate_token(r: &TestRotator, token: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    for step in [
        Step::CreateSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::FinishSecret,
    ] {
        let outcome = r.run(&event_for(step, token)).await;
        out.push(outcome.unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

fn json_of(r: &TestRotator, stage: &str) -> Value {
    serde_json::from_str(&r.store.value_of(stage).unwrap()).unwrap()
}

async fn stages(r: &TestRotator) -> HashMap<String, Vec<String>> {
    let mut versions = r.store.describe(ARN).await.unwrap().versions;
    for stages in versions.values_mut() {
        stages.sort();
    }
    versions
}

fn set_password(login_user: &str, role: &str) -> Call {
    Call::SetPassword {
        login_user: login_user.into(),
        role: role.into(),
    }
}

/// (a) Single user, both engines: the user changes its own password, logged in with the
/// current one; a retried setSecret finds the pending password working and changes nothing.
#[tokio::test]
async fn single_user_rotation_changes_the_users_own_password() {
    for (engine, expected) in [
        ("postgres", DbEngine::Postgres),
        ("mariadb", DbEngine::MySql),
    ] {
        let old = json!({"engine": engine, "host": "db.example", "username": "app", "password": "old-pw", "dbname": "orders"});
        let mut r = rotator(&old.to_string());
        r.databases = MemoryDatabase::with_users(&[("app", "old-pw")]);
        for step in [Step::CreateSecret, Step::SetSecret] {
            assert_eq!(
                r.run(&event(step)).await.unwrap(),
                Outcome::Done,
                "{engine}"
            );
        }
        let pending = json_of(&r, "AWSPENDING");
        let new_pw = pending["password"].as_str().unwrap().to_owned();
        assert_ne!(new_pw, "old-pw");
        assert_eq!(r.databases.password_of("app"), Some(new_pw.clone()));
        assert_eq!(r.databases.changes(), [set_password("app", "app")]);
        // Pending (rejected), current (accepted), then the login that changed the password.
        assert_eq!(
            r.databases.logins(),
            [
                ("app".to_owned(), new_pw.clone(), None),
                ("app".to_owned(), "old-pw".to_owned(), None),
                ("app".to_owned(), "old-pw".to_owned(), None),
            ]
        );
        assert_eq!(
            r.run(&event(Step::SetSecret)).await.unwrap(),
            Outcome::AlreadyDone,
            "the pending password already works"
        );
        for step in [Step::TestSecret, Step::FinishSecret] {
            assert_eq!(
                r.run(&event(step)).await.unwrap(),
                Outcome::Done,
                "{engine}"
            );
        }
        assert_eq!(r.databases.changes(), [set_password("app", "app")]);
        assert_eq!(json_of(&r, "AWSCURRENT"), pending);
        for key in ["engine", "host", "username", "dbname"] {
            assert_eq!(pending[key], old[key], "{key}");
        }
        assert_eq!(json_of(&r, "AWSPREVIOUS"), old);
        assert!(
            r.databases.engines().iter().all(|e| *e == expected),
            "{engine}: {:?}",
            r.databases.engines()
        );
    }
}

/// (b) AWSCURRENT's password no longer logs in (a restore, a retried rotation) but
/// AWSPREVIOUS's does: setSecret logs in with the previous password — on the current endpoint,
/// as the current user, with the stricter TLS setting of the two — and sets the pending one.
#[tokio::test]
async fn set_secret_falls_back_to_the_previous_password() {
    let current = json!({"engine": "postgres", "host": "db.example", "username": "app", "password": "restored-pw"});
    let previous = json!({"engine": "postgres", "host": "DB.example", "username": "app", "password": "prev-pw", "ssl": true});
    let mut r = rotator(&current.to_string());
    r.store.secret.lock().unwrap().versions.insert(
        "v-previous".into(),
        (Some(previous.to_string()), vec!["AWSPREVIOUS".into()]),
    );
    r.databases = MemoryDatabase::with_users(&[("app", "prev-pw")]);
    r.run(&event(Step::CreateSecret)).await.unwrap();
    let pending_pw = json_of(&r, "AWSPENDING")["password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(r.run(&event(Step::SetSecret)).await.unwrap(), Outcome::Done);
    assert_eq!(
        r.databases.logins(),
        [
            ("app".to_owned(), pending_pw.clone(), None),
            ("app".to_owned(), "restored-pw".to_owned(), None),
            // The fallback: current's user and endpoint, previous's password, TLS required.
            ("app".to_owned(), "prev-pw".to_owned(), Some(true)),
            ("app".to_owned(), "prev-pw".to_owned(), Some(true)),
        ]
    );
    assert_eq!(r.databases.changes(), [set_password("app", "app")]);
    assert_eq!(r.databases.password_of("app"), Some(pending_pw.clone()));
    for step in [Step::TestSecret, Step::FinishSecret] {
        assert_eq!(r.run(&event(step)).await.unwrap(), Outcome::Done);
    }
    assert_eq!(json_of(&r, "AWSCURRENT")["password"], pending_pw.as_str());
}

/// (b, refused) A previous version for another server or another user is never tried: the
/// step fails, and nothing on the database changes.
#[tokio::test]
async fn the_previous_password_is_tried_only_on_the_current_endpoint_and_user() {
    for (host, user) in [("other.example", "app"), ("db.example", "someone_else")] {
        let current = json!({"engine": "postgres", "host": "db.example", "username": "app", "password": "restored-pw"});
        let previous =
            json!({"engine": "postgres", "host": host, "username": user, "password": "prev-pw"});
        let mut r = rotator(&current.to_string());
        r.store.secret.lock().unwrap().versions.insert(
            "v-previous".into(),
            (Some(previous.to_string()), vec!["AWSPREVIOUS".into()]),
        );
        r.databases =
            MemoryDatabase::with_users(&[("app", "prev-pw"), ("someone_else", "prev-pw")]);
        r.run(&event(Step::CreateSecret)).await.unwrap();
        let err = r.run(&event(Step::SetSecret)).await.unwrap_err();
        assert_eq!(err.kind.error_type(), "CannotLogin", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("current or previous (same endpoint and user)"),
            "{text}"
        );
        assert!(!text.contains("pw"), "{text}");
        assert!(
            r.databases
                .logins()
                .iter()
                .all(|(_, pw, _)| pw != "prev-pw"),
            "{host}/{user}: {:?}",
            r.databases.logins()
        );
        assert!(r.databases.changes().is_empty());
        assert_eq!(r.databases.password_of("app").as_deref(), Some("prev-pw"));
    }
}

fn alternating() -> TestRotator {
    let app = json!({"engine": "postgres", "host": "db.example", "username": "app", "password": "app-pw", "masterarn": ADMIN});
    let mut r = rotator(&app.to_string());
    r.store.add_other(
        ADMIN,
        r#"{"engine":"postgres","host":"db.example","username":"rotation_admin","password":"admin-pw"}"#,
        &[],
    );
    r.databases = MemoryDatabase::with_users(&[("app", "app-pw"), ("rotation_admin", "admin-pw")]);
    r
}

/// (c) Alternating users: the administrator maintains the other user of the pair, which
/// becomes AWSCURRENT; the next rotation flips back. The user that was current keeps its
/// password throughout, so the application always has a working login.
#[tokio::test]
async fn alternating_users_flip_between_the_user_and_its_clone() {
    let r = alternating();
    assert_eq!(rotate(&r).await, [Outcome::Done; 4]);
    let first = json_of(&r, "AWSCURRENT");
    assert_eq!(first["username"], "app_clone");
    assert_eq!(first["masterarn"], ADMIN);
    let first_pw = first["password"].as_str().unwrap().to_owned();
    assert_eq!(r.databases.password_of("app_clone"), Some(first_pw.clone()));
    assert_eq!(r.databases.password_of("app").as_deref(), Some("app-pw"));
    assert_eq!(
        r.databases.changes(),
        [
            Call::EnsureAlternate {
                admin: "rotation_admin".into(),
                current: "app".into(),
                base: "app".into(),
                user: "app_clone".into(),
            },
            Call::VerifyAlternate {
                admin: "rotation_admin".into(),
                pending: "app_clone".into(),
                base: "app".into(),
            },
        ]
    );

    r.store.start_rotation(TOKEN2);
    assert_eq!(rotate_token(&r, TOKEN2).await, [Outcome::Done; 4]);
    let second = json_of(&r, "AWSCURRENT");
    assert_eq!(second["username"], "app");
    let second_pw = second["password"].as_str().unwrap().to_owned();
    assert_ne!(second_pw, first_pw);
    assert_eq!(r.databases.password_of("app"), Some(second_pw));
    assert_eq!(r.databases.password_of("app_clone"), Some(first_pw));
    assert_eq!(json_of(&r, "AWSPREVIOUS")["username"], "app_clone");
    // Back to the base user: its privileges are its own, so there is nothing to verify.
    assert_eq!(
        r.databases.changes()[2..],
        [Call::EnsureAlternate {
            admin: "rotation_admin".into(),
            current: "app_clone".into(),
            base: "app".into(),
            user: "app".into(),
        }]
    );
    assert!(
        !r.databases
            .changes()
            .iter()
            .any(|c| matches!(c, Call::SetPassword { .. })),
        "the users never change their own passwords in this strategy"
    );
}

/// (d) A statement that fails on the database fails setSecret and leaves the secret as it
/// was: AWSPENDING still on the new version, AWSCURRENT still on the old one, the database
/// unchanged. Once the database works again, the retried step completes.
#[tokio::test]
async fn a_failed_statement_leaves_the_secret_and_the_database_unchanged() {
    let single = {
        let mut r = rotator(
            &json!({"engine": "postgres", "host": "db.example", "username": "app", "password": "old-pw"})
                .to_string(),
        );
        r.databases = MemoryDatabase::with_users(&[("app", "old-pw")]);
        r
    };
    for (r, strategy) in [
        (single, "single user"),
        (alternating(), "alternating users"),
    ] {
        r.run(&event(Step::CreateSecret)).await.unwrap();
        let pending_pw = json_of(&r, "AWSPENDING")["password"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = stages(&r).await;
        let current = r.store.value_of("AWSCURRENT");
        let users_before = (
            r.databases.password_of("app"),
            r.databases.password_of("app_clone"),
        );
        r.databases.state.lock().unwrap().failing_statements = true;

        let err = r.run(&event(Step::SetSecret)).await.unwrap_err();
        assert_eq!(err.kind.error_type(), "DatabaseError", "{strategy}: {err}");
        let text = format!("{err} {err:?}");
        assert!(
            text.contains("database db.example:5432: statement failed: permission denied"),
            "{strategy}: {text}"
        );
        for secret in [pending_pw.as_str(), "old-pw", "app-pw", "admin-pw"] {
            assert!(!text.contains(secret), "{strategy}: {text}");
        }
        assert_eq!(stages(&r).await, before, "{strategy}");
        assert_eq!(
            before[TOKEN],
            ["AWSPENDING"],
            "{strategy}: the new version is still only pending"
        );
        assert_eq!(r.store.value_of("AWSCURRENT"), current, "{strategy}");
        assert_eq!(
            (
                r.databases.password_of("app"),
                r.databases.password_of("app_clone")
            ),
            users_before,
            "{strategy}"
        );
        assert!(r.databases.changes().is_empty(), "{strategy}");

        r.databases.state.lock().unwrap().failing_statements = false;
        assert_eq!(
            r.run(&event(Step::SetSecret)).await.unwrap(),
            Outcome::Done,
            "{strategy}"
        );
        assert_eq!(
            stages(&r).await,
            before,
            "{strategy}: setSecret moves no stage"
        );
    }
}

/// A generic secret never asks for a database: it has no database engine to ask with.
#[tokio::test]
async fn generic_secrets_never_reach_the_database_layer() {
    for value in [r#"{"engine":"generic","password":"a"}"#, "plain-token"] {
        let r = rotator(value);
        assert_eq!(rotate(&r).await, [Outcome::Done; 4]);
        assert!(r.databases.engines().is_empty(), "{value}");
        assert!(r.databases.calls().is_empty(), "{value}");
    }
}
