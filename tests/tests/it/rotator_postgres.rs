//! `secret-rotator` against a real PostgreSQL (SCRAM authentication) and moto, through the
//! built binary: single user, alternating users, and the faults a rotation must survive.

use harness::postgres::error_text;
use harness::rotation::{run_step, step_event, ROTATION_TOKEN, STEPS};
use harness::{Function, LambdaFunction, Moto, PgLogin, Postgres, World};
use postgres_protocol::escape::{escape_identifier, escape_literal};
use serde_json::{json, Value};

fn event(step: &str, arn: &str, token: &str) -> Value {
    step_event(step, arn, token)
}

async fn rotate(
    lambda: &LambdaFunction,
    moto: &Moto,
    arn: &str,
    token: &str,
) -> anyhow::Result<()> {
    harness::rotation::rotate(lambda, moto, arn, token)
        .await
        .map(drop)
}

fn login_of(secret: &Value) -> PgLogin {
    PgLogin {
        host: secret["host"].as_str().unwrap_or_default().to_owned(),
        port: secret["port"].as_u64().unwrap_or_default() as u16,
        dbname: secret["dbname"].as_str().unwrap_or("postgres").to_owned(),
        user: secret["username"].as_str().unwrap_or_default().to_owned(),
        password: secret["password"].as_str().unwrap_or_default().to_owned(),
    }
}

async fn logs_in(secret: &Value) -> bool {
    login_of(secret).connect().await.is_ok()
}

async fn current(moto: &Moto, arn: &str) -> anyhow::Result<Value> {
    moto.current_json(arn).await
}

/// A secret for `login`, as an application team would store it.
fn secret_for(login: &PgLogin) -> Value {
    json!({
        "engine": "postgres", "host": login.host, "port": login.port, "username": login.user,
        "password": login.password, "dbname": login.dbname, "team": "payments"
    })
}

async fn superuser_sql(pg: &Postgres, sql: &str) -> anyhow::Result<()> {
    let client = pg.superuser().connect().await?;
    client
        .batch_execute(sql)
        .await
        .map_err(|e| anyhow::anyhow!(error_text(&e)))
}

#[tokio::test]
async fn single_user_rotation_end_to_end() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let login = pg.fresh_database().await?;
    // A starting password with every ASCII punctuation character: connections are made from
    // structured parameters, so none of them needs escaping.
    let punctuation: String = (33u8..127)
        .map(char::from)
        .filter(|c| c.is_ascii_punctuation())
        .collect();
    let mut login = login;
    login.password = format!("Aa1{punctuation}");
    superuser_sql(
        pg,
        &format!(
            "ALTER ROLE {} PASSWORD {}",
            escape_identifier(&login.user),
            escape_literal(&login.password)
        ),
    )
    .await?;
    let old = secret_for(&login);
    assert!(logs_in(&old).await, "the starting password works");
    let arn = moto
        .create_secret(world.unique("pg"), old.to_string())
        .await?;

    let lambda = world
        .lambda(Function::SecretRotator, &[("EXCLUDE_CHARACTERS", "")])
        .await?;
    let token = "a0000000-0000-4000-8000-000000000001";
    rotate(&lambda, moto, &arn, token).await?;

    let new = current(moto, &arn).await?;
    assert!(logs_in(&new).await, "AWSCURRENT logs in");
    assert!(
        !logs_in(&old).await,
        "the previous password no longer works"
    );
    for key in ["engine", "host", "port", "username", "dbname", "team"] {
        assert_eq!(new[key], old[key], "{key} unchanged");
    }
    assert_ne!(new["password"], old["password"]);

    // The stored verifier is SCRAM: the function never sent the clear password.
    let client = pg.superuser().connect().await?;
    let row = client
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&login.user],
        )
        .await?;
    let stored: String = row.get(0);
    assert!(
        stored.starts_with("SCRAM-SHA-256$"),
        "stored as a SCRAM verifier"
    );

    // Every step again: no-ops, nothing changes.
    for step in STEPS {
        assert_eq!(
            run_step(&lambda, step, &arn, token).await?["outcome"],
            "already-done",
            "{step}"
        );
    }
    assert_eq!(current(moto, &arn).await?, new);
    assert!(logs_in(&new).await);

    let output = lambda.stop().await.join("\n");
    for secret in [
        new["password"].as_str().unwrap_or("-"),
        login.password.as_str(),
        stored.as_str(),
        ROTATION_TOKEN,
    ] {
        assert!(
            !output.contains(secret),
            "a secret reached the function's output"
        );
    }
    Ok(())
}

