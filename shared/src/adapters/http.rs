//! The [`HttpSender`] port on reqwest (rustls). One client per process, so connections to a
//! receiver are reused across deliveries.

use std::time::{Duration, Instant};

use crate::ports::{HttpOutcome, HttpSender, OutboundRequest, RESPONSE_BODY_LIMIT};

/// Sent as `User-Agent` on every delivery.
pub const USER_AGENT: &str = concat!("Webhooks/", env!("CARGO_PKG_VERSION"));

#[derive(Clone)]
pub struct ReqwestSender {
    client: reqwest::Client,
}

impl ReqwestSender {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("the HTTP client's configuration is valid");
        Self { client }
    }
}

impl Default for ReqwestSender {
    fn default() -> Self {
        Self::new()
    }
}

/// Error text without the URL (which may carry tokens) and with its cause chain.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl HttpSender for ReqwestSender {
    async fn post(&self, request: OutboundRequest) -> HttpOutcome {
        let started = Instant::now();
        let mut builder = self.client.post(&request.url).timeout(request.timeout).body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                return HttpOutcome {
                    status: None,
                    body: None,
                    error: Some(describe(&error)),
                    duration: started.elapsed(),
                };
            }
        };
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut error = None;
        // Read only the start of the body: a receiver cannot make us buffer megabytes.
        while body.len() < RESPONSE_BODY_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(format!("reading the response: {}", describe(&e)));
                    break;
                }
            }
        }
        body.truncate(RESPONSE_BODY_LIMIT);
        HttpOutcome {
            status: Some(status),
            body: Some(String::from_utf8_lossy(&body).into_owned()),
            error,
            duration: started.elapsed(),
        }
    }
}
