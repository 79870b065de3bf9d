//! `/v1/event-types`: the catalog a tenant sees (the default types and its own), and its
//! own types' create, show, change (archive) and delete. Reading takes `webhooks:read`;
//! writing takes `event_types:write` (or `admin`). The rules are the event type service's.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use webhooks::events::default_catalog::is_default_type;
use webhooks::events::store::EventTypeStore;
use webhooks::events::types::{EventTypeView, default_views};
use webhooks::security::api_keys::Scope;
use webhooks_pipeline::services::event_types::{EventTypeChange, NewEventType};

use crate::error::ApiError;
use crate::error::ErrorBody;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery, present};
use crate::state::{App, Ports};
use crate::views::ListView;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `true` lists archived types too.
    #[param(value_type = Option<bool>)]
    include_archived: Option<String>,
}

/// A tenant's own event type. `type` is also read as `name`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "invoice.paid", "description": "An invoice was paid"}))]
#[serde(deny_unknown_fields)]
pub struct NewType {
    /// Dotted, e.g. `invoice.paid`; not a default type's name.
    #[schema(pattern = "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+){0,9}$", max_length = 128)]
    #[serde(alias = "type")]
    name: String,
    description: Option<String>,
    /// Groups types for `family.*` subscriptions; the name's first part when absent.
    family: Option<String>,
    /// A JSON Schema (an object, or `true`/`false`) that payloads of this type must match.
    #[schema(value_type = Option<Value>)]
    schema: Option<Value>,
    #[serde(default)]
    archived: bool,
}

/// Absent fields stay as they are; `family: null` and `schema: null` clear them.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypePatch {
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    family: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Value>)]
    schema: Option<Option<Value>>,
    archived: Option<bool>,
}

/// Every type the tenant may use, default ones first, then its own by name; archived ones
/// only with `?include_archived=true`. Also seed 000's `/api/webhook_endpoints/event_types`.
#[utoipa::path(get, path = "/v1/event-types", operation_id = "list_event_types", tag = "event types", params(ListParams),
    responses((status = 200, description = "Every type the tenant may use", body = ListView<EventTypeView>)))]
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
    Ok(Json(ListView { data }).into_response())
}

/// Create one of the tenant's own event types.
#[utoipa::path(post, path = "/v1/event-types", operation_id = "create_event_type", tag = "event types", request_body = NewType,
    responses((status = 201, description = "Created", body = EventTypeView),
        (status = 409, description = "The name is taken, or the tenant has 500 types", body = ErrorBody)))]
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

#[utoipa::path(get, path = "/v1/event-types/{name}", operation_id = "get_event_type", tag = "event types", params(("name" = String, Path, description = "The event type's name")),
    responses((status = 200, description = "The type", body = EventTypeView)))]
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

/// Change one of the tenant's own types: absent fields stay as they are.
#[utoipa::path(patch, path = "/v1/event-types/{name}", operation_id = "update_event_type", tag = "event types", params(("name" = String, Path, description = "The event type's name")), request_body = TypePatch,
    responses((status = 200, description = "The type as it now is", body = EventTypeView),
        (status = 409, description = "A default type, which cannot change", body = ErrorBody)))]
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

/// Delete one of the tenant's own types, unless an endpoint depends on it.
#[utoipa::path(delete, path = "/v1/event-types/{name}", operation_id = "delete_event_type", tag = "event types", params(("name" = String, Path, description = "The event type's name")),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "A default type, or one an endpoint subscribes to", body = ErrorBody)))]
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
