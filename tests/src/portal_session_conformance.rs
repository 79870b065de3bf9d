//! The portal sessions' contract (created once, found by the token's hash, revoked one by one
//! or every one of a tenant, at once), run against every adapter by `conformance::store`.

use std::time::Duration;

use webhooks::ids::{EndpointId, PortalSessionId};
use webhooks::ports::StoreError;
use webhooks::security::portal_sessions::{MintedSession, PortalSessionStore, mint_session};
use webhooks::time::Timestamp;

pub async fn portal_sessions<S: PortalSessionStore>(store: &S) {
    let now = Timestamp::now();
    let tenant = format!("ps{}", now.as_millis());
    let other = format!("{tenant}x");
    let endpoint = EndpointId::generate(now);
    let mint =
        |tenant: &str, endpoints| mint_session(tenant.to_owned(), endpoints, false, Duration::from_secs(60), now);

    let limited: MintedSession = mint(&tenant, Some(vec![endpoint.clone()]));
    let open = mint(&tenant, None);
    let elsewhere = mint(&other, None);
    for minted in [&limited, &open, &elsewhere] {
        store.create_portal_session(&minted.record, &minted.token_hash).await.unwrap();
    }
    let again = store.create_portal_session(&limited.record, &limited.token_hash).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.find_portal_session(&limited.token_hash).await.unwrap(), Some(limited.record.clone()));
    assert_eq!(store.find_portal_session(&open.token_hash).await.unwrap().unwrap().endpoints, None);
    assert_eq!(store.find_portal_session(&"0".repeat(64)).await.unwrap(), None);

    // Revoked by id: not by another tenant's caller; at once.
    let wrong_tenant = store.delete_portal_session(Some(&other), &limited.record.id).await;
    assert!(matches!(wrong_tenant, Err(StoreError::NotFound)), "{wrong_tenant:?}");
    assert_eq!(store.delete_portal_session(Some(&tenant), &limited.record.id).await.unwrap(), limited.record);
    assert_eq!(store.find_portal_session(&limited.token_hash).await.unwrap(), None);
    let twice = store.delete_portal_session(None, &limited.record.id).await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");
    let unknown = store.delete_portal_session(None, &PortalSessionId::generate(now)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");

    // Every session of a tenant, one created a moment ago included; the other tenant's stay.
    let fresh = mint(&tenant, None);
    store.create_portal_session(&fresh.record, &fresh.token_hash).await.unwrap();
    assert_eq!(store.delete_portal_sessions(&tenant).await.unwrap(), 2);
    assert_eq!(store.find_portal_session(&open.token_hash).await.unwrap(), None);
    assert_eq!(store.find_portal_session(&fresh.token_hash).await.unwrap(), None);
    assert!(store.find_portal_session(&elsewhere.token_hash).await.unwrap().is_some());
    assert_eq!(store.delete_portal_sessions(&tenant).await.unwrap(), 0);
    // An admin (no tenant given) revokes any tenant's by id.
    assert_eq!(store.delete_portal_session(None, &elsewhere.record.id).await.unwrap().tenant, other);
}
