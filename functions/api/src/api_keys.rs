//! `/v1/api-keys`: admins mint, list and revoke keys, for their tenant or another.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webhooks::ids::ApiKeyId;
use webhooks::model::Scope;
use webhooks::ports::ApiKeyStore;
use webhooks::services::api_keys::create_key;

use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery};
use crate::state::{App, Ports};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    tenant: Option<String>,
    scopes: Vec<Scope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFilter {
    tenant: Option<String>,
}

pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewKey>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let tenant = input.tenant.unwrap_or_else(|| caller.tenant().to_owned());
    let minted = create_key(&app.store, &app.clock, tenant, input.name, input.scopes).await?;
    let mut body = serde_json::to_value(&minted.record).expect("keys serialize");
    body["key"] = json!(minted.key);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<KeyFilter>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let tenant = filter.tenant.unwrap_or_else(|| caller.tenant().to_owned());
    let keys = app.store.list_api_keys(Some(&tenant)).await?;
    Ok(Json(json!({ "data": keys })).into_response())
}

pub async fn delete<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let id = ApiKeyId::parse(&id).ok_or(ApiError::NotFound)?;
    app.store.delete_api_key(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
