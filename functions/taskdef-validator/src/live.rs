//! The live rules: does each referenced secret exist, and may the execution role read it?
//!
//! Existence comes from metadata calls; readability from the [`iam`](crate::iam) evaluator
//! over the role's policies, the secret's resource policy and the customer managed key's
//! policy. Each reference is looked up once per task definition; calls that fail (throttling,
//! AccessDenied on the validator's own role) become an `unknown` answer naming the call,
//! never a silent pass.

use std::collections::HashMap;

use ecs_secrets_shared::arn::Arn;
use ecs_secrets_shared::reference::{SecretReference, SecretTarget, TaskContext, VersionSelector};
use ecs_secrets_shared::task_definition::Text;

use crate::detect::shown_reference;
use crate::directory::{Directory, KeyMeta};
use crate::finding::{rule, Access, Finding, Severity};
use crate::iam::{self, Outcome, Policy, Principal, Request, ResourcePolicy, Verdict};
use crate::rules::Checked;

/// Where the validator runs: the default region and account for name-only references.
#[derive(Debug, Clone)]
pub struct Home {
    pub partition: String,
    pub region: String,
    /// The account name-only references resolve in, when the task's own is not known.
    pub account: Option<String>,
    /// The account whose IAM the live checks read (the caller's): a role of another account
    /// cannot be read, and must not be confused with a same-named role of this one.
    pub caller_account: Option<String>,
}

const SSM_SECRETS_PREFIX: &str = "/aws/reference/secretsmanager/";

enum Target {
    Secret {
        id: String,
        version: VersionSelector,
    },
    Parameter {
        name: String,
        arn: String,
    },
}

/// Runs the live rules on one checked task definition.
pub async fn check<D: Directory>(
    directory: &D,
    checked: &Checked,
    label: &str,
    home: &Home,
) -> Vec<Finding> {
    let role_arn = checked
        .model
        .execution_role_arn
        .as_ref()
        .and_then(Text::literal)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    // Name-only references resolve in the task's account: known from the task definition's
    // ARN, the caller, or else the execution role's own account.
    let task = checked.task.clone().unwrap_or_else(|| TaskContext {
        partition: home.partition.clone(),
        region: home.region.clone(),
        account: home
            .account
            .clone()
            .or_else(|| {
                role_arn
                    .as_deref()
                    .and_then(|a| Arn::parse(a).ok())
                    .map(|a| a.account)
            })
            .unwrap_or_default(),
    });
    let role = match &role_arn {
        Some(arn) => Some(load_role(directory, arn, home).await),
        None => None,
    };
    let mut findings = Vec::new();
    let mut role_reported = false;
    // `!GetAtt Role.Arn` and the like: there is a role, but which one is not known offline.
    let unresolved_role = checked
        .model
        .execution_role_arn
        .as_ref()
        .is_some_and(|t| t.literal().is_none());
    if unresolved_role
        && checked
            .references
            .iter()
            .any(|f| matches!(f.parsed, Some(Ok(_))))
    {
        findings.push(
            Finding::new(
                rule::EXECUTION_ROLE_CANNOT_READ_SECRET,
                "/executionRoleArn",
                "the execution role is an unresolved expression: whether it may read the secrets is not checked",
            )
            .severity(Severity::Info),
        );
    }
    for found in &checked.references {
        let Some(Ok(reference)) = &found.parsed else {
            continue;
        };
        let container = found.container.as_deref();
        let entry = found
            .entry_name
            .as_deref()
            .unwrap_or("repositoryCredentials");
        let Some(target) = target(reference, &task) else {
            continue;
        };
        if let Some(region) = reference_region(reference).filter(|r| *r != home.region) {
            // The clients are bound to one region: say what was not checked.
            findings.push(
                Finding::new(
                    rule::SECRET_NOT_FOUND,
                    found.pointer.clone(),
                    format!(
                        "{entry}: not looked up: the reference is in {region}, the live checks run in {}; existence and readability unknown",
                        home.region
                    ),
                )
                .severity(Severity::Info)
                .container(container),
            );
            continue;
        }
        let resolved = resolve(directory, &target).await;
        let resource = match resolved {
            Resolved::Missing(what) => {
                findings.push(
                    Finding::new(
                        rule::SECRET_NOT_FOUND,
                        found.pointer.clone(),
                        format!("{entry}: {what} does not exist"),
                    )
                    .container(container),
                );
                continue;
            }
            Resolved::Failed(e) => {
                findings.push(
                    Finding::new(
                        rule::SECRET_NOT_FOUND,
                        found.pointer.clone(),
                        format!("{entry}: could not be looked up ({e}); existence unknown"),
                    )
                    .severity(Severity::Info)
                    .container(container),
                );
                continue;
            }
            Resolved::Found(r) => r,
        };
        let (Some(role_arn), Some(role)) = (&role_arn, &role) else {
            continue; // missing-execution-role already says so
        };
        let view = match role {
            Ok(v) => v,
            Err(why) => {
                if !role_reported {
                    role_reported = true;
                    findings.push(
                        Finding::new(
                            rule::EXECUTION_ROLE_CANNOT_READ_SECRET,
                            "/executionRoleArn",
                            format!(
                                "the execution role {}: {why}",
                                ecs_secrets_shared::error::shown(role_arn)
                            ),
                        )
                        .severity(if why.contains("does not exist") {
                            Severity::High
                        } else {
                            Severity::Medium
                        }),
                    );
                }
                continue;
            }
        };
        let principal = Principal {
            arn: role_arn.clone(),
            account: Arn::parse(role_arn).map(|a| a.account).unwrap_or_default(),
        };
        for (verdict, action, on, req) in
            access(directory, &resource, &principal, &view.policies).await
        {
            let verdict = match &view.boundary {
                Some(b) => iam::within_boundary(verdict, std::slice::from_ref(b), &req),
                None => verdict,
            };
            if verdict.outcome == Outcome::Allowed {
                continue;
            }
            let severity = if verdict.outcome == Outcome::Denied {
                Severity::High
            } else {
                Severity::Medium
            };
            let mut f = Finding::new(
                rule::EXECUTION_ROLE_CANNOT_READ_SECRET,
                found.pointer.clone(),
                format!(
                    "{entry}: {action} on {on} is {} for {role_arn}: {}",
                    verdict.outcome.as_str(),
                    verdict.reason
                ),
            )
            .severity(severity)
            .container(container);
            f.access = Some(Box::new(Access {
                decision: verdict.outcome.as_str().to_owned(),
                action: action.to_owned(),
                resource: on,
                statement: verdict.statement,
            }));
            findings.push(f);
        }
    }
    let label = crate::finding::Shared::from(label);
    for f in &mut findings {
        f.task_definition = label.clone();
    }
    findings
}

