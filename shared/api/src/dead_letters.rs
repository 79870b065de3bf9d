//! `/v1/dead-letters/{events|deliveries}`: admins look at what the pipeline could not handle,
//! with each message's reason, and send it back to its queue once the cause is fixed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use webhooks::queues::Queue;
use webhooks::queues::dead_letters::{DeadLetterQueue, MAX_REDRIVE, redrive as move_back};
use webhooks::security::api_keys::Scope;

use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, NoParameters, NoQuery, optional_json, parse_limit};
use crate::state::{App, Ports};
use crate::views::{DeadLetterView, DeadLettersView, Redriven};

/// The most messages one look shows (SQS's largest receive).
pub const MAX_PEEK: usize = 10;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeekParams {
    /// Messages shown: 1 to 10, 10 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10)]
    limit: Option<String>,
}

/// Which dead-letter queue.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum QueueName {
    Events,
    Deliveries,
}

fn queue(name: &str) -> Result<DeadLetterQueue, ApiError> {
    DeadLetterQueue::parse(name).ok_or(ApiError::NotFound)
}

/// `GET`: how many messages wait, and up to `limit` of them (the oldest on SQLite, a sample
/// on SQS), each with its reason (`null`: the queue's redrive moved it, see the log).
#[utoipa::path(get, path = "/v1/dead-letters/{queue}", operation_id = "list_dead_letters", tag = "dead letters", params(("queue" = inline(QueueName), Path, description = "`events` or `deliveries`"), PeekParams),
    responses((status = 200, description = "What waits", body = DeadLettersView)))]
pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PeekParams>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let which = queue(&name)?;
    let limit = parse_limit(params.limit.as_deref(), MAX_PEEK, MAX_PEEK)?;
    let dead_letters = app.dead_letters.get(which);
    let depth = dead_letters.depth().await?;
    let messages = dead_letters.peek(limit).await?;
    let data = messages
        .into_iter()
        .map(|message| DeadLetterView {
            message_id: message.message_id,
            sent_at: message.sent_at,
            reason: message.reason,
            body: message.body,
        })
        .collect();
    Ok(Json(DeadLettersView { queue: which.name(), depth, data }).into_response())
}

/// `POST .../redrive`: moves up to [`MAX_REDRIVE`] messages back to the queue they came from
/// (call again for more); answers how many moved and how many are left.
#[utoipa::path(post, path = "/v1/dead-letters/{queue}/redrive", operation_id = "redrive_dead_letters", tag = "dead letters", params(("queue" = inline(QueueName), Path, description = "`events` or `deliveries`")),
    responses((status = 200, description = "What moved", body = Redriven)))]
pub async fn redrive<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(name): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let which = queue(&name)?;
    let NoParameters {} = optional_json(request, &()).await?;
    let source = match which {
        DeadLetterQueue::Events => &app.events,
        DeadLetterQueue::Deliveries => &app.deliveries,
    };
    let dead_letters = app.dead_letters.get(which);
    let moved = move_back(dead_letters, source, MAX_REDRIVE).await?;
    tracing::info!(queue = which.name(), moved, "dead letters redriven");
    let remaining = dead_letters.depth().await?;
    Ok(Json(Redriven { queue: which.name(), moved, remaining }).into_response())
}
