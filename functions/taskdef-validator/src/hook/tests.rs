use serde_json::{json, Value};

use super::*;

fn request(point: &str, properties: Value) -> Value {
    json!({
        "clientRequestToken": "4b90a7e4-b790-456b-a937-0cfdfa211dfe",
        "awsAccountId": "123456789012",
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1a2b",
        "hookTypeName": "EcsSecrets::Validator::TaskDefinition",
        "hookTypeVersion": "00000001",
        "hookModel": {"LambdaFunction": "arn:aws:lambda:us-east-1:123456789012:function:v"},
        "actionInvocationPoint": point,
        "requestData": {
            "targetName": "AWS::ECS::TaskDefinition",
            "targetType": "AWS::ECS::TaskDefinition",
            "targetLogicalId": "AppTask",
            "targetModel": {"resourceProperties": properties, "previousResourceProperties": {}}
        },
        "requestContext": {"invocation": 1, "callbackContext": null}
    })
}

#[test]
fn a_create_becomes_a_one_resource_template() {
    let props =
        json!({"Family": "app", "ContainerDefinitions": [{"Name": "web", "Image": "web:1"}]});
    let r = parse(&request("CREATE_PRE_PROVISION", props.clone())).unwrap();
    assert_eq!(r.invocation_point, InvocationPoint::Create);
    assert_eq!(r.logical_id, "AppTask");
    assert_eq!(r.account.as_deref(), Some("123456789012"));
    assert!(!r.cloud_control);
    assert_eq!(
        r.work,
        Work::Judge(json!({"Resources": {"AppTask": {"Type": TARGET, "Properties": props}}}))
    );
    let u = parse(&request("UPDATE_PRE_PROVISION", json!({}))).unwrap();
    assert_eq!(u.invocation_point, InvocationPoint::Update);
}

#[test]
fn deletions_and_other_types_have_nothing_to_check() {
    let d = parse(&request("DELETE_PRE_PROVISION", json!({}))).unwrap();
    assert!(matches!(d.work, Work::Nothing(_)));
    let mut other = request("CREATE_PRE_PROVISION", json!({}));
    other["requestData"]["targetName"] = json!("AWS::S3::Bucket");
    let o = parse(&other).unwrap();
    assert!(matches!(&o.work, Work::Nothing(r) if r.contains("not AWS::ECS::TaskDefinition")));
}

#[test]
fn cloud_control_requests_have_no_stack() {
    let mut v = request("CREATE_PRE_PROVISION", json!({}));
    v["stackId"] = json!("");
    assert!(parse(&v).unwrap().cloud_control);
}

#[test]
fn unreadable_requests_name_the_field_and_never_echo_a_value() {
    let secret = "q8Zt3k/Vb1mXc9+RyJ2wPz7LhN4sDf6GaE0uTiKo";
    let cases: Vec<(Value, &str)> = vec![
        (json!([1]), "(request)"),
        (
            {
                let mut v = request("CREATE_PRE_PROVISION", json!({}));
                v.as_object_mut().unwrap().remove("clientRequestToken");
                v
            },
            "clientRequestToken",
        ),
        (request(secret, json!({})), "actionInvocationPoint"),
        (
            {
                let mut v = request("CREATE_PRE_PROVISION", json!({}));
                v["requestData"] = json!(secret);
                v
            },
            "requestData",
        ),
        (
            {
                let mut v = request("CREATE_PRE_PROVISION", json!({}));
                v["requestData"]["targetModel"]["resourceProperties"] = json!([secret]);
                v
            },
            "requestData.targetModel.resourceProperties",
        ),
        (
            {
                let mut v = request("CREATE_PRE_PROVISION", json!({}));
                v["requestData"]["targetName"] = json!("STACK");
                v
            },
            "requestData.targetName",
        ),
    ];
    for (event, field) in cases {
        let e = parse(&event).unwrap_err();
        assert_eq!(e.field, field, "{e}");
        assert!(!e.to_string().contains(secret), "{e}");
        let response = HookResponse::unreadable(client_request_token(&event), &e);
        assert_eq!(response.hook_status, HookStatus::Failed);
        assert_eq!(response.error_code, Some(HookErrorCode::InternalFailure));
        assert!(!response.message.contains(secret));
    }
}

#[test]
fn messages_are_cut_to_the_callers_limit() {
    let long = "x".repeat(5000);
    let cut = truncate(long.clone(), MESSAGE_LIMIT_CLOUD_CONTROL);
    assert_eq!(cut.chars().count(), MESSAGE_LIMIT_CLOUD_CONTROL);
    assert!(cut.ends_with("every finding)"));
    assert_eq!(truncate("short".into(), 10), "short");
    let multibyte = "é".repeat(5000);
    assert_eq!(
        truncate(multibyte, MESSAGE_LIMIT_CLOUDFORMATION)
            .chars()
            .count(),
        MESSAGE_LIMIT_CLOUDFORMATION
    );
}