fn reference_region(reference: &SecretReference) -> Option<&str> {
    match reference {
        SecretReference::SecretsManager(r) => match &r.secret {
            SecretTarget::Arn(a) => Some(&a.region),
            SecretTarget::Name(_) => None,
        },
        SecretReference::Parameter(p) => p.arn.as_ref().map(|a| a.region.as_str()),
    }
}

fn target(reference: &SecretReference, task: &TaskContext) -> Option<Target> {
    match reference {
        SecretReference::SecretsManager(r) => {
            let id = match &r.secret {
                SecretTarget::Arn(a) => a.to_string(),
                SecretTarget::Name(n) => n.clone(),
            };
            Some(Target::Secret {
                id,
                version: r.version.clone(),
            })
        }
        SecretReference::Parameter(p) => {
            if let Some(name) = p.name.strip_prefix(SSM_SECRETS_PREFIX) {
                return Some(Target::Secret {
                    id: name.to_owned(),
                    version: VersionSelector::Default,
                });
            }
            let arn = match &p.arn {
                Some(a) => a.to_string(),
                None => format!(
                    "arn:{}:ssm:{}:{}:parameter/{}",
                    task.partition,
                    task.region,
                    task.account,
                    p.name.trim_start_matches('/')
                ),
            };
            Some(Target::Parameter {
                name: p.name.clone(),
                arn,
            })
        }
    }
}

enum Resource {
    Secret {
        arn: String,
        version: VersionSelector,
        key: Option<String>,
    },
    Parameter {
        arn: String,
        /// How messages name it (the ARN is built from the name, which may not be showable).
        shown: String,
        key: Option<String>,
    },
}

enum Resolved {
    Found(Resource),
    Missing(String),
    Failed(String),
}

async fn resolve<D: Directory>(directory: &D, target: &Target) -> Resolved {
    match target {
        Target::Secret { id, version } => match directory.secret(id).await {
            Ok(Some(meta)) => Resolved::Found(Resource::Secret {
                arn: meta.arn,
                version: version.clone(),
                key: meta.kms_key_id,
            }),
            Ok(None) => Resolved::Missing(format!("the secret {}", shown_reference(id))),
            Err(e) => Resolved::Failed(e.summary()),
        },
        Target::Parameter { name, arn } => {
            match directory.parameters(std::slice::from_ref(name)).await {
                Ok(found) => match found.into_iter().find(|p| &p.name == name) {
                    Some(p) => Resolved::Found(Resource::Parameter {
                        arn: arn.clone(),
                        shown: if crate::detect::reference_is_showable(name) {
                            arn.clone()
                        } else {
                            shown_reference(name)
                        },
                        key: p
                            .secure
                            .then(|| p.key_id.unwrap_or_else(|| "alias/aws/ssm".to_owned())),
                    }),
                    None => Resolved::Missing(format!("the parameter {}", shown_reference(name))),
                },
                Err(e) => Resolved::Failed(e.summary()),
            }
        }
    }
}

