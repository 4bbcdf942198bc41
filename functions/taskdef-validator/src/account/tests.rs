use std::sync::Mutex;

use ecs_secrets_shared::task_definition::TaskDefinition;
use serde_json::json;

use super::*;
use crate::directory::{KeyMeta, NamedPolicy, ParameterMeta, SecretMeta};

/// An account of `n` ACTIVE revisions served in pages of `page`; revision `i` leaks an access
/// key in variable `LEAK_<i>` when `leaky(i)`.
struct FakeEcs {
    active: Vec<String>,
    page: usize,
    leaky: fn(usize) -> bool,
    described: Mutex<Vec<String>>,
    fail: Option<String>,
    /// The page token at which listing fails.
    fail_after: String,
    /// Every page says "again".
    loop_token: bool,
}

fn arn(i: usize) -> String {
    format!("arn:aws:ecs:eu-west-1:210987654321:task-definition/app-{i}:1")
}

impl Revisions for FakeEcs {
    async fn list(
        &self,
        status: Status,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), CallError> {
        if status == Status::Inactive {
            return Ok((vec![arn(1000)], None));
        }
        if self.loop_token {
            return Ok((self.active[..1].to_vec(), Some("again".into())));
        }
        if next.as_deref() == Some(self.fail_after.as_str()) {
            return Err(CallError {
                operation: "ListTaskDefinitions",
                code: Some("ThrottlingException".into()),
                message: "slow down".into(),
            });
        }
        let start: usize = next.map_or(0, |t| t.parse().unwrap_or(0));
        let end = (start + self.page).min(self.active.len());
        let token = (end < self.active.len()).then(|| end.to_string());
        Ok((self.active[start..end].to_vec(), token))
    }
    async fn describe(&self, arn: &str) -> Result<TaskDefinition, CallError> {
        self.described.lock().unwrap().push(arn.to_owned());
        if self.fail.as_deref() == Some(arn) {
            return Err(CallError {
                operation: "DescribeTaskDefinition",
                code: Some("ClientException".into()),
                message: "gone".into(),
            });
        }
        let i: usize = arn
            .rsplit_once("app-")
            .and_then(|(_, r)| r.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let env = if (self.leaky)(i) {
            json!([{"name": format!("LEAK_{i}"), "value": "AKIA2OGYBAH6STMMNXNN"}])
        } else {
            json!([])
        };
        Ok(TaskDefinition::from_json(&json!({
            "taskDefinitionArn": arn, "family": format!("app-{i}"), "revision": 1,
            "containerDefinitions": [{"name": "app", "image": "app:1", "environment": env}]
        }))
        .unwrap())
    }
}

struct NoDirectory;

impl Directory for NoDirectory {
    async fn secret(&self, _: &str) -> Result<Option<SecretMeta>, CallError> {
        Ok(None)
    }
    async fn secret_policy(&self, _: &str) -> Result<Option<serde_json::Value>, CallError> {
        Ok(None)
    }
    async fn parameters(&self, _: &[String]) -> Result<Vec<ParameterMeta>, CallError> {
        Ok(vec![])
    }
    async fn key(&self, _: &str) -> Result<Option<KeyMeta>, CallError> {
        Ok(None)
    }
    async fn role_policies(&self, _: &str) -> Result<Option<Vec<NamedPolicy>>, CallError> {
        Ok(None)
    }
    async fn permissions_boundary(&self, _: &str) -> Result<Option<NamedPolicy>, CallError> {
        Ok(None)
    }
}

#[tokio::test(start_paused = true)]
async fn every_active_revision_is_read_once_at_the_pace() {
    let ecs = FakeEcs {
        active: (0..45).map(arn).collect(),
        page: 10,
        leaky: |i| i % 3 == 0,
        described: Mutex::new(vec![]),
        fail: Some(arn(7)),
        fail_after: String::new(),
        loop_token: false,
    };
    let pace = TokenBucket::new(10.0, 5.0);
    let mut report = Report::default();
    let start = tokio::time::Instant::now();
    scan::<_, NoDirectory>(
        &ecs,
        &[Status::Active],
        &pace,
        &rules::Context::default(),
        None,
        &mut report,
    )
    .await;
    // 5 list pages + 45 reads = 50 tokens: 5 free, 45 at 10/s.
    let elapsed = start.elapsed().as_secs_f64();
    assert!((4.4..4.7).contains(&elapsed), "{elapsed}");
    let mut described = ecs.described.lock().unwrap().clone();
    described.sort();
    let mut expected: Vec<String> = (0..45).map(arn).collect();
    expected.sort();
    assert_eq!(described, expected, "each ACTIVE revision read once");
    assert_eq!(report.checked, 44);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].file, arn(7));
    let leaks: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "plaintext-secret")
        .map(|f| f.file.as_deref().unwrap_or(""))
        .collect();
    let expected_leaks: Vec<String> = (0..45).filter(|i| i % 3 == 0).map(arn).collect();
    assert_eq!(leaks.len(), expected_leaks.len());
    for a in &expected_leaks {
        assert!(leaks.contains(&a.as_str()), "{a} in {leaks:?}");
    }
}

fn fake(fail_after: &str, loop_token: bool) -> FakeEcs {
    FakeEcs {
        active: (0..30).map(arn).collect(),
        page: 10,
        leaky: |_| true,
        described: Mutex::new(vec![]),
        fail: None,
        fail_after: fail_after.to_owned(),
        loop_token,
    }
}

async fn run(ecs: &FakeEcs, statuses: &[Status]) -> Report {
    let mut report = Report::default();
    let pace = TokenBucket::new(1000.0, 1000.0);
    scan::<_, NoDirectory>(
        ecs,
        statuses,
        &pace,
        &rules::Context::default(),
        None,
        &mut report,
    )
    .await;
    report
}

#[tokio::test]
async fn a_listing_that_fails_part_way_still_checks_what_it_listed() {
    let ecs = fake("20", false);
    let report = run(&ecs, &[Status::Active]).await;
    assert_eq!(report.checked, 20);
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].message.contains("ThrottlingException")
            || report.errors[0].message.contains("ListTaskDefinitions"),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn a_page_token_that_comes_back_ends_the_listing() {
    let ecs = fake("", true);
    let report = run(&ecs, &[Status::Active]).await;
    assert_eq!(report.checked, 1);
    assert!(
        report.errors[0].message.contains("twice"),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn inactive_revisions_only_when_asked() {
    let ecs = fake("", false);
    assert_eq!(run(&ecs, &[Status::Active]).await.checked, 30);
    let both = run(&ecs, &[Status::Active, Status::Inactive]).await;
    assert_eq!(both.checked, 31);
    assert!(both
        .findings
        .iter()
        .any(|f| f.file.as_deref() == Some(arn(1000).as_str())));
}
