//! The narrow boundary to Secrets Manager: exactly the calls a rotation makes, and nothing
//! else, which is also exactly what the function's IAM policy grants.
//!
//! SDK types stay in the adapter ([`SecretsManagerStore`]); the rotation logic sees plain
//! values, and unit tests drive it with an in-memory store.

use std::collections::HashMap;
use std::future::Future;

use ecs_secrets_shared::secret::SecretString;

use crate::policy::PasswordPolicy;

/// What `DescribeSecret` says about a secret, as far as rotation cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    pub arn: String,
    /// `None` when rotation was never configured.
    pub rotation_enabled: Option<bool>,
    /// `OwningService`: the AWS service that manages (and rotates) this secret itself.
    pub owning_service: Option<String>,
    /// Tags (key, value): RDS names the resource of a master secret it manages in a system tag.
    pub tags: Vec<(String, String)>,
    /// Version id → staging labels.
    pub versions: HashMap<String, Vec<String>>,
}

impl SecretMetadata {
    /// The version that carries `stage`, if any.
    pub fn version_with(&self, stage: &str) -> Option<&str> {
        self.versions
            .iter()
            .find(|(_, stages)| stages.iter().any(|s| s == stage))
            .map(|(id, _)| id.as_str())
    }

    pub fn stages_of(&self, version: &str) -> Option<&[String]> {
        self.versions.get(version).map(Vec::as_slice)
    }
}

/// A failed Secrets Manager call (operation, error code, message; never a value).
pub use ecs_secrets_shared::aws::CallError as StoreError;

/// The Secrets Manager operations of a rotation.
pub trait SecretStore: Sync {
    fn describe(
        &self,
        secret_id: &str,
    ) -> impl Future<Output = Result<SecretMetadata, StoreError>> + Send;

    /// The value of a version chosen by id and/or stage; `None` when that version has no value
    /// (Secrets Manager answers ResourceNotFoundException).
    fn value(
        &self,
        secret_id: &str,
        version_id: Option<&str>,
        stage: &str,
    ) -> impl Future<Output = Result<Option<SecretString>, StoreError>> + Send;

    /// `PutSecretValue(ClientRequestToken=token, VersionStages=[AWSPENDING])`.
    fn put_pending(
        &self,
        secret_id: &str,
        token: &str,
        value: &SecretString,
        rotation_token: Option<&SecretString>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `UpdateSecretVersionStage`.
    fn move_stage(
        &self,
        secret_id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `GetRandomPassword` under `policy`.
    fn random_password(
        &self,
        policy: &PasswordPolicy,
    ) -> impl Future<Output = Result<SecretString, StoreError>> + Send;
}

/// The real adapter, on the SDK client.
#[derive(Debug, Clone)]
pub struct SecretsManagerStore(pub aws_sdk_secretsmanager::Client);

impl SecretStore for SecretsManagerStore {
    async fn describe(&self, secret_id: &str) -> Result<SecretMetadata, StoreError> {
        let out = self
            .0
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("DescribeSecret", &e))?;
        Ok(SecretMetadata {
            arn: out.arn().unwrap_or(secret_id).to_owned(),
            rotation_enabled: out.rotation_enabled(),
            owning_service: out.owning_service().map(str::to_owned),
            tags: out
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            versions: out.version_ids_to_stages().cloned().unwrap_or_default(),
        })
    }

    async fn value(
        &self,
        secret_id: &str,
        version_id: Option<&str>,
        stage: &str,
    ) -> Result<Option<SecretString>, StoreError> {
        let result = self
            .0
            .get_secret_value()
            .secret_id(secret_id)
            .set_version_id(version_id.map(str::to_owned))
            .version_stage(stage)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.secret_string().map(SecretString::from)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(StoreError::from_sdk("GetSecretValue", &e)),
        }
    }

