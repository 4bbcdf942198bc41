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
        ResourcePolicy::Absent,
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
        decide(
            &none,
            ResourcePolicy::Present(&direct),
            "123456789012",
            false,
            &req
        )
        .outcome,
        Outcome::Allowed
    );
    // Cross account: both sides must allow.
    let other = "arn:aws:secretsmanager:us-east-1:999999999999:secret:shared/db-AbCdEf";
    let req = request("secretsmanager:GetSecretValue", other);
    assert_eq!(
        decide(
            &none,
            ResourcePolicy::Present(&direct),
            "999999999999",
            false,
            &req
        )
        .outcome,
        Outcome::Denied
    );
    let identity = policy(
        "read-shared",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": other}),
    );
    assert_eq!(
        decide(
            std::slice::from_ref(&identity),
            ResourcePolicy::Present(&direct),
            "999999999999",
            false,
            &req
        )
        .outcome,
        Outcome::Allowed
    );
    assert_eq!(
        decide(
            &[identity],
            ResourcePolicy::Absent,
            "999999999999",
            false,
            &req
        )
        .outcome,
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
    let v = decide(
        &[allow],
        ResourcePolicy::Present(&deny),
        "123456789012",
        false,
        &req,
    );
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
        ResourcePolicy::Present(&delegating),
        "123456789012",
        true,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Allowed);
    // Delegation without an IAM allow: denied.
    let none: [Policy; 0] = [];
    assert_eq!(
        decide(
            &none,
            ResourcePolicy::Present(&delegating),
            "123456789012",
            true,
            &req
        )
        .outcome,
        Outcome::Denied
    );
    // A key policy that neither names the role nor delegates: IAM alone is not enough.
    let v = decide(
        std::slice::from_ref(&identity),
        ResourcePolicy::Present(&admins_only),
        "123456789012",
        true,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Denied);
    assert!(v.reason.contains("key policy"), "{}", v.reason);
    // Key policy not visible: unknown, said so.
    let v = decide(
        &[identity],
        ResourcePolicy::Absent,
        "123456789012",
        true,
        &req,
    );
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

fn secret_with(identity: &[Policy], resource: ResourcePolicy<'_>, account: &str) -> Verdict {
    let secret = SECRET.replace("123456789012", account);
    let mut req = request("secretsmanager:GetSecretValue", &secret);
    req.resource = secret;
    decide(identity, resource, account, false, &req)
}

