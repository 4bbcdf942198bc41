use serde_json::json;

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/app-execution";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn policy(name: &str, statements: serde_json::Value) -> Policy {
    Policy::parse(
        name,
        &json!({"Version": "2012-10-17", "Statement": statements}),
    )
    .unwrap()
}

fn request(action: &str, resource: &str) -> Request {
    let mut context = HashMap::new();
    context.insert("aws:principalarn".into(), vec![ROLE.to_owned()]);
    context.insert(
        "secretsmanager:versionstage".into(),
        vec!["AWSCURRENT".to_owned()],
    );
    context.insert(
        "kms:viaservice".into(),
        vec!["secretsmanager.us-east-1.amazonaws.com".to_owned()],
    );
    Request {
        action: action.into(),
        resource: resource.into(),
        principal: Principal {
            arn: ROLE.into(),
            account: "123456789012".into(),
        },
        context,
    }
}

fn get_secret(identity: &[Policy]) -> Verdict {
    decide(
        identity,
        None,
        "123456789012",
        false,
        &request("secretsmanager:GetSecretValue", SECRET),
    )
}

#[test]
fn wildcards() {
    assert!(glob(
        "secretsmanager:Get*",
        "secretsmanager:GetSecretValue",
        false
    ));
    assert!(glob(
        "SECRETSMANAGER:getsecretvalue",
        "secretsmanager:GetSecretValue",
        false
    ));
    assert!(glob(
        "arn:aws:secretsmanager:*:*:secret:prod/db-??????",
        SECRET,
        true
    ));
    assert!(!glob(
        "arn:aws:secretsmanager:*:*:secret:prod/db-?????",
        SECRET,
        true
    ));
    assert!(glob("*", "", true));
    assert!(!glob("a*b", "acbd", true));
}

#[test]
fn allow_names_the_statement() {
    let p = policy(
        "inline/read",
        json!([{"Sid": "ReadDb", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET}]),
    );
    let v = get_secret(&[p]);
    assert_eq!(v.outcome, Outcome::Allowed);
    assert_eq!(v.statement.as_deref(), Some("inline/read#ReadDb"));
}

#[test]
fn explicit_deny_wins_over_allow() {
    let allow = policy(
        "allow",
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    );
    let deny = policy(
        "guard",
        json!([{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "arn:aws:secretsmanager:*:*:secret:prod/*"}]),
    );
    let v = get_secret(&[allow, deny]);
    assert_eq!(v.outcome, Outcome::Denied);
    assert_eq!(v.statement.as_deref(), Some("guard#0"));
}

#[test]
fn nothing_allows_is_an_implicit_deny() {
    let p = policy(
        "other",
        json!({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}),
    );
    let v = get_secret(&[p]);
    assert_eq!(v.outcome, Outcome::Denied);
    assert!(v.reason.contains("implicit deny"), "{}", v.reason);
    assert_eq!(v.statement, None);
}

#[test]
fn the_suffix_pitfall() {
    // `secret:prod/db` names no secret: the real ARN ends in `-AbCdEf`.
    let p = policy(
        "exact",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"}),
    );
    assert_eq!(get_secret(&[p]).outcome, Outcome::Denied);
    let p = policy(
        "suffixed",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"}),
    );
    assert_eq!(get_secret(&[p]).outcome, Outcome::Allowed);
}

#[test]
fn not_resource_and_not_action() {
    let p = policy(
        "all-but-prod",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "NotResource": "arn:aws:secretsmanager:*:*:secret:prod/*"}),
    );
    assert_eq!(get_secret(&[p]).outcome, Outcome::Denied);
    let p = policy(
        "all-but-staging",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "NotResource": "arn:aws:secretsmanager:*:*:secret:staging/*"}),
    );
    assert_eq!(get_secret(&[p]).outcome, Outcome::Allowed);
    let p = policy(
        "everything-but-iam",
        json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
    );
    assert_eq!(get_secret(&[p]).outcome, Outcome::Allowed);
    let p = policy(
        "deny-all-but-ssm",
        json!([{"Effect": "Allow", "Action": "*", "Resource": "*"},
               {"Sid": "OnlySsm", "Effect": "Deny", "NotAction": "ssm:*", "Resource": "*"}]),
    );
    let v = get_secret(&[p]);
    assert_eq!(
        (v.outcome, v.statement.as_deref()),
        (Outcome::Denied, Some("deny-all-but-ssm#OnlySsm"))
    );
}

