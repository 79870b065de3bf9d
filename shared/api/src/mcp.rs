//! `/mcp`: the API as MCP tools (Streamable HTTP, stateless, JSON answers; the official
//! Rust SDK), for AI assistants. Seed 000's tools plus `send_event` and `list_event_types`.
//!
//! Each tool is one request to the canonical route it names, made in process with the
//! caller's own `Authorization` header: the same handler, scopes, limits and errors, never a
//! second implementation. A 2xx answer is the tool's structured result; any other is a tool
//! error whose content is the API's error body. A request without a valid key is refused
//! before MCP sees it (401 in the API's error shape).

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use tower::ServiceExt;
use webhooks::endpoints::rules::is_uid_form;
use webhooks::ids::EndpointId;

use crate::error::ApiError;
use crate::request::Caller;
use crate::state::{App, Ports};

/// The largest answer a tool passes on (the canonical lists are far smaller).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// `/mcp` over `api`, the canonical routes, for a router built on `app`.
pub fn routes<P: Ports>(app: Arc<App<P>>, api: Router) -> Router {
    let config = StreamableHttpServerConfig::default()
        // Stateless and JSON: every request stands alone, as on Lambda behind API Gateway.
        .with_legacy_session_mode(false)
        .with_json_response(true)
        // Callers authenticate with a bearer key, which a rebinding page cannot send, and
        // the deployed host is the deployment's own.
        .disable_allowed_hosts()
        .with_max_request_body_bytes(crate::request::MAX_MCP_BODY_BYTES);
    let tools = Tools { api };
    let service: StreamableHttpService<Tools, NeverSessionManager> =
        StreamableHttpService::new(move || Ok(tools.clone()), Default::default(), config);
    Router::new().nest_service("/mcp", service).layer(axum::middleware::from_fn_with_state(app, authenticate::<P>))
}

/// Refuses a request without a valid key before MCP reads it; passes the key's header on.
async fn authenticate<P: Ports>(State(app): State<Arc<App<P>>>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = <Caller as axum::extract::FromRequestParts<Arc<App<P>>>>::from_request_parts(&mut parts, &app).await;
    match caller {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(error) => error.into_response(),
    }
}

#[derive(Clone)]
struct Tools {
    api: Router,
}

struct ToolSpec {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Value,
}

fn endpoint_fields(required: &[&str], with_id: bool) -> Value {
    let mut properties = json!({
        "url": {"type": "string", "description": "HTTPS URL that receives the deliveries"},
        "events": {"type": "array", "items": {"type": "string"}, "maxItems": 500,
                   "description": "event types or wildcards (family.*, *)"},
        "event_filters": {"type": "object", "description": "per type or wildcard: a list of entity ids, or an object of payload paths to allowed values"},
        "description": {"type": ["string", "null"], "maxLength": 255},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}, "description": "your own notes on the endpoint"},
        "rate_limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
        "uid": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 256,
                "description": "your own id for the endpoint, unique among yours; usable in place of its id"},
        "secret": {"type": "string", "minLength": 16, "maxLength": 255},
        "enabled": {"type": "boolean"}
    });
    if with_id {
        properties["id"] = json!({"type": "string", "description": "the endpoint's id (ep_...) or its uid"});
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn id_only() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string", "description": "the endpoint's id (ep_...) or its uid"}},
           "required": ["id"], "additionalProperties": false})
}

const TOOLS: [ToolSpec; 8] = [
    ToolSpec {
        name: "list_webhook_endpoints",
        description: "List the tenant's webhook endpoints, oldest first (GET /v1/webhooks).",
        schema: || {
            json!({"type": "object", "additionalProperties": false, "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "cursor": {"type": "string", "description": "next_cursor of the previous page"}
            }})
        },
    },
    ToolSpec {
        name: "create_webhook_endpoint",
        description: "Create a webhook endpoint; the answer holds its signing secret (POST /v1/webhooks).",
        schema: || endpoint_fields(&["url", "events"], false),
    },
    ToolSpec {
        name: "update_webhook_endpoint",
        description: "Change an endpoint's fields; absent ones stay (PATCH /v1/webhooks/{id}).",
        schema: || endpoint_fields(&["id"], true),
    },
    ToolSpec {
        name: "delete_webhook_endpoint",
        description: "Delete an endpoint and its delivery history (DELETE /v1/webhooks/{id}).",
        schema: id_only,
    },
    ToolSpec {
        name: "list_webhook_deliveries",
        description: "Deliveries newest first, of one endpoint or of all (GET /v1/webhooks/{id}/deliveries, GET /v1/deliveries).",
        schema: || {
            json!({"type": "object", "additionalProperties": false, "properties": {
                "endpoint_id": {"type": "string", "description": "only this endpoint's deliveries (its id or uid)"},
                "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                "event_type": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "cursor": {"type": "string"}
            }})
        },
    },
    ToolSpec {
        name: "test_webhook_endpoint",
        description: "Send a signed test event to an endpoint now (POST /v1/webhooks/{id}/test).",
        schema: || {
            json!({"type": "object", "additionalProperties": false, "required": ["id"], "properties": {
                "id": {"type": "string"},
                "event_type": {"type": "string", "description": "webhook.test unless given"}
            }})
        },
    },
    ToolSpec {
        name: "send_event",
        description: "Emit one event to every subscribed endpoint (POST /v1/events).",
        schema: || {
            json!({"type": "object", "additionalProperties": false, "required": ["type", "payload"], "properties": {
                "id": {"type": "string", "description": "your id, for idempotency"},
                "type": {"type": "string"},
                "entity_id": {"type": ["string", "integer"]},
                "payload": {"type": "object"}
            }})
        },
    },
    ToolSpec {
        name: "list_event_types",
        description: "The event types the tenant may send and subscribe to (GET /v1/event-types).",
        schema: || {
            json!({"type": "object", "additionalProperties": false, "properties": {
                "include_archived": {"type": "boolean"}
            }})
        },
    },
];

