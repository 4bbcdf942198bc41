//! A simulation of ECS's scheduler at the wire, for what moto does not do: run a service's
//! tasks, roll a deployment out over time, fail one and roll it back, and announce each with an
//! `ECS Deployment State Change` event.
//!
//! It lives in the fault proxy ([`crate::faults::FaultProxy::scheduler`]) and is driven by the
//! test, one step at a time ([`Scheduler::step`]), so a test sees every intermediate state.
//! For the services moto holds it answers, in ECS's JSON shapes:
//! - `ListTasks` (by cluster, `serviceName`, `family`, `desiredStatus`; pages of 100) and
//!   `DescribeTasks` (at most 100 tasks) — entirely from the simulation;
//! - `DescribeServices` — moto's answer, with each known service's `deployments` (id, status,
//!   task definition, counts, `createdAt`, `rolloutState`, `rolloutStateReason`) and
//!   `runningCount` replaced by the simulation's;
//! - `UpdateService(forceNewDeployment)` — forwarded to moto (which makes the new PRIMARY
//!   deployment and its id); the simulation then starts rolling that deployment out.
//!   `UpdateService` to another task definition, forced or not, starts a deployment of that
//!   task definition (moto keeps its old deployment and revision; ECS does not).
//!
//! A service is adopted the first time a `DescribeServices` answer shows it: its PRIMARY
//! deployment is taken as completed, with `desiredCount` tasks started at the deployment's
//! creation. Each [`Scheduler::step`] replaces one old task of every deployment in progress with
//! a new one started now; when none is left the deployment is `COMPLETED`, the older ones are
//! gone, and a `SERVICE_DEPLOYMENT_COMPLETED` event is recorded. A service marked with
//! [`Scheduler::fail_next_deployment`] fails instead at its first step: the deployment is
//! `FAILED` (as the deployment circuit breaker leaves it), a rollback deployment of the previous
//! task definition becomes PRIMARY and `COMPLETED`, the old tasks keep running, and a
//! `SERVICE_DEPLOYMENT_FAILED` event is recorded. Tasks that no service owns are started with
//! [`Scheduler::run_task`] (group `family:…`).
//!
//! Not modelled: placement, health checks and their grace periods, minimum/maximum healthy
//! percent (one task at a time), scaling, task failures other than a failed deployment,
//! `PENDING` and draining tasks (a task is RUNNING from its creation, `createdAt` equals
//! `startedAt`, and a replaced task is gone at once), capacity providers, and deployments
//! started other than by `UpdateService`. A failed deployment stays listed and its rollback is
//! `COMPLETED` at once, keeping the old tasks (real ECS may start the rollback's tasks anew and
//! later drop the failed deployment from `DescribeServices`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::moto::{ACCOUNT, REGION};

/// One simulated task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub arn: String,
    pub cluster: String,
    pub task_definition: String,
    /// `service:<name>` for a service's task, `family:<family>` for a standalone one.
    pub group: String,
    /// The deployment that started it (`ecs-svc/…`), or the caller of RunTask.
    pub started_by: String,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
struct Deployment {
    id: String,
    task_definition: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    rollout: &'static str,
    reason: String,
    /// PRIMARY (the newest) or ACTIVE.
    primary: bool,
}

#[derive(Debug, Clone)]
struct Service {
    cluster: String,
    name: String,
    arn: String,
    desired: usize,
    deployments: Vec<Deployment>,
    fail_next: bool,
}

#[derive(Debug, Default)]
struct State {
    services: BTreeMap<String, Service>,
    tasks: Vec<Task>,
    events: Vec<Value>,
    serial: u64,
    /// Service names whose next deployment fails (set before the service is adopted).
    failing: Vec<String>,
}

/// The simulation's state; see the module documentation.
#[derive(Debug, Default)]
pub struct Scheduler {
    state: Mutex<State>,
}

fn epoch(t: DateTime<Utc>) -> Value {
    json!(t.timestamp_millis() as f64 / 1000.0)
}

fn name_of(arn_or_name: &str) -> &str {
    arn_or_name.rsplit('/').next().unwrap_or(arn_or_name)
}

fn cluster_arn(cluster: &str) -> String {
    if cluster.starts_with("arn:") {
        cluster.to_owned()
    } else {
        format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}")
    }
}