#[test]
fn conditions_known_and_unknown() {
    let stage = policy(
        "stage",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}}),
    );
    assert_eq!(get_secret(&[stage]).outcome, Outcome::Allowed);
    let wrong_stage = policy(
        "stage",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}}}),
    );
    assert_eq!(get_secret(&[wrong_stage]).outcome, Outcome::Denied);
    let vpc = policy(
        "vpce",
        json!({"Sid": "ViaEndpoint", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}),
    );
    let v = get_secret(&[vpc]);
    assert_eq!(v.outcome, Outcome::Unknown);
    assert_eq!(v.statement.as_deref(), Some("vpce#ViaEndpoint"));
    assert!(v.reason.contains("aws:SourceVpce"), "{}", v.reason);
    // A deny that may apply makes an allow unknown, not allowed.
    let allow = policy(
        "allow",
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    );
    let maybe_deny = policy(
        "ip",
        json!({"Effect": "Deny", "Action": "*", "Resource": "*",
               "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
    );
    let v = get_secret(&[allow, maybe_deny]);
    assert_eq!(v.outcome, Outcome::Unknown);
    assert!(v.reason.contains("Deny may apply"), "{}", v.reason);
}

#[test]
fn policy_variables_are_unknown() {
    let p = policy(
        "per-user",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "Resource": "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}/*"}),
    );
    assert_eq!(get_secret(&[p]).outcome, Outcome::Unknown);
}

#[test]
fn resource_policies() {
    let none: [Policy; 0] = [];
    let direct = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    );
    // Same account: a resource policy naming the role is enough.
    let req = request("secretsmanager:GetSecretValue", SECRET);
    assert_eq!(
        decide(&none, Some(&direct), "123456789012", false, &req).outcome,
        Outcome::Allowed
    );
    // Cross account: both sides must allow.
    let other = "arn:aws:secretsmanager:us-east-1:999999999999:secret:shared/db-AbCdEf";
    let req = request("secretsmanager:GetSecretValue", other);
    assert_eq!(
        decide(&none, Some(&direct), "999999999999", false, &req).outcome,
        Outcome::Denied
    );
    let identity = policy(
        "read-shared",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": other}),
    );
    assert_eq!(
        decide(
            std::slice::from_ref(&identity),
            Some(&direct),
            "999999999999",
            false,
            &req
        )
        .outcome,
        Outcome::Allowed
    );
    assert_eq!(
        decide(&[identity], None, "999999999999", false, &req).outcome,
        Outcome::Denied
    );
    // A resource policy's deny wins.
    let deny = policy(
        "secret resource policy",
        json!({"Sid": "NoEcs", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}),
    );
    let allow = policy(
        "allow",
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    );
    let req = request("secretsmanager:GetSecretValue", SECRET);
    let v = decide(&[allow], Some(&deny), "123456789012", false, &req);
    assert_eq!(
        (v.outcome, v.statement.as_deref()),
        (Outcome::Denied, Some("secret resource policy#NoEcs"))
    );
}

#[test]
fn kms_key_policies() {
    let req = request("kms:Decrypt", KEY);
    let identity = policy(
        "decrypt",
        json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
               "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}),
    );
    let delegating = policy(
        "key policy",
        json!({"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}),
    );
    let admins_only = policy(
        "key policy",
        json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/admin"}, "Action": "kms:*", "Resource": "*"}),
    );
    // Delegation: the key policy hands the decision to IAM, which allows.
    let v = decide(
        std::slice::from_ref(&identity),
        Some(&delegating),
        "123456789012",
        true,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Allowed);
    // Delegation without an IAM allow: denied.
    let none: [Policy; 0] = [];
    assert_eq!(
        decide(&none, Some(&delegating), "123456789012", true, &req).outcome,
        Outcome::Denied
    );
    // A key policy that neither names the role nor delegates: IAM alone is not enough.
    let v = decide(
        std::slice::from_ref(&identity),
        Some(&admins_only),
        "123456789012",
        true,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Denied);
    assert!(v.reason.contains("key policy"), "{}", v.reason);
    // Key policy not visible: unknown, said so.
    let v = decide(&[identity], None, "123456789012", true, &req);
    assert_eq!(v.outcome, Outcome::Unknown);
    assert!(v.reason.contains("could not be read"), "{}", v.reason);
}

#[test]
fn malformed_policies_are_errors_not_panics() {
    for doc in [
        json!({}),
        json!({"Statement": [{"Effect": "Maybe", "Action": "*"}]}),
        json!({"Statement": [{"Effect": "Allow"}]}),
        json!("not json"),
    ] {
        assert!(Policy::parse("bad", &doc).is_err(), "{doc}");
    }
}
