//! Logs and metrics in the shapes CloudWatch understands.
//!
//! Logs are JSON lines on stdout — one object per event with `level`, `message`, the
//! function's name and, inside an invocation, the Lambda request id (from the runtime's own
//! span) — so Logs Insights can filter on them. Secrets are kept out by type
//! ([`crate::secret::Redacted`]), not by discipline.
//!
//! Metrics use the Embedded Metric Format: a JSON line with an `_aws` block, which CloudWatch
//! turns into metrics without any API call (and so without IAM permissions or latency).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Map, Value};
use tracing_subscriber::EnvFilter;

/// Log level filter: `RUST_LOG` if set, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`.
fn filter() -> EnvFilter {
    if let Ok(filter) = EnvFilter::try_from_default_env() {
        return filter;
    }
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .map(|l| l.to_ascii_lowercase())
        .unwrap_or_else(|_| "info".to_owned());
    // The AWS SDK and hyper are chatty at debug; keep them at warn unless asked for.
    EnvFilter::try_new(format!(
        "{level},aws_smithy_runtime=warn,aws_config=warn,hyper=warn"
    ))
    .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Crates whose log events are this project's own: every value they log is typed
/// ([`crate::secret::Redacted`], `SecretString`), so any level is safe.
const OUR_TARGETS: [&str; 4] = [
    "secret_rotator",
    "ecs_redeployer",
    "taskdef_validator",
    "ecs_secrets",
];

/// The ceiling no configuration lifts. Whatever `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL` say, an
/// event of another crate at TRACE, or one that carries a field named like a payload, is
/// dropped: at TRACE the Lambda runtime logs every raw event (`body = …`: a RotationToken, the
/// plaintext values a task definition leaks), and HTTP/SDK crates log wire data there. A level
/// a security team sets to debug an outage must not turn the logs into a copy of the secrets.
pub fn never_logs_payloads(meta: &tracing::Metadata<'_>) -> bool {
    let target = meta.target();
    if OUR_TARGETS
        .iter()
        .any(|ours| target == *ours || target.starts_with(&format!("{ours}::")))
    {
        return true;
    }
    if *meta.level() == tracing::Level::TRACE {
        return false;
    }
    !meta
        .fields()
        .iter()
        .any(|field| carries_payload(field.name()))
}

/// Field names (dotted ones too: `http.request.body`, `mysql_async.query.sql`) that hold
/// wire data or statements rather than a description of them.
fn carries_payload(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["body", "payload", "sql", "statement"]
        .iter()
        .any(|part| name.contains(part))
        || name
            .split('.')
            .any(|segment| matches!(segment, "event" | "request" | "response" | "query"))
}

/// Initialises JSON logging for a Lambda function. Safe to call more than once (later calls
/// do nothing).
pub fn init_lambda(function: &'static str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .without_time()
        .with_ansi(false)
        .with_filter(filter())
        .with_filter(tracing_subscriber::filter::filter_fn(never_logs_payloads));
    let _ = tracing_subscriber::registry().with(layer).try_init();
    tracing::debug!(function, "logging initialised");
}

/// Initialises human-readable logging on stderr for the CLI (stdout carries its output), with
/// the same ceiling as the functions ([`never_logs_payloads`]).
pub fn init_cli(verbose: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let default = if verbose { "debug" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter)
        .with_filter(tracing_subscriber::filter::filter_fn(never_logs_payloads));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// CloudWatch metric units used by this project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One batch of metrics sharing a namespace and dimensions, written as one EMF line.
#[derive(Debug, Clone)]
pub struct Metrics {
    namespace: String,
    dimensions: BTreeMap<String, String>,
    values: Vec<(String, Unit, f64)>,
    properties: Map<String, Value>,
}

/// Namespace of every metric this project emits.
pub const NAMESPACE: &str = "EcsSecrets";

impl Metrics {
    pub fn new(function: &str) -> Self {
        let mut dimensions = BTreeMap::new();
        dimensions.insert("Function".to_owned(), function.to_owned());
        Self {
            namespace: NAMESPACE.to_owned(),
            dimensions,
            values: Vec::new(),
            properties: Map::new(),
        }
    }

    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn count(&mut self, name: &str, value: u64) -> &mut Self {
        self.values
            .push((name.to_owned(), Unit::Count, value as f64));
        self
    }

    pub fn milliseconds(&mut self, name: &str, value: f64) -> &mut Self {
        self.values
            .push((name.to_owned(), Unit::Milliseconds, value));
        self
    }

    /// A searchable, non-metric field (for example the secret ARN concerned — never a value).
    pub fn property(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    /// The EMF document, with `timestamp_ms` as its time.
    pub fn to_emf(&self, timestamp_ms: i64) -> Value {
        let mut root = self.properties.clone();
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), json!(value));
        }
        let mut definitions = Vec::new();
        for (name, unit, value) in &self.values {
            root.insert(name.clone(), json!(value));
            definitions.push(json!({"Name": name, "Unit": unit.as_str()}));
        }
        root.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [self.dimensions.keys().collect::<Vec<_>>()],
                    "Metrics": definitions,
                }]
            }),
        );
        Value::Object(root)
    }

    /// Writes the batch as one line on stdout, where the Lambda log agent picks it up.
    pub fn emit(&self) {
        if self.values.is_empty() {
            return;
        }
        let line = self
            .to_emf(chrono::Utc::now().timestamp_millis())
            .to_string();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_fields_are_recognised_by_name() {
        for name in [
            "body",
            "http.request.body",
            "mysql_async.query.sql",
            "event",
            "aws.response",
            "Payload",
        ] {
            assert!(carries_payload(name), "{name}");
        }
        for name in [
            "message",
            "secret",
            "step",
            "error",
            "request_id",
            "outcome",
        ] {
            assert!(!carries_payload(name), "{name}");
        }
    }

    #[test]
    fn emf_document_shape() {
        let mut m = Metrics::new("ecs-redeployer").dimension("Outcome", "ok");
        m.count("ServicesRedeployed", 3)
            .milliseconds("Duration", 12.5)
            .property(
                "secretArn",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            );
        let doc = m.to_emf(1_700_000_000_000);
        assert_eq!(doc["Function"], "ecs-redeployer");
        assert_eq!(doc["Outcome"], "ok");
        assert_eq!(doc["ServicesRedeployed"], 3.0);
        assert_eq!(doc["Duration"], 12.5);
        let aws = &doc["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000_i64);
        let cw = &aws["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert_eq!(cw["Dimensions"], json!([["Function", "Outcome"]]));
        assert_eq!(
            cw["Metrics"],
            json!([{"Name": "ServicesRedeployed", "Unit": "Count"}, {"Name": "Duration", "Unit": "Milliseconds"}])
        );
    }
}
