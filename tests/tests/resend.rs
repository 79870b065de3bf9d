//! Resending any delivery (Svix's resend): a delivered one goes out again with the same
//! delivery id, once per ask, its attempts counted on; a redelivered queue message of a
//! resend already made sends nothing; on the embedded service and on `serve --aws`.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Api, Binary, Receiver, Service};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_delivery_is_resent_once_per_ask() {
    let service = Service::start().await;
    resend(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_delivered_delivery_is_resent_once_per_ask() {
    let (_data, service) = Binary::serve_on_aws("resend", &[]);
    resend(&service.api).await;
}

async fn resend(api: &Api) {
    let receiver = Receiver::start().await;
    let id = api.create_endpoint(&receiver.url("/"), &["run.completed"]).await["id"].as_str().unwrap().to_owned();
    api.send_events(json!({"type": "run.completed", "payload": {"n": 1}})).await;
    let first = receiver.wait_for(1, WAIT).await;
    let delivered = api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered"), WAIT, |b| b["data"][0]["attempts"] == 1)
        .await;
    let delivery_id = delivered["data"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/webhooks/{id}/deliveries/{delivery_id}/resend");

    for round in 2..=3 {
        let resent = api.post(&path, json!({})).await;
        assert_eq!(resent.status, 202, "{:?}", resent.body);
        assert_eq!(resent.body["id"], delivery_id.as_str());
        let got = receiver.wait_for(round, WAIT).await;
        let last = &got[round - 1];
        assert_eq!(last.header("x-webhook-delivery"), delivery_id, "the same delivery");
        assert_eq!(last.header("webhook-id"), first[0].header("webhook-id"), "receivers can deduplicate it");
        assert_eq!(last.json(), json!({"n": 1}));
        api.wait_until(&format!("/v1/webhooks/{id}/deliveries/{delivery_id}"), WAIT, |b| {
            b["status"] == "delivered" && b["attempts"] == round
        })
        .await;
    }
    receiver.assert_stays_at(3, Duration::from_millis(1500)).await;

    // Another tenant's or a made-up delivery is not found.
    let other = api.with_key(&api.mint_key("other", &["webhooks:write"]).await);
    assert_eq!(other.post(&path, json!({})).await.status, 404);
    let made_up = format!("/v1/webhooks/{id}/deliveries/del_01JZZZZZZZZZZZZZZZZZZZZZZZ/resend");
    assert_eq!(api.post(&made_up, json!({})).await.status, 404);
}