#[tokio::test]
async fn alternating_users_keep_both_logins_working() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = pg.fresh_database().await?;
    // An administrator as on RDS: CREATEROLE, not superuser.
    let admin_password = harness::random_token(20);
    superuser_sql(
        pg,
        &format!("CREATE ROLE rotation_admin LOGIN CREATEROLE PASSWORD '{admin_password}'"),
    )
    .await?;
    superuser_sql(
        pg,
        &format!(
            "GRANT CONNECT ON DATABASE {} TO rotation_admin",
            escape_identifier(&app.dbname)
        ),
    )
    .await?;
    superuser_sql(
        pg,
        &format!(
            "GRANT {} TO rotation_admin WITH ADMIN OPTION",
            escape_identifier(&app.user)
        ),
    )
    .await?;
    let admin_secret = json!({"engine": "postgres", "host": app.host, "port": app.port, "username": "rotation_admin", "password": admin_password, "dbname": app.dbname});
    // The administrator's secret is named as RDS names its managed master secrets
    // (`rds!db-…`): the name is accepted as masterarn. (A real one holds only username and
    // password: see `an_rds_managed_master_secret_administers_alternating_users`.)
    let admin_arn = moto
        .create_secret(
            format!("rds!db-{}", world.unique("admin")),
            admin_secret.to_string(),
        )
        .await?;
    assert!(admin_arn.contains(":secret:rds!db-"), "{admin_arn}");
    let mut first = secret_for(&app);
    first["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("app"), first.to_string())
        .await?;
    // The application owns a table; the clone must be able to use it.
    app.connect()
        .await?
        .batch_execute("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)")
        .await?;

    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    rotate(&lambda, moto, &arn, "b0000000-0000-4000-8000-000000000001").await?;
    let second = current(moto, &arn).await?;
    assert_eq!(second["username"], format!("{}_clone", app.user));
    assert!(logs_in(&second).await, "the clone logs in");
    assert!(
        logs_in(&first).await,
        "the original user still logs in (alternating users)"
    );
    let clone_client = login_of(&second).connect().await?;
    let n: i64 = clone_client
        .query_one("SELECT count(*) FROM orders", &[])
        .await?
        .get(0);
    assert_eq!(n, 1, "the clone has the original user's privileges");

    rotate(&lambda, moto, &arn, "b0000000-0000-4000-8000-000000000002").await?;
    let third = current(moto, &arn).await?;
    assert_eq!(
        third["username"], app.user,
        "flips back to the original user"
    );
    assert_ne!(third["password"], first["password"]);
    assert!(
        logs_in(&third).await && logs_in(&second).await,
        "both users work"
    );
    assert_eq!(
        third["masterarn"],
        json!(admin_arn),
        "other keys carried forward"
    );
    Ok(())
}

#[tokio::test]
async fn missing_master_secret_is_a_clear_error_and_changes_nothing() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = pg.fresh_database().await?;
    let mut value = secret_for(&app);
    value["masterarn"] =
        json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-admin-AbCdEf");
    let arn = moto
        .create_secret(world.unique("app"), value.to_string())
        .await?;
    let token = "c0000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&arn, token).await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let err = lambda
        .invoke(&event("createSecret", &arn, token))
        .await?
        .expect_err("no admin secret");
    assert_eq!(err.error_type, "MasterSecret", "{err}");
    assert!(err.error_message.contains("no-such-admin"), "{err}");
    assert_eq!(current(moto, &arn).await?, value);
    assert!(logs_in(&value).await);
    Ok(())
}

