//! The delivery queue and its dead letters on Amazon SQS (both FIFO).

use super::delivery::Delivery;
use super::fan_out::Queue;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

pub struct SqsQueue {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
}

/// The SQS client on the shared SDK settings, with its own endpoint:
/// `AWS_ENDPOINT_URL_SQS` (a local stand-in), else AWS's. The shared settings
/// may carry DynamoDB Local's endpoint, which must not apply here.
pub fn sqs_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS")
        .ok()
        .filter(|url| !url.is_empty());
    let mut config = aws_sdk_sqs::config::Builder::from(sdk);
    config.set_endpoint_url(endpoint);
    aws_sdk_sqs::Client::from_conf(config.build())
}

fn sdk_failure<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: aws_sdk_sqs::error::SdkError<E, R>,
) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(error).to_string()
}

impl Queue for SqsQueue {
    async fn enqueue(&self, deliveries: &[Delivery]) -> Result<(), String> {
        let entries = deliveries
            .iter()
            .enumerate()
            .map(|(index, delivery)| {
                SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(serde_json::to_string(delivery).map_err(|e| e.to_string())?)
                    .message_group_id(delivery.group())
                    .message_deduplication_id(delivery.deduplication_id())
                    .build()
                    .map_err(|error| error.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sdk_failure)?;
        match output.failed().first() {
            None => Ok(()),
            Some(failed) => Err(format!(
                "{} of {} refused ({})",
                output.failed().len(),
                deliveries.len(),
                failed.code()
            )),
        }
    }

    async fn retry_later(&self, receipt_handle: &str, seconds: u32) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(i32::try_from(seconds).unwrap_or(i32::MAX))
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_failure)
    }

    async fn dead_letter(&self, delivery: &Delivery) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.dead_letter_queue_url)
            .message_body(serde_json::to_string(delivery).map_err(|e| e.to_string())?)
            .message_group_id(delivery.group())
            .message_deduplication_id(delivery.deduplication_id())
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_failure)
    }
}
