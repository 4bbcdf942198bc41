//! A Lambda Runtime API endpoint that runs a built function binary.
//!
//! This is the protocol the Lambda service speaks to a `provided.al2023` function: the
//! binary long-polls `GET /2018-06-01/runtime/invocation/next`, receives an event with its
//! request id and deadline in headers, and posts the outcome to `…/invocation/{id}/response`
//! or `…/invocation/{id}/error` (or, when it cannot start, to `…/runtime/init/error`). Serving
//! it here means end-to-end tests run the shipped binary, start-up included, not a library
//! call that merely resembles it.
//!
//! Everything the binary prints is captured, so tests can assert what reaches the logs (and
//! that no secret does).

use std::collections::{HashMap, VecDeque};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use crate::moto::{ACCOUNT, REGION};

/// Whether function output is echoed to stderr as it arrives (on by default, so a failing
/// test shows what the function said; the demo turns it off to print its own summary).
pub static ECHO_OUTPUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// What a function reported for a failed invocation (the `/error` body).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FunctionError {
    #[serde(rename = "errorType", default)]
    pub error_type: String,
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

type Outcome = std::result::Result<Value, FunctionError>;

struct Pending {
    id: String,
    event: Vec<u8>,
    deadline_ms: u128,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<FunctionError>>,
    arrived: Notify,
    /// `/next` requests received, and events handed out by them: more requests than events
    /// means the function has finished its last event and waits for another.
    polls: AtomicUsize,
    delivered: AtomicUsize,
}

/// A function binary running under this harness's Runtime API.
#[derive(Debug)]
pub struct LambdaFunction {
    name: String,
    child: tokio::sync::Mutex<Child>,
    shared: Arc<SharedHandle>,
    server: JoinHandle<()>,
    output: Arc<Mutex<Vec<String>>>,
    /// The tasks copying stdout and stderr into `output`; they end when the pipes close.
    readers: Mutex<Vec<JoinHandle<()>>>,
    timeout: Duration,
}

/// `Shared` without a `Debug` requirement on its channel contents.
struct SharedHandle(Shared);

impl std::fmt::Debug for SharedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuntimeApiState")
    }
}

impl LambdaFunction {
    /// Starts `binary` (a name in the build directory) with only `env` and the variables the
    /// Lambda service itself sets. The parent's environment is not inherited, so nothing on the
    /// developer's machine (an AWS profile, a proxy) changes what the function does.
    pub async fn start(binary: &str, env: &[(String, String)]) -> Result<Self> {
        let path = crate::paths::binary(binary)?;
        Self::start_program(&path, binary, env).await
    }

