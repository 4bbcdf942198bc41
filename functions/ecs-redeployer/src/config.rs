//! The redeployer's settings, from the environment, validated once at start-up.

use ecs_secrets_shared::env::Env;
use ecs_secrets_shared::ConfigError;

/// Which referencing services are redeployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every referencing service unless tagged `secret-redeploy=off` (default).
    All,
    /// Only services tagged `secret-redeploy=on`.
    Tagged,
}

/// The function's name, in logs and metrics.
pub const FUNCTION_NAME: &str = "ecs-redeployer";

/// The tag that opts a service in (`on`) or out (`off`).
pub const TAG: &str = "secret-redeploy";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `CLUSTERS`: names or ARNs; `None` = every cluster.
    pub clusters: Option<Vec<String>>,
    pub selection: Selection,
    pub dry_run: bool,
    /// `MAX_UPDATES_PER_SECOND` (0.1-50, default 2): client-side pace of UpdateService.
    pub max_updates_per_second: f64,
    /// `MAX_CONCURRENCY` (1-64, default 8): describe calls in flight at once.
    pub max_concurrency: usize,
    /// `MAX_READS_PER_SECOND` (1-20, default 15): client-side pace of ECS list/describe calls,
    /// per ECS bucket (see `pace`).
    pub max_reads_per_second: f64,
    /// Read clusters outside `CLUSTERS` too, to report their referencing services as skipped
    /// (the CLI's plan); the function never does: it only names them.
    pub scan_outside_clusters: bool,
    /// Propagation tracking (`PROPAGATION_SCHEDULE_GROUP` set), or none.
    pub propagation: Option<Propagation>,
    /// The reference index (`INDEX_TABLE` set), or none: every change scans the fleet.
    pub index: Option<IndexSettings>,
}

/// Where the reference index lives and how old it may grow (see `index`).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSettings {
    /// `INDEX_TABLE`: the DynamoDB table.
    pub table: String,
    /// `INDEX_MAX_AGE_HOURS` (1-720, default 48: two missed daily reconciliations): an index
    /// reconciled longer ago than this is not trusted, and changes scan the fleet.
    pub max_age_hours: u32,
}