#[tokio::test]
async fn faults_leave_awscurrent_working_and_a_retry_completes() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = pg.fresh_database().await?;
    let original = secret_for(&app);
    let arn = moto
        .create_secret(world.unique("pg"), original.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;

    // Crash after setSecret: the database already holds the pending password when the step is
    // retried; the retry notices and the rotation completes.
    let t1 = "d0000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&arn, t1).await?;
    run_step(&lambda, "createSecret", &arn, t1).await?;
    assert_eq!(
        run_step(&lambda, "setSecret", &arn, t1).await?["outcome"],
        "done"
    );
    assert_eq!(
        run_step(&lambda, "setSecret", &arn, t1).await?["outcome"],
        "already-done"
    );
    run_step(&lambda, "testSecret", &arn, t1).await?;
    run_step(&lambda, "finishSecret", &arn, t1).await?;
    let second = current(moto, &arn).await?;
    assert!(logs_in(&second).await);

    // Concurrent rotation: another rotation replaces AWSPENDING; our token's steps are refused
    // and AWSCURRENT keeps working; the newer rotation completes.
    let (ta, tb) = (
        "d0000000-0000-4000-8000-00000000000a",
        "d0000000-0000-4000-8000-00000000000b",
    );
    moto.prepare_rotation(&arn, ta).await?;
    run_step(&lambda, "createSecret", &arn, ta).await?;
    // moto refuses RotateSecret while AWSPENDING is attached; move it as a second rotation would.
    moto.secrets_manager()
        .update_secret_version_stage()
        .secret_id(&arn)
        .version_stage("AWSPENDING")
        .remove_from_version_id(ta)
        .send()
        .await?;
    moto.prepare_rotation(&arn, tb).await?;
    let err = lambda
        .invoke(&event("setSecret", &arn, ta))
        .await?
        .expect_err("superseded token");
    assert_eq!(err.error_type, "VersionNotPending", "{err}");
    assert!(logs_in(&current(moto, &arn).await?).await);
    for step in STEPS {
        run_step(&lambda, step, &arn, tb).await?;
    }
    let third = current(moto, &arn).await?;
    assert!(logs_in(&third).await);

    // Out of band, the database password goes back to the AWSPREVIOUS value (a restore):
    // AWSCURRENT no longer logs in, setSecret logs in with AWSPREVIOUS and completes.
    superuser_sql(
        pg,
        &format!(
            "ALTER ROLE {} PASSWORD {}",
            escape_identifier(&app.user),
            escape_literal(second["password"].as_str().unwrap_or_default())
        ),
    )
    .await?;
    assert!(!logs_in(&third).await);
    rotate(&lambda, moto, &arn, "d0000000-0000-4000-8000-00000000000c").await?;
    let fourth = current(moto, &arn).await?;
    assert!(
        logs_in(&fourth).await,
        "rotation recovered through AWSPREVIOUS"
    );

    // Database unreachable at setSecret: the step fails fast and clearly, nothing changes.
    let mut unreachable = fourth.clone();
    let (_reserved, dead_port) = harness::process::dead_port()?;
    unreachable["port"] = json!(dead_port);
    let dead = moto
        .create_secret(world.unique("dead"), unreachable.to_string())
        .await?;
    let td = "d0000000-0000-4000-8000-00000000000d";
    moto.prepare_rotation(&dead, td).await?;
    run_step(&lambda, "createSecret", &dead, td).await?;
    let started = std::time::Instant::now();
    let err = lambda
        .invoke(&event("setSecret", &dead, td))
        .await?
        .expect_err("database down");
    assert_eq!(err.error_type, "DatabaseError", "{err}");
    assert!(
        err.error_message.starts_with("setSecret: secret ")
            && err.error_message.contains("cannot reach the database"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "fails fast"
    );
    assert_eq!(
        current(moto, &dead).await?,
        unreachable,
        "AWSCURRENT untouched"
    );

    let output = lambda.stop().await.join("\n");
    for v in [&second, &third, &fourth] {
        assert!(
            !output.contains(v["password"].as_str().unwrap_or("-")),
            "a password reached the output"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_hung_database_fails_set_and_test_fast_and_a_retry_completes() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = pg.fresh_database().await?;
    let original = secret_for(&app);
    let arn = moto
        .create_secret(world.unique("pg"), original.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    let token = "e1000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&arn, token).await?;
    run_step(&lambda, "createSecret", &arn, token).await?;

    pg.pause()?;
    let started = std::time::Instant::now();
    let err = lambda
        .invoke(&event("setSecret", &arn, token))
        .await?
        .expect_err("database hung");
    pg.resume()?;
    assert_eq!(err.error_type, "DatabaseError", "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "connect timeout bounds the step"
    );
    assert!(
        logs_in(&original).await,
        "AWSCURRENT still works after the failed setSecret"
    );

    run_step(&lambda, "setSecret", &arn, token).await?;
    pg.pause()?;
    let err = lambda
        .invoke(&event("testSecret", &arn, token))
        .await?
        .expect_err("database hung");
    pg.resume()?;
    assert_eq!(err.error_type, "CannotLogin", "{err}");
    assert!(err.error_message.starts_with("testSecret: "), "{err}");

    run_step(&lambda, "testSecret", &arn, token).await?;
    run_step(&lambda, "finishSecret", &arn, token).await?;
    assert!(
        logs_in(&current(moto, &arn).await?).await,
        "the retried rotation completed"
    );
    Ok(())
}

#[tokio::test]
async fn ssl_true_refuses_a_server_without_tls_and_ssl_false_or_absent_connect(
) -> anyhow::Result<()> {
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    for (ssl, expect_ok) in [(Some(true), false), (Some(false), true), (None, true)] {
        let app = pg.fresh_database().await?;
        let mut value = secret_for(&app);
        if let Some(ssl) = ssl {
            value["ssl"] = json!(ssl);
        }
        let arn = moto
            .create_secret(world.unique("tls"), value.to_string())
            .await?;
        let token = "e2000000-0000-4000-8000-000000000001";
        moto.prepare_rotation(&arn, token).await?;
        run_step(&lambda, "createSecret", &arn, token).await?;
        let outcome = lambda.invoke(&event("setSecret", &arn, token)).await?;
        match (outcome, expect_ok) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                assert_eq!(e.error_type, "DatabaseError", "{e}");
                assert!(e.error_message.to_lowercase().contains("tls"), "{e}");
                assert!(
                    logs_in(&value).await,
                    "no plaintext fallback happened and nothing changed"
                );
            }
            (other, _) => panic!("ssl={ssl:?}: unexpected {other:?}"),
        }
    }
    Ok(())
}

/// Issue 13: a secret another service manages is refused at the gate, before any change —
/// by `OwningService` (moto does not set it: the fault proxy adds it to DescribeSecret) and by
/// a service-managed name.
#[tokio::test]
async fn a_secret_another_service_manages_is_refused() -> anyhow::Result<()> {
    use harness::faults::{FaultProxy, Faults};
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = pg.fresh_database().await?;
    let by_owner = moto
        .create_secret(world.unique("owned"), secret_for(&app).to_string())
        .await?;
    let by_name = moto
        .create_secret(
            format!("rds!db-{}", world.unique("managed")),
            secret_for(&app).to_string(),
        )
        .await?;
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            owning_service: Some("rds".into()),
            ..Faults::default()
        },
    )
    .await?;
    // The simulation itself: DescribeSecret through the proxy carries the field.
    let through = proxy.secrets_manager(moto);
    let described = through
        .describe_secret()
        .secret_id(&by_owner)
        .send()
        .await?;
    assert_eq!(described.owning_service(), Some("rds"));

    let lambda = world
        .lambda_with_env(Function::SecretRotator, proxy.env(moto))
        .await?;
    let token = "c0000000-0000-4000-8000-000000000013";
    for arn in [&by_owner, &by_name] {
        moto.prepare_rotation(arn, token).await?;
        let err = lambda
            .invoke(&event("createSecret", arn, token))
            .await?
            .expect_err("refused");
        assert_eq!(err.error_type, "RotationRefused", "{err}");
        assert!(err.error_message.contains("not by this function"), "{err}");
    }
    assert!(logs_in(&secret_for(&app)).await, "nothing changed");
    Ok(())
}

