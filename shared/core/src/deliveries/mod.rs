//! Deliveries: the model ([`Delivery`], its attempts), the retry schedule (`retry`), how a
//! receiver's answer is read (`receiver_answer`), rate limits (`rate_limit`), the outbound
//! HTTP port (`outbound`), the delivery store (`store`), counts per hour (`stats`) and what the
//! history keeps (`history`).

pub mod history;
pub mod local_rate_counter;
pub mod outbound;
pub mod rate_limit;
pub mod receiver_answer;
pub mod retry;
pub mod stats;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ids::{DeliveryId, EndpointId, Tenant};
use crate::time::Timestamp;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not yet delivered; a retry is scheduled (`next_retry_at`).
    Pending,
    Delivered,
    /// Every attempt failed (or the endpoint was disabled); a manual retry may revive it.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event's delivery to one endpoint, as the history shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: DeliveryId,
    #[serde(skip)]
    pub tenant: Tenant,
    pub endpoint_id: EndpointId,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub http_status: Option<u16>,
    /// How many attempts were made.
    pub attempts: u32,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub next_retry_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// One HTTP attempt of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub at: Timestamp,
    pub duration_ms: u64,
    pub http_status: Option<u16>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        matches!(self.http_status, Some(status) if (200..300).contains(&status))
    }
}

/// A delivery with its payload and every attempt.
#[derive(Debug)]
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub payload: Option<Box<RawValue>>,
    pub attempts: Vec<Attempt>,
}
