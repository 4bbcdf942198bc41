//! The delivery path of the deployed redeployer, on moto: an EventBridge rule puts events on
//! an SQS FIFO queue (one message group, content-based deduplication, a redrive policy to a
//! FIFO dead-letter queue), and [`FifoSource`] plays Lambda's SQS event source mapping —
//! receive up to 10 messages, build the `Records` event Lambda builds, invoke, then delete the
//! messages the function did not report in `batchItemFailures` and make the others visible
//! again.
//!
//! What the simulation does not model: the mapping's long polling and scaling (one batch at a
//! time is what one message group gives anyway); the visibility timeout — failed messages
//! are made visible at once here, where the real mapping leaves them invisible (holding their
//! FIFO group back) until `VisibilityTimeout` ends; queue encryption; invocation timeouts;
//! and the template's event patterns (the rule here matches on `source` only).

use anyhow::{Context, Result};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{json, Value};

use crate::{LambdaFunction, Moto};

/// A FIFO queue fed by an EventBridge rule, consumed as the event source mapping would.
#[derive(Debug)]
pub struct FifoSource {
    sqs: aws_sdk_sqs::Client,
    pub url: String,
    pub arn: String,
    pub dead_letter_url: String,
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .context("queue ARN")
}

impl FifoSource {
    /// The template's ChangesQueue: FIFO, content-based deduplication, redrive after
    /// `max_receives`, and a rule sending every event of `sources` to it in group `changes`.
    pub async fn start(moto: &Moto, sources: &[&str], max_receives: u32) -> Result<Self> {
        let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config());
        let suffix = crate::random_token(6);
        let dlq = sqs
            .create_queue()
            .queue_name(format!("changes-dlq-{suffix}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await?;
        let dead_letter_url = dlq.queue_url().context("DLQ URL")?.to_owned();
        let dlq_arn = queue_arn(&sqs, &dead_letter_url).await?;
        let queue = sqs
            .create_queue()
            .queue_name(format!("changes-{suffix}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
            .attributes(QueueAttributeName::VisibilityTimeout, "1800")
            .attributes(
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
                    .to_string(),
            )
            .send()
            .await?;
        let url = queue.queue_url().context("queue URL")?.to_owned();
        let arn = queue_arn(&sqs, &url).await?;
        let events = aws_sdk_eventbridge::Client::new(&moto.sdk_config());
        let rule = format!("changes-{suffix}");
        events
            .put_rule()
            .name(&rule)
            .event_pattern(json!({ "source": sources }).to_string())
            .send()
            .await?;
        events
            .put_targets()
            .rule(&rule)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("changes-queue")
                    .arn(&arn)
                    .sqs_parameters(
                        aws_sdk_eventbridge::types::SqsParameters::builder()
                            .message_group_id("changes")
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await?;
        Ok(Self {
            sqs,
            url,
            arn,
            dead_letter_url,
        })
    }

    /// Puts one message on the queue directly (as a rule target would), in group `changes`.
    pub async fn send(&self, body: &Value) -> Result<()> {
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body.to_string())
            .message_group_id("changes")
            .send()
            .await?;
        Ok(())
    }

    /// Receives the next batch (up to 10) and builds the event Lambda would deliver; `None`
    /// when the queue is empty.
    pub async fn next_batch(&self) -> Result<Option<(Value, Vec<String>)>> {
        let got = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        if got.messages().is_empty() {
            return Ok(None);
        }
        let mut handles = Vec::new();
        let records: Vec<Value> = got
            .messages()
            .iter()
            .map(|m| {
                handles.push(m.receipt_handle().unwrap_or_default().to_owned());
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                    .collect();
                json!({
                    "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                    "body": m.body(), "attributes": attributes, "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn, "awsRegion": crate::moto::REGION
                })
            })
            .collect();
        Ok(Some((json!({ "Records": records }), handles)))
    }

    /// Invokes `lambda` with the next batch and settles it as the mapping does: messages not
    /// in `batchItemFailures` are deleted, the others made visible again. Returns the
    /// function's response, or `None` when the queue was empty.
    pub async fn deliver(&self, lambda: &LambdaFunction) -> Result<Option<Value>> {
        let Some((event, handles)) = self.next_batch().await? else {
            return Ok(None);
        };
        let ids: Vec<String> = event["Records"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["messageId"].as_str().unwrap_or_default().to_owned())
            .collect();
        let response = lambda.invoke(&event).await?;
        let failed: Vec<String> = match &response {
            Ok(v) => v["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                .collect(),
            // A failed invocation: the whole batch comes back.
            Err(_) => ids.clone(),
        };
        // Lambda fails the whole batch when an itemIdentifier is empty or unknown.
        let failed = if failed.iter().any(|f| f.is_empty() || !ids.contains(f)) {
            ids.clone()
        } else {
            failed
        };
        for (id, handle) in ids.iter().zip(&handles) {
            if failed.contains(id) {
                self.sqs
                    .change_message_visibility()
                    .queue_url(&self.url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await?;
            } else {
                self.sqs
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(handle)
                    .send()
                    .await?;
            }
        }
        response
            .map(Some)
            .map_err(|e| anyhow::anyhow!("the function failed the batch: {e}"))
    }

    /// How many messages wait in the dead-letter queue.
    pub async fn dead_letters(&self) -> Result<usize> {
        let got = self
            .sqs
            .receive_message()
            .queue_url(&self.dead_letter_url)
            .max_number_of_messages(10)
            .send()
            .await?;
        Ok(got.messages().len())
    }
}
