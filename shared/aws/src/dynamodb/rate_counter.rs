//! The [`RateCounter`] port on the DynamoDB table: one item per endpoint and second, counted
//! with an atomic ADD (so every Lambda environment shares the count), gone by TTL a minute
//! later. One write per attempt to a rate-limited endpoint; none for the others.

use aws_sdk_dynamodb::types::ReturnValue;

use super::items::{get_number, key, number};
use super::schema::{TTL_ATTRIBUTE, rate_partition};
use super::{DynamoStore, Expression, Written};
use webhooks::deliveries::rate_limit::RateCounter;
use webhooks::ids::EndpointId;
use webhooks::ports::StoreError;

/// How long after its second a count is kept (DynamoDB deletes it some time after).
const KEPT_FOR_SECONDS: i64 = 60;

impl RateCounter for DynamoStore {
    async fn count(&self, endpoint: &EndpointId, second: i64) -> Result<u32, StoreError> {
        let mut e = Expression::default();
        let update = format!(
            "ADD {n} {one} SET {expires} = {at}",
            n = e.name("n"),
            one = e.value("one", number(1)),
            expires = e.name(TTL_ATTRIBUTE),
            at = e.value("at", number(second + KEPT_FOR_SECONDS)),
        );
        let request = self
            .client
            .update_item()
            .set_key(Some(key(rate_partition(endpoint.as_str()), second.to_string())))
            .update_expression(update)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::UpdatedNew);
        match self.update(request).await? {
            Written::Done(item) => Ok(get_number(&item, "n")?),
            Written::ConditionFailed(_) => Err(StoreError::Backend("an unconditional count failed a condition".into())),
        }
    }
}
