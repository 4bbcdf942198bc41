//! Figure 2: a full rotation (the four steps through the binary, warm) per engine and
//! strategy, and how much of it is Secrets Manager calls (timed at a pass-through proxy in
//! front of moto) versus the rest (database work, the function's own work, the Runtime API).

use std::time::Instant;

use anyhow::Result;
use harness::faults::{FaultProxy, Faults};
use harness::{LambdaFunction, Moto, World};
use mysql_async::prelude::Queryable;
use postgres_protocol::escape::escape_identifier;
use serde_json::{json, Value};

use crate::{percentiles, round, Scale};

async fn postgres_secret(world: &World, moto: &Moto, alternating: bool) -> Result<String> {
    let pg = world.postgres().await?;
    let app = pg.fresh_database().await?;
    let mut secret = json!({"engine": "postgres", "host": app.host, "port": app.port,
        "username": app.user, "password": app.password, "dbname": app.dbname});
    if alternating {
        let admin_password = harness::random_token(20);
        let su = pg.superuser().connect().await?;
        su.batch_execute(&format!(
            "CREATE ROLE bench_admin LOGIN CREATEROLE PASSWORD '{admin_password}'; \
             GRANT CONNECT ON DATABASE {db} TO bench_admin; \
             GRANT {user} TO bench_admin WITH ADMIN OPTION;",
            db = escape_identifier(&app.dbname),
            user = escape_identifier(&app.user)
        ))
        .await?;
        let admin = json!({"engine": "postgres", "host": app.host, "port": app.port,
            "username": "bench_admin", "password": admin_password, "dbname": app.dbname});
        let admin_arn = moto
            .create_secret(world.unique("pg-admin"), admin.to_string())
            .await?;
        secret["masterarn"] = json!(admin_arn);
    }
    moto.create_secret(world.unique("pg"), secret.to_string())
        .await
}

async fn mariadb_secret(world: &World, moto: &Moto, alternating: bool) -> Result<String> {
    let maria = world.mariadb().await?;
    let app = maria.fresh_database().await?;
    let mut secret = json!({"engine": "mariadb", "host": app.host, "port": app.port,
        "username": app.user, "password": app.password, "dbname": app.dbname, "ssl": false});
    if alternating {
        let admin_password = harness::random_token(20);
        let mut root = maria.admin().connect().await?;
        root.query_drop(format!(
            "CREATE USER 'bench_admin'@'%' IDENTIFIED BY '{admin_password}'; \
             GRANT CREATE USER ON *.* TO 'bench_admin'@'%' WITH GRANT OPTION; \
             GRANT SELECT ON mysql.* TO 'bench_admin'@'%'; \
             GRANT ALL PRIVILEGES ON `{db}`.* TO 'bench_admin'@'%' WITH GRANT OPTION;",
            db = app.dbname
        ))
        .await?;
        root.disconnect().await?;
        let admin = json!({"engine": "mysql", "host": app.host, "port": app.port,
            "username": "bench_admin", "password": admin_password, "ssl": false});
        let admin_arn = moto
            .create_secret(world.unique("maria-admin"), admin.to_string())
            .await?;
        secret["masterarn"] = json!(admin_arn);
    }
    moto.create_secret(world.unique("maria"), secret.to_string())
        .await
}

pub async fn run(scale: Scale) -> Result<Value> {
    let rotations = scale.pick(1, 6);
    let mut rows = Vec::new();
    for (engine, alternating) in [
        ("postgresql", false),
        ("postgresql", true),
        ("mariadb", false),
        ("mariadb", true),
    ] {
        let world = World::new();
        let moto = world.moto().await?;
        let arn = if engine == "postgresql" {
            postgres_secret(&world, moto, alternating).await?
        } else {
            mariadb_secret(&world, moto, alternating).await?
        };
        let proxy = FaultProxy::start(moto.endpoint(), Faults::default()).await?;
        let lambda = LambdaFunction::start("secret-rotator", &proxy.env(moto)).await?;
        let mut wall = Vec::new();
        let mut sm = Vec::new();
        let mut calls = 0;
        // Rotation 0 warms the process up (its cold start is figure 1) and is not counted.
        for i in 0..=rotations {
            let token = format!("d0000000-0000-4000-8000-{i:012}");
            moto.prepare_rotation(&arn, &token).await?;
            proxy.clear_calls();
            let t0 = Instant::now();
            harness::rotation::run_steps(&lambda, &arn, &token).await?;
            let elapsed = t0.elapsed().as_secs_f64() * 1000.0;
            let timings = proxy.timings();
            if i > 0 {
                wall.push(elapsed);
                sm.push(
                    timings
                        .iter()
                        .map(|(_, d)| d.as_secs_f64() * 1000.0)
                        .sum::<f64>(),
                );
                calls = timings.len();
            }
        }
        lambda.stop().await;
        let (wall_median, wall_p95) = percentiles(wall);
        let (sm_median, _) = percentiles(sm);
        rows.push(json!({
            "engine": engine,
            "strategy": if alternating { "alternating users" } else { "single user" },
            "rotations": rotations,
            "wall_median_ms": round(wall_median, 1),
            "wall_p95_ms": round(wall_p95, 1),
            "secrets_manager_ms": round(sm_median, 1),
            "secrets_manager_calls": calls,
            "secrets_manager_share": round(if wall_median > 0.0 { sm_median / wall_median } else { 0.0 }, 3),
            "database_and_function_ms": round((wall_median - sm_median).max(0.0), 1),
        }));
    }
    Ok(json!({"rotations": rows}))
}
