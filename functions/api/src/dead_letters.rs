//! `/v1/dead-letters/{events|deliveries}`: admins look at what the pipeline could not handle,
//! with each message's reason, and send it back to its queue once the cause is fixed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webhooks::dead_letters::{DeadLetterQueue, MAX_REDRIVE, redrive as move_back};
use webhooks::model::Scope;
use webhooks::ports::Queue;

use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, NoParameters, NoQuery, optional_json, parse_limit};
use crate::state::{App, Ports};

/// The most messages one look shows (SQS's largest receive).
pub const MAX_PEEK: usize = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeekParams {
    limit: Option<String>,
}

fn queue(name: &str) -> Result<DeadLetterQueue, ApiError> {
    DeadLetterQueue::parse(name).ok_or(ApiError::NotFound)
}

/// `GET`: how many messages wait, and up to `limit` of them (the oldest on SQLite, a sample
/// on SQS), each with its reason (`null`: the queue's redrive moved it, see the log).
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
    let data: Vec<_> = messages
        .into_iter()
        .map(|message| {
            json!({
                "message_id": message.message_id,
                "sent_at": message.sent_at,
                "reason": message.reason,
                "body": message.body,
            })
        })
        .collect();
    Ok(Json(json!({ "queue": which.name(), "depth": depth, "data": data })).into_response())
}

/// `POST .../redrive`: moves up to [`MAX_REDRIVE`] messages back to the queue they came from
/// (call again for more); answers how many moved and how many are left.
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
    Ok(Json(json!({ "queue": which.name(), "moved": moved, "remaining": remaining })).into_response())
}
