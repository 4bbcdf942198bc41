//! Whether one service must pick up a change, or why not.
//!
//! Every service that references the change but is not redeployed gets a stated reason; a
//! service that does not reference it at all is simply not reported. The "already redeployed"
//! rule — the PRIMARY deployment started at or after the change — is what makes duplicate
//! events and retried invocations harmless without any state of our own.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ecs_secrets_shared::reference::{Location, SecretReference, TaskContext, Tracks};

use crate::change::Change;
use crate::config::{Config, Selection, TAG};

/// A service as discovery sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Service {
    pub cluster_arn: String,
    pub cluster_name: String,
    pub name: String,
    pub arn: String,
    pub status: String,
    /// `ECS`, `CODE_DEPLOY` or `EXTERNAL` (absent means ECS).
    pub controller: Option<String>,
    pub tags: HashMap<String, String>,
    pub primary_created_at: Option<DateTime<Utc>>,
    /// The PRIMARY deployment's task definition first, then any in-flight deployment's.
    pub task_definitions: Vec<String>,
    /// Every deployment ECS reports, PRIMARY first.
    pub deployments: Vec<Deployment>,
    pub desired_count: i32,
    pub running_count: i32,
}

/// One deployment of a service, as `DescribeServices` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Deployment {
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub task_definition: String,
    pub created_at: Option<DateTime<Utc>>,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED` (absent for services without the circuit
    /// breaker's roll-out tracking).
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub running_count: i32,
}

/// How a set of references reads a change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reads {
    /// Some reference follows the change: its value is new.
    pub affected: bool,
    /// References pinned to a version (container, location, version id).
    pub pinned: Vec<String>,
    /// Custom staging labels referenced that did not move.
    pub other_labels: Vec<String>,
}

impl Reads {
    pub fn any(&self) -> bool {
        self.affected || !self.pinned.is_empty() || !self.other_labels.is_empty()
    }
}

/// Which of `references` read `change`, and how, for a task in `ctx`'s account and region.
pub fn reads(references: &[&Reference], change: &Change, ctx: &TaskContext) -> Reads {
    let mut out = Reads::default();
    for r in references {
        let Some(parsed) = &r.parsed else { continue };
        let matched = match change {
            Change::Secret { secret, .. } => parsed.matches_secret(secret, ctx),
            Change::Parameter { parameter } => parsed.matches_parameter(parameter, ctx),
        };
        let Some(m) = matched else { continue };
        let follows = match change {
            Change::Secret { labels, .. } => labels.iter().any(|l| m.tracks.follows_label(l)),
            Change::Parameter { .. } => m.tracks == Tracks::Current,
        };
        match &m.tracks {
            Tracks::Pinned(id) => out.pinned.push(format!(
                "{} ({}) is pinned to version {id}",
                r.container, r.location
            )),
            Tracks::Label(label) if !follows => out.other_labels.push(label.clone()),
            _ if follows => out.affected = true,
            _ => {}
        }
    }
    out
}

/// What the redeployer reads of a task-definition revision: its secret references and the
/// images its containers run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Revision {
    pub references: Vec<Reference>,
    /// (container, image) of every container.
    pub images: Vec<(String, String)>,
}

impl Revision {
    /// What a revision holds, read through the shared model — the one walk over a task
    /// definition's references, whether it came from `DescribeTaskDefinition` or from a
    /// `RegisterTaskDefinition` call recorded by CloudTrail.
    pub fn of(model: &ecs_secrets_shared::task_definition::TaskDefinition) -> Self {
        let references = model
            .references()
            .into_iter()
            .filter_map(|found| {
                let raw = found.raw?;
                Some(Reference {
                    container: found.container.map(String::from).unwrap_or_default(),
                    location: found.location,
                    parsed: found.parsed.and_then(Result::ok),
                    raw,
                })
            })
            .collect();
        let images = model
            .container_definitions
            .iter()
            .filter_map(|(_, c)| {
                let image = c.image.as_ref()?.literal()?.to_owned();
                Some((c.name().unwrap_or_default().to_owned(), image))
            })
            .collect();
        Revision { references, images }
    }

    /// A warning for each container whose image is a tag rather than a digest: a forced
    /// deployment pulls the tag again and may ship a newer image with the new secret.
    pub fn mutable_images(&self) -> Vec<String> {
        self.images
            .iter()
            .filter(|(_, image)| !image.contains("@sha256:"))
            .map(|(container, image)| {
                format!(
                    "container `{container}` runs `{image}`, a tag rather than a digest: a forced deployment resolves the tag again and may ship a newer image"
                )
            })
            .collect()
    }
}

/// One secret reference of a task definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub container: String,
    pub location: Location,
    pub raw: String,
    /// `None` when the reference does not parse (the validator reports those).
    pub parsed: Option<SecretReference>,
}

/// The outcome for one service.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    NotReferenced,
    Skip(String),
    Redeploy,
}

/// The task's partition, region and account, from the service ARN.
pub fn context_of(service_arn: &str) -> Option<TaskContext> {
    let arn = ecs_secrets_shared::arn::Arn::parse(service_arn).ok()?;
    Some(TaskContext {
        partition: arn.partition,
        region: arn.region,
        account: arn.account,
    })
}

/// Whether a deployment that started at `started` certainly began after the change at
/// `changed`, so its tasks read the new value.
///
/// EventBridge's `time` and CloudTrail's `eventTime` have whole seconds: a change at 10:00:00
/// may have happened at 10:00:00.900, after a deployment that started at 10:00:00.600. With a
/// whole-second change time only a deployment in a *later* second counts; with sub-second
/// precision, one at or after it. Neither the secret version's creation time (the version is
/// created at createSecret, well before AWSCURRENT moves to it) nor the CloudTrail record is
/// more precise for a label move, so a same-second deployment is redeployed: a needless
/// restart is better than a stale secret.
pub fn deployed_after(started: DateTime<Utc>, changed: DateTime<Utc>) -> bool {
    if changed.timestamp_subsec_nanos() == 0 {
        started.timestamp() > changed.timestamp()
    } else {
        started >= changed
    }
}

/// Whether `service` must pick up `change`, given the references of the task definitions it
/// runs, or why not.
pub fn judge(
    service: &Service,
    references: &[&Reference],
    change: &Change,
    change_time: Option<DateTime<Utc>>,
    config: &Config,
) -> Verdict {
    let Some(ctx) = context_of(&service.arn) else {
        return Verdict::NotReferenced;
    };
    let Reads {
        affected,
        pinned,
        mut other_labels,
    } = reads(references, change, &ctx);
    if !affected && pinned.is_empty() && other_labels.is_empty() {
        return Verdict::NotReferenced;
    }
    if !config.includes_cluster(&service.cluster_arn, &service.cluster_name) {
        return Verdict::Skip("outside the configured clusters (CLUSTERS)".to_owned());
    }
    if service.status != "ACTIVE" {
        return Verdict::Skip(format!("service is {}", service.status));
    }
    if let Some(controller) = service.controller.as_deref().filter(|c| *c != "ECS") {
        return Verdict::Skip(format!(
            "deployment controller is {controller}: forceNewDeployment does not apply; start a deployment through that controller"
        ));
    }
    let tag = service.tags.get(TAG).map(|v| v.to_ascii_lowercase());
    if tag.as_deref() == Some("off") {
        return Verdict::Skip(format!("opted out by tag {TAG}=off"));
    }
    if config.selection == Selection::Tagged && tag.as_deref() != Some("on") {
        return Verdict::Skip(format!(
            "not opted in: SERVICE_SELECTION=tagged needs tag {TAG}=on"
        ));
    }
    if !affected {
        if !pinned.is_empty() {
            return Verdict::Skip(format!(
                "reference pinned, rotation does not reach it: {}",
                pinned.join("; ")
            ));
        }
        other_labels.sort();
        other_labels.dedup();
        return Verdict::Skip(format!(
            "references staging label(s) {} that did not move",
            other_labels.join(", ")
        ));
    }
    if let (Some(started), Some(changed)) = (service.primary_created_at, change_time) {
        if deployed_after(started, changed) {
            return Verdict::Skip(format!(
                "already redeployed: its PRIMARY deployment started at {} (the change was at {})",
                started.to_rfc3339(),
                changed.to_rfc3339()
            ));
        }
    }
    Verdict::Redeploy
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_secrets_shared::arn::{ParameterArn, SecretArn};

    const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret";

    fn service() -> Service {
        Service {
            cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into(),
            cluster_name: "prod".into(),
            name: "web".into(),
            arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
            status: "ACTIVE".into(),
            controller: None,
            tags: HashMap::new(),
            primary_created_at: Some("2026-11-20T09:00:00Z".parse().unwrap()),
            task_definitions: vec![
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1".into()
            ],
            ..Service::default()
        }
    }

    fn reference(raw: &str) -> Reference {
        Reference {
            container: "app".into(),
            location: Location::ContainerSecret,
            raw: raw.into(),
            parsed: SecretReference::parse(raw, Location::ContainerSecret).ok(),
        }
    }

    fn secret_change(label: &str) -> Change {
        Change::Secret {
            secret: SecretArn::parse(&format!("{SM}:db-AbC123")).unwrap(),
            labels: vec![label.into()],
        }
    }

    fn time() -> Option<DateTime<Utc>> {
        Some("2026-11-20T10:00:00Z".parse().unwrap())
    }

    fn verdict(s: &Service, raws: &[&str], change: &Change, config: &Config) -> Verdict {
        let refs: Vec<Reference> = raws.iter().map(|r| reference(r)).collect();
        let refs: Vec<&Reference> = refs.iter().collect();
        judge(s, &refs, change, time(), config)
    }

    #[test]
    fn a_deployment_in_the_same_second_as_a_whole_second_change_is_not_proof() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let change = t("2026-11-20T10:00:00Z");
        assert!(!deployed_after(t("2026-11-20T10:00:00.700Z"), change));
        assert!(!deployed_after(t("2026-11-20T09:59:59.999Z"), change));
        assert!(deployed_after(t("2026-11-20T10:00:01Z"), change));
        let precise = t("2026-11-20T10:00:00.400Z");
        assert!(!deployed_after(t("2026-11-20T10:00:00.100Z"), precise));
        assert!(deployed_after(t("2026-11-20T10:00:00.400Z"), precise));
    }

    #[test]
    fn every_reference_form_that_follows_awscurrent_redeploys() {
        let c = Config::default();
        for raw in [
            format!("{SM}:db-AbC123"),
            format!("{SM}:db"),
            format!("{SM}:db-AbC123:password::"),
            format!("{SM}:db::AWSPREVIOUS:"),
            format!("{SM}:db-AbC123::AWSCURRENT:"),
            "/aws/reference/secretsmanager/db".to_string(),
        ] {
            assert_eq!(
                verdict(&service(), &[&raw], &secret_change("AWSCURRENT"), &c),
                Verdict::Redeploy,
                "{raw}"
            );
        }
    }

    #[test]
    fn skips_with_reasons() {
        let c = Config::default();
        let current = secret_change("AWSCURRENT");
        let raw = format!("{SM}:db-AbC123");
        let skip = |v: Verdict| match v {
            Verdict::Skip(r) => r,
            other => panic!("{other:?}"),
        };
        let pinned = format!("{SM}:db-AbC123:::EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE");
        assert!(skip(verdict(&service(), &[&pinned], &current, &c)).contains("pinned"));
        let blue = format!("{SM}:db::blue:");
        assert!(skip(verdict(&service(), &[&blue], &current, &c)).contains("blue"));
        assert_eq!(
            verdict(&service(), &[&blue], &secret_change("blue"), &c),
            Verdict::Redeploy
        );
        // A service with a pinned and a following reference is redeployed.
        assert_eq!(
            verdict(&service(), &[&pinned, &raw], &current, &c),
            Verdict::Redeploy
        );

        let mut s = service();
        s.status = "DRAINING".into();
        assert!(skip(verdict(&s, &[&raw], &current, &c)).contains("DRAINING"));
        let mut s = service();
        s.controller = Some("CODE_DEPLOY".into());
        assert!(skip(verdict(&s, &[&raw], &current, &c)).contains("CODE_DEPLOY"));
        let mut s = service();
        s.tags.insert(TAG.into(), "off".into());
        assert!(skip(verdict(&s, &[&raw], &current, &c)).contains("opted out"));
        let tagged = Config {
            selection: Selection::Tagged,
            ..Config::default()
        };
        assert!(skip(verdict(&service(), &[&raw], &current, &tagged)).contains("not opted in"));
        let mut s = service();
        s.tags.insert(TAG.into(), "on".into());
        assert_eq!(verdict(&s, &[&raw], &current, &tagged), Verdict::Redeploy);
        let mut s = service();
        s.primary_created_at = Some("2026-11-20T10:00:01Z".parse().unwrap());
        assert!(skip(verdict(&s, &[&raw], &current, &c)).contains("already redeployed"));
        // Same second as the (whole-second) change: it may have started before it.
        s.primary_created_at = Some("2026-11-20T10:00:00.300Z".parse().unwrap());
        assert_eq!(verdict(&s, &[&raw], &current, &c), Verdict::Redeploy);
    }

    #[test]
    fn unrelated_services_are_not_reported() {
        let c = Config::default();
        let current = secret_change("AWSCURRENT");
        for raw in [
            format!("{SM}:other-AbC123"),
            format!("{SM}:db-XyZ789"),
            "/app/db".into(),
            "broken:ref".into(),
        ] {
            assert_eq!(
                verdict(&service(), &[&raw], &current, &c),
                Verdict::NotReferenced,
                "{raw}"
            );
        }
        let mut inactive = service();
        inactive.status = "INACTIVE".into();
        assert_eq!(
            verdict(&inactive, &[&format!("{SM}:other")], &current, &c),
            Verdict::NotReferenced
        );
    }

    #[test]
    fn parameters_by_name_and_arn_in_the_service_region() {
        let c = Config::default();
        let change = Change::Parameter {
            parameter: ParameterArn::parse("arn:aws:ssm:us-east-1:123456789012:parameter/app/db")
                .unwrap(),
        };
        for raw in [
            "/app/db",
            "arn:aws:ssm:us-east-1:123456789012:parameter/app/db",
        ] {
            assert_eq!(
                verdict(&service(), &[raw], &change, &c),
                Verdict::Redeploy,
                "{raw}"
            );
        }
        let mut elsewhere = service();
        elsewhere.arn = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web".into();
        assert_eq!(
            verdict(&elsewhere, &["/app/db"], &change, &c),
            Verdict::NotReferenced
        );
    }
}