    /// As [`LambdaFunction::start`], for any program that speaks the Runtime API (the
    /// benchmarks' Python comparator).
    pub async fn start_program(
        path: &std::path::Path,
        binary: &str,
        env: &[(String, String)],
    ) -> Result<Self> {
        let shared = Arc::new(SharedHandle(Shared::default()));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let mut cmd = Command::new(path);
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", binary)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{binary}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "harness")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            let name = binary.to_owned();
            readers.push(tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    // Echo for humans reading a failed test; keep for assertions.
                    if ECHO_OUTPUT.load(Ordering::Relaxed) {
                        eprintln!("[{name}] {line}");
                    }
                    if let Ok(mut out) = output.lock() {
                        out.push(line);
                    }
                }
            }));
        }
        Ok(Self {
            name: binary.to_owned(),
            child: tokio::sync::Mutex::new(child),
            shared,
            server,
            output,
            readers: Mutex::new(readers),
            timeout: Duration::from_secs(60),
        })
    }

    /// The function process's peak resident set size (VmHWM), in KiB, while it runs.
    pub async fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.lock().await.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// Sets how long [`LambdaFunction::invoke`] waits (the function's "timeout").
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Invokes the function once, as the Lambda service would, and returns its response or the
    /// error it reported. Fails (outer `Err`) if the process dies, reports an init error, or
    /// does not answer within the timeout.
    pub async fn invoke(&self, event: &Value) -> Result<Outcome> {
        let id = format!("{}-{}", self.name, crate::random::random_token(12));
        let deadline_ms =
            SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() + self.timeout.as_millis();
        let (reply, answer) = oneshot::channel();
        {
            let state = &self.shared.0;
            if let Some(e) = state
                .init_error
                .lock()
                .map_err(|_| anyhow!("poisoned"))?
                .clone()
            {
                return Err(anyhow!("{} failed to initialise: {e}", self.name));
            }
            state
                .queue
                .lock()
                .map_err(|_| anyhow!("poisoned"))?
                .push_back(Pending {
                    id: id.clone(),
                    event: serde_json::to_vec(event)?,
                    deadline_ms,
                    reply,
                });
            state.arrived.notify_waiters();
            state.arrived.notify_one();
        }
        let mut child = self.child.lock().await;
        tokio::select! {
            outcome = answer => outcome.map_err(|_| {
                let init = self.shared.0.init_error.lock().ok().and_then(|e| e.clone());
                match init {
                    Some(e) => anyhow!("{} failed to initialise: {e}", self.name),
                    None => anyhow!("{} dropped invocation {id}", self.name),
                }
            }),
            status = child.wait() => {
                self.drain().await;
                Err(anyhow!(
                    "{} exited ({}) during invocation {id}; output:\n{}",
                    self.name,
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                    self.output().join("\n")
                ))
            }
            _ = tokio::time::sleep(self.timeout) => Err(anyhow!(
                "{} did not answer invocation {id} within {:?}", self.name, self.timeout
            )),
        }
    }

    /// Invokes the function and expects a response: an error the function reports becomes `Err`.
    pub async fn invoke_ok(&self, event: &Value) -> Result<Value> {
        self.invoke(event)
            .await?
            .map_err(|e| anyhow!("{} answered with an error: {e}", self.name))
    }

    /// Every line the process printed so far (stdout and stderr).
    pub fn output(&self) -> Vec<String> {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Stops the process and the endpoint, and returns everything it printed.
    ///
    /// The process is killed only once it has asked for its next event (for at most 5 s), so
    /// that what it printed after its last answer was posted is in its output too: a test
    /// asserting that nothing secret was logged must read all of it.
    pub async fn stop(self) -> Vec<String> {
        let state = &self.shared.0;
        let idle_by = tokio::time::Instant::now() + Duration::from_secs(5);
        while state.polls.load(Ordering::SeqCst) <= state.delivered.load(Ordering::SeqCst)
            && tokio::time::Instant::now() < idle_by
        {
            if matches!(self.child.lock().await.try_wait(), Ok(Some(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        {
            let mut child = self.child.lock().await;
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        self.server.abort();
        self.drain().await;
        self.output()
    }

    /// Waits, after the process has exited, until its output has been read to the end: the
    /// exit can be seen before the pipe readers have run, and a test asserting on what the
    /// process printed (or an error quoting it) would see nothing. Bounded, because a child the
    /// process left behind may hold the pipes open.
    async fn drain(&self) {
        let readers = self
            .readers
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for reader in readers {
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
    }
}

impl Drop for LambdaFunction {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(state): State<Arc<SharedHandle>>) -> Response {
    let state = &state.0;
    state.polls.fetch_add(1, Ordering::SeqCst);
    loop {
        let notified = state.arrived.notified();
        let pending = state.queue.lock().ok().and_then(|mut q| q.pop_front());
        if let Some(p) = pending {
            state.delivered.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut in_flight) = state.in_flight.lock() {
                in_flight.insert(p.id.clone(), p.reply);
            }
            let mut headers = HeaderMap::new();
            let header =
                |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""));
            headers.insert("lambda-runtime-aws-request-id", header(p.id.clone()));
            headers.insert(
                "lambda-runtime-deadline-ms",
                header(p.deadline_ms.to_string()),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                header(format!(
                    "arn:aws:lambda:{REGION}:{ACCOUNT}:function:harness"
                )),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000;Sampled=0"),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, p.event).into_response();
        }
        notified.await;
    }
}

fn finish(state: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    let reply = state.in_flight.lock().ok().and_then(|mut m| m.remove(id));
    match reply {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        // As the real service: an unknown or already answered request id is a client error.
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(state): State<Arc<SharedHandle>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&state.0, &id, Ok(value))
}

fn parse_error(headers: &HeaderMap, body: &[u8]) -> FunctionError {
    let mut e: FunctionError = serde_json::from_slice(body).unwrap_or(FunctionError {
        error_type: String::new(),
        error_message: String::from_utf8_lossy(body).into_owned(),
    });
    if e.error_type.is_empty() {
        if let Some(t) = headers
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
        {
            e.error_type = t.to_owned();
        }
    }
    e
}

async fn error(
    State(state): State<Arc<SharedHandle>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    finish(&state.0, &id, Err(parse_error(&headers, &body)))
}

async fn init_error(
    State(state): State<Arc<SharedHandle>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let e = parse_error(&headers, &body);
    let state = &state.0;
    if let Ok(mut slot) = state.init_error.lock() {
        *slot = Some(e.clone());
    }
    // Fail whatever is waiting: the function will never take it.
    if let Ok(mut q) = state.queue.lock() {
        for p in q.drain(..) {
            let _ = p.reply.send(Err(e.clone()));
        }
    }
    StatusCode::ACCEPTED
}