/// Where propagation tracking keeps its checks, and when a change must have propagated.
#[derive(Debug, Clone, PartialEq)]
pub struct Propagation {
    /// `PROPAGATION_SCHEDULE_GROUP`: the EventBridge Scheduler group of the checks.
    pub group: String,
    /// `PROPAGATION_SCHEDULER_ROLE_ARN`: the role EventBridge Scheduler assumes to invoke the
    /// function (required with a group).
    pub role_arn: String,
    /// `PROPAGATION_DEADLINE_MINUTES` (1-1440, default 30): from the change to the check.
    pub deadline_minutes: u32,
    /// `EVENT_BUS_NAME` (default `default`): where the reports go.
    pub bus: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            clusters: None,
            selection: Selection::All,
            dry_run: false,
            max_updates_per_second: 2.0,
            max_concurrency: 8,
            max_reads_per_second: 15.0,
            scan_outside_clusters: false,
            propagation: None,
            index: None,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let get = |k: &str| env.text(k);
        let d = Self::default();
        let clusters = get("CLUSTERS").map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
        if clusters.as_ref().is_some_and(Vec::is_empty) {
            return Err(ConfigError::invalid(
                "CLUSTERS",
                "lists no cluster (leave it unset for all clusters)",
            ));
        }
        let selection = match get("SERVICE_SELECTION")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("all") => Selection::All,
            Some("tagged") => Selection::Tagged,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "SERVICE_SELECTION",
                    format!("`{other}` is not `all` or `tagged`"),
                ))
            }
        };
        let dry_run = env.flag("DRY_RUN", d.dry_run)?;
        let max_updates_per_second = env.number(
            "MAX_UPDATES_PER_SECOND",
            0.1..=50.0,
            d.max_updates_per_second,
        )?;
        let max_concurrency = env.number("MAX_CONCURRENCY", 1..=64, d.max_concurrency)?;
        let max_reads_per_second =
            env.number("MAX_READS_PER_SECOND", 1.0..=20.0, d.max_reads_per_second)?;
        let propagation = match get("PROPAGATION_SCHEDULE_GROUP") {
            None => None,
            Some(group) => Some(Propagation {
                group,
                role_arn: get("PROPAGATION_SCHEDULER_ROLE_ARN")
                    .filter(|r| r.starts_with("arn:"))
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "PROPAGATION_SCHEDULER_ROLE_ARN",
                            "must be a role ARN when PROPAGATION_SCHEDULE_GROUP is set",
                        )
                    })?,
                deadline_minutes: env.number("PROPAGATION_DEADLINE_MINUTES", 1..=1440, 30)?,
                bus: get("EVENT_BUS_NAME").unwrap_or_else(|| "default".to_owned()),
            }),
        };
        let index = match get("INDEX_TABLE") {
            None => None,
            Some(table) => {
                let valid = (3..=255).contains(&table.len())
                    && table
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
                if !valid {
                    return Err(ConfigError::invalid(
                        "INDEX_TABLE",
                        "must be a DynamoDB table name: 3-255 letters, digits, `_`, `-` or `.`",
                    ));
                }
                Some(IndexSettings {
                    table,
                    max_age_hours: env.number("INDEX_MAX_AGE_HOURS", 1..=720, 48)?,
                })
            }
        };
        Ok(Self {
            clusters,
            selection,
            dry_run,
            max_updates_per_second,
            max_concurrency,
            max_reads_per_second,
            scan_outside_clusters: false,
            propagation,
            index,
        })
    }

    /// Is the cluster (ARN and name) inside the configured set?
    pub fn includes_cluster(&self, cluster_arn: &str, cluster_name: &str) -> bool {
        match &self.clusters {
            None => true,
            Some(list) => list.iter().any(|c| c == cluster_arn || c == cluster_name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        Config::from_lookup(|k| map.get(k).map(|v| v.to_string())).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(config(&[]).unwrap(), Config::default());
        let c = config(&[
            (
                "CLUSTERS",
                " prod , arn:aws:ecs:us-east-1:123456789012:cluster/stage ,",
            ),
            ("SERVICE_SELECTION", "Tagged"),
            ("DRY_RUN", "yes"),
            ("MAX_UPDATES_PER_SECOND", "0.5"),
            ("MAX_CONCURRENCY", "3"),
        ])
        .unwrap();
        assert_eq!(
            c.clusters.as_deref().unwrap(),
            ["prod", "arn:aws:ecs:us-east-1:123456789012:cluster/stage"]
        );
        assert_eq!(
            (
                c.selection,
                c.dry_run,
                c.max_updates_per_second,
                c.max_concurrency
            ),
            (Selection::Tagged, true, 0.5, 3)
        );
        assert!(c.includes_cluster("arn:aws:ecs:us-east-1:123456789012:cluster/prod", "prod"));
        assert!(c.includes_cluster("arn:aws:ecs:us-east-1:123456789012:cluster/stage", "stage"));
        assert!(!c.includes_cluster("arn:aws:ecs:us-east-1:123456789012:cluster/dev", "dev"));
        assert!(Config::default().includes_cluster("x", "y"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (pairs, needle) in [
            (vec![("CLUSTERS", " , ")], "CLUSTERS"),
            (vec![("SERVICE_SELECTION", "some")], "SERVICE_SELECTION"),
            (vec![("DRY_RUN", "perhaps")], "DRY_RUN"),
            (vec![("MAX_UPDATES_PER_SECOND", "0.05")], "0.1 to 50"),
            (
                vec![("MAX_UPDATES_PER_SECOND", "51")],
                "MAX_UPDATES_PER_SECOND",
            ),
            (vec![("MAX_UPDATES_PER_SECOND", "fast")], "`fast`"),
            (vec![("MAX_CONCURRENCY", "0")], "MAX_CONCURRENCY"),
            (
                vec![("PROPAGATION_SCHEDULE_GROUP", "g")],
                "PROPAGATION_SCHEDULER_ROLE_ARN",
            ),
            (
                vec![
                    ("PROPAGATION_SCHEDULE_GROUP", "g"),
                    ("PROPAGATION_SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/r"),
                    ("PROPAGATION_DEADLINE_MINUTES", "0"),
                ],
                "PROPAGATION_DEADLINE_MINUTES",
            ),
        ] {
            let err = config(&pairs).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
