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

    /// Every ECS call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
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
    if let Some(operation) = target.strip_prefix(ECS_TARGET) {
        let faults = shared.faults.lock().map(|f| f.clone()).unwrap_or_default();
        let n = {
            let mut seen = shared.ecs_seen.lock().unwrap_or_else(|e| e.into_inner());
            *seen += 1;
            *seen
        };
        let throttle = faults.throttle_every > 0 && n % faults.throttle_every == 0;
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
    }
    let url = format!(
        "{}{}",
        shared.upstream,
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut request = shared.client.request(method, url).body(body);
    for (name, value) in headers.iter() {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let content_type = response.headers().get("content-type").cloned();
            let bytes = response.bytes().await.unwrap_or_default();
            let mut out = (status, bytes).into_response();
            if let Some(ct) = content_type {
                out.headers_mut().insert("content-type", ct);
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
