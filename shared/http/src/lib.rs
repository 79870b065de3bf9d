//! The [`HttpSender`] port on reqwest (rustls), held to the URL policy on the address it
//! actually connects to. One client per process, so connections to a receiver are reused.
//!
//! Every send is checked twice: the URL against [`UrlPolicy::check_url`] (an IP literal is
//! connected to as written, without a lookup), and every address a host name resolves to
//! against [`UrlPolicy::allows_address`] inside the client's resolver, so that a name that
//! points inside (in DNS, in /etc/hosts, or only since the endpoint was created) is refused
//! before any connection. No proxy is used (it would resolve names where we cannot check
//! them) and no redirect is followed.
//!
//! What the tenant sees of a failure is one of a few categories ([`FailureKind`]), the same
//! whatever the address and port; the details go to the server's log.

pub mod otlp;

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use webhooks::deliveries::outbound::{HttpOutcome, HttpSender, OutboundRequest, RESPONSE_BODY_LIMIT};
use webhooks::deliveries::receiver_answer::parse_retry_after;
use webhooks::security::url_guard::UrlPolicy;

/// Sent as `User-Agent` on every delivery.
pub const USER_AGENT: &str = concat!("Webhooks/", env!("CARGO_PKG_VERSION"));
/// How long establishing a connection (TCP and TLS) may take, within the attempt's timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves a host name to its addresses: the system's resolver in production; a test can
/// give its own to point names anywhere.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: String) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver (getaddrinfo: /etc/hosts, then DNS).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// What a tenant is told of an attempt that got no HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    RefusedByPolicy,
    Timeout,
    Tls,
    Connection,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::RefusedByPolicy => "refused by URL policy",
            FailureKind::Timeout => webhooks::deliveries::outbound::TIMEOUT_ERROR,
            FailureKind::Tls => "TLS error",
            FailureKind::Connection => "connection failed",
        }
    }
}

/// The resolver's error when every address of a name is refused by the policy.
#[derive(Debug, thiserror::Error)]
#[error("every address of {host} is refused by the URL policy ({addresses})")]
struct RefusedAddresses {
    host: String,
    addresses: String,
}

/// The client's resolver: looks a name up, keeps only the addresses the policy allows.
struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    policy: Arc<UrlPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let (lookup, policy) = (self.lookup.clone(), self.policy.clone());
        Box::pin(async move {
            let found = lookup.lookup(host.clone()).await?;
            let allowed: Vec<SocketAddr> = found
                .iter()
                .filter(|ip| policy.allows_address(&host, **ip))
                .map(|ip| SocketAddr::new(*ip, 0))
                .collect();
            if allowed.is_empty() && !found.is_empty() {
                let addresses = found.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
                return Err(RefusedAddresses { host, addresses }.into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[derive(Clone)]
pub struct ReqwestSender {
    client: reqwest::Client,
    policy: Arc<UrlPolicy>,
}

impl ReqwestSender {
    /// Sends where `policy` allows, resolving names with the system's resolver.
    pub fn new(policy: UrlPolicy) -> Self {
        Self::with_lookup(policy, Arc::new(SystemLookup))
    }

    /// Sends where `policy` allows, resolving names with `lookup`.
    pub fn with_lookup(policy: UrlPolicy, lookup: Arc<dyn Lookup>) -> Self {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { lookup, policy: policy.clone() }))
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("the HTTP client's configuration is valid");
        Self { client, policy }
    }
}

/// The category of `error`, and its cause chain for the log (without the URL, which may carry
/// tokens).
fn classify(error: &reqwest::Error) -> (FailureKind, String) {
    let mut kind = if error.is_timeout() { FailureKind::Timeout } else { FailureKind::Connection };
    let mut details = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        // io::Error's own source() skips the error it wraps (TLS errors come wrapped twice).
        let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(cause);
        while let Some(error) = inner {
            if error.is::<RefusedAddresses>() {
                kind = FailureKind::RefusedByPolicy;
            } else if error.is::<rustls::Error>() && kind != FailureKind::RefusedByPolicy {
                kind = FailureKind::Tls;
            }
            inner = error.downcast_ref::<io::Error>().and_then(|e| e.get_ref()).map(|e| e as _);
        }
        if !details.is_empty() {
            details.push_str(": ");
        }
        details.push_str(&cause.to_string());
        source = cause.source();
    }
    (kind, details)
}

fn failed(kind: FailureKind, started: Instant) -> HttpOutcome {
    HttpOutcome {
        status: None,
        body: None,
        error: Some(kind.as_str().to_owned()),
        duration: started.elapsed(),
        retry_after: None,
    }
}

impl HttpSender for ReqwestSender {
    async fn post(&self, request: OutboundRequest) -> HttpOutcome {
        let started = Instant::now();
        let url = match self.policy.check_url(&request.url) {
            Ok(url) => url,
            Err(rejection) => {
                tracing::warn!(%rejection, "delivery refused by the URL policy");
                return failed(FailureKind::RefusedByPolicy, started);
            }
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut builder = self.client.post(url).timeout(request.timeout).body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let (kind, details) = classify(&error);
                tracing::info!(%host, failure = kind.as_str(), %details, "delivery attempt failed");
                return failed(kind, started);
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, std::time::SystemTime::now()));
        let mut body = Vec::new();
        let mut error = None;
        // Read only the start of the body: a receiver cannot make us buffer megabytes.
        while body.len() < RESPONSE_BODY_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    let (kind, details) = classify(&e);
                    tracing::info!(%host, failure = kind.as_str(), %details, "reading a response failed");
                    error = Some(format!("reading the response: {}", kind.as_str()));
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
            retry_after,
        }
    }
}
