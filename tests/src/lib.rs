//! Test harness: a real HTTP receiver on 127.0.0.1 and the service started in-process (or as
//! the real binary), with a small API client.

pub mod conformance;
pub mod event_log_conformance;
pub mod event_source_mapping;
pub mod event_type_conformance;
pub mod functions;
pub mod idempotency_conformance;
pub mod lambda_events;
pub mod local_aws;
pub mod portal_session_conformance;
pub mod pricing;
pub mod runtime_api;
pub mod stats_conformance;
pub mod template;
pub mod uid_conformance;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::security::url_guard::UrlPolicy;
use webhooks_cli::serve::{Running, ServeConfig, start};
use webhooks_http::{Lookup, SystemLookup};

pub const ADMIN_KEY: &str = "whk_test_admin_key_0123456789abcdef";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the receiver got JSON")
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer with, in order; 200 once empty (or `fallback`).
    script: VecDeque<u16>,
    fallback: Option<u16>,
    /// Extra time before answering.
    delay: Option<Duration>,
    response_body: String,
    /// Sent with every answer (`Location`, `Retry-After`, ...).
    answer_headers: Vec<(String, String)>,
}

/// A real HTTP server on 127.0.0.1 that records every request.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<ReceiverState>>,
    arrived: Arc<tokio::sync::Notify>,
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, String) {
    let (status, delay, text, answer_headers) = {
        let mut state = receiver.state.lock().unwrap();
        state.received.push(Received { path: uri.path().to_owned(), headers, body, at: Instant::now() });
        let status = state.script.pop_front().or(state.fallback).unwrap_or(200);
        (status, state.delay, state.response_body.clone(), state.answer_headers.clone())
    };
    receiver.arrived.notify_waiters();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut headers = HeaderMap::new();
    for (name, value) in answer_headers {
        headers.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), headers, text)
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver =
            Receiver { addr: listener.local_addr().unwrap(), state: Arc::default(), arrived: Arc::default() };
        let app = Router::new().fallback(receive).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answer the next requests with these statuses, then 200.
    pub fn script(&self, statuses: &[u16]) {
        self.state.lock().unwrap().script.extend(statuses);
    }

    /// Answer every request without a scripted status with `status`.
    pub fn always(&self, status: u16) {
        self.state.lock().unwrap().fallback = Some(status);
    }

    /// Hold every answer for `delay` (zero: answer at once).
    pub fn delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = Some(delay).filter(|d| !d.is_zero());
    }

    /// Send `Location: url` with every answer (with a 3xx status: a redirect).
    pub fn redirect_to(&self, url: String) {
        self.answer_with_header("location", &url);
    }

    /// Send this header with every answer.
    pub fn answer_with_header(&self, name: &str, value: &str) {
        self.state.lock().unwrap().answer_headers.push((name.to_owned(), value.to_owned()));
    }

    pub fn respond_with_body(&self, body: String) {
        self.state.lock().unwrap().response_body = body;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until at least `count` requests arrived; panics after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!("expected {count} requests within {timeout:?}, got {}", received.len());
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    /// Waits for the deliveries of [`numbered_events`] `0..count`; panics unless each number
    /// arrived (or after `timeout`).
    pub async fn wait_for_each(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let got = self.wait_for(count, timeout).await;
        let mut numbers: Vec<u64> = got.iter().map(|got| got.json()["n"].as_u64().unwrap()).collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), count, "each delivery arrived");
        got
    }

    /// Asserts that no more than `count` requests arrive within `window`.
    pub async fn assert_stays_at(&self, count: usize, window: Duration) {
        tokio::time::sleep(window).await;
        assert_eq!(self.received().len(), count, "unexpected extra deliveries");
    }
}

/// A resolver the test controls: names it was told about resolve to what it was told (the
/// test can change them between sends); every other name to what the system says.
#[derive(Default)]
pub struct Hosts {
    table: Mutex<HashMap<String, Vec<IpAddr>>>,
    lookups: AtomicUsize,
}

impl Hosts {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// From now on, `name` resolves to `addresses`.
    pub fn point(&self, name: &str, addresses: &[&str]) {
        let addresses = addresses.iter().map(|a| a.parse().unwrap()).collect();
        self.table.lock().unwrap().insert(name.to_owned(), addresses);
    }

    /// Lookups of names in the table so far.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl Lookup for Hosts {
    fn lookup(&self, host: String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        match self.table.lock().unwrap().get(&host).cloned() {
            Some(addresses) => {
                self.lookups.fetch_add(1, Ordering::SeqCst);
                Box::pin(std::future::ready(Ok(addresses)))
            }
            None => SystemLookup.lookup(host),
        }
    }
}