/// A DB instance in moto whose master password RDS manages (`ManageMasterUserPassword`): moto
/// creates the `rds!db-…` secret with RDS's tags and `OwningService`. Returns the instance's
/// endpoint name, as moto gives it, and the master secret's ARN.
async fn managed_instance(
    moto: &Moto,
    id: &str,
    engine: &str,
    port: u16,
) -> anyhow::Result<(String, String)> {
    let out = moto
        .rds()
        .create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .manage_master_user_password(true)
        .port(i32::from(port))
        .send()
        .await?;
    let db = out
        .db_instance()
        .ok_or_else(|| anyhow::anyhow!("no instance"))?;
    let name = db
        .endpoint()
        .and_then(|e| e.address())
        .ok_or_else(|| anyhow::anyhow!("no endpoint"))?
        .to_owned();
    let secret = db
        .master_user_secret()
        .and_then(|s| s.secret_arn())
        .ok_or_else(|| anyhow::anyhow!("no master user secret"))?
        .to_owned();
    Ok((name, secret))
}

/// Issue 13: the administrator of alternating users is the master secret RDS manages — only
/// `username` and `password` in it. Its server is looked up from RDS (the secret's
/// `aws:rds:primaryDBInstanceArn` tag, and RDS naming the secret as the instance's master
/// secret), never from the application's secret; the same-server guard still holds, and the
/// master login always uses verified TLS (as RDS's certificates need `DB_CA_BUNDLE`).
#[tokio::test]
async fn an_rds_managed_master_secret_administers_alternating_users() -> anyhow::Result<()> {
    use harness::faults::{FaultProxy, Faults};
    use harness::tls::TestCa;
    let world = World::new();
    let ca = TestCa::new().await?;
    let moto = world.moto().await?;
    let pg = &Postgres::start_with_tls(&ca).await?;
    let app = pg.fresh_database().await?;
    let (name, master_arn) =
        managed_instance(moto, &world.unique("orders"), "postgres", pg.port()).await?;
    assert!(master_arn.contains(":secret:rds!db-"), "{master_arn}");
    // The master login is whatever RDS put in its secret; the local server gets that role
    // (CREATEROLE and ADMIN of the application's user, as the RDS master user has).
    let master = moto.current_json(&master_arn).await?;
    assert!(master.get("host").is_none(), "{master}");
    let (master_user, master_password) = (
        master["username"].as_str().unwrap_or_default().to_owned(),
        master["password"].as_str().unwrap_or_default().to_owned(),
    );
    superuser_sql(
        pg,
        &format!(
            "CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}; GRANT CONNECT ON DATABASE {} TO {0}; GRANT {} TO {0} WITH ADMIN OPTION",
            escape_identifier(&master_user),
            escape_literal(&master_password),
            escape_identifier(&app.dbname),
            escape_identifier(&app.user),
        ),
    )
    .await?;
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            rds_dns: vec![(name.clone(), app.host.clone())],
            ..Faults::default()
        },
    )
    .await?;
    // The simulation itself: through the proxy the endpoint name is resolved, and only it.
    let direct = moto
        .rds()
        .describe_db_instances()
        .db_instance_identifier(name.split('.').next().unwrap_or_default())
        .send()
        .await?;
    let through = proxy
        .rds(moto)
        .describe_db_instances()
        .db_instance_identifier(name.split('.').next().unwrap_or_default())
        .send()
        .await?;
    let (d, t) = (&direct.db_instances()[0], &through.db_instances()[0]);
    assert_eq!(d.endpoint().and_then(|e| e.address()), Some(name.as_str()));
    assert_eq!(
        t.endpoint().and_then(|e| e.address()),
        Some(app.host.as_str())
    );
    assert_eq!(
        t.endpoint().and_then(|e| e.port()),
        d.endpoint().and_then(|e| e.port())
    );
    assert_eq!(t.master_user_secret(), d.master_user_secret());

    // The application's secret does not ask for TLS; the master login uses it all the same:
    // without the CA bundle, setSecret fails at the master's login (the application's own
    // login, TLS when offered, proves first), and nothing changes.
    let mut first = secret_for(&app);
    first["masterarn"] = json!(master_arn);
    first["ssl"] = json!(false);
    let arn = moto
        .create_secret(world.unique("app"), first.to_string())
        .await?;
    let untrusting = world
        .lambda_with_env(Function::SecretRotator, proxy.env(moto))
        .await?;
    let token = "d0000000-0000-4000-8000-000000000001";
    moto.prepare_rotation(&arn, token).await?;
    run_step(&untrusting, "createSecret", &arn, token).await?;
    let err = untrusting
        .invoke(&event("setSecret", &arn, token))
        .await?
        .expect_err("the master login needs verified TLS");
    assert_eq!(err.error_type, "DatabaseError", "{err}");
    assert!(err.error_message.contains("DB_CA_BUNDLE"), "{err}");
    assert_eq!(current(moto, &arn).await?, first, "nothing changed");

    let mut env = proxy.env(moto);
    env.push((
        "DB_CA_BUNDLE".into(),
        ca.ca_pem().to_string_lossy().into_owned(),
    ));
    let lambda = world.lambda_with_env(Function::SecretRotator, env).await?;
    for step in ["setSecret", "testSecret", "finishSecret"] {
        run_step(&lambda, step, &arn, token).await?;
    }
    let second = current(moto, &arn).await?;
    assert_eq!(second["username"], format!("{}_clone", app.user));
    assert!(
        logs_in(&second).await && logs_in(&first).await,
        "both users log in"
    );
    rotate(&lambda, moto, &arn, "d0000000-0000-4000-8000-000000000002").await?;
    let third = current(moto, &arn).await?;
    assert_eq!(third["username"], app.user, "flips back");
    assert!(logs_in(&third).await && logs_in(&second).await);
    assert_eq!(
        moto.current_json(&master_arn).await?,
        master,
        "the managed master secret is only read"
    );
    let logs = lambda.stop().await.join("\n");
    assert!(
        !logs.contains(&master_password),
        "the master password is never logged"
    );
    Ok(())
}

