//! Where the server of an RDS-managed master secret is.
//!
//! RDS writes only `username` and `password` into the master secret it manages (`rds!db-…`,
//! `rds!cluster-…`), and that secret is very often the administrator (`masterarn`) of an
//! alternating-users rotation. Its server is looked up from RDS, never taken from the
//! application's secret: whoever can write that secret could otherwise send the master
//! password to a server of their choosing. The lookup has two anchors an attacker cannot set:
//!
//! - the secret's system tag `aws:rds:primaryDBInstanceArn` or `aws:rds:primaryDBClusterArn`
//!   names the instance or cluster (the `aws:` tag prefix is reserved to AWS), and
//! - `DescribeDBInstances` / `DescribeDBClusters` must name this very secret as that resource's
//!   master user secret (`MasterUserSecret.SecretArn`), or the lookup is refused.
//!
//! The rotation then still requires the application's secret to be for the same server
//! (`rotation::guard_alternating`).

use std::future::Future;

use crate::engine::DbEngine;
use crate::store::StoreError;

/// Tag keys RDS puts on the master secret it manages (compared without case, as AWS's own
/// rotation templates do).
pub const INSTANCE_TAG: &str = "aws:rds:primaryDBInstanceArn";
pub const CLUSTER_TAG: &str = "aws:rds:primaryDBClusterArn";

/// The RDS resource a managed master secret belongs to, by ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Instance(String),
    Cluster(String),
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Instance(arn) => write!(f, "DB instance {arn}"),
            Resource::Cluster(arn) => write!(f, "DB cluster {arn}"),
        }
    }
}

impl Resource {
    pub fn arn(&self) -> &str {
        match self {
            Resource::Instance(arn) | Resource::Cluster(arn) => arn,
        }
    }

    /// The resource a secret's tags name: `Ok(None)` without either tag; an error when the
    /// tags are contradictory or the value is not an RDS ARN of the right kind.
    pub fn from_tags(tags: &[(String, String)]) -> Result<Option<Resource>, String> {
        let find = |key: &str| {
            tags.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        let (instances, clusters) = (find(INSTANCE_TAG), find(CLUSTER_TAG));
        let resource = match (instances.as_slice(), clusters.as_slice()) {
            ([], []) => return Ok(None),
            ([arn], []) => Resource::Instance((*arn).to_owned()),
            ([], [arn]) => Resource::Cluster((*arn).to_owned()),
            _ => {
                return Err(format!(
                    "its tags name more than one RDS resource (`{INSTANCE_TAG}`, `{CLUSTER_TAG}`)"
                ))
            }
        };
        let (arn, kind, tag) = match &resource {
            Resource::Instance(arn) => (arn, "db", INSTANCE_TAG),
            Resource::Cluster(arn) => (arn, "cluster", CLUSTER_TAG),
        };
        // arn:<partition>:rds:<region>:<account>:<kind>:<identifier>
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        let valid = arn.len() <= 1024
            && parts.len() == 7
            && parts[0] == "arn"
            && parts[2] == "rds"
            && parts[5] == kind
            && !parts[6].is_empty()
            && parts[6]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(format!(
                "its `{tag}` tag is not the ARN of an RDS {kind} (arn:<partition>:rds:<region>:<account>:{kind}:<identifier>)"
            ));
        }
        Ok(Some(resource))
    }
}

/// What RDS says about the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The resource's ARN as RDS gives it (checked against the tag's).
    pub arn: Option<String>,
    pub host: String,
    pub port: u16,
    /// RDS's engine name (`postgres`, `aurora-postgresql`, `mysql`, `mariadb`, `aurora-mysql`).
    pub engine: String,
    /// `MasterUserSecret.SecretArn`: the secret RDS manages for this resource, if any.
    pub master_secret: Option<String>,
}

impl Server {
    /// Whether RDS's engine is one the rotation's `engine` can administer.
    pub fn serves(&self, engine: DbEngine) -> bool {
        let rds = self.engine.to_ascii_lowercase();
        match engine {
            DbEngine::Postgres => matches!(rds.as_str(), "postgres" | "aurora-postgresql"),
            DbEngine::MySql => matches!(
                rds.as_str(),
                "mysql" | "mariadb" | "aurora-mysql" | "aurora"
            ),
        }
    }
}

/// The RDS read the rotator makes.
pub trait Directory: Sync {
    /// The resource's endpoint; `None` when RDS has no such resource.
    fn server(
        &self,
        resource: &Resource,
    ) -> impl Future<Output = Result<Option<Server>, StoreError>> + Send;
}

/// The real adapter, on the SDK client.
#[derive(Debug, Clone)]
pub struct RdsDirectory(pub aws_sdk_rds::Client);

fn no_endpoint(operation: &'static str) -> StoreError {
    StoreError {
        operation,
        code: None,
        message: "the response has no endpoint (the resource may still be creating)".into(),
    }
}

fn port(operation: &'static str, port: Option<i32>) -> Result<u16, StoreError> {
    port.and_then(|p| u16::try_from(p).ok())
        .filter(|&p| p > 0)
        .ok_or_else(|| no_endpoint(operation))
}

