//! The security review of `secret-rotator` (issue 10), reproduced through the built binary
//! against real PostgreSQL / MariaDB servers and moto: each attack is refused before anything
//! changes, and afterwards the administrator's password, the other server's roles and the
//! user's password are as they were.

use harness::postgres::error_text;
use harness::rotation::{run_step, step_event, ROTATION_TOKEN, STEPS};
use harness::tls::TestCa;
use harness::{Function, FunctionError, LambdaFunction, MariaDb, Moto, PgLogin, Postgres, World};
use mysql_async::prelude::Queryable;
use postgres_protocol::escape::{escape_identifier, escape_literal};
use serde_json::{json, Value};

async fn sql(login: &PgLogin, statement: &str) -> anyhow::Result<()> {
    login
        .connect()
        .await?
        .batch_execute(statement)
        .await
        .map_err(|e| anyhow::anyhow!(error_text(&e)))
}

fn pg(login: &PgLogin, user: &str, password: &str) -> PgLogin {
    PgLogin {
        user: user.to_owned(),
        password: password.to_owned(),
        ..login.clone()
    }
}

async fn logs_in(login: &PgLogin) -> bool {
    login.connect().await.is_ok()
}

fn pg_secret(login: &PgLogin) -> Value {
    json!({"engine": "postgres", "host": login.host, "port": login.port, "username": login.user,
           "password": login.password, "dbname": login.dbname})
}

/// An RDS-like administrator on `server`: CREATEROLE, not superuser, with ADMIN OPTION on
/// `app_role` when given. Returns its login and its secret's ARN.
async fn pg_admin(
    server: &Postgres,
    moto: &Moto,
    name: &str,
    app_role: Option<&str>,
) -> anyhow::Result<(PgLogin, String)> {
    let password = harness::random_token(20);
    let su = server.superuser();
    sql(
        su,
        &format!("CREATE ROLE {name} LOGIN CREATEROLE PASSWORD '{password}'"),
    )
    .await?;
    if let Some(role) = app_role {
        sql(
            su,
            &format!(
                "GRANT {} TO {name} WITH ADMIN OPTION",
                escape_identifier(role)
            ),
        )
        .await?;
    }
    let login = pg(su, name, &password);
    let arn = moto
        .create_secret(
            format!("{name}-{}", harness::random_token(6)),
            pg_secret(&login).to_string(),
        )
        .await?;
    Ok((login, arn))
}

/// Runs the four steps and returns the first error, if any (and the step it came from).
async fn rotate_until_error(
    lambda: &LambdaFunction,
    moto: &Moto,
    arn: &str,
    token: &str,
) -> anyhow::Result<Option<(&'static str, FunctionError)>> {
    moto.prepare_rotation(arn, token).await?;
    for step in STEPS {
        if let Err(e) = lambda.invoke(&step_event(step, arn, token)).await? {
            return Ok(Some((step, e)));
        }
    }
    Ok(None)
}

fn assert_refused(outcome: Option<(&str, FunctionError)>, needle: &str) {
    let (step, err) = outcome.expect("the rotation must be refused");
    assert_eq!(err.error_type, "RotationRefused", "{step}: {err}");
    assert!(
        err.error_message.contains("refusing to rotate") && err.error_message.contains(needle),
        "{step}: {err}"
    );
}