fn read_all() -> Policy {
    policy(
        "inline/read",
        json!({"Sid": "Read", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    )
}

#[test]
fn an_undecidable_deny_caps_the_answer_at_unknown() {
    // Deny unless the request comes through one VPC endpoint: not decidable offline.
    let vpce_only = policy(
        "secret resource policy",
        json!({"Sid": "OnlyThroughVpce", "Effect": "Deny", "Principal": "*",
               "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}),
    );
    let v = secret_with(
        &[read_all()],
        ResourcePolicy::Present(&vpce_only),
        "123456789012",
    );
    assert_eq!(v.outcome, Outcome::Unknown, "{v:?}");
    assert_eq!(
        v.statement.as_deref(),
        Some("secret resource policy#OnlyThroughVpce")
    );
    assert!(v.reason.contains("aws:SourceVpce"), "{}", v.reason);

    // The same Deny in the identity set, which has no Allow of its own, with a resource-policy
    // Allow: still unknown (it used to be dropped because its set had no allow).
    let identity_deny = policy(
        "inline/guard",
        json!({"Sid": "Guard", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}),
    );
    let resource_allow = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    );
    let v = secret_with(
        std::slice::from_ref(&identity_deny),
        ResourcePolicy::Present(&resource_allow),
        "123456789012",
    );
    assert_eq!(
        (v.outcome, v.statement.as_deref()),
        (Outcome::Unknown, Some("inline/guard#Guard")),
        "{v:?}"
    );
    // An undecidable Deny cannot make an impossible allow possible: still denied.
    let v = secret_with(&[identity_deny], ResourcePolicy::Absent, "123456789012");
    assert_eq!(v.outcome, Outcome::Denied, "{v:?}");

    // A decidable one that does not apply leaves the allow standing (the control).
    let other_principal = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app-*"}}}),
    );
    let v = secret_with(
        &[read_all()],
        ResourcePolicy::Present(&other_principal),
        "123456789012",
    );
    assert_eq!(v.outcome, Outcome::Allowed, "{v:?}");
    assert_eq!(
        secret_with(&[read_all()], ResourcePolicy::Absent, "123456789012").outcome,
        Outcome::Allowed
    );
}

#[test]
fn an_unknown_identity_deny_is_not_overridden_by_a_resource_allow() {
    let tagged = policy(
        "inline/tags",
        json!({"Effect": "Deny", "Action": "*", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}),
    );
    let resource_allow = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    );
    let v = secret_with(
        &[tagged, read_all()],
        ResourcePolicy::Present(&resource_allow),
        "123456789012",
    );
    assert_eq!(v.outcome, Outcome::Unknown, "{v:?}");
}

#[test]
fn not_principal_never_exempts_the_role_session() {
    for listed in [
        json!(ROLE),
        json!([ROLE, "arn:aws:iam::123456789012:root"]),
        json!("123456789012"),
    ] {
        let deny_others = policy(
            "secret resource policy",
            json!({"Sid": "OnlyTheRole", "Effect": "Deny", "NotPrincipal": {"AWS": listed},
                   "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
        );
        let v = secret_with(
            &[read_all()],
            ResourcePolicy::Present(&deny_others),
            "123456789012",
        );
        assert_eq!(
            (v.outcome, v.statement.as_deref()),
            (Outcome::Denied, Some("secret resource policy#OnlyTheRole")),
            "NotPrincipal {listed}: {v:?}"
        );
    }
    // Listing a session of the role may exempt ECS's session, if that is its name: unknown.
    let session = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE, "arn:aws:sts::123456789012:assumed-role/app-execution/ecs-task", "arn:aws:iam::123456789012:root"]},
               "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    );
    let v = secret_with(
        &[read_all()],
        ResourcePolicy::Present(&session),
        "123456789012",
    );
    assert_eq!(v.outcome, Outcome::Unknown, "{v:?}");
    // A Deny whose Principal is a session of the role may apply: unknown.
    let session_deny = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:sts::123456789012:assumed-role/app-execution/ecs-task"},
               "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    );
    assert_eq!(
        secret_with(
            &[read_all()],
            ResourcePolicy::Present(&session_deny),
            "123456789012"
        )
        .outcome,
        Outcome::Unknown
    );
    // An Allow with NotPrincipal listing the role never counts for it.
    let allow_others = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "NotPrincipal": {"AWS": ROLE}, "Action": "*", "Resource": "*"}),
    );
    let none: [Policy; 0] = [];
    assert_eq!(
        secret_with(
            &none,
            ResourcePolicy::Present(&allow_others),
            "123456789012"
        )
        .outcome,
        Outcome::Denied
    );
}

#[test]
fn arn_equals_matches_with_wildcards() {
    for (operator, pattern) in [
        ("ArnEquals", "arn:aws:iam::123456789012:role/app-*"),
        ("ArnLike", "arn:aws:iam::123456789012:role/app-*"),
        ("ArnNotEquals", "arn:aws:iam::123456789012:role/admin-*"),
    ] {
        let deny = policy(
            "secret resource policy",
            json!({"Sid": "NoApps", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
                   "Condition": {operator: {"aws:PrincipalArn": pattern}}}),
        );
        let v = secret_with(
            &[read_all()],
            ResourcePolicy::Present(&deny),
            "123456789012",
        );
        assert_eq!(v.outcome, Outcome::Denied, "{operator} {pattern}: {v:?}");
    }
    let not_app = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
               "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/app-*"}}}),
    );
    assert_eq!(
        secret_with(
            &[read_all()],
            ResourcePolicy::Present(&not_app),
            "123456789012"
        )
        .outcome,
        Outcome::Allowed
    );
}

