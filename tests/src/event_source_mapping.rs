//! Lambda's SQS event source mapping, as far as the functions' scheduling depends on it: at
//! most `max_concurrency` invocations at once, each of a batch of up to `batch_size` records
//! received from the queue (with the attributes and `eventSourceARN` Lambda's records carry);
//! the invocation's partial batch response decides what is deleted, and a failed record stays
//! on the queue until its visibility timeout ends (or whatever the function set). An
//! invocation that fails as a whole leaves its batch on the queue. Lambda scales between one
//! and `max_concurrency` pollers; this runs `max_concurrency` from the start, which is what
//! a backlog gets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;
use webhooks::queues::{Queue, ReceivedMessage};
use webhooks_aws::sqs::SqsQueue;

use crate::lambda_events::{failed_ids, fixture};
use crate::runtime_api::{Answer, RuntimeApi};

/// The mapping's pollers; they stop when it is dropped.
pub struct EventSourceMapping {
    _pollers: JoinSet<()>,
    invocations: Arc<Mutex<Invocations>>,
}

/// What the mapping has invoked so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct Invocations {
    pub count: usize,
    /// The longest an invocation took, from invoke to answer.
    pub longest: Duration,
}

/// The queue's ARN, as Lambda names the source of each record.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("the queue exists");
    attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone()
}

/// The SQS event Lambda hands the function for these messages of the queue `arn`.
pub fn sqs_event(messages: &[ReceivedMessage], arn: &str) -> serde_json::Value {
    let mut event = fixture("sqs-event.json");
    let template = event["Records"][0].clone();
    event["Records"] = messages
        .iter()
        .map(|message| {
            let mut record = template.clone();
            record["messageId"] = json!(message.message_id);
            record["receiptHandle"] = json!(message.receipt);
            record["body"] = json!(message.body);
            record["attributes"]["ApproximateReceiveCount"] = json!(message.receive_count.to_string());
            record["attributes"]["SentTimestamp"] = json!(message.sent_at.as_millis().to_string());
            record["eventSourceARN"] = json!(arn);
            record
        })
        .collect();
    event
}

impl EventSourceMapping {
    /// Feeds `queue` (whose ARN is `arn`) to the functions started on `runtime`.
    pub fn start(
        runtime: Arc<RuntimeApi>,
        queue: SqsQueue,
        arn: String,
        batch_size: usize,
        max_concurrency: usize,
    ) -> Self {
        let mut pollers = JoinSet::new();
        let invocations = Arc::new(Mutex::new(Invocations::default()));
        for _ in 0..max_concurrency {
            let (runtime, queue, arn) = (runtime.clone(), queue.clone(), arn.clone());
            let invocations = invocations.clone();
            pollers.spawn(async move {
                loop {
                    let Ok(batch) = queue.receive(batch_size, Duration::from_secs(1)).await else {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    };
                    if batch.is_empty() {
                        continue;
                    }
                    let started = std::time::Instant::now();
                    let answer = runtime.invoke(sqs_event(&batch, &arn)).await;
                    {
                        let mut invocations = invocations.lock().unwrap();
                        invocations.count += 1;
                        invocations.longest = invocations.longest.max(started.elapsed());
                    }
                    let failed = match answer {
                        Answer::Response { body, .. } => failed_ids(&body),
                        _ => batch.iter().map(|message| message.message_id.clone()).collect(),
                    };
                    let done = batch
                        .into_iter()
                        .filter(|message| !failed.contains(&message.message_id))
                        .map(|message| message.receipt)
                        .collect();
                    let _ = queue.delete_batch(done).await;
                }
            });
        }
        Self { _pollers: pollers, invocations }
    }

    pub fn invocations(&self) -> Invocations {
        *self.invocations.lock().unwrap()
    }
}
