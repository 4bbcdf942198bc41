//! moto through the harness: reachable with the real SDKs, and private to each world.

use harness::World;

#[tokio::test]
async fn moto_serves_the_apis_the_functions_use() -> anyhow::Result<()> {
    let world = World::new();
    let moto = world.moto().await?;
    assert!(
        moto.endpoint().starts_with("http://127.0.0.1:"),
        "{}",
        moto.endpoint()
    );

    let sm = moto.secrets_manager();
    let name = world.unique("app/db");
    let created = sm
        .create_secret()
        .name(&name)
        .secret_string(r#"{"engine":"postgres","username":"app","password":"x"}"#)
        .send()
        .await?;
    let arn = created.arn().expect("arn");
    // The ARN moto returns parses as a full secret ARN in our model.
    let parsed = ecs_secrets_shared::arn::SecretArn::parse(arn)?;
    assert!(parsed.is_full(), "{arn}");
    assert_eq!(parsed.name, name);

    let ecs = moto.ecs();
    let cluster = world.unique("cluster");
    ecs.create_cluster().cluster_name(&cluster).send().await?;
    let clusters = ecs.list_clusters().send().await?;
    assert!(clusters
        .cluster_arns()
        .iter()
        .any(|a| a.ends_with(&cluster)));

    let ssm = moto.ssm();
    let param = format!("/{}", world.unique("app/key"));
    ssm.put_parameter()
        .name(&param)
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await?;
    let got = ssm.get_parameter().name(&param).send().await?;
    assert_eq!(got.parameter().and_then(|p| p.name()), Some(param.as_str()));
    Ok(())
}

#[tokio::test]
async fn worlds_do_not_share_aws_state_and_reset_wipes_one() -> anyhow::Result<()> {
    let (a, b) = (World::new(), World::new());
    let (moto_a, moto_b) = (a.moto().await?, b.moto().await?);
    assert_ne!(moto_a.endpoint(), moto_b.endpoint());

    moto_a
        .secrets_manager()
        .create_secret()
        .name("only-in-a")
        .secret_string("1")
        .send()
        .await?;
    let in_b = moto_b.secrets_manager().list_secrets().send().await?;
    assert!(
        in_b.secret_list().is_empty(),
        "world b sees {:?}",
        in_b.secret_list()
    );
    let in_a = moto_a.secrets_manager().list_secrets().send().await?;
    assert_eq!(in_a.secret_list().len(), 1);

    moto_a.reset().await?;
    let after = moto_a.secrets_manager().list_secrets().send().await?;
    assert!(after.secret_list().is_empty());
    Ok(())
}

#[tokio::test]
async fn shared_config_loader_reaches_moto_through_aws_endpoint_url() -> anyhow::Result<()> {
    // The functions' own loader, fed the environment the harness gives a function binary.
    let world = World::new();
    let moto = world.moto().await?;
    let env: std::collections::HashMap<String, String> = moto.env().into_iter().collect();
    let cfg = ecs_secrets_shared::aws::AwsConfig::load_from(|k| env.get(k).cloned()).await?;
    assert_eq!(cfg.region(), harness::moto::REGION);
    // AWS_ENDPOINT_URL is read by the SDK from the process environment, so this test uses
    // the service-specific override the shared loader applies itself.
    let mut env2 = env.clone();
    env2.insert(
        "SECRETS_MANAGER_ENDPOINT".into(),
        moto.endpoint().to_owned(),
    );
    let cfg = ecs_secrets_shared::aws::AwsConfig::load_from(|k| env2.get(k).cloned()).await?;
    let sm = aws_sdk_secretsmanager::Client::from_conf(
        cfg.secrets_manager_config()
            .to_builder()
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "t",
            ))
            .build(),
    );
    sm.create_secret()
        .name("via-shared-loader")
        .secret_string("1")
        .send()
        .await?;
    let listed = moto.secrets_manager().list_secrets().send().await?;
    assert_eq!(listed.secret_list().len(), 1);
    Ok(())
}

#[tokio::test]
async fn shared_loader_honours_standard_aws_endpoint_url() -> anyhow::Result<()> {
    // The SDK reads AWS_ENDPOINT_URL from the process environment, exactly as in a deployed
    // function. nextest runs each test in its own process, and no other test reads these
    // variables (the harness passes explicit configuration and clears function environments).
    let world = World::new();
    let moto = world.moto().await?;
    moto.secrets_manager()
        .create_secret()
        .name("seen-through-env")
        .secret_string("1")
        .send()
        .await?;
    for (k, v) in moto.env() {
        std::env::set_var(k, v);
    }
    std::env::remove_var("SECRETS_MANAGER_ENDPOINT");
    std::env::remove_var("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    let cfg = ecs_secrets_shared::aws::AwsConfig::load().await?;
    assert_eq!(cfg.region(), harness::moto::REGION);
    let listed = cfg.secrets_manager().list_secrets().send().await?;
    let names: Vec<_> = listed
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .collect();
    assert_eq!(names, ["seen-through-env"]);
    Ok(())
}