#[test]
fn an_unreadable_policy_is_not_no_policy() {
    let why = "it could not be read (GetResourcePolicy: ThrottlingException)";
    let v = secret_with(
        &[read_all()],
        ResourcePolicy::Unreadable(why),
        "123456789012",
    );
    assert_eq!(v.outcome, Outcome::Unknown, "{v:?}");
    assert!(v.reason.contains("ThrottlingException"), "{}", v.reason);
    // Same account, no identity allow: the unseen policy may allow, so unknown, not denied.
    let none: [Policy; 0] = [];
    assert_eq!(
        secret_with(&none, ResourcePolicy::Unreadable(why), "123456789012").outcome,
        Outcome::Unknown
    );
    // Another account without an identity allow: denied whatever the policy says.
    assert_eq!(
        secret_with(&none, ResourcePolicy::Unreadable(why), "999999999999").outcome,
        Outcome::Denied
    );
    // A key policy that does not parse: unknown.
    let req = request("kms:Decrypt", KEY);
    let v = decide(
        &[
            read_all(),
            policy(
                "kms",
                json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),
            ),
        ],
        ResourcePolicy::Unreadable("the key policy does not parse"),
        "123456789012",
        true,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Unknown, "{v:?}");
}

#[test]
fn conditions_that_cannot_be_read_are_errors() {
    for condition in [json!("aws:SourceVpce"), json!({"StringEquals": "vpce-1"})] {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}]});
        assert!(Policy::parse("bad", &doc).is_err(), "{doc}");
    }
}

#[test]
fn policy_variables_anywhere_are_undecidable() {
    // In a condition's values: the Deny may apply.
    let deny = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
               "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/app-*"}}}),
    );
    let v = secret_with(
        &[read_all()],
        ResourcePolicy::Present(&deny),
        "123456789012",
    );
    assert_eq!(v.outcome, Outcome::Unknown, "{v:?}");
    // In NotResource: the Allow may exclude this secret.
    let allow = policy(
        "inline/not-resource",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "NotResource": "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*"}),
    );
    assert_eq!(
        secret_with(&[allow], ResourcePolicy::Absent, "123456789012").outcome,
        Outcome::Unknown
    );
    // A literal NotResource that matches excludes it, whatever the variables say.
    let excluded = policy(
        "inline/not-resource",
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
               "NotResource": [SECRET, "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*"]}),
    );
    assert_eq!(
        secret_with(&[excluded], ResourcePolicy::Absent, "123456789012").outcome,
        Outcome::Denied
    );
}

