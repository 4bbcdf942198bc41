//! The AWS boundary of the live checks: metadata about secrets, parameters, keys and roles.
//!
//! Only metadata and policy documents are read — `DescribeSecret`, `GetResourcePolicy`,
//! `DescribeParameters`, `DescribeKey`, `GetKeyPolicy`, IAM role policy reads — never
//! `GetSecretValue` or `GetParameter(s)`: a validator must not be a way to read secrets, and its
//! role (template.yaml) grants none of those.

use std::future::Future;

use ecs_secrets_shared::aws::{AwsConfig, CallError};
use serde_json::Value;

/// What `DescribeSecret` says of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMeta {
    pub arn: String,
    pub kms_key_id: Option<String>,
}

/// What `DescribeParameters` says of a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterMeta {
    pub name: String,
    pub secure: bool,
    pub key_id: Option<String>,
}

/// A KMS key: ARN, whether AWS manages it, and its policy when readable.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMeta {
    pub arn: String,
    pub aws_managed: bool,
    pub policy: Option<Value>,
}

/// A policy attached to a role, by name, as a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    pub document: Value,
}

pub trait Directory: Sync {
    /// `None` when the secret does not exist.
    fn secret(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<SecretMeta>, CallError>> + Send;
    /// The secret's resource policy, if it has one.
    fn secret_policy(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<Value>, CallError>> + Send;
    /// The parameters of these names that exist.
    fn parameters(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<ParameterMeta>, CallError>> + Send;
    /// `None` when the key does not exist.
    fn key(&self, id: &str) -> impl Future<Output = Result<Option<KeyMeta>, CallError>> + Send;
    /// Inline and attached policies of a role; `None` when the role does not exist.
    fn role_policies(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Option<Vec<NamedPolicy>>, CallError>> + Send;
    /// The role's permissions boundary (`GetRole`, then the managed policy's document), if it
    /// has one.
    fn permissions_boundary(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Option<NamedPolicy>, CallError>> + Send;
}

/// The real adapter.
#[derive(Debug, Clone)]
pub struct Aws {
    secrets: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
    kms: aws_sdk_kms::Client,
    iam: aws_sdk_iam::Client,
}

impl Aws {
    pub fn new(config: &AwsConfig) -> Self {
        Aws {
            secrets: config.secrets_manager(),
            ssm: aws_sdk_ssm::Client::new(&config.sdk),
            kms: aws_sdk_kms::Client::new(&config.sdk),
            iam: aws_sdk_iam::Client::new(&config.sdk),
        }
    }
}

/// IAM returns policy documents URL-encoded.
fn policy_document(raw: &str) -> Value {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned();
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

impl Aws {
    /// The default version of a managed policy.
    async fn managed_policy_document(&self, arn: &str) -> Result<Option<Value>, CallError> {
        let policy = self
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("GetPolicy", &e))?;
        let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
            return Ok(None);
        };
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("GetPolicyVersion", &e))?;
        Ok(out
            .policy_version()
            .and_then(|v| v.document())
            .map(policy_document))
    }
}

impl Directory for Aws {
    async fn secret(&self, id: &str) -> Result<Option<SecretMeta>, CallError> {
        match self.secrets.describe_secret().secret_id(id).send().await {
            Ok(out) => Ok(Some(SecretMeta {
                arn: out.arn().unwrap_or(id).to_owned(),
                kms_key_id: out.kms_key_id().map(str::to_owned),
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(CallError::from_sdk("DescribeSecret", &e)),
        }
    }

    async fn secret_policy(&self, arn: &str) -> Result<Option<Value>, CallError> {
        let out = self
            .secrets
            .get_resource_policy()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("GetResourcePolicy", &e))?;
        // Text that is not JSON stays a string, so the evaluator reports it as unparsable
        // instead of taking it for "no policy".
        Ok(out
            .resource_policy()
            .map(|p| serde_json::from_str(p).unwrap_or_else(|_| Value::String(p.to_owned()))))
    }

    async fn parameters(&self, names: &[String]) -> Result<Vec<ParameterMeta>, CallError> {
        use aws_sdk_ssm::types::ParameterStringFilter;
        let mut out = Vec::new();
        for chunk in names.chunks(50) {
            let filter = ParameterStringFilter::builder()
                .key("Name")
                .option("Equals")
                .set_values(Some(chunk.to_vec()))
                .build()
                .map_err(|e| CallError {
                    operation: "DescribeParameters",
                    code: None,
                    message: e.to_string(),
                })?;
            let mut pages = self
                .ssm
                .describe_parameters()
                .parameter_filters(filter)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| CallError::from_sdk("DescribeParameters", &e))?;
                for p in page.parameters() {
                    out.push(ParameterMeta {
                        name: p.name().unwrap_or_default().to_owned(),
                        secure: p.r#type().map(|t| t.as_str()) == Some("SecureString"),
                        key_id: p.key_id().map(str::to_owned),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn key(&self, id: &str) -> Result<Option<KeyMeta>, CallError> {
        let described = match self.kms.describe_key().key_id(id).send().await {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(CallError::from_sdk("DescribeKey", &e)),
        };
        let Some(meta) = described.key_metadata() else {
            return Ok(None);
        };
        let arn = meta.arn().unwrap_or(id).to_owned();
        let aws_managed = meta.key_manager().map(|m| m.as_str()) == Some("AWS");
        // A key policy we may not read is "not visible", not an error.
        let policy = self
            .kms
            .get_key_policy()
            .key_id(meta.key_id())
            .policy_name("default")
            .send()
            .await
            .ok()
            .and_then(|p| {
                p.policy().map(|p| {
                    serde_json::from_str(p).unwrap_or_else(|_| Value::String(p.to_owned()))
                })
            });
        Ok(Some(KeyMeta {
            arn,
            aws_managed,
            policy,
        }))
    }

    async fn permissions_boundary(
        &self,
        role_name: &str,
    ) -> Result<Option<NamedPolicy>, CallError> {
        let role = self
            .iam
            .get_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| CallError::from_sdk("GetRole", &e))?;
        let Some(arn) = role
            .role()
            .and_then(|r| r.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn())
        else {
            return Ok(None);
        };
        let document = self.managed_policy_document(arn).await?.ok_or(CallError {
            operation: "GetPolicyVersion",
            code: None,
            message: "the permissions boundary has no default version".to_owned(),
        })?;
        Ok(Some(NamedPolicy {
            name: format!("permissions boundary {arn}"),
            document,
        }))
    }

    async fn role_policies(&self, role_name: &str) -> Result<Option<Vec<NamedPolicy>>, CallError> {
        let mut policies = Vec::new();
        let mut names = Vec::new();
        let mut pages = self
            .iam
            .list_role_policies()
            .role_name(role_name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => names.extend(page.policy_names().iter().cloned()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_no_such_entity_exception()) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(CallError::from_sdk("ListRolePolicies", &e)),
            }
        }
        for name in names {
            let out = self
                .iam
                .get_role_policy()
                .role_name(role_name)
                .policy_name(&name)
                .send()
                .await
                .map_err(|e| CallError::from_sdk("GetRolePolicy", &e))?;
            policies.push(NamedPolicy {
                name,
                document: policy_document(out.policy_document()),
            });
        }
        let mut attached = Vec::new();
        let mut pages = self
            .iam
            .list_attached_role_policies()
            .role_name(role_name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| CallError::from_sdk("ListAttachedRolePolicies", &e))?;
            attached.extend(
                page.attached_policies().iter().filter_map(|p| {
                    Some((p.policy_name()?.to_owned(), p.policy_arn()?.to_owned()))
                }),
            );
        }
        for (name, arn) in attached {
            if let Some(document) = self.managed_policy_document(&arn).await? {
                policies.push(NamedPolicy { name, document });
            }
        }
        Ok(Some(policies))
    }
}

/// Reads the evidence key from a SecureString parameter (decrypted). This is the one value the
/// validator reads, and its role may read only that parameter (template.yaml).
pub async fn evidence_key(
    config: &AwsConfig,
    parameter: &str,
) -> Result<crate::finding::EvidenceKey, String> {
    let out = aws_sdk_ssm::Client::new(&config.sdk)
        .get_parameter()
        .name(parameter)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            let e = CallError::from_sdk("GetParameter", &e);
            format!("EVIDENCE_KEY_PARAMETER {parameter}: {}", e.summary())
        })?;
    let value = out
        .parameter()
        .and_then(|p| p.value())
        .ok_or_else(|| format!("EVIDENCE_KEY_PARAMETER {parameter}: the parameter has no value"))?;
    crate::finding::EvidenceKey::new(value.as_bytes().to_vec())
        .map_err(|e| format!("EVIDENCE_KEY_PARAMETER {parameter}: {e}"))
}