    async fn put_pending(
        &self,
        secret_id: &str,
        token: &str,
        value: &SecretString,
        rotation_token: Option<&SecretString>,
    ) -> Result<(), StoreError> {
        self.0
            .put_secret_value()
            .secret_id(secret_id)
            .client_request_token(token)
            .secret_string(value.expose())
            .version_stages("AWSPENDING")
            .set_rotation_token(rotation_token.map(|t| t.expose().clone()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("PutSecretValue", &e))?;
        Ok(())
    }

    async fn move_stage(
        &self,
        secret_id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), StoreError> {
        self.0
            .update_secret_version_stage()
            .secret_id(secret_id)
            .version_stage(stage)
            .set_move_to_version_id(to.map(str::to_owned))
            .set_remove_from_version_id(from.map(str::to_owned))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("UpdateSecretVersionStage", &e))?;
        Ok(())
    }

    async fn random_password(&self, policy: &PasswordPolicy) -> Result<SecretString, StoreError> {
        let out = self
            .0
            .get_random_password()
            .password_length(i64::from(policy.length))
            .exclude_characters(&policy.exclude_characters)
            .exclude_numbers(policy.exclude_numbers)
            .exclude_punctuation(policy.exclude_punctuation)
            .exclude_uppercase(policy.exclude_uppercase)
            .exclude_lowercase(policy.exclude_lowercase)
            .require_each_included_type(policy.require_each_included_type)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("GetRandomPassword", &e))?;
        out.random_password()
            .map(SecretString::from)
            .ok_or_else(|| StoreError {
                operation: "GetRandomPassword",
                code: None,
                message: "the response has no password".into(),
            })
    }
}

/// An in-memory Secrets Manager with the staging-label semantics rotation relies on (unit
/// tests only; the integration tests use moto).
#[cfg(test)]
pub mod memory {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    pub struct MemoryStore {
        pub secret: Mutex<Secret>,
        pub calls: Mutex<Vec<&'static str>>,
        /// Other secrets (an administrator's), read-only, by ARN.
        pub others: Mutex<HashMap<String, Other>>,
    }

    /// A read-only secret: its AWSCURRENT value and its tags.
    pub type Other = (String, Vec<(String, String)>);

    #[derive(Debug, Default, Clone)]
    pub struct Secret {
        pub arn: String,
        pub rotation_enabled: Option<bool>,
        /// version id → (value, stages)
        pub versions: HashMap<String, (Option<String>, Vec<String>)>,
        pub next_password: u32,
    }

    impl MemoryStore {
        pub fn new(arn: &str, current_value: &str) -> Self {
            let mut versions = HashMap::new();
            versions.insert(
                "v-current".to_owned(),
                (
                    Some(current_value.to_owned()),
                    vec!["AWSCURRENT".to_owned()],
                ),
            );
            Self {
                secret: Mutex::new(Secret {
                    arn: arn.to_owned(),
                    rotation_enabled: Some(true),
                    versions,
                    next_password: 0,
                }),
                calls: Mutex::default(),
                others: Mutex::default(),
            }
        }

        /// Adds a read-only secret with an AWSCURRENT value and tags.
        pub fn add_other(&self, arn: &str, value: &str, tags: &[(&str, &str)]) {
            self.others.lock().unwrap().insert(
                arn.to_owned(),
                (
                    value.to_owned(),
                    tags.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            );
        }

        /// What Secrets Manager does before the first step: an empty AWSPENDING version.
        pub fn start_rotation(&self, token: &str) {
            let mut s = self.secret.lock().unwrap();
            for (_, stages) in s.versions.values_mut() {
                stages.retain(|st| st != "AWSPENDING");
            }
            s.versions
                .insert(token.to_owned(), (None, vec!["AWSPENDING".to_owned()]));
        }

        pub fn value_of(&self, stage: &str) -> Option<String> {
            let s = self.secret.lock().unwrap();
            s.versions
                .values()
                .find(|(_, st)| st.iter().any(|x| x == stage))
                .and_then(|(v, _)| v.clone())
        }

        pub fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().unwrap().clone()
        }

        fn record(&self, op: &'static str) {
            self.calls.lock().unwrap().push(op);
        }
    }

