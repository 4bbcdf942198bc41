//! A fault-injecting proxy in front of moto, for the error paths moto cannot produce:
//! throttling (ECS's `ThrottlingException`) and per-call failures such as AccessDenied.
//!
//! Everything not faulted is forwarded to moto unchanged. Every ECS call is recorded (operation,
//! time, whether it was faulted), so tests can check retries and client-side pacing.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::task::JoinHandle;

/// What to break.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Throttle every n-th ECS call (1 = all, 0 = none).
    pub throttle_every: u32,
    /// Fail `UpdateService` calls whose request names this service, with AccessDenied.
    pub deny_update_of: Option<String>,
    /// Apply ECS's per-account token buckets (SPEC §4) and throttle calls beyond them.
    pub ecs_buckets: bool,
    /// Added to every ECS call before it is answered (a region's round trip).
    pub latency: std::time::Duration,
    /// Fail every call of this `X-Amz-Target` (any service, e.g.
    /// `secretsmanager.GetResourcePolicy`) with this error code (e.g. `AccessDeniedException`).
    pub fail_target: Option<(String, String)>,
    /// Answer `DescribeSecret` with this `OwningService` (moto sets it only on the secrets its
    /// own RDS creates): the response is moto's, with the field added.
    pub owning_service: Option<String>,
    /// A stand-in for DNS: RDS endpoint names (moto's are under `rds.amazonaws.com` and do not
    /// resolve here) → the address they resolve to. In moto's `DescribeDBInstances` and
    /// `DescribeDBClusters` answers, an element whose whole text is such a name gets the address
    /// instead; everything else is moto's. Not modelled: TTLs, a failover changing the address.
    pub rds_dns: Vec<(String, String)>,
    /// Simulate ECS's scheduler for moto's services (tasks, roll-outs, failed deployments):
    /// see [`crate::scheduler`] and [`FaultProxy::scheduler`].
    pub ecs_scheduler: bool,
    /// moto answers `ListSecretVersionIds` with the time of the call as every version's
    /// `CreatedDate`; AWS gives the version's creation. With this, each version's date is the
    /// one moto's own `GetSecretValue` reports for it (asked by the proxy, per version).
    pub secret_version_dates: bool,
}

/// ECS's documented token buckets: (burst, refill per second) by operation.
pub fn ecs_bucket(operation: &str) -> Option<(f64, f64)> {
    match operation {
        "DescribeServices" | "ListServices" | "ListClusters" => Some((100.0, 20.0)),
        "DescribeTaskDefinition" => Some((50.0, 20.0)),
        "UpdateService" => Some((50.0, 5.0)),
        _ => None,
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// One ECS call seen by the proxy.
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    pub at: Instant,
    pub faulted: bool,
}

#[derive(Debug)]
struct Shared {
    upstream: String,
    client: reqwest::Client,
    faults: Mutex<Faults>,
    calls: Mutex<Vec<Call>>,
    ecs_seen: Mutex<u32>,
    buckets: Mutex<std::collections::HashMap<String, Bucket>>,
    /// Every call (any service): its `X-Amz-Target` and how long the upstream took.
    timings: Mutex<Vec<(String, std::time::Duration)>>,
    scheduler: Arc<crate::scheduler::Scheduler>,
}

impl Shared {
    /// Takes a token for `operation`; false when its bucket is empty (throttled).
    fn take_token(&self, operation: &str) -> bool {
        let Some((burst, refill)) = ecs_bucket(operation) else {
            return true;
        };
        // The list and describe-services calls draw on one bucket (SPEC §4).
        let key = match operation {
            "ListClusters" | "ListServices" | "DescribeServices" => "services",
            other => other,
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * refill).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    endpoint: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (moto's endpoint) on 127.0.0.1.
    pub async fn start(upstream: &str, faults: Faults) -> Result<Self> {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().no_proxy().build()?,
            faults: Mutex::new(faults),
            calls: Mutex::new(Vec::new()),
            ecs_seen: Mutex::new(0),
            buckets: Mutex::new(std::collections::HashMap::new()),
            timings: Mutex::new(Vec::new()),
            scheduler: Arc::new(crate::scheduler::Scheduler::default()),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            endpoint,
            shared,
            server,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.shared.faults.lock() {
            *f = faults;
        }
    }

    /// Forgets the calls seen so far (between measured runs).
    pub fn clear_calls(&self) {
        if let Ok(mut c) = self.shared.calls.lock() {
            c.clear();
        }
        if let Ok(mut t) = self.shared.timings.lock() {
            t.clear();
        }
    }

    /// Every forwarded call of any service: `X-Amz-Target` (e.g. `secretsmanager.GetSecretValue`)
    /// and the time moto took to answer it.
    pub fn timings(&self) -> Vec<(String, std::time::Duration)> {
        self.shared
            .timings
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// The ECS scheduler simulation (active with [`Faults::ecs_scheduler`]).
    pub fn scheduler(&self) -> &crate::scheduler::Scheduler {
        &self.shared.scheduler
    }

    /// An ECS client that calls through this proxy.
    pub fn ecs(&self, moto: &crate::Moto) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(&moto.sdk_config())
                .endpoint_url(self.endpoint.as_str())
                .build(),
        )
    }

    /// Every ECS call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// A Secrets Manager client that calls through this proxy (to check the simulation itself).
    pub fn secrets_manager(&self, moto: &crate::Moto) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&moto.sdk_config())
                .endpoint_url(self.endpoint.as_str())
                .build(),
        )
    }

    /// An RDS client that calls through this proxy (to check the simulation itself).
    pub fn rds(&self, moto: &crate::Moto) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::config::Builder::from(&moto.sdk_config())
                .endpoint_url(self.endpoint.as_str())
                .build(),
        )
    }

    /// Environment that points a function at this proxy (and so, through it, at moto).
    pub fn env(&self, moto: &crate::Moto) -> Vec<(String, String)> {
        moto.env()
            .into_iter()
            .map(|(k, v)| {
                if k == "AWS_ENDPOINT_URL" {
                    (k, self.endpoint.clone())
                } else {
                    (k, v)
                }
            })
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const ECS_TARGET: &str = "AmazonEC2ContainerServiceV20141113.";

fn aws_error(kind: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.1")],
        format!(r#"{{"__type":"{kind}","message":"{message}"}}"#),
    )
        .into_response()
}

/// The RDS describe answers with endpoint names replaced by their addresses ([`Faults::rds_dns`]).
fn resolve_rds_names(bytes: Bytes, dns: &[(String, String)]) -> Bytes {
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return bytes;
    };
    if !(text.contains("<DescribeDBInstancesResponse")
        || text.contains("<DescribeDBClustersResponse"))
    {
        return bytes;
    }
    let mut text = text.to_owned();
    for (name, address) in dns {
        text = text.replace(&format!(">{name}<"), &format!(">{address}<"));
    }
    text.into()
}