#[test]
fn arn_conditions_match_part_by_part() {
    // `arn:*:role/app-execution` has three parts: a whole-string glob would match the role,
    // IAM's part-by-part matching does not say — never `allowed`.
    let allow = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:*:role/app-execution"}}}),
    );
    let none: [Policy; 0] = [];
    assert_eq!(
        secret_with(&none, ResourcePolicy::Present(&allow), "123456789012").outcome,
        Outcome::Unknown
    );
    // Nor may such a pattern drop a Deny.
    let deny = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
               "Condition": {"ArnLike": {"aws:PrincipalArn": "*"}}}),
    );
    assert_ne!(
        secret_with(
            &[read_all()],
            ResourcePolicy::Present(&deny),
            "123456789012"
        )
        .outcome,
        Outcome::Allowed
    );
    // Six parts that differ in one part: no match.
    let other_account = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/*"}}}),
    );
    assert_eq!(
        secret_with(
            &none,
            ResourcePolicy::Present(&other_account),
            "123456789012"
        )
        .outcome,
        Outcome::Denied
    );
    let allow = policy(
        "secret resource policy",
        json!({"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}}}),
    );
    assert_eq!(
        secret_with(&none, ResourcePolicy::Present(&allow), "123456789012").outcome,
        Outcome::Allowed
    );
}

#[test]
fn numbers_in_lists_are_values() {
    let deny = policy(
        "secret resource policy",
        json!({"Sid": "Acct", "Effect": "Deny", "Principal": {"AWS": [123456789012_u64]}, "Action": "secretsmanager:*", "Resource": "*",
               "Condition": {"StringEquals": {"aws:PrincipalAccount": [123456789012_u64]}}}),
    );
    let mut req = request("secretsmanager:GetSecretValue", SECRET);
    req.context
        .insert("aws:principalaccount".into(), vec!["123456789012".into()]);
    let v = decide(
        &[read_all()],
        ResourcePolicy::Present(&deny),
        "123456789012",
        false,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Denied, "{v:?}");
}

#[test]
fn the_account_root_in_other_partitions() {
    let gov_role = "arn:aws-us-gov:iam::123456789012:role/app-execution";
    let deny = policy(
        "secret resource policy",
        json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws-us-gov:iam::123456789012:root"},
               "Action": "secretsmanager:*", "Resource": "*"}),
    );
    let mut req = request(
        "secretsmanager:GetSecretValue",
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:db-AbCdEf",
    );
    req.principal.arn = gov_role.into();
    let v = decide(
        &[read_all()],
        ResourcePolicy::Present(&deny),
        "123456789012",
        false,
        &req,
    );
    assert_eq!(v.outcome, Outcome::Denied, "{v:?}");
}

mod property {
    //! Adding a Deny statement never turns `denied` or `unknown` into `allowed`.

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::super::*;
    use super::{request, KEY, ROLE, SECRET};

    fn principal() -> impl Strategy<Value = Option<(bool, Value)>> {
        let who = prop::sample::select(vec![
            json!("*"),
            json!(ROLE),
            json!("123456789012"),
            json!("arn:aws:iam::123456789012:root"),
            json!("arn:aws:iam::999999999999:root"),
            json!("arn:aws:iam::123456789012:role/app-*"),
            json!("arn:aws:sts::123456789012:assumed-role/app-execution/s"),
            json!("arn:aws:iam::123456789012:role/admin"),
        ]);
        prop::option::of((any::<bool>(), who))
    }

    fn condition() -> impl Strategy<Value = Option<Value>> {
        let op = prop::sample::select(vec![
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "ArnEquals",
            "ArnNotEquals",
            "ArnLike",
            "ArnNotLike",
            "Bool",
            "StringEqualsIfExists",
            "ForAnyValue:StringLike",
            "NumericLessThan",
        ]);
        let key = prop::sample::select(vec![
            "aws:PrincipalArn",
            "aws:SourceVpce",
            "secretsmanager:VersionStage",
            "kms:ViaService",
            "aws:SecureTransport",
            "aws:PrincipalTag/team",
        ]);
        let value = prop::sample::select(vec![
            "arn:aws:iam::123456789012:role/app-*",
            ROLE,
            "AWSCURRENT",
            "vpce-1",
            "true",
            "secretsmanager.us-east-1.amazonaws.com",
            "${aws:username}",
        ]);
        prop::option::of((op, key, value).prop_map(|(o, k, v)| json!({o: {k: v}})))
    }

    fn statement(effect: &'static str, with_principal: bool) -> BoxedStrategy<Value> {
        let action = prop::sample::select(vec![
            json!({"Action": "*"}),
            json!({"Action": "secretsmanager:GetSecretValue"}),
            json!({"Action": "secretsmanager:Get*"}),
            json!({"Action": "kms:Decrypt"}),
            json!({"NotAction": "secretsmanager:DeleteSecret"}),
            json!({"Action": "ssm:GetParameters"}),
        ]);
        let resource = prop::sample::select(vec![
            json!({"Resource": "*"}),
            json!({"Resource": SECRET}),
            json!({"Resource": "arn:aws:secretsmanager:*:*:secret:prod/*"}),
            json!({"NotResource": SECRET}),
            json!({"Resource": KEY}),
            json!({"Resource": "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/x}"}),
        ]);
        (action, resource, condition(), principal())
            .prop_map(move |(a, r, c, p)| {
                let mut s = json!({"Effect": effect});
                for part in [a, r] {
                    if let Value::Object(m) = part {
                        s.as_object_mut().unwrap().extend(m);
                    }
                }
                if let Some(c) = c {
                    s["Condition"] = c;
                }
                if with_principal {
                    let (not, who) = p.unwrap_or((false, json!("*")));
                    s[if not { "NotPrincipal" } else { "Principal" }] = if who == json!("*") && !not
                    {
                        who
                    } else {
                        json!({"AWS": who})
                    };
                }
                s
            })
            .boxed()
    }

    fn statements(with_principal: bool) -> impl Strategy<Value = Vec<Value>> {
        prop::collection::vec(
            prop_oneof![
                3 => statement("Allow", with_principal),
                1 => statement("Deny", with_principal),
            ],
            0..4,
        )
    }

    fn parse(name: &str, statements: &[Value]) -> Policy {
        Policy::parse(name, &json!({"Statement": statements})).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn adding_a_deny_never_allows(
            identity in statements(false),
            resource in prop::option::of(statements(true)),
            unreadable in any::<bool>(),
            kms in any::<bool>(),
            cross_account in any::<bool>(),
            into_identity in any::<bool>(),
            deny_id in statement("Deny", false),
            deny_res in statement("Deny", true),
        ) {
            let req = if kms { request("kms:Decrypt", KEY) } else { request("secretsmanager:GetSecretValue", SECRET) };
            let account = if cross_account { "999999999999" } else { "123456789012" };
            let eval = |identity: &[Value], resource: &Option<Vec<Value>>| {
                let id = parse("identity", identity);
                let res = resource.as_ref().map(|r| parse("resource", r));
                let rp = match (&res, unreadable) {
                    (Some(p), _) => ResourcePolicy::Present(p),
                    (None, true) => ResourcePolicy::Unreadable("throttled"),
                    (None, false) => ResourcePolicy::Absent,
                };
                decide(std::slice::from_ref(&id), rp, account, kms, &req)
            };
            let before = eval(&identity, &resource);
            let (mut identity2, mut resource2) = (identity.clone(), resource.clone());
            if into_identity || resource.is_none() {
                identity2.push(deny_id);
            } else if let Some(r) = resource2.as_mut() {
                r.push(deny_res);
            }
            let after = eval(&identity2, &resource2);
            prop_assert!(
                !(before.outcome != Outcome::Allowed && after.outcome == Outcome::Allowed),
                "before {:?}, after {:?}", before, after
            );
            // And a Deny never turns `denied` into anything else.
            prop_assert!(before.outcome != Outcome::Denied || after.outcome == Outcome::Denied);
        }

        #[test]
        fn a_deny_that_may_apply_is_never_allowed(
            identity in statements(false),
            resource in prop::option::of(statements(true)),
            kms in any::<bool>(),
            cross_account in any::<bool>(),
            into_identity in any::<bool>(),
            decidable in any::<bool>(),
        ) {
            let req = if kms { request("kms:Decrypt", KEY) } else { request("secretsmanager:GetSecretValue", SECRET) };
            let account = if cross_account { "999999999999" } else { "123456789012" };
            // Applies to everything; its condition is either always true or undecidable.
            let condition = if decidable {
                json!({"StringLike": {"aws:PrincipalArn": "*"}})
            } else {
                json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
            };
            let mut deny = json!({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition});
            let (mut identity, mut resource) = (identity, resource);
            if into_identity || resource.is_none() {
                identity.push(deny);
            } else if let Some(r) = resource.as_mut() {
                deny["Principal"] = json!("*");
                r.push(deny);
            }
            let id = parse("identity", &identity);
            let res = resource.as_ref().map(|r| parse("resource", r));
            let rp = res.as_ref().map_or(ResourcePolicy::Absent, ResourcePolicy::Present);
            let v = decide(std::slice::from_ref(&id), rp, account, kms, &req);
            if decidable {
                prop_assert_eq!(v.outcome, Outcome::Denied, "{:?}", v);
            } else {
                prop_assert!(v.outcome != Outcome::Allowed, "{:?}", v);
            }
        }
    }
}
