//! The [`IdempotencyStore`] contract, run against every adapter by `conformance::store`.

use std::time::Duration;

use webhooks::idempotency::IdempotencyStore;
use webhooks::idempotency::{IDEMPOTENCY_LOCK, IDEMPOTENCY_TTL, KeptAnswer, KeyUse, Taken};
use webhooks::time::Timestamp;

async fn take<S: IdempotencyStore>(store: &S, tenant: &str, fingerprint: &str, now: Timestamp) -> Taken {
    store.take_key(&KeyUse { tenant, key: KEY, fingerprint, now }).await.unwrap()
}

/// A client's key, with characters a storage key could trip on.
const KEY: &str = "order-7#retry:1";

/// A key taken once; its twin told it runs, a different request told it is another's; the
/// kept answer given back; keys per tenant; a released key, one whose holder ran out of its
/// lock and one past its expiry free again.
pub async fn idempotency<S: IdempotencyStore>(store: &S) {
    let now = Timestamp::now();
    let tenant = format!("i{}", now.as_millis());
    let other = format!("{tenant}x");
    let key = KEY;
    assert_eq!(take(store, &tenant, "fp-a", now).await, Taken::New);
    assert_eq!(take(store, &tenant, "fp-a", now).await, Taken::InProgress);
    assert_eq!(take(store, &tenant, "fp-b", now).await, Taken::Mismatch);
    assert_eq!(take(store, &other, "fp-b", now).await, Taken::New, "keys are per tenant");

    let answer = KeptAnswer { status: 201, body: r#"{"id":"ep_1"}"#.into() };
    store.keep_answer(&KeyUse { tenant: &tenant, key, fingerprint: "fp-a", now }, &answer).await.unwrap();
    assert_eq!(take(store, &tenant, "fp-a", now).await, Taken::Done(answer.clone()));
    assert_eq!(take(store, &tenant, "fp-b", now).await, Taken::Mismatch);
    let later = now.plus(IDEMPOTENCY_LOCK + Duration::from_secs(1));
    assert_eq!(take(store, &tenant, "fp-a", later).await, Taken::Done(answer), "a kept answer outlives the lock");
    let expired = now.plus(IDEMPOTENCY_TTL + Duration::from_secs(1));
    assert_eq!(take(store, &tenant, "fp-b", expired).await, Taken::New, "past its expiry");

    // A holder that never finished frees the key once its lock ran out; a release at once.
    assert_eq!(take(store, &other, "fp-b", now).await, Taken::InProgress);
    assert_eq!(take(store, &other, "fp-c", later).await, Taken::New);
    store.release_key(&other, key).await.unwrap();
    assert_eq!(take(store, &other, "fp-d", later).await, Taken::New);
    store.release_key(&other, "never-taken").await.unwrap();
}