/// Issue 13, attacks on the lookup: a login-only administrator secret is used only when RDS
/// itself vouches for it, and only for the server it names.
#[tokio::test]
async fn a_login_only_administrator_is_used_only_where_rds_says() -> anyhow::Result<()> {
    use harness::faults::{FaultProxy, Faults};
    let world = World::new();
    let (moto, pg) = tokio::try_join!(world.moto(), world.postgres())?;
    let app = pg.fresh_database().await?;
    // An instance on another server (another port): its master secret must not act here.
    let (other_name, other_master) =
        managed_instance(moto, &world.unique("elsewhere"), "postgres", pg.port() + 1).await?;
    // An Aurora cluster on another server: looked up by its `aws:rds:primaryDBClusterArn` tag
    // (DescribeDBClusters), then refused by the same-server guard.
    let cluster = moto
        .rds()
        .create_db_cluster()
        .db_cluster_identifier(world.unique("aurora"))
        .engine("aurora-postgresql")
        .master_username("admin")
        .manage_master_user_password(true)
        .port(i32::from(pg.port() + 2))
        .send()
        .await?;
    let cluster = cluster
        .db_cluster()
        .ok_or_else(|| anyhow::anyhow!("no cluster"))?;
    let cluster_name = cluster.endpoint().unwrap_or_default().to_owned();
    let cluster_master = cluster
        .master_user_secret()
        .and_then(|s| s.secret_arn())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cluster_master.contains(":secret:rds!cluster-"),
        "{cluster_master}"
    );
    // An instance on the same port of another host.
    let (host_name, host_master) =
        managed_instance(moto, &world.unique("otherhost"), "postgres", pg.port()).await?;
    // A MySQL instance whose master secret is named by a PostgreSQL secret.
    let (mysql_name, mysql_master) =
        managed_instance(moto, &world.unique("shop"), "mysql", pg.port()).await?;
    // A secret that only claims to be an instance's master secret: a copy of the login and the
    // tag RDS would set (moto, unlike AWS, lets a caller set an `aws:` tag).
    let (real_name, real_master) =
        managed_instance(moto, &world.unique("orders"), "postgres", pg.port()).await?;
    let real_instance = moto
        .rds()
        .describe_db_instances()
        .db_instance_identifier(real_name.split('.').next().unwrap_or_default())
        .send()
        .await?
        .db_instances()[0]
        .db_instance_arn()
        .unwrap_or_default()
        .to_owned();
    let forged = moto
        .secrets_manager()
        .create_secret()
        .name(format!("rds!db-{}", world.unique("forged")))
        .secret_string(moto.current_value(&real_master).await?)
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder()
                .key("aws:rds:primaryDBInstanceArn")
                .value(&real_instance)
                .build(),
        )
        .send()
        .await?
        .arn()
        .unwrap_or_default()
        .to_owned();
    // A login-only secret with no RDS tag at all.
    let untagged = moto
        .create_secret(
            world.unique("login-only"),
            json!({"username": "admin", "password": "x"}).to_string(),
        )
        .await?;
    let proxy = FaultProxy::start(
        moto.endpoint(),
        Faults {
            rds_dns: [other_name, cluster_name, mysql_name, real_name]
                .into_iter()
                .map(|n| (n, app.host.clone()))
                .chain([(host_name, "localhost".to_owned())])
                .collect(),
            ..Faults::default()
        },
    )
    .await?;
    let lambda = world
        .lambda_with_env(Function::SecretRotator, proxy.env(moto))
        .await?;
    let cases = [
        (other_master, "RotationRefused", "another server"),
        (cluster_master, "RotationRefused", "another server"),
        (host_master, "RotationRefused", "another server"),
        (mysql_master, "MasterSecret", "cannot administer"),
        (forged, "MasterSecret", "does not name this secret"),
        (untagged, "MasterSecret", "aws:rds:primaryDBInstanceArn"),
    ];
    for (i, (master, error_type, says)) in cases.into_iter().enumerate() {
        let mut value = secret_for(&app);
        value["masterarn"] = json!(master);
        let arn = moto
            .create_secret(world.unique("app"), value.to_string())
            .await?;
        let token = format!("d1000000-0000-4000-8000-00000000000{i}");
        moto.prepare_rotation(&arn, &token).await?;
        let err = lambda
            .invoke(&event("createSecret", &arn, &token))
            .await?
            .expect_err("refused");
        assert_eq!(err.error_type, error_type, "{master}: {err}");
        assert!(err.error_message.contains(says), "{master}: {err}");
        assert_eq!(current(moto, &arn).await?, value, "nothing changed");
    }
    assert!(logs_in(&secret_for(&app)).await);
    Ok(())
}
