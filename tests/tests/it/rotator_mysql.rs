//! `secret-rotator` against a real MariaDB and moto, through the built binary.

use harness::{Function, LambdaFunction, MariaDbLogin, Moto, World};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

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

fn login_of(secret: &Value) -> MariaDbLogin {
    MariaDbLogin {
        host: secret["host"].as_str().unwrap_or_default().to_owned(),
        port: secret["port"]
            .as_u64()
            .or_else(|| secret["port"].as_str().and_then(|p| p.parse().ok()))
            .unwrap_or_default() as u16,
        dbname: secret["dbname"].as_str().unwrap_or_default().to_owned(),
        user: secret["username"].as_str().unwrap_or_default().to_owned(),
        password: secret["password"].as_str().unwrap_or_default().to_owned(),
    }
}

async fn logs_in(secret: &Value) -> bool {
    match login_of(secret).connect().await {
        Ok(conn) => {
            let _ = conn.disconnect().await;
            true
        }
        Err(_) => false,
    }
}

async fn current(moto: &Moto, arn: &str) -> anyhow::Result<Value> {
    moto.current_json(arn).await
}

fn secret_for(login: &MariaDbLogin) -> Value {
    // `port` as a string, as some tools store it.
    json!({
        "engine": "mariadb", "host": login.host, "port": login.port.to_string(), "username": login.user,
        "password": login.password, "dbname": login.dbname, "ssl": false
    })
}

#[tokio::test]
async fn single_user_rotation_as_an_unprivileged_user() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, maria) = tokio::try_join!(world.moto(), world.mariadb())?;
    let login = maria.fresh_database().await?;
    let old = secret_for(&login);
    let arn = moto
        .create_secret(world.unique("maria"), old.to_string())
        .await?;
    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    rotate(&lambda, moto, &arn, "e0000000-0000-4000-8000-000000000001").await?;
    let new = current(moto, &arn).await?;
    assert!(logs_in(&new).await, "AWSCURRENT logs in");
    assert!(
        !logs_in(&old).await,
        "the previous password no longer works"
    );
    for key in ["engine", "host", "port", "username", "dbname", "ssl"] {
        assert_eq!(new[key], old[key], "{key} unchanged");
    }
    // A second rotation from the rotated state.
    rotate(&lambda, moto, &arn, "e0000000-0000-4000-8000-000000000002").await?;
    let newer = current(moto, &arn).await?;
    assert!(logs_in(&newer).await && !logs_in(&new).await);
    let output = lambda.stop().await.join("\n");
    for v in [&old, &new, &newer] {
        assert!(
            !output.contains(v["password"].as_str().unwrap_or("-")),
            "a password reached the output"
        );
    }
    Ok(())
}

#[tokio::test]
async fn alternating_users_copy_grants_and_keep_both_logins() -> anyhow::Result<()> {
    let world = World::new();
    let (moto, maria) = tokio::try_join!(world.moto(), world.mariadb())?;
    let app = maria.fresh_database().await?;
    let admin_password = harness::random_token(20);
    let mut root = maria.admin().connect().await?;
    // An administrator with CREATE USER and GRANT OPTION, not more (plus reading the `mysql`
    // schema, which SHOW GRANTS FOR another user needs, as RDS's master user can).
    root.query_drop(format!(
        "CREATE USER 'rotator'@'%' IDENTIFIED BY '{admin_password}'; \
         GRANT CREATE USER ON *.* TO 'rotator'@'%' WITH GRANT OPTION; \
         GRANT SELECT ON mysql.* TO 'rotator'@'%'; \
         GRANT ALL PRIVILEGES ON `{db}`.* TO 'rotator'@'%' WITH GRANT OPTION;",
        db = app.dbname
    ))
    .await?;
    root.disconnect().await?;
    let mut conn = app.connect().await?;
    conn.query_drop("CREATE TABLE orders (id INT); INSERT INTO orders VALUES (1), (2);")
        .await?;
    conn.disconnect().await?;
    let admin = json!({"engine": "mysql", "host": app.host, "port": app.port, "username": "rotator", "password": admin_password, "ssl": false});
    let admin_arn = moto
        .create_secret(world.unique("admin"), admin.to_string())
        .await?;
    let mut first = secret_for(&app);
    first["masterarn"] = json!(admin_arn);
    let arn = moto
        .create_secret(world.unique("app"), first.to_string())
        .await?;

    let lambda = world.lambda(Function::SecretRotator, &[]).await?;
    rotate(&lambda, moto, &arn, "f0000000-0000-4000-8000-000000000001").await?;
    let second = current(moto, &arn).await?;
    assert_eq!(second["username"], format!("{}_clone", app.user));
    assert!(
        logs_in(&second).await && logs_in(&first).await,
        "both users work"
    );
    let mut clone = login_of(&second).connect().await?;
    let n: Option<i64> = clone.query_first("SELECT COUNT(*) FROM orders").await?;
    assert_eq!(n, Some(2), "the clone has the original user's grants");
    clone.disconnect().await?;

    rotate(&lambda, moto, &arn, "f0000000-0000-4000-8000-000000000002").await?;
    let third = current(moto, &arn).await?;
    assert_eq!(third["username"], app.user);
    assert_ne!(third["password"], first["password"]);
    assert!(logs_in(&third).await && logs_in(&second).await);
    assert!(!lambda.stop().await.join("\n").contains(&admin_password));
    Ok(())
}