#[tokio::test]
async fn a_clone_named_after_the_administrator_cannot_take_it_over() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, server) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = server.fresh_database().await?;
    let (admin, admin_arn) = pg_admin(server, moto, "rotation_admin", Some(&app.user)).await?;
    // The attacker may attach the rotator to its own secret and names the clone of the
    // administrator: the pending user would be the administrator itself.
    let mut hostile = pg_secret(&pg(&app, "rotation_admin_clone", "unknown"));
    hostile["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("hostile"), hostile.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "a1000000-0000-4000-8000-000000000001").await?;
    assert_refused(outcome, "is the administrator");
    assert!(
        logs_in(&admin).await,
        "the administrator's password is unchanged"
    );
    assert_eq!(moto.current_json(&arn).await?, hostile);

    // The same through a pending version the attacker wrote itself (createSecret skipped):
    // setSecret refuses too.
    let mut current = pg_secret(&app);
    current["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("owned"), current.to_string())
        .await?;
    let token = "a1000000-0000-4000-8000-000000000002";
    moto.prepare_rotation(&arn, token).await?;
    let mut pending = current.clone();
    pending["username"] = json!("rotation_admin");
    pending["password"] = json!("attacker-chosen-Password-1");
    moto.secrets_manager()
        .put_secret_value()
        .secret_id(&arn)
        .client_request_token(token)
        .secret_string(pending.to_string())
        .version_stages("AWSPENDING")
        .send()
        .await?;
    let err = lambda
        .invoke(&step_event("setSecret", &arn, token))
        .await?
        .expect_err("refused");
    assert!(
        matches!(
            err.error_type.as_str(),
            "PendingMismatch" | "RotationRefused"
        ),
        "{err}"
    );
    assert!(logs_in(&admin).await);
    Ok(())
}

#[tokio::test]
async fn an_administrator_of_another_server_is_never_used() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, a) = tokio::try_join!(world.moto(), world.postgres())?;
    let b = Postgres::start().await?;
    // Server B: a victim login the administrator of B may change.
    let victim_password = harness::random_token(20);
    sql(
        b.superuser(),
        &format!("CREATE ROLE victim LOGIN PASSWORD '{victim_password}'"),
    )
    .await?;
    let (b_admin, b_admin_arn) = pg_admin(&b, moto, "rotation_admin", Some("victim")).await?;
    // Server A: the attacker really owns `victim_clone` (so its current credentials work).
    let own_password = harness::random_token(20);
    sql(
        a.superuser(),
        &format!("CREATE ROLE victim_clone LOGIN PASSWORD '{own_password}'"),
    )
    .await?;
    let own = PgLogin {
        dbname: "postgres".into(),
        ..pg(a.superuser(), "victim_clone", &own_password)
    };
    assert!(logs_in(&own).await);
    let mut hostile = pg_secret(&own);
    hostile["masterarn"] = json!(b_admin_arn);
    let arn = moto
        .create_secret(world.unique("hostile"), hostile.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "a2000000-0000-4000-8000-000000000001").await?;
    assert_refused(
        outcome,
        "the administrator may act only on the secret's own server",
    );
    let victim = PgLogin {
        dbname: "postgres".into(),
        ..pg(b.superuser(), "victim", &victim_password)
    };
    assert!(
        logs_in(&victim).await,
        "the other server's password is unchanged"
    );
    assert!(logs_in(&b_admin).await);
    let roles: i64 = b
        .superuser()
        .connect()
        .await?
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'victim%'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(roles, 1, "no role was created on the other server");
    Ok(())
}

#[tokio::test]
async fn alternating_users_needs_working_current_credentials() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, server) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = server.fresh_database().await?;
    let (_, admin_arn) = pg_admin(server, moto, "rotation_admin", Some(&app.user)).await?;
    // The attacker knows the user's name, not its password.
    let mut hostile = pg_secret(&pg(&app, &app.user, "not-the-password"));
    hostile["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("hostile"), hostile.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "a3000000-0000-4000-8000-000000000001").await?;
    assert_refused(outcome, "do not log in");
    let clones: i64 = server
        .superuser()
        .connect()
        .await?
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname = $1",
            &[&format!("{}_clone", app.user)],
        )
        .await?
        .get(0);
    assert_eq!(clones, 0, "no clone with the user's privileges was created");
    assert!(logs_in(&app).await, "the user's password is unchanged");
    Ok(())
}

#[tokio::test]
async fn a_privileged_or_admin_member_pending_user_is_refused() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, server) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = server.fresh_database().await?;
    let (_, admin_arn) = pg_admin(server, moto, "rotation_admin", Some(&app.user)).await?;
    // `<app>_clone` exists already and may create roles: resetting its password would hand
    // that out.
    let clone = format!("{}_clone", app.user);
    let clone_password = harness::random_token(20);
    sql(
        server.superuser(),
        &format!(
            "CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}",
            escape_identifier(&clone),
            escape_literal(&clone_password)
        ),
    )
    .await?;
    let mut value = pg_secret(&app);
    value["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("app"), value.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "a4000000-0000-4000-8000-000000000001").await?;
    assert_refused(outcome, "CREATEROLE");
    let clone_login = PgLogin {
        dbname: "postgres".into(),
        ..pg(&app, &clone, &clone_password)
    };
    assert!(
        logs_in(&clone_login).await,
        "the clone's password is unchanged"
    );
    Ok(())
}

