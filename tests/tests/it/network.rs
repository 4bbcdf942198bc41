//! Nothing leaves loopback: every endpoint the harness hands to a function or a client is on
//! 127.0.0.1, and the function's environment is built from scratch. (`.ci/run` also runs the
//! suite in a network namespace that has only loopback, which turns any stray connection into
//! a failure.)

use harness::World;

fn is_loopback_url(url: &str) -> bool {
    url.strip_prefix("http://")
        .and_then(|rest| rest.split(['/', ':']).next())
        .and_then(|host| host.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

#[tokio::test]
async fn every_endpoint_is_loopback() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    assert!(is_loopback_url(moto.endpoint()), "{}", moto.endpoint());
    let env = moto.env();
    for (k, v) in &env {
        if k.contains("ENDPOINT") {
            assert!(is_loopback_url(v), "{k}={v}");
        }
    }
    assert!(env
        .iter()
        .any(|(k, v)| k == "AWS_EC2_METADATA_DISABLED" && v == "true"));
    let pg = world.postgres().await?;
    assert_eq!(pg.superuser().host, "127.0.0.1");
    let maria = world.mariadb().await?;
    assert_eq!(maria.admin().host, "127.0.0.1");
    Ok(())
}

#[test]
fn loopback_check_is_not_vacuous() {
    assert!(is_loopback_url("http://127.0.0.1:5000"));
    assert!(is_loopback_url("http://127.0.0.2:80/x"));
    assert!(!is_loopback_url("http://10.0.0.1:5000"));
    assert!(!is_loopback_url(
        "https://secretsmanager.us-east-1.amazonaws.com"
    ));
}

/// When `ECS_SECRETS_NETNS_CHECK=1` (set by `.ci/run` inside its loopback-only namespace), prove
/// the namespace really has no route out.
#[test]
fn outside_addresses_are_unreachable_in_ci() {
    if std::env::var("ECS_SECRETS_NETNS_CHECK").as_deref() != Ok("1") {
        return;
    }
    // 192.0.2.1 is TEST-NET-1 (documentation only): even where a route existed nothing would
    // answer, and no real host receives the attempt.
    let err = std::net::TcpStream::connect_timeout(
        &"192.0.2.1:443".parse().expect("address"),
        std::time::Duration::from_secs(2),
    )
    .expect_err("no route may exist");
    assert_eq!(err.kind(), std::io::ErrorKind::NetworkUnreachable, "{err}");
}
