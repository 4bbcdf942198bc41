//! PostgreSQL and MariaDB through the harness: real servers with real password checks, and a
//! fresh database and user per test that no other test's user can reach.

use harness::postgres::error_text;
use harness::World;
use mysql_async::prelude::Queryable;

#[tokio::test]
async fn postgres_checks_passwords_and_isolates_databases() -> anyhow::Result<()> {
    let world = World::new();
    let pg = world.postgres().await?;
    let a = pg.fresh_database().await?;
    let b = pg.fresh_database().await?;
    assert_ne!(a.dbname, b.dbname);

    let client = a.connect().await?;
    let row = client
        .query_one(
            "SELECT current_user::text, current_database()::text, 1 + 1",
            &[],
        )
        .await?;
    assert_eq!(row.get::<_, String>(0), a.user);
    assert_eq!(row.get::<_, String>(1), a.dbname);
    assert_eq!(row.get::<_, i32>(2), 2);

    // SCRAM is enforced: a wrong password is refused.
    let mut wrong = a.clone();
    wrong.password.push('x');
    let err = error_text(&wrong.connect().await.expect_err("wrong password must fail"));
    assert!(err.contains("password authentication failed"), "{err}");

    // User a cannot reach database b.
    let mut cross = a.clone();
    cross.dbname = b.dbname.clone();
    let err = error_text(
        &cross
            .connect()
            .await
            .expect_err("cross-database login must fail"),
    );
    assert!(err.contains("permission denied"), "{err}");
    Ok(())
}

#[tokio::test]
async fn mariadb_checks_passwords_and_isolates_databases() -> anyhow::Result<()> {
    let world = World::new();
    let maria = world.mariadb().await?;
    let a = maria.fresh_database().await?;
    let b = maria.fresh_database().await?;

    let mut conn = a.connect().await?;
    let (db, two): (String, i64) = conn
        .query_first("SELECT DATABASE(), 1 + 1")
        .await?
        .expect("one row");
    assert_eq!(db, a.dbname);
    assert_eq!(two, 2);
    let version: String = conn
        .query_first("SELECT VERSION()")
        .await?
        .expect("version");
    assert!(version.contains("MariaDB"), "{version}");
    conn.disconnect().await?;

    let mut wrong = a.clone();
    wrong.password.push('x');
    let err = wrong.connect().await.expect_err("wrong password must fail");
    assert!(err.to_string().contains("Access denied"), "{err}");

    let mut cross = a.clone();
    cross.dbname = b.dbname.clone();
    let err = cross
        .connect()
        .await
        .expect_err("cross-database login must fail");
    assert!(err.to_string().contains("Access denied"), "{err}");
    Ok(())
}

#[tokio::test]
async fn each_world_has_its_own_servers() -> anyhow::Result<()> {
    let (a, b) = (World::new(), World::new());
    let (pa, pb) = tokio::try_join!(a.postgres(), b.postgres())?;
    assert_ne!(pa.port(), pb.port());
    let (ma, mb) = tokio::try_join!(a.mariadb(), b.mariadb())?;
    assert_ne!(ma.port(), mb.port());
    // A login of one world's server does not work on the other's.
    let login = pa.fresh_database().await?;
    let mut elsewhere = login.clone();
    elsewhere.port = pb.port();
    assert!(elsewhere.connect().await.is_err());
    Ok(())
}