#[tokio::test]
async fn the_previous_version_is_never_used_on_another_endpoint() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, a) = tokio::try_join!(world.moto(), world.postgres())?;
    let b = Postgres::start().await?;
    // The database moved from B to A; B still has the user with the old password.
    let old_password = harness::random_token(20);
    for server in [a, &b] {
        sql(
            server.superuser(),
            &format!("CREATE ROLE mover LOGIN PASSWORD '{old_password}'"),
        )
        .await?;
    }
    sql(
        a.superuser(),
        &format!("ALTER ROLE mover PASSWORD '{}'", harness::random_token(20)),
    )
    .await?;
    let on_b = PgLogin {
        dbname: "postgres".into(),
        ..pg(b.superuser(), "mover", &old_password)
    };
    let on_a = PgLogin {
        dbname: "postgres".into(),
        ..pg(a.superuser(), "mover", "wrong-password")
    };
    // AWSPREVIOUS: B, working. AWSCURRENT: A, with a password A does not accept.
    let arn = moto
        .create_secret(world.unique("moved"), pg_secret(&on_b).to_string())
        .await?;
    moto.secrets_manager()
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(pg_secret(&on_a).to_string())
        .send()
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "a5000000-0000-4000-8000-000000000001").await?;
    let (step, err) = outcome.expect("no working login on the current endpoint");
    assert_eq!(
        (step, err.error_type.as_str()),
        ("setSecret", "CannotLogin"),
        "{err}"
    );
    assert!(
        logs_in(&on_b).await,
        "the other endpoint's password is unchanged"
    );
    Ok(())
}

/// Every log level, RotationToken included: nothing secret reaches the output.
#[tokio::test]
async fn trace_logging_never_prints_a_token_password_or_verifier() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, server) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = server.fresh_database().await?;
    let arn = moto
        .create_secret(world.unique("pg"), pg_secret(&app).to_string())
        .await?;
    let lambda = world
        .lambda(
            Function::SecretRotator,
            &[("RUST_LOG", "trace"), ("AWS_LAMBDA_LOG_LEVEL", "TRACE")],
        )
        .await?;
    let token = "a6000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&arn, token).await?;
    for step in STEPS {
        run_step(&lambda, step, &arn, token).await?;
    }
    let new = moto.current_json(&arn).await?;
    let verifier: String = server
        .superuser()
        .connect()
        .await?
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&app.user],
        )
        .await?
        .get(0);
    let output = lambda.stop().await.join("\n");
    assert!(
        output.contains("\"level\":\"DEBUG\""),
        "the function logged at debug and below"
    );
    for (what, secret) in [
        ("the rotation token", ROTATION_TOKEN),
        ("the new password", new["password"].as_str().unwrap_or("-")),
        ("the old password", app.password.as_str()),
        ("the verifier", verifier.as_str()),
        (
            "the verifier's salt",
            verifier.split('$').nth(2).unwrap_or("-"),
        ),
    ] {
        assert!(
            !output.contains(secret),
            "{what} reached the output at TRACE"
        );
    }
    Ok(())
}

fn maria_secret(login: &harness::MariaDbLogin) -> Value {
    json!({"engine": "mariadb", "host": login.host, "port": login.port, "username": login.user,
           "password": login.password, "dbname": login.dbname, "ssl": false})
}