/// A TCP port that accepts connections, counts them, answers a plain-HTTP 400 (which a TLS
/// client takes for a broken handshake) and closes: it shows whether anything connected.
pub struct CountingPort {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl CountingPort {
    pub async fn bind(addr: &str) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                use tokio::io::AsyncWriteExt;
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            }
        });
        Self { addr, accepted }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Raises this process's soft limit of open files to `wanted` (or its hard limit, if lower);
/// answers the limit now in force.
pub fn raise_fd_limit(wanted: u64) -> u64 {
    let mut rlimit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls on a struct we own.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rlimit);
        if rlimit.rlim_cur < wanted {
            rlimit.rlim_cur = wanted.min(rlimit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rlimit);
    }
    rlimit.rlim_cur
}

/// The seeds' recipe: `"sha256=" + hex(HMAC_SHA256(secret, raw_body))`.
pub fn seed_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `{"events": [...]}`: a `run.failed` event with payload `{"n": n}` for each n in `numbers`.
/// The 95th percentile of the time from sending to arrival of what `receiver` got, each
/// request's event numbered `n` (see [`numbered_events`]) and sent at `sent_at(n)`.
pub fn p95_latency(receiver: &Receiver, sent_at: impl Fn(usize) -> Instant) -> Duration {
    let mut latencies: Vec<Duration> = receiver
        .received()
        .iter()
        .map(|got| got.at.duration_since(sent_at(got.json()["n"].as_u64().unwrap() as usize)))
        .collect();
    latencies.sort();
    latencies[latencies.len() * 95 / 100]
}

pub fn numbered_events(numbers: std::ops::Range<usize>) -> Value {
    let events: Vec<Value> = numbers.map(|n| json!({"type": "run.failed", "payload": {"n": n}})).collect();
    json!({ "events": events })
}

/// A temporary data directory.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("webhooks-test").tempdir().unwrap()
}

/// A fast policy for tests: one-second retries.
pub fn fast_policy(retries: usize) -> DeliveryPolicy {
    DeliveryPolicy {
        schedule: vec![Duration::from_secs(1); retries],
        disable_after: 10,
        timeout: Duration::from_secs(5),
    }
}

/// The service running in this process, on a data directory it owns.
pub struct Service {
    pub running: Option<Running>,
    pub api: Api,
    pub data: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Service {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServeConfig)) -> Self {
        let dir = data_dir();
        let mut service = Self::start_in(dir.path(), adjust).await;
        service._dir = Some(dir);
        service
    }

    pub async fn start_in(data: &Path, adjust: impl FnOnce(&mut ServeConfig)) -> Self {
        let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), data.to_owned());
        config.settings.url_policy = UrlPolicy::insecure(true);
        config.admin_key = Some(ADMIN_KEY.to_owned());
        config.settings.policy = fast_policy(5);
        adjust(&mut config);
        let running = start(config).await.expect("the service starts");
        let api = Api::new(format!("http://{}", running.addr), ADMIN_KEY);
        Self { running: Some(running), api, data: data.to_owned(), _dir: None }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

/// A small client of the service's API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    client: reqwest::Client,
}

/// A response: status and JSON body (Null when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The error code of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

impl Api {
    pub fn new(base: String, key: &str) -> Self {
        Self { base, key: key.to_owned(), client: reqwest::Client::new() }
    }

    pub fn with_key(&self, key: &str) -> Self {
        Self { key: key.to_owned(), ..self.clone() }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut request =
            self.client.request(method.parse().unwrap(), format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn raw(&self, method: &str, path: &str, body: Vec<u8>) -> Reply {
        let request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body);
        Self::reply(request.send().await.unwrap()).await
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None).await
    }

    /// Creates an endpoint; panics unless 201. Answers the whole create response.
    pub async fn create_endpoint(&self, url: &str, events: &[&str]) -> Value {
        self.create_endpoint_with(json!({"url": url, "events": events})).await
    }