/// `ListSecretVersionIds` with each version's real creation date (see
/// [`Faults::secret_version_dates`]).
async fn version_dates(shared: &Shared, headers: &HeaderMap, bytes: Bytes) -> Bytes {
    let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return bytes;
    };
    let secret = body["ARN"].as_str().unwrap_or_default().to_owned();
    let Some(versions) = body["Versions"].as_array_mut() else {
        return bytes;
    };
    for v in versions {
        let Some(id) = v["VersionId"].as_str() else {
            continue;
        };
        let request = serde_json::json!({"SecretId": secret, "VersionId": id}).to_string();
        let mut call = shared
            .client
            .post(format!("{}/", shared.upstream))
            .header("x-amz-target", "secretsmanager.GetSecretValue")
            .header("content-type", "application/x-amz-json-1.1")
            .body(request);
        if let Some(auth) = headers.get("authorization") {
            call = call.header("authorization", auth);
        }
        let created = match call.send().await {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .ok()
                .map(|a| a["CreatedDate"].clone()),
            Err(_) => None,
        };
        if let Some(created) = created.filter(|c| !c.is_null()) {
            v["CreatedDate"] = created;
        }
    }
    body.to_string().into()
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // One snapshot of the faults for the whole call.
    let faults = shared.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if let Some((_, code)) = faults.fail_target.as_ref().filter(|(t, _)| *t == target) {
        return aws_error(code, "injected failure");
    }
    if let Some(operation) = target.strip_prefix(ECS_TARGET) {
        let n = {
            let mut seen = shared.ecs_seen.lock().unwrap_or_else(|e| e.into_inner());
            *seen += 1;
            *seen
        };
        if !faults.latency.is_zero() {
            tokio::time::sleep(faults.latency).await;
        }
        let throttle = (faults.throttle_every > 0 && n % faults.throttle_every == 0)
            || (faults.ecs_buckets && !shared.take_token(operation));
        let deny = operation == "UpdateService"
            && faults
                .deny_update_of
                .as_deref()
                .is_some_and(|s| String::from_utf8_lossy(&body).contains(&format!("\"{s}\"")));
        if let Ok(mut calls) = shared.calls.lock() {
            calls.push(Call {
                operation: operation.to_owned(),
                at: Instant::now(),
                faulted: throttle || deny,
            });
        }
        if throttle {
            return aws_error("ThrottlingException", "Rate exceeded");
        }
        if deny {
            return aws_error(
                "AccessDeniedException",
                "injected: not authorized to perform ecs:UpdateService",
            );
        }
        if faults.ecs_scheduler {
            if let Some(answer) = shared.scheduler.answer(operation, &body) {
                let status = if answer.get("__type").is_some() {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                return (
                    status,
                    [("content-type", "application/x-amz-json-1.1")],
                    answer.to_string(),
                )
                    .into_response();
            }
        }
    }
    let url = format!(
        "{}{}",
        shared.upstream,
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut request = shared.client.request(method, url).body(body.clone());
    for (name, value) in headers.iter() {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let started = Instant::now();
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let content_type = response.headers().get("content-type").cloned();
            let mut bytes = response.bytes().await.unwrap_or_default();
            if let (Some(owner), true) = (
                faults.owning_service.as_deref(),
                target == "secretsmanager.DescribeSecret",
            ) {
                if let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice(&bytes) {
                    body.insert("OwningService".into(), owner.into());
                    bytes = serde_json::Value::Object(body).to_string().into();
                }
            }
            if !faults.rds_dns.is_empty() {
                bytes = resolve_rds_names(bytes, &faults.rds_dns);
            }
            if faults.secret_version_dates
                && status.is_success()
                && target == "secretsmanager.ListSecretVersionIds"
            {
                bytes = version_dates(&shared, &headers, bytes).await;
            }
            if let (true, true, Some(operation)) = (
                faults.ecs_scheduler,
                status.is_success(),
                target.strip_prefix(ECS_TARGET),
            ) {
                if let Ok(mut answer) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                    let asked = serde_json::from_slice(&body).unwrap_or_default();
                    shared.scheduler.observe(operation, &asked, &mut answer);
                    bytes = answer.to_string().into();
                }
            }
            if let Ok(mut t) = shared.timings.lock() {
                t.push((target, started.elapsed()));
            }
            let mut out = (status, bytes).into_response();
            if let Some(ct) = content_type {
                out.headers_mut().insert("content-type", ct);
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
