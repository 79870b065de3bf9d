//! The OpenAPI 3.1 document of the canonical routes, served at `/openapi.json`. It is
//! generated from the handlers' `#[utoipa::path]` annotations and the types they read and
//! answer; what every route shares (the API key, the error answers, `Idempotency-Key` on a
//! POST) is added here, once. The dialects and `/mcp` are not in it (see `docs/`).

mod limits;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type};

use crate::error::ErrorBody;
use crate::{
    api_keys, dead_letters, deliveries, endpoints, event_types, events, portal_sessions, recover, secret_rotation,
    stats, test_delivery,
};

/// The answer of `GET /healthz`.
#[utoipa::path(get, path = "/healthz", operation_id = "health", tag = "service", security(()),
    responses((status = 200, description = "The service runs", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi_document", tag = "service", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> impl IntoResponse {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        let mut document = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
        limits::apply(&mut document);
        document.to_string()
    });
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Webhooks",
        description = "Signed, retried, observable outgoing webhooks. Every route but `/healthz` and \
            `/openapi.json` takes an API key: `Authorization: Bearer <key>`. Unknown fields and \
            query parameters are a `validation_error`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        healthz,
        document,
        crate::metrics::scrape,
        crate::operational_webhooks::create,
        crate::operational_webhooks::list,
        crate::operational_webhooks::show,
        crate::operational_webhooks::update,
        crate::operational_webhooks::delete,
        crate::operational_webhooks::list_deliveries,
        crate::operational_webhooks::event_types,
        endpoints::create,
        endpoints::list,
        endpoints::show,
        endpoints::update,
        endpoints::delete,
        secret_rotation::secret,
        secret_rotation::rotate_secret,
        test_delivery::test,
        deliveries::list_for_endpoint,
        deliveries::show,
        deliveries::retry,
        deliveries::resend,
        recover::recover,
        stats::stats,
        deliveries::delivery_log,
        events::ingest,
        events::list,
        events::show,
        event_types::list,
        event_types::create,
        event_types::show,
        event_types::update,
        event_types::delete,
        api_keys::create,
        api_keys::list,
        api_keys::delete,
        api_keys::me,
        portal_sessions::create,
        portal_sessions::delete,
        portal_sessions::delete_all,
        dead_letters::show,
        dead_letters::redrive,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Conventions),
    tags(
        (name = "endpoints", description = "Where deliveries go, and how they are signed"),
        (name = "events", description = "What happened, sent to the service and read back"),
        (name = "deliveries", description = "Each event's delivery to each endpoint, with every attempt"),
        (name = "event types", description = "The catalog: the default types and the tenant's own"),
        (name = "api keys", description = "Keys and their scopes (admin)"),
        (name = "portal", description = "Customer portal sessions: the console for one tenant, to embed"),
        (name = "dead letters", description = "What the pipeline could not handle (admin)"),
        (name = "service", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// The error answers every route may give, by status: (status, component name, description).
const ERRORS: &[(&str, &str, &str)] = &[
    ("400", "ValidationError", "`validation_error`: a field, parameter or body is invalid; `details` names each"),
    ("401", "Unauthorized", "`unauthorized`: no API key, or not a valid one"),
    ("403", "Forbidden", "`forbidden`: the API key lacks the route's scope"),
    ("404", "NotFound", "`not_found`: no such item for this tenant"),
    (
        "409",
        "Conflict",
        "`conflict` or `limit_reached`: the request clashes with what is stored (a uid or type name \
         taken, a tenant's limit reached, an admin's last key), or the same `Idempotency-Key` is still \
         being answered",
    ),
    ("413", "PayloadTooLarge", "`payload_too_large`: the body is over the route's limit"),
    ("422", "IdempotencyKeyReused", "`idempotency_key_reused`: this `Idempotency-Key` came with another request"),
    ("500", "InternalError", "`internal_error`: the service failed; the request may be retried"),
];

/// Where a created item's id leads: (operation, status, parameter, where its value is in the
/// answer, the operations that take it). Clients and the fuzzer follow these links.
const LINKS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "create_endpoint",
        "201",
        "id",
        "$response.body#/id",
        &[
            "get_endpoint",
            "update_endpoint",
            "delete_endpoint",
            "get_endpoint_secret",
            "rotate_endpoint_secret",
            "test_endpoint",
            "list_endpoint_deliveries",
            "recover_endpoint",
        ],
    ),
    (
        "create_event_type",
        "201",
        "name",
        "$response.body#/type",
        &["get_event_type", "update_event_type", "delete_event_type"],
    ),
    ("send_events", "202", "id", "$response.body#/ids/0", &["get_event"]),
    ("create_api_key", "201", "id", "$response.body#/id", &["delete_api_key"]),
];

/// What every route shares, added to each operation of the generated document.
struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        for (_, name, description) in ERRORS {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            let response = ResponseBuilder::new().description(*description).content("application/json", content);
            components.responses.insert((*name).to_owned(), RefOr::T(response.build()));
        }
        openapi.security = Some(vec![SecurityRequirement::new("api_key", Vec::<String>::new())]);
        add_links(openapi);
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Delete, &mut item.delete),
            ] {
                if let Some(operation) = operation {
                    add_shared(path, method, operation);
                }
            }
        }
    }
}

/// The errors `operation` (of `method` on `path`) may answer, and `Idempotency-Key` on a POST.
fn add_shared(path: &str, method: HttpMethod, operation: &mut Operation) {
    let public = operation.security.as_ref().is_some_and(|security| security.iter().all(is_empty));
    let writes = matches!(method, HttpMethod::Post | HttpMethod::Patch);
    for (status, name, _) in ERRORS {
        let applies = match *status {
            "401" | "403" => !public,
            "404" => path.contains('{'),
            "409" => method != HttpMethod::Get,
            "413" => writes,
            "422" => method == HttpMethod::Post,
            "400" => !public,
            _ => true,
        };
        if applies && !operation.responses.responses.contains_key(*status) {
            let reference = Ref::new(format!("#/components/responses/{name}"));
            operation.responses.responses.insert((*status).to_owned(), RefOr::Ref(reference));
        }
    }
    if method == HttpMethod::Post {
        let key = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes the POST safe to repeat: the same key with the same request within 24 h gets the \
                 first answer again (`Idempotent-Replayed: true`) and does nothing more.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[!-~]{1,255}$"))))
            .build();
        operation.parameters.get_or_insert_with(Vec::new).push(RefOr::T(key));
    }
}

fn add_links(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
            let id = operation.operation_id.clone().unwrap_or_default();
            for (source, status, parameter, value, targets) in LINKS {
                if *source != id {
                    continue;
                }
                let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status) else { continue };
                for target in *targets {
                    let link = LinkBuilder::new().operation_id(*target).parameter(*parameter, *value).build();
                    response.links.insert((*target).to_owned(), RefOr::T(link));
                }
            }
        }
    }
}

fn is_empty(requirement: &SecurityRequirement) -> bool {
    *requirement == SecurityRequirement::default()
}