async fn maria_logs_in(login: &harness::MariaDbLogin) -> bool {
    match login.connect().await {
        Ok(c) => {
            let _ = c.disconnect().await;
            true
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn mariadb_clone_named_after_the_administrator_is_refused() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, maria) = tokio::try_join!(world.moto(), world.mariadb())?;
    let app = maria.fresh_database().await?;
    let admin_password = harness::random_token(20);
    let mut root = maria.admin().connect().await?;
    root.query_drop(format!(
        "CREATE USER 'rotator'@'%' IDENTIFIED BY '{admin_password}'; \
         GRANT CREATE USER ON *.* TO 'rotator'@'%' WITH GRANT OPTION; \
         GRANT SELECT ON mysql.* TO 'rotator'@'%';"
    ))
    .await?;
    root.disconnect().await?;
    let admin = harness::MariaDbLogin {
        user: "rotator".into(),
        password: admin_password,
        ..app.clone()
    };
    let admin_arn = moto
        .create_secret(world.unique("admin"), maria_secret(&admin).to_string())
        .await?;
    let mut hostile = maria_secret(&app);
    hostile["username"] = json!("rotator_clone");
    hostile["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("hostile"), hostile.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "b1000000-0000-4000-8000-000000000001").await?;
    assert_refused(outcome, "is the administrator");
    let admin_in_db = harness::MariaDbLogin {
        dbname: String::new(),
        ..admin
    };
    assert!(
        maria_logs_in(&admin_in_db).await,
        "the administrator's password is unchanged"
    );
    Ok(())
}

/// Half-granted clones never become AWSCURRENT; the TLS requirement is copied (and the
/// rotation itself runs over TLS verified against a test CA given as DB_CA_BUNDLE).
#[tokio::test]
async fn mariadb_a_half_granted_clone_never_becomes_current() -> anyhow::Result<()> {
    let world = World::new();
    let ca = TestCa::new().await?;
    let moto = world.moto().await?;
    let maria = MariaDb::start_with_tls(&ca).await?;
    let app = maria.fresh_database().await?;
    let other = format!("o_{}", harness::random_token(8));
    let admin_password = harness::random_token(20);
    let mut root = maria.admin().connect().await?;
    root.query_drop(format!(
        "CREATE DATABASE `{other}`; CREATE TABLE `{other}`.t (id INT); INSERT INTO `{other}`.t VALUES (7); \
         GRANT SELECT ON `{other}`.* TO '{app}'@'%'; \
         ALTER USER '{app}'@'%' REQUIRE SSL; \
         CREATE USER 'rotator'@'%' IDENTIFIED BY '{admin_password}'; \
         GRANT CREATE USER ON *.* TO 'rotator'@'%' WITH GRANT OPTION; \
         GRANT SELECT ON mysql.* TO 'rotator'@'%'; \
         GRANT ALL PRIVILEGES ON `{db}`.* TO 'rotator'@'%' WITH GRANT OPTION;",
        app = app.user,
        db = app.dbname
    ))
    .await?;
    let admin = json!({"engine": "mysql", "host": app.host, "port": app.port, "username": "rotator",
                       "password": admin_password, "ssl": true});
    let admin_arn = moto
        .create_secret(world.unique("admin"), admin.to_string())
        .await?;
    let mut first = maria_secret(&app);
    first["ssl"] = json!(true);
    first["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("app"), first.to_string())
        .await?;
    let bundle = ca.ca_pem();
    let lambda = world
        .lambda(
            Function::SecretRotator,
            &[("DB_CA_BUNDLE", bundle.to_str().unwrap_or_default())],
        )
        .await?;
    let token = "b2000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&arn, token).await?;
    run_step(&lambda, "createSecret", &arn, token).await?;
    // The administrator cannot grant SELECT on the other database: setSecret fails, and keeps
    // failing on every retry; testSecret refuses too; AWSCURRENT never moves.
    for attempt in 1..=3 {
        let err = lambda
            .invoke(&step_event("setSecret", &arn, token))
            .await?
            .expect_err("the administrator lacks GRANT OPTION");
        assert_eq!(err.error_type, "DatabaseError", "attempt {attempt}: {err}");
        assert!(err.error_message.contains("GRANT OPTION"), "{err}");
    }
    let err = lambda
        .invoke(&step_event("testSecret", &arn, token))
        .await?
        .expect_err("the clone is incomplete");
    assert!(
        matches!(err.error_type.as_str(), "CannotLogin" | "RotationRefused"),
        "{err}"
    );
    assert_eq!(moto.current_json(&arn).await?, first);

    // With the privilege, the next retry completes.
    root.query_drop(format!(
        "GRANT SELECT ON `{other}`.* TO 'rotator'@'%' WITH GRANT OPTION"
    ))
    .await?;
    for step in ["setSecret", "testSecret", "finishSecret"] {
        run_step(&lambda, step, &arn, token).await?;
    }
    let second = moto.current_json(&arn).await?;
    let clone = format!("{}_clone", app.user);
    assert_eq!(second["username"], clone.as_str());
    let (ssl_type,): (String,) = root
        .exec_first(
            "SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = '%'",
            (&clone,),
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("no clone"))?;
    assert_eq!(ssl_type, "ANY", "REQUIRE SSL was copied");
    let grants: Vec<String> = root.query(format!("SHOW GRANTS FOR '{clone}'@'%'")).await?;
    assert!(
        grants
            .iter()
            .any(|g| g.contains(&other) && g.contains("SELECT")),
        "{grants:?}"
    );
    // Plaintext is refused for the clone, as for the user.
    let plain = harness::MariaDbLogin {
        host: app.host.clone(),
        port: app.port,
        dbname: app.dbname.clone(),
        user: clone.clone(),
        password: second["password"].as_str().unwrap_or_default().to_owned(),
    };
    assert!(!maria_logs_in(&plain).await, "the clone requires TLS");
    root.disconnect().await?;
    Ok(())
}

/// NO_BACKSLASH_ESCAPES on the server: passwords with quotes and backslashes are quoted for
/// the session's mode; a statement that fails reports the server's code, never its text.
#[tokio::test]
async fn mariadb_quoting_follows_the_server_and_errors_never_quote_passwords() -> anyhow::Result<()>
{
    let world = World::new();
    let (moto, maria) = tokio::try_join!(world.moto(), world.mariadb())?;
    let app = maria.fresh_database().await?;
    let mut root = maria.admin().connect().await?;
    root.query_drop("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
        .await?;
    let arn = moto
        .create_secret(world.unique("maria"), maria_secret(&app).to_string())
        .await?;
    // Long passwords from every printable character: quotes and backslashes all but certain.
    let lambda = world
        .lambda(
            Function::SecretRotator,
            &[("EXCLUDE_CHARACTERS", ""), ("PASSWORD_LENGTH", "400")],
        )
        .await?;
    let token = "b3000000-0000-4000-8000-000000000001";
    harness::rotation::rotate(&lambda, moto, &arn, token).await?;
    let new = moto.current_json(&arn).await?;
    let password = new["password"].as_str().unwrap_or_default().to_owned();
    assert!(
        password.contains('\\') || password.contains('\''),
        "the generated password has a character that needs quoting"
    );
    let login = harness::MariaDbLogin {
        password: password.clone(),
        ..app.clone()
    };
    assert!(
        maria_logs_in(&login).await,
        "the new password works as stored"
    );

    // A read-only server rejects the password change: the error carries the code only.
    root.query_drop("SET GLOBAL read_only = 1").await?;
    let token = "b3000000-0000-4000-8000-000000000002";
    moto.prepare_rotation(&arn, token).await?;
    run_step(&lambda, "createSecret", &arn, token).await?;
    let err = lambda
        .invoke(&step_event("setSecret", &arn, token))
        .await?
        .expect_err("read-only server");
    root.query_drop("SET GLOBAL read_only = 0").await?;
    root.disconnect().await?;
    assert_eq!(err.error_type, "DatabaseError", "{err}");
    assert!(err.error_message.contains("server error 1290"), "{err}");
    assert!(
        !err.error_message.contains("--read-only"),
        "server text kept: {err}"
    );
    let output = lambda.stop().await.join("\n");
    assert!(!output.contains(&password));
    Ok(())
}

/// `ssl: true` against servers whose certificates a private CA signed: with the CA as
/// DB_CA_BUNDLE the rotation completes; without it the error names the missing CA.
#[tokio::test]
async fn ssl_true_with_a_ca_bundle_and_without() -> anyhow::Result<()> {
    let world = World::new();
    let ca = TestCa::new().await?;
    let moto = world.moto().await?;
    let (pg_server, maria) =
        tokio::try_join!(Postgres::start_with_tls(&ca), MariaDb::start_with_tls(&ca))?;
    let pg_app = pg_server.fresh_database().await?;
    let maria_app = maria.fresh_database().await?;
    let mut pg_value = pg_secret(&pg_app);
    pg_value["ssl"] = json!(true);
    let mut maria_value = maria_secret(&maria_app);
    maria_value["ssl"] = json!(true);
    let pg_arn = moto
        .create_secret(world.unique("pg"), pg_value.to_string())
        .await?;
    let maria_arn = moto
        .create_secret(world.unique("maria"), maria_value.to_string())
        .await?;

    let untrusting = world.lambda(Function::SecretRotator, &[]).await?;
    for (arn, token, issuer_named) in [
        (&pg_arn, "b4000000-0000-4000-8000-000000000001", true),
        (&maria_arn, "b4000000-0000-4000-8000-000000000002", false),
    ] {
        moto.prepare_rotation(arn, token).await?;
        run_step(&untrusting, "createSecret", arn, token).await?;
        let err = untrusting
            .invoke(&step_event("setSecret", arn, token))
            .await?
            .expect_err("untrusted CA");
        assert_eq!(err.error_type, "DatabaseError", "{err}");
        assert!(err.error_message.contains("DB_CA_BUNDLE"), "{err}");
        if issuer_named {
            assert!(err.error_message.contains("ecs-secrets test CA"), "{err}");
        }
    }
    assert!(logs_in(&pg_app).await && maria_logs_in(&maria_app).await);

    let bundle = ca.ca_pem();
    let trusting = world
        .lambda(
            Function::SecretRotator,
            &[("DB_CA_BUNDLE", bundle.to_str().unwrap_or_default())],
        )
        .await?;
    for (arn, token) in [
        (&pg_arn, "b4000000-0000-4000-8000-000000000001"),
        (&maria_arn, "b4000000-0000-4000-8000-000000000002"),
    ] {
        for step in ["setSecret", "testSecret", "finishSecret"] {
            run_step(&trusting, step, arn, token).await?;
        }
    }
    let pg_new = moto.current_json(&pg_arn).await?;
    assert!(
        logs_in(&pg(
            &pg_app,
            &pg_app.user,
            pg_new["password"].as_str().unwrap_or("-")
        ))
        .await
    );
    let maria_new = moto.current_json(&maria_arn).await?;
    assert_ne!(maria_new["password"], maria_value["password"]);

    // A bundle that is not a certificate file stops the function at start-up, by name.
    let broken = world
        .lambda(
            Function::SecretRotator,
            &[("DB_CA_BUNDLE", "/nonexistent/ca.pem")],
        )
        .await?;
    let err = broken
        .invoke(&step_event("createSecret", &pg_arn, "x"))
        .await
        .expect_err("init error");
    assert!(err.to_string().contains("DB_CA_BUNDLE"), "{err}");
    Ok(())
}

/// A `_clone` name proves nothing: knowing the password of `victim_clone` must not let the
/// owner reset `victim`'s (the pending user of the flip back).
#[tokio::test]
async fn a_clone_name_is_no_proof_of_the_users_privileges() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, server) = tokio::try_join!(world.moto(), world.postgres())?;
    let victim = server.fresh_database().await?;
    let (_, admin_arn) = pg_admin(server, moto, "rotation_admin", Some(&victim.user)).await?;
    let clone = format!("{}_clone", victim.user);
    let known = harness::random_token(20);
    sql(
        server.superuser(),
        &format!(
            "CREATE ROLE {} LOGIN PASSWORD {}",
            escape_identifier(&clone),
            escape_literal(&known)
        ),
    )
    .await?;
    let own = PgLogin {
        dbname: "postgres".into(),
        ..pg(&victim, &clone, &known)
    };
    let mut hostile = pg_secret(&own);
    hostile["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("hostile"), hostile.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let outcome =
        rotate_until_error(&lambda, moto, &arn, "a7000000-0000-4000-8000-000000000001").await?;
    assert_refused(outcome, "does not hold");
    assert!(logs_in(&victim).await, "the victim's password is unchanged");
    Ok(())
}

/// The administrator never works inside a database the secret's owner controls: an owner's
/// `search_path` and a look-alike `=` operator there must not run as the administrator.
#[tokio::test]
async fn the_administrator_never_runs_the_owners_objects() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, server) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = server.fresh_database().await?;
    let (_, admin_arn) = pg_admin(server, moto, "rotation_admin", Some(&app.user)).await?;
    sql(
        server.superuser(),
        &format!(
            "GRANT CONNECT ON DATABASE {} TO rotation_admin",
            escape_identifier(&app.dbname)
        ),
    )
    .await?;
    // The owner's trap, in its own database.
    sql(
        &app,
        &format!(
            "CREATE FUNCTION public.trap(name, name) RETURNS boolean LANGUAGE plpgsql AS $f$ \
             BEGIN EXECUTE 'ALTER ROLE {role} CREATEDB'; RETURN $1::text = $2::text; END $f$; \
             CREATE FUNCTION public.trap(name, text) RETURNS boolean LANGUAGE plpgsql AS $f$ \
             BEGIN EXECUTE 'ALTER ROLE {role} CREATEDB'; RETURN $1::text = $2; END $f$; \
             CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = public.trap); \
             CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.trap); \
             ALTER DATABASE {db} SET search_path = public, pg_catalog",
            role = escape_identifier(&app.user),
            db = escape_identifier(&app.dbname)
        ),
    )
    .await?;
    let mut value = pg_secret(&app);
    value["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("app"), value.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    harness::rotation::rotate(&lambda, moto, &arn, "a8000000-0000-4000-8000-000000000001").await?;
    let createdb: bool = server
        .superuser()
        .connect()
        .await?
        .query_one(
            "SELECT rolcreatedb FROM pg_catalog.pg_roles WHERE rolname = $1",
            &[&app.user],
        )
        .await?
        .get(0);
    assert!(!createdb, "the owner's operator ran as the administrator");
    Ok(())
}