/// A tool's arguments turned into the canonical request: method, path and query, body.
fn canonical_request(name: &str, mut args: Map<String, Value>) -> Result<(Method, String, Option<Value>), String> {
    let mut take_id = |key: &str| -> Result<Option<String>, String> {
        match args.remove(key) {
            None => Ok(None),
            // Only an id or a uid (letters, digits, `._-`, never `/`) goes into a path, so no
            // argument can name another route.
            Some(Value::String(id)) if EndpointId::parse(&id).is_some() || is_uid_form(&id) => Ok(Some(id)),
            Some(_) => Err(format!("{key}: not an endpoint id or uid")),
        }
    };
    let required = |id: Option<String>| id.ok_or_else(|| "id: required".to_owned());
    let (method, path) = match name {
        "list_webhook_endpoints" => (Method::GET, "/v1/webhooks".to_owned()),
        "create_webhook_endpoint" => (Method::POST, "/v1/webhooks".to_owned()),
        "update_webhook_endpoint" => (Method::PATCH, format!("/v1/webhooks/{}", required(take_id("id")?)?)),
        "delete_webhook_endpoint" => (Method::DELETE, format!("/v1/webhooks/{}", required(take_id("id")?)?)),
        "test_webhook_endpoint" => (Method::POST, format!("/v1/webhooks/{}/test", required(take_id("id")?)?)),
        "list_webhook_deliveries" => match take_id("endpoint_id")? {
            Some(id) => (Method::GET, format!("/v1/webhooks/{id}/deliveries")),
            None => (Method::GET, "/v1/deliveries".to_owned()),
        },
        "send_event" => (Method::POST, "/v1/events".to_owned()),
        "list_event_types" => (Method::GET, "/v1/event-types".to_owned()),
        other => return Err(format!("unknown tool {other:?}")),
    };
    if method != Method::GET {
        return Ok((method.clone(), path, (method != Method::DELETE).then_some(Value::Object(args))));
    }
    // A GET's arguments are its query: scalars only, every name passed on, so that the route
    // refuses what it does not take, as it does over HTTP.
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in &args {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => return Err(format!("{key}: must be a string, number or boolean")),
        };
        query.append_pair(key, &text);
    }
    let query = query.finish();
    Ok((method, if query.is_empty() { path } else { format!("{path}?{query}") }, None))
}

impl Tools {
    /// Makes the canonical request with the caller's key; answers the status and the body.
    async fn call(
        &self,
        authorization: HeaderValue,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Result<(u16, Value), ErrorData> {
        let internal = |what: &str| ErrorData::internal_error(what.to_owned(), None);
        let mut request =
            axum::http::Request::builder().method(method).uri(path).header(header::AUTHORIZATION, authorization);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, |value| Body::from(value.to_string()));
        let request = request.body(body).map_err(|_| internal("request"))?;
        let response = self.api.clone().oneshot(request).await.map_err(|_| internal("route"))?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|_| internal("answer too large"))?;
        let value = if bytes.is_empty() { json!({}) } else { serde_json::from_slice(&bytes).unwrap_or(json!({})) };
        Ok((status, value))
    }
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("webhooks", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Manage outgoing webhooks: endpoints, their deliveries, event types; send events. \
                 Each tool is one call of the HTTP API with your API key, with its scopes and errors.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(TOOLS.iter().filter_map(tool).collect()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        TOOLS.iter().find(|spec| spec.name == name).and_then(tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let authorization = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.headers.get(header::AUTHORIZATION).cloned())
            .ok_or_else(|| ErrorData::invalid_request("no Authorization header", None))?;
        if !TOOLS.iter().any(|spec| spec.name == request.name) {
            return Err(ErrorData::invalid_params(format!("unknown tool {:?}", request.name), None));
        }
        let args = request.arguments.unwrap_or_default();
        let (method, path, body) = match canonical_request(&request.name, args) {
            Ok(call) => call,
            Err(problem) => {
                let body = ApiError::invalid("arguments", problem).body();
                return Ok(CallToolResult::structured_error(body).into());
            }
        };
        let (status, answer) = self.call(authorization, method, path, body).await?;
        let result = if (200..300).contains(&status) {
            CallToolResult::structured(answer)
        } else {
            CallToolResult::structured_error(answer)
        };
        Ok(result.into())
    }
}

fn tool(spec: &ToolSpec) -> Option<Tool> {
    let Value::Object(schema) = (spec.schema)() else { return None };
    Some(Tool::new(Cow::Borrowed(spec.name), Cow::Borrowed(spec.description), Arc::new(schema)))
}