    pub async fn create_endpoint_with(&self, body: Value) -> Value {
        let reply = self.post("/v1/webhooks", body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body
    }

    /// Sends events; panics unless 202. Answers their ids.
    pub async fn send_events(&self, body: Value) -> Vec<String> {
        let reply = self.post("/v1/events", body).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
        reply.body["ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect()
    }

    /// Polls `path` until `done` holds for its body; panics after `timeout`.
    pub async fn wait_until(&self, path: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let reply = self.get(path).await;
            if reply.status == 200 && done(&reply.body) {
                return reply.body;
            }
            assert!(Instant::now() < deadline, "gave up waiting on {path}: {:?}", reply.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until endpoint `id` has `count` delivered deliveries (at most 100); asserts each
    /// took one attempt.
    pub async fn assert_delivered_once_each(&self, id: &str, count: usize) {
        let path = format!("/v1/webhooks/{id}/deliveries?status=delivered&limit=100");
        let delivered =
            self.wait_until(&path, Duration::from_secs(30), |b| b["data"].as_array().unwrap().len() == count).await;
        assert!(delivered["data"].as_array().unwrap().iter().all(|d| d["attempts"] == 1), "one attempt each");
    }

    /// Mints a key for `tenant` with `scopes`; answers the key.
    pub async fn mint_key(&self, tenant: &str, scopes: &[&str]) -> String {
        let reply = self.post("/v1/api-keys", json!({"name": "test", "tenant": tenant, "scopes": scopes})).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["key"].as_str().unwrap().to_owned()
    }
}

/// The real `webhooks` binary, started as a child process.
pub struct Binary {
    pub child: std::process::Child,
    pub api: Api,
    /// Every line it printed to stdout up to "listening on".
    pub banner: Vec<String>,
    rest: std::sync::mpsc::Receiver<String>,
}

/// The `webhooks` binary built beside this test (`cargo build --bins` puts it there).
pub fn binary_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join("webhooks");
    assert!(path.exists(), "{} is missing: run `cargo build --bins` first (scripts/test does)", path.display());
    path
}

/// Runs `webhooks admin-key` with `args` and `env`: the key it printed, or what it said on
/// stderr when it failed.
pub fn admin_key_command(args: &[&str], env: &[(&str, String)]) -> Result<String, String> {
    let output = std::process::Command::new(binary_path())
        .arg("admin-key")
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let key = printed.split("keep it): ").nth(1).unwrap_or_else(|| panic!("no key printed: {printed}"));
    Ok(key.trim().to_owned())
}

impl Binary {
    /// Starts `webhooks serve` on `data` with `args`, waits until it listens.
    pub fn serve(data: &Path, args: &[&str], admin_key: Option<&str>) -> Self {
        Self::serve_with_env(data, args, admin_key, &[])
    }

    /// [`Binary::serve`] with extra environment variables (e.g. an AWS endpoint).
    pub fn serve_with_env(data: &Path, args: &[&str], admin_key: Option<&str>, env: &[(&str, String)]) -> Self {
        Self::serve_command(std::process::Command::new(binary_path()), data, args, admin_key, env)
    }

    /// `webhooks serve --aws --provision` with `args`, on fresh resources named after `what`
    /// on the local emulator, with the test admin key; answers its data directory too.
    pub fn serve_on_aws(what: &str, args: &[&str]) -> (tempfile::TempDir, Self) {
        let data = data_dir();
        let prefix = local_aws::unique_name(what);
        let args = [&["--aws", "--provision", "--prefix", &prefix][..], args].concat();
        let binary = Self::serve_with_env(data.path(), &args, Some(ADMIN_KEY), &local_aws::local_aws().env());
        (data, binary)
    }

    /// [`Binary::serve`] with at most `limit` open file descriptors.
    pub fn serve_with_fd_limit(data: &Path, admin_key: &str, limit: u64) -> Self {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new(binary_path());
        let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
        // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
        unsafe {
            command.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        Self::serve_command(command, data, &[], Some(admin_key), &[])
    }

    fn serve_command(
        mut command: std::process::Command,
        data: &Path,
        args: &[&str],
        admin_key: Option<&str>,
        env: &[(&str, String)],
    ) -> Self {
        use std::io::BufRead;
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--allow-insecure-urls")
            .args(args)
            .env_remove("WEBHOOKS_ADMIN_KEY")
            // Fast retries unless the test says otherwise.
            .env("WEBHOOKS_RETRY_SCHEDULE", "1s,1s,1s,1s,1s")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if let Some(key) = admin_key {
            command.env("WEBHOOKS_ADMIN_KEY", key);
        }
        command.envs(env.iter().map(|(name, value)| (name, value)));
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, rest) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let address = loop {
            let line = rest.recv_timeout(Duration::from_secs(20)).expect("the binary prints its address");
            banner.push(line.clone());
            if let Some(address) = line.strip_prefix("listening on ") {
                break address.to_owned();
            }
        };
        let key = admin_key.map(str::to_owned).unwrap_or_else(|| {
            banner.iter().find_map(|line| line.split("keep it): ").nth(1).map(str::to_owned)).unwrap_or_default()
        });
        Binary { child, api: Api::new(address, &key), banner, rest }
    }

    /// What it prints from now on, line by line, until `enough` holds for the lines so far;
    /// panics after `timeout`.
    pub fn printed_until(&self, timeout: Duration, enough: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        while !enough(&lines) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.rest.recv_timeout(left).unwrap_or_else(|_| panic!("gave up waiting; printed: {lines:#?}"));
            lines.push(line);
        }
        lines
    }

    /// Sends SIGTERM and waits for the exit; answers the exit status and what it printed.
    pub fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let printed = self.rest.try_iter().collect();
        (exit, printed)
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Log lines, as the functions write them (`webhooks_lambda::json_logs(move || captured.clone())`).
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