/// What the live checks know of the execution role.
struct RoleView {
    policies: Vec<Policy>,
    /// The permissions boundary, when the role has one.
    boundary: Option<Policy>,
}

async fn load_role<D: Directory>(
    directory: &D,
    role_arn: &str,
    home: &Home,
) -> Result<RoleView, String> {
    let Ok(arn) = Arn::parse(role_arn) else {
        return Err("is not a valid role ARN".to_owned());
    };
    // IAM is read by role name in the caller's account: a role of another account would be
    // confused with a same-named role here.
    match home.caller_account.as_deref() {
        Some(caller) if caller == arn.account => {}
        Some(caller) => {
            return Err(format!(
                "is in account {}, and the live checks run as account {caller}, which cannot read its policies; readability unknown",
                arn.account
            ))
        }
        None => {
            return Err(
                "the account the live checks run as is not known, so its policies are not read; readability unknown"
                    .to_owned(),
            )
        }
    }
    let Some(name) = arn
        .resource
        .strip_prefix("role/")
        .map(|p| p.rsplit('/').next().unwrap_or(p))
    else {
        return Err("is not a role ARN".to_owned());
    };
    let policies: Vec<Policy> = match directory.role_policies(name).await {
        Ok(Some(policies)) => policies
            .iter()
            .map(|p| Policy::parse(&p.name, &p.document))
            .collect::<Result<_, _>>()?,
        Ok(None) => return Err("does not exist".to_owned()),
        Err(e) => {
            return Err(format!(
                "its policies could not be read ({}); readability unknown",
                e.summary()
            ))
        }
    };
    let boundary = match directory.permissions_boundary(name).await {
        Ok(Some(b)) => Some(
            Policy::parse(&b.name, &b.document)
                .map_err(|e| format!("its permissions boundary does not parse ({e})"))?,
        ),
        Ok(None) => None,
        Err(e) => {
            return Err(format!(
                "its permissions boundary could not be read ({}); readability unknown",
                e.summary()
            ))
        }
    };
    Ok(RoleView { policies, boundary })
}