fn family_of(task_definition: &str) -> String {
    let tail = name_of(task_definition);
    tail.split(':').next().unwrap_or(tail).to_owned()
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            DateTime::from_timestamp_millis((secs * 1000.0) as i64)
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn start_task(
        &mut self,
        cluster: &str,
        task_definition: &str,
        group: String,
        started_by: &str,
        at: DateTime<Utc>,
    ) {
        let n = self.next_id();
        let cluster_name = name_of(cluster).to_owned();
        self.tasks.push(Task {
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster_name}/{n:032x}"),
            cluster: cluster_name,
            task_definition: task_definition.to_owned(),
            group,
            started_by: started_by.to_owned(),
            started_at: at,
        });
    }

    fn event(&mut self, service: &Service, name: &str, deployment: &str, reason: &str) {
        let error = name == "SERVICE_DEPLOYMENT_FAILED";
        let now = Utc::now();
        let n = self.next_id();
        self.events.push(json!({
            "version": "0",
            "id": format!("00000000-0000-0000-0000-{n:012}"),
            "detail-type": "ECS Deployment State Change",
            "source": "aws.ecs",
            "account": ACCOUNT,
            "time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": REGION,
            "resources": [service.arn],
            "detail": {
                "eventType": if error { "ERROR" } else { "INFO" },
                "eventName": name,
                "deploymentId": deployment,
                "updatedAt": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "reason": reason,
            }
        }));
    }

    /// Adopts a service from moto's DescribeServices answer, the first time it is seen.
    fn adopt(&mut self, s: &Value) {
        let (Some(arn), Some(name)) = (s["serviceArn"].as_str(), s["serviceName"].as_str()) else {
            return;
        };
        if self.services.contains_key(arn) {
            return;
        }
        let cluster = s["clusterArn"].as_str().unwrap_or_default().to_owned();
        let desired = s["desiredCount"].as_u64().unwrap_or(0) as usize;
        let primary = s["deployments"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["status"] == "PRIMARY"));
        let id = primary
            .and_then(|d| d["id"].as_str())
            .unwrap_or("ecs-svc/initial")
            .to_owned();
        let task_definition = primary
            .and_then(|d| d["taskDefinition"].as_str())
            .or(s["taskDefinition"].as_str())
            .unwrap_or_default()
            .to_owned();
        let created_at = primary
            .and_then(|d| parse_time(&d["createdAt"]))
            .or_else(|| parse_time(&s["createdAt"]))
            .unwrap_or_else(Utc::now);
        for _ in 0..desired {
            self.start_task(
                &cluster,
                &task_definition,
                format!("service:{name}"),
                &id,
                created_at,
            );
        }
        let fail_next = self.failing.iter().any(|f| f == name);
        self.services.insert(
            arn.to_owned(),
            Service {
                cluster,
                name: name.to_owned(),
                arn: arn.to_owned(),
                desired,
                deployments: vec![Deployment {
                    id,
                    task_definition,
                    created_at,
                    updated_at: created_at,
                    rollout: "COMPLETED",
                    reason: "ECS deployment completed.".into(),
                    primary: true,
                }],
                fail_next,
            },
        );
    }

    fn service_tasks(&self, service: &Service) -> Vec<&Task> {
        let group = format!("service:{}", service.name);
        self.tasks
            .iter()
            .filter(|t| t.group == group && t.cluster == name_of(&service.cluster))
            .collect()
    }

    fn patch(&self, s: &mut Value) {
        let Some(service) = s["serviceArn"]
            .as_str()
            .and_then(|arn| self.services.get(arn))
        else {
            return;
        };
        let tasks = self.service_tasks(service);
        let deployments: Vec<Value> = service
            .deployments
            .iter()
            .rev()
            .map(|d| {
                let running = tasks.iter().filter(|t| t.started_by == d.id).count();
                json!({
                    "id": d.id,
                    "status": if d.primary { "PRIMARY" } else { "ACTIVE" },
                    "taskDefinition": d.task_definition,
                    "desiredCount": if d.primary { service.desired } else { 0 },
                    "pendingCount": 0,
                    "runningCount": running,
                    "failedTasks": 0,
                    "createdAt": epoch(d.created_at),
                    "updatedAt": epoch(d.updated_at),
                    "launchType": "FARGATE",
                    "rolloutState": d.rollout,
                    "rolloutStateReason": d.reason,
                })
            })
            .collect();
        s["deployments"] = Value::Array(deployments);
        s["runningCount"] = json!(tasks.len());
        s["pendingCount"] = json!(0);
    }

    /// After moto made the new PRIMARY deployment of a forced deployment, or — what moto
    /// does not do — after an update to another task definition, which starts a deployment of
    /// it in ECS whether forced or not.
    fn deployment_started(&mut self, s: &Value, requested: Option<&str>) {
        let Some(arn) = s["serviceArn"].as_str() else {
            return;
        };
        if !self.services.contains_key(arn) {
            self.adopt(s);
        }
        let Some(primary) = s["deployments"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["status"] == "PRIMARY"))
        else {
            return;
        };
        let mut id = primary["id"].as_str().unwrap_or_default().to_owned();
        let moto_says = primary["taskDefinition"]
            .as_str()
            .or(s["taskDefinition"].as_str())
            .unwrap_or_default();
        let task_definition = requested.unwrap_or(moto_says).to_owned();
        let Some(service) = self.services.get_mut(arn) else {
            return;
        };
        let running = service
            .deployments
            .iter()
            .find(|d| d.primary)
            .map(|d| d.task_definition.clone());
        if service.deployments.iter().any(|d| d.id == id) {
            if requested.is_none() || running.as_deref() == Some(task_definition.as_str()) {
                return;
            }
            // Moto kept the deployment: ECS would have started one.
            id = format!("ecs-svc/sim{:015}", service.deployments.len() + 1);
        }
        let now = Utc::now();
        for d in &mut service.deployments {
            d.primary = false;
        }
        service.deployments.push(Deployment {
            id: id.clone(),
            task_definition,
            created_at: now,
            updated_at: now,
            rollout: "IN_PROGRESS",
            reason: "ECS deployment in progress.".into(),
            primary: true,
        });
        let service = service.clone();
        self.event(
            &service,
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            &id,
            &format!("ECS deployment {id} in progress."),
        );
    }

    fn step(&mut self) {
        let arns: Vec<String> = self.services.keys().cloned().collect();
        for arn in arns {
            let Some(service) = self.services.get(&arn).cloned() else {
                continue;
            };
            let Some(current) = service
                .deployments
                .iter()
                .find(|d| d.primary && d.rollout == "IN_PROGRESS")
                .cloned()
            else {
                continue;
            };
            let now = Utc::now();
            if service.fail_next {
                let previous = service
                    .deployments
                    .iter()
                    .rev()
                    .find(|d| !d.primary && d.rollout == "COMPLETED")
                    .map(|d| d.task_definition.clone())
                    .unwrap_or_else(|| current.task_definition.clone());
                let rollback = format!("ecs-svc/rollback-{}", self.next_id());
                let s = self.services.get_mut(&arn).expect("known service");
                s.fail_next = false;
                for d in &mut s.deployments {
                    if d.id == current.id {
                        d.rollout = "FAILED";
                        d.reason = "ECS deployment circuit breaker: tasks failed to start.".into();
                        d.updated_at = now;
                    }
                    d.primary = false;
                }
                // The rollback keeps the running tasks: they belong to it now.
                let old_ids: Vec<String> = s
                    .deployments
                    .iter()
                    .filter(|d| d.id != current.id)
                    .map(|d| d.id.clone())
                    .collect();
                s.deployments.retain(|d| d.id == current.id);
                s.deployments.push(Deployment {
                    id: rollback.clone(),
                    task_definition: previous,
                    created_at: now,
                    updated_at: now,
                    rollout: "COMPLETED",
                    reason: format!("ECS deployment {rollback} completed (rollback)."),
                    primary: true,
                });
                let group = format!("service:{}", s.name);
                for t in &mut self.tasks {
                    if t.group == group && old_ids.contains(&t.started_by) {
                        t.started_by = rollback.clone();
                    }
                }
                let service = self.services[&arn].clone();
                self.event(
                    &service,
                    "SERVICE_DEPLOYMENT_FAILED",
                    &current.id,
                    "ECS deployment circuit breaker: tasks failed to start.",
                );
                continue;
            }
            // Replace one task of an older deployment, or finish.
            let group = format!("service:{}", service.name);
            let old = self
                .tasks
                .iter()
                .position(|t| t.group == group && t.started_by != current.id);
            let running_new = self
                .tasks
                .iter()
                .filter(|t| t.group == group && t.started_by == current.id)
                .count();
            if let Some(i) = old {
                self.tasks.remove(i);
            }
            if running_new < service.desired {
                self.start_task(
                    &service.cluster,
                    &current.task_definition,
                    group.clone(),
                    &current.id,
                    now,
                );
            }
            let left = self
                .tasks
                .iter()
                .any(|t| t.group == group && t.started_by != current.id);
            let complete = !left
                && self
                    .tasks
                    .iter()
                    .filter(|t| t.group == group && t.started_by == current.id)
                    .count()
                    >= service.desired;
            if complete {
                let s = self.services.get_mut(&arn).expect("known service");
                s.deployments.retain(|d| d.id == current.id);
                if let Some(d) = s.deployments.first_mut() {
                    d.rollout = "COMPLETED";
                    d.reason = format!("ECS deployment {} completed.", current.id);
                    d.updated_at = now;
                }
                let service = s.clone();
                self.event(
                    &service,
                    "SERVICE_DEPLOYMENT_COMPLETED",
                    &current.id,
                    &format!("ECS deployment {} completed.", current.id),
                );
            }
        }
    }
}