    impl SecretStore for MemoryStore {
        async fn describe(&self, id: &str) -> Result<SecretMetadata, StoreError> {
            self.record("DescribeSecret");
            if let Some((_, tags)) = self.others.lock().unwrap().get(id) {
                return Ok(SecretMetadata {
                    arn: id.to_owned(),
                    rotation_enabled: None,
                    owning_service: None,
                    tags: tags.clone(),
                    versions: HashMap::from([(
                        "v-other".to_owned(),
                        vec!["AWSCURRENT".to_owned()],
                    )]),
                });
            }
            let s = self.secret.lock().unwrap();
            Ok(SecretMetadata {
                arn: s.arn.clone(),
                rotation_enabled: s.rotation_enabled,
                owning_service: None,
                tags: Vec::new(),
                versions: s
                    .versions
                    .iter()
                    .filter(|(_, (_, st))| !st.is_empty())
                    .map(|(k, (_, st))| (k.clone(), st.clone()))
                    .collect(),
            })
        }

        async fn value(
            &self,
            id: &str,
            version_id: Option<&str>,
            stage: &str,
        ) -> Result<Option<SecretString>, StoreError> {
            self.record("GetSecretValue");
            if let Some((value, _)) = self.others.lock().unwrap().get(id) {
                let current = stage == "AWSCURRENT" && version_id.is_none_or(|v| v == "v-other");
                return Ok(current.then(|| SecretString::from(value.clone())));
            }
            let s = self.secret.lock().unwrap();
            let found = s.versions.iter().find(|(id, (_, st))| {
                version_id.is_none_or(|v| v == id.as_str()) && st.iter().any(|x| x == stage)
            });
            Ok(found
                .and_then(|(_, (v, _))| v.clone())
                .map(SecretString::from))
        }

        async fn put_pending(
            &self,
            _: &str,
            token: &str,
            value: &SecretString,
            _: Option<&SecretString>,
        ) -> Result<(), StoreError> {
            self.record("PutSecretValue");
            let mut s = self.secret.lock().unwrap();
            let entry = s.versions.entry(token.to_owned()).or_default();
            if entry.0.as_deref().is_some_and(|v| v != value.expose()) {
                return Err(StoreError {
                    operation: "PutSecretValue",
                    code: Some("ResourceExistsException".into()),
                    message: "version exists with another value".into(),
                });
            }
            entry.0 = Some(value.expose().clone());
            if !entry.1.iter().any(|x| x == "AWSPENDING") {
                entry.1.push("AWSPENDING".into());
            }
            Ok(())
        }

        async fn move_stage(
            &self,
            _: &str,
            stage: &str,
            to: Option<&str>,
            from: Option<&str>,
        ) -> Result<(), StoreError> {
            self.record("UpdateSecretVersionStage");
            let mut s = self.secret.lock().unwrap();
            if let Some(from) = from {
                if let Some((_, st)) = s.versions.get_mut(from) {
                    st.retain(|x| x != stage);
                    if stage == "AWSCURRENT" {
                        st.push("AWSPREVIOUS".into());
                    }
                }
            }
            if let Some(to) = to {
                if stage == "AWSCURRENT" {
                    for (id, (_, st)) in s.versions.iter_mut() {
                        if Some(id.as_str()) != from {
                            st.retain(|x| x != "AWSPREVIOUS");
                        }
                    }
                }
                let (_, st) = s.versions.get_mut(to).ok_or_else(|| StoreError {
                    operation: "UpdateSecretVersionStage",
                    code: Some("InvalidParameterException".into()),
                    message: "no such version".into(),
                })?;
                st.push(stage.to_owned());
            }
            Ok(())
        }

        async fn random_password(
            &self,
            policy: &PasswordPolicy,
        ) -> Result<SecretString, StoreError> {
            self.record("GetRandomPassword");
            let mut s = self.secret.lock().unwrap();
            s.next_password += 1;
            let mut p = format!("Pw{}-", s.next_password);
            while p.len() < usize::from(policy.length) {
                p.push('x');
            }
            p.truncate(usize::from(policy.length));
            Ok(SecretString::from(p))
        }
    }
}