/// Evaluates every permission ECS needs for one resource.
async fn access<D: Directory>(
    directory: &D,
    resource: &Resource,
    principal: &Principal,
    identity: &[Policy],
) -> Vec<(Verdict, &'static str, String, Request)> {
    let mut out = Vec::new();
    let (arn, key, via) = match resource {
        Resource::Secret { arn, version, key } => {
            // A policy that cannot be read or parsed is not "no policy": it may deny.
            let (policy, unreadable) = match directory.secret_policy(arn).await {
                Ok(None) => (None, None),
                Ok(Some(d)) => match Policy::parse("secret resource policy", &d) {
                    Ok(p) => (Some(p), None),
                    Err(e) => (None, Some(format!("it does not parse ({e})"))),
                },
                Err(e) => (
                    None,
                    Some(format!("it could not be read ({})", e.summary())),
                ),
            };
            let resource_policy = match (&policy, &unreadable) {
                (Some(p), _) => ResourcePolicy::Present(p),
                (None, Some(why)) => ResourcePolicy::Unreadable(why),
                (None, None) => ResourcePolicy::Absent,
            };
            let account = Arn::parse(arn).map(|a| a.account).unwrap_or_default();
            // Only what ECS's request carries: the stage or id the reference names. Without one,
            // whether the request names AWSCURRENT is not known, so conditions on it are not
            // decided.
            let version: Vec<(&str, &str)> = match version {
                VersionSelector::Stage(s) => vec![("secretsmanager:versionstage", s.as_str())],
                VersionSelector::Id(id) => vec![("secretsmanager:versionid", id.as_str())],
                VersionSelector::Default => Vec::new(),
            };
            let req = request("secretsmanager:GetSecretValue", arn, principal, &version);
            let verdict = iam::decide(identity, resource_policy, &account, false, &req);
            out.push((verdict, "secretsmanager:GetSecretValue", arn.clone(), req));
            (arn, key, "secretsmanager")
        }
        Resource::Parameter { arn, shown, key } => {
            let account = Arn::parse(arn).map(|a| a.account).unwrap_or_default();
            let req = request("ssm:GetParameters", arn, principal, &[]);
            out.push((
                iam::decide(identity, ResourcePolicy::Absent, &account, false, &req),
                "ssm:GetParameters",
                shown.clone(),
                req,
            ));
            (arn, key, "ssm")
        }
    };
    let resource_account = Arn::parse(arn).map(|a| a.account).unwrap_or_default();
    // An account that cannot be read from the ARN is not taken for another one.
    let cross_account = !resource_account.is_empty() && resource_account != principal.account;
    // An AWS managed key cannot be used from another account: such a secret cannot be shared.
    let managed_across = |key: &str| {
        Verdict {
        outcome: Outcome::Denied,
        statement: None,
        reason: format!(
            "the resource is in account {resource_account} and encrypted with an AWS managed key ({key}), which only that account can use"
        ),
    }
    };
    let decrypt_request = |key_arn: &str| request("kms:Decrypt", key_arn, principal, &[]);
    let Some(key) = key else {
        if cross_account && via == "secretsmanager" {
            let key = "alias/aws/secretsmanager";
            out.push((
                managed_across(key),
                "kms:Decrypt",
                key.to_owned(),
                decrypt_request(key),
            ));
        }
        return out;
    };
    if key == "alias/aws/secretsmanager" || key == "alias/aws/ssm" {
        // AWS managed: the service decrypts in its own account, no kms:Decrypt needed there.
        if cross_account {
            out.push((
                managed_across(key),
                "kms:Decrypt",
                key.clone(),
                decrypt_request(key),
            ));
        }
        return out;
    }
    let (meta, lookup) = match directory.key(key).await {
        Ok(Some(k)) => (k, None),
        Ok(None) => (
            KeyMeta {
                arn: key.clone(),
                aws_managed: false,
                policy: None,
            },
            Some("the key does not exist or is not visible".to_owned()),
        ),
        Err(e) => (
            KeyMeta {
                arn: key.clone(),
                aws_managed: false,
                policy: None,
            },
            Some(format!("the key could not be read ({})", e.summary())),
        ),
    };
    if meta.aws_managed {
        if cross_account {
            out.push((
                managed_across(&meta.arn),
                "kms:Decrypt",
                meta.arn.clone(),
                decrypt_request(&meta.arn),
            ));
        }
        return out;
    }
    let region = Arn::parse(arn).map(|a| a.region).unwrap_or_default();
    let key_account = Arn::parse(&meta.arn)
        .map(|a| a.account)
        .unwrap_or_else(|_| principal.account.clone());
    let via_service = format!("{via}.{region}.amazonaws.com");
    let context_key = if via == "ssm" {
        "kms:encryptioncontext:parameter_arn"
    } else {
        "kms:encryptioncontext:secretarn"
    };
    let req = request(
        "kms:Decrypt",
        &meta.arn,
        principal,
        &[
            ("kms:viaservice", via_service.as_str()),
            (context_key, arn.as_str()),
        ],
    );
    let parsed = meta.policy.as_ref().map(|d| Policy::parse("key policy", d));
    let why = match (&parsed, lookup) {
        (Some(Err(e)), _) => format!("the key policy does not parse ({e})"),
        (_, Some(why)) => why,
        _ => "the key policy could not be read".to_owned(),
    };
    let key_policy = match &parsed {
        Some(Ok(p)) => ResourcePolicy::Present(p),
        _ => ResourcePolicy::Unreadable(&why),
    };
    out.push((
        iam::decide(identity, key_policy, &key_account, true, &req),
        "kms:Decrypt",
        meta.arn.clone(),
        req,
    ));
    out
}

fn request(action: &str, resource: &str, principal: &Principal, extra: &[(&str, &str)]) -> Request {
    let mut context: HashMap<String, Vec<String>> = HashMap::new();
    context.insert("aws:principalarn".into(), vec![principal.arn.clone()]);
    context.insert(
        "aws:principalaccount".into(),
        vec![principal.account.clone()],
    );
    context.insert("kms:calleraccount".into(), vec![principal.account.clone()]);
    // ECS calls with a session of the execution role, over TLS.
    context.insert("aws:principaltype".into(), vec!["AssumedRole".to_owned()]);
    context.insert("aws:securetransport".into(), vec!["true".to_owned()]);
    for (k, v) in extra {
        context.insert((*k).to_owned(), vec![(*v).to_owned()]);
    }
    Request {
        action: action.to_owned(),
        resource: resource.to_owned(),
        principal: principal.clone(),
        context,
    }
}
