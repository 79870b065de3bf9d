//! `/v1/event-types`: the catalog a tenant sees (the default types and its own), and its
//! own types' create, show, change (archive) and delete. Reading takes `webhooks:read`;
//! writing takes `event_types:write` (or `admin`). The rules are the event type service's.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use webhooks::catalog::is_default_type;
use webhooks::event_types::{EventTypeView, default_views};
use webhooks::model::Scope;
use webhooks::ports::EventTypeStore;
use webhooks::services::event_types::{EventTypeChange, NewEventType};

use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery, present};
use crate::state::{App, Ports};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `true` lists archived types too.
    include_archived: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewType {
    #[serde(alias = "type")]
    name: String,
    description: Option<String>,
    family: Option<String>,
    schema: Option<Value>,
    #[serde(default)]
    archived: bool,
}

/// Absent fields stay as they are; `family: null` and `schema: null` clear them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypePatch {
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    family: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    schema: Option<Option<Value>>,
    archived: Option<bool>,
}

/// Every type the tenant may use, default ones first, then its own by name; archived ones
/// only with `?include_archived=true`. Also seed 000's `/api/webhook_endpoints/event_types`.
pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let include_archived = match params.include_archived.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("include_archived", "must be true or false")),
    };
    let own = app.store.list_event_types(caller.tenant()).await?;
    let mut data: Vec<EventTypeView<'_>> = default_views().collect();
    data.extend(own.iter().map(|def| def.view()));
    data.retain(|view| include_archived || !view.archived);
    Ok(Json(json!({ "data": data })).into_response())
}

pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewType>,
) -> Result<Response, ApiError> {
    caller.require(Scope::EventTypesWrite)?;
    let new = NewEventType {
        name: input.name,
        description: input.description,
        family: input.family,
        schema: input.schema,
        archived: input.archived,
    };
    let def = app.event_types().create(caller.tenant(), new).await?;
    Ok((StatusCode::CREATED, Json(def.view())).into_response())
}

pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    if is_default_type(&name) {
        let view = default_views().find(|view| view.name == name).ok_or(ApiError::NotFound)?;
        return Ok(Json(view).into_response());
    }
    let def = app.event_types().get(caller.tenant(), &name).await?;
    Ok(Json(def.view()).into_response())
}

pub async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<TypePatch>,
) -> Result<Response, ApiError> {
    caller.require(Scope::EventTypesWrite)?;
    let change = EventTypeChange {
        description: patch.description,
        family: patch.family,
        schema: patch.schema,
        archived: patch.archived,
    };
    let def = app.event_types().change(caller.tenant(), &name, change).await?;
    Ok(Json(def.view()).into_response())
}

pub async fn delete<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::EventTypesWrite)?;
    app.event_types().delete(caller.tenant(), &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
