"""The comparator handlers: the same clients our functions create and the same AWS calls per
invocation, in Python 3.11 + boto3 (the stack of the AWS rotation templates and most
community redeployers).

BENCH_FUNCTION selects which of our functions it stands in for:
- secret-rotator, createSecret (as the AWS template): DescribeSecret, GetSecretValue
  (AWSCURRENT), GetSecretValue (AWSPENDING by id), and on a first call GetRandomPassword +
  PutSecretValue;
- ecs-redeployer with no cluster: ListClusters;
- taskdef-validator, live checks of one reference: DescribeSecret, GetResourcePolicy, the
  execution role's ListRolePolicies / GetRolePolicy / ListAttachedRolePolicies, PutEvents."""
import json
import os

import boto3

FUNCTION = os.environ["BENCH_FUNCTION"]

if FUNCTION == "secret-rotator":
    secrets = boto3.client("secretsmanager")
elif FUNCTION == "ecs-redeployer":
    ecs = boto3.client("ecs")
else:
    ecs = boto3.client("ecs")
    secrets = boto3.client("secretsmanager")
    ssm = boto3.client("ssm")
    kms = boto3.client("kms")
    iam = boto3.client("iam")
    events = boto3.client("events")
    securityhub = boto3.client("securityhub")


def rotator(event):
    arn, token = event["SecretId"], event["ClientRequestToken"]
    secrets.describe_secret(SecretId=arn)
    current = json.loads(secrets.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    try:
        secrets.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return {"outcome": "already created"}
    except secrets.exceptions.ResourceNotFoundException:
        current["password"] = secrets.get_random_password(PasswordLength=32)["RandomPassword"]
        secrets.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                 SecretString=json.dumps(current), VersionStages=["AWSPENDING"])
        return {"outcome": "done"}


def validator(event):
    td = event["taskDefinition"]
    for c in td.get("containerDefinitions", []):
        for s in c.get("secrets", []):
            arn = s["valueFrom"].split(":password")[0]
            secrets.describe_secret(SecretId=arn)
            secrets.get_resource_policy(SecretId=arn)
    role = td["executionRoleArn"].rsplit("/", 1)[-1]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.get_role_policy(RoleName=role, PolicyName=name)
    iam.list_attached_role_policies(RoleName=role)
    events.put_events(Entries=[{"Source": "ecs-secrets.validator", "DetailType": "x", "Detail": "{}"}])
    return {"checked": 1}


def handler(event, context):
    if FUNCTION == "secret-rotator":
        return rotator(event)
    if FUNCTION == "ecs-redeployer":
        return {"clusters": len(ecs.list_clusters()["clusterArns"])}
    return validator(event)