impl Directory for RdsDirectory {
    async fn server(&self, resource: &Resource) -> Result<Option<Server>, StoreError> {
        match resource {
            Resource::Instance(arn) => {
                const OP: &str = "DescribeDBInstances";
                let out = match self
                    .0
                    .describe_db_instances()
                    .db_instance_identifier(arn)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_db_instance_not_found_fault()) =>
                    {
                        return Ok(None)
                    }
                    Err(e) => return Err(StoreError::from_sdk(OP, &e)),
                };
                let Some(db) = out.db_instances().first() else {
                    return Ok(None);
                };
                let endpoint = db.endpoint().ok_or_else(|| no_endpoint(OP))?;
                Ok(Some(Server {
                    arn: db.db_instance_arn().map(str::to_owned),
                    host: endpoint
                        .address()
                        .filter(|a| !a.is_empty())
                        .ok_or_else(|| no_endpoint(OP))?
                        .to_owned(),
                    port: port(OP, endpoint.port())?,
                    engine: db.engine().unwrap_or_default().to_owned(),
                    master_secret: db
                        .master_user_secret()
                        .and_then(|s| s.secret_arn())
                        .map(str::to_owned),
                }))
            }
            Resource::Cluster(arn) => {
                const OP: &str = "DescribeDBClusters";
                let out = match self
                    .0
                    .describe_db_clusters()
                    .db_cluster_identifier(arn)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_db_cluster_not_found_fault()) =>
                    {
                        return Ok(None)
                    }
                    Err(e) => return Err(StoreError::from_sdk(OP, &e)),
                };
                let Some(cluster) = out.db_clusters().first() else {
                    return Ok(None);
                };
                // The cluster (writer) endpoint: the administrator changes passwords, which only
                // the writer accepts.
                Ok(Some(Server {
                    arn: cluster.db_cluster_arn().map(str::to_owned),
                    host: cluster
                        .endpoint()
                        .filter(|a| !a.is_empty())
                        .ok_or_else(|| no_endpoint(OP))?
                        .to_owned(),
                    port: port(OP, cluster.port())?,
                    engine: cluster.engine().unwrap_or_default().to_owned(),
                    master_secret: cluster
                        .master_user_secret()
                        .and_then(|s| s.secret_arn())
                        .map(str::to_owned),
                }))
            }
        }
    }
}

/// Directories for unit tests.
#[cfg(test)]
pub mod memory {
    use super::*;

    /// Knows the servers it was given.
    #[derive(Debug, Default)]
    pub struct FixedDirectory(pub Vec<(Resource, Server)>);

    impl Directory for FixedDirectory {
        async fn server(&self, resource: &Resource) -> Result<Option<Server>, StoreError> {
            Ok(self
                .0
                .iter()
                .find(|(r, _)| r == resource)
                .map(|(_, s)| s.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_tags_name_the_resource() {
        let db = "arn:aws:rds:us-east-1:123456789012:db:orders-db";
        let cluster = "arn:aws-us-gov:rds:us-gov-west-1:123456789012:cluster:orders";
        assert_eq!(
            Resource::from_tags(&tags(&[("aws:rds:primaryDBInstanceArn", db)])),
            Ok(Some(Resource::Instance(db.into())))
        );
        // Keys compared without case, as AWS's templates do.
        assert_eq!(
            Resource::from_tags(&tags(&[
                ("team", "x"),
                ("AWS:RDS:PRIMARYDBCLUSTERARN", cluster)
            ])),
            Ok(Some(Resource::Cluster(cluster.into())))
        );
        assert_eq!(Resource::from_tags(&tags(&[("team", "x")])), Ok(None));
    }

    #[test]
    fn contradictory_or_malformed_tags_are_refused() {
        let db = "arn:aws:rds:us-east-1:123456789012:db:orders-db";
        let cluster = "arn:aws:rds:us-east-1:123456789012:cluster:orders";
        for bad in [
            tags(&[(INSTANCE_TAG, db), (CLUSTER_TAG, cluster)]),
            tags(&[(INSTANCE_TAG, db), (INSTANCE_TAG, db)]),
        ] {
            let e = Resource::from_tags(&bad).unwrap_err();
            assert!(e.contains("more than one"), "{e}");
        }
        for (key, value) in [
            (INSTANCE_TAG, cluster),
            (CLUSTER_TAG, db),
            (INSTANCE_TAG, "arn:aws:ec2:us-east-1:123456789012:db:x"),
            (INSTANCE_TAG, "arn:aws:rds:us-east-1:123456789012:db:"),
            (INSTANCE_TAG, "arn:aws:rds:us-east-1:123456789012:db:a/b"),
            (INSTANCE_TAG, "orders-db"),
        ] {
            let e = Resource::from_tags(&tags(&[(key, value)])).unwrap_err();
            assert!(e.contains("is not the ARN of an RDS"), "{value}: {e}");
        }
    }

    #[test]
    fn engines_match_the_rotation_engine() {
        let server = |engine: &str| Server {
            arn: None,
            host: "h".into(),
            port: 5432,
            engine: engine.into(),
            master_secret: None,
        };
        for rds in ["postgres", "aurora-postgresql"] {
            assert!(server(rds).serves(DbEngine::Postgres), "{rds}");
            assert!(!server(rds).serves(DbEngine::MySql), "{rds}");
        }
        for rds in ["mysql", "mariadb", "aurora-mysql", "aurora"] {
            assert!(server(rds).serves(DbEngine::MySql), "{rds}");
            assert!(!server(rds).serves(DbEngine::Postgres), "{rds}");
        }
        assert!(!server("oracle-ee").serves(DbEngine::Postgres));
    }
}