impl Scheduler {
    /// One step of every deployment in progress (see the module documentation).
    pub fn step(&self) {
        self.lock().step();
    }

    /// Steps until no deployment is in progress (at most `limit` steps).
    pub fn settle(&self, limit: usize) {
        for _ in 0..limit {
            let busy = self.lock().services.values().any(|s| {
                s.deployments
                    .iter()
                    .any(|d| d.primary && d.rollout == "IN_PROGRESS")
            });
            if !busy {
                return;
            }
            self.step();
        }
    }

    /// The next deployment of this service (by name) fails and is rolled back.
    pub fn fail_next_deployment(&self, service: &str) {
        let mut state = self.lock();
        state.failing.push(service.to_owned());
        for s in state.services.values_mut() {
            if s.name == service {
                s.fail_next = true;
            }
        }
    }

    /// A task that no service owns (RunTask), started at `started_at`.
    pub fn run_task(&self, cluster: &str, task_definition: &str, started_at: DateTime<Utc>) {
        let mut state = self.lock();
        let group = format!("family:{}", family_of(task_definition));
        state.start_task(
            &cluster_arn(cluster),
            task_definition,
            group,
            "run-task",
            started_at,
        );
    }

    /// Every running task.
    pub fn tasks(&self) -> Vec<Task> {
        self.lock().tasks.clone()
    }

    /// The `ECS Deployment State Change` events so far, oldest first; `take` empties the list.
    pub fn take_events(&self) -> Vec<Value> {
        std::mem::take(&mut self.lock().events)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers a call itself (`ListTasks`, `DescribeTasks`), or `None` to forward it to moto.
    pub(crate) fn answer(&self, operation: &str, request: &[u8]) -> Option<Value> {
        let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
        let state = self.lock();
        match operation {
            "ListTasks" => {
                let cluster = name_of(request["cluster"].as_str().unwrap_or("default")).to_owned();
                if request["desiredStatus"].as_str() == Some("STOPPED") {
                    return Some(json!({"taskArns": []}));
                }
                let service = request["serviceName"].as_str().map(name_of);
                let family = request["family"].as_str();
                let arns: Vec<&str> = state
                    .tasks
                    .iter()
                    .filter(|t| t.cluster == cluster)
                    .filter(|t| service.is_none_or(|s| t.group == format!("service:{s}")))
                    .filter(|t| family.is_none_or(|f| family_of(&t.task_definition) == f))
                    .map(|t| t.arn.as_str())
                    .collect();
                let start: usize = request["nextToken"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let page = request["maxResults"].as_u64().unwrap_or(100).min(100) as usize;
                let end = (start + page).min(arns.len());
                let mut out = json!({"taskArns": arns.get(start..end).unwrap_or_default()});
                if end < arns.len() {
                    out["nextToken"] = json!(end.to_string());
                }
                Some(out)
            }
            "DescribeTasks" => {
                let wanted: Vec<&str> = request["tasks"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if wanted.len() > 100 {
                    return Some(
                        json!({"__type": "InvalidParameterException", "message": "Tasks cannot be more than 100."}),
                    );
                }
                let mut tasks = Vec::new();
                let mut failures = Vec::new();
                for w in wanted {
                    match state
                        .tasks
                        .iter()
                        .find(|t| t.arn == w || t.arn.ends_with(w))
                    {
                        Some(t) => tasks.push(json!({
                            "taskArn": t.arn,
                            "clusterArn": cluster_arn(&t.cluster),
                            "taskDefinitionArn": t.task_definition,
                            "group": t.group,
                            "startedBy": t.started_by,
                            "lastStatus": "RUNNING",
                            "desiredStatus": "RUNNING",
                            "launchType": "FARGATE",
                            "createdAt": epoch(t.started_at),
                            "startedAt": epoch(t.started_at),
                        })),
                        None => failures.push(json!({"arn": w, "reason": "MISSING"})),
                    }
                }
                Some(json!({"tasks": tasks, "failures": failures}))
            }
            _ => None,
        }
    }

    /// Adjusts moto's answer to a call (`request`) the simulation observes.
    pub(crate) fn observe(&self, operation: &str, request: &Value, response: &mut Value) {
        let mut state = self.lock();
        match operation {
            "DescribeServices" => {
                if let Some(services) = response["services"].as_array_mut() {
                    for s in services {
                        state.adopt(s);
                        state.patch(s);
                    }
                }
            }
            "UpdateService" => {
                let service = response["service"].clone();
                state.deployment_started(&service, request["taskDefinition"].as_str());
                state.patch(&mut response["service"]);
            }
            "CreateService" => {
                let service = response["service"].clone();
                state.adopt(&service);
                state.patch(&mut response["service"]);
            }
            _ => {}
        }
    }
}
