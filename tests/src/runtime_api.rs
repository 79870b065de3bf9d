//! A minimal Lambda Runtime API (version 2018-06-01), the HTTP interface Lambda offers a
//! custom runtime: it hands the bootstrap the invocations a test queues and records what the
//! bootstrap answers. With it, the real `bootstrap` binaries run here as they run in Lambda.
//! Invocations may overlap: each goes to whichever started function asks for the next one,
//! as Lambda spreads invocations over its environments.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot, watch};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function sent back for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Response { request_id: String, body: Value },
    Error { request_id: String, body: Value },
    InitError { body: Value },
}

type Invocation = (Value, oneshot::Sender<Answer>);

struct Shared {
    invocations: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    /// Who waits for each invocation handed out, by request id.
    waiting: std::sync::Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    init_error: watch::Sender<Option<Value>>,
    next_id: AtomicU64,
    /// How many times a function asked for its next invocation.
    polls: watch::Sender<u64>,
}

pub struct RuntimeApi {
    pub address: SocketAddr,
    invocations: mpsc::UnboundedSender<Invocation>,
    init_error: watch::Receiver<Option<Value>>,
    polls: watch::Receiver<u64>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (invoke, invocations) = mpsc::unbounded_channel();
        let (init_error_sender, init_errors) = watch::channel(None);
        let (polled, polls) = watch::channel(0);
        let shared = Arc::new(Shared {
            invocations: Mutex::new(invocations),
            waiting: Default::default(),
            init_error: init_error_sender,
            next_id: AtomicU64::new(1),
            polls: polled,
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(&format!("{PREFIX}/invocation/{{id}}/response"), post(response))
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { address, invocations: invoke, init_error: init_errors, polls }
    }

    /// How many times a function has asked for its next invocation so far.
    pub fn polls(&self) -> u64 {
        *self.polls.borrow()
    }

    /// Waits until functions have asked for their next invocation `count` times in all.
    pub async fn wait_for_polls(&self, count: u64) {
        let mut polls = self.polls.clone();
        let polled = polls.wait_for(|n| *n >= count);
        tokio::time::timeout(Duration::from_secs(30), polled).await.expect("polled within 30 s").unwrap();
    }

    /// Invokes the function with `event` and waits for its answer (or its init error).
    pub async fn invoke(&self, event: Value) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.invocations.send((event, answer)).unwrap();
        let mut init_error = self.init_error.clone();
        let answer = async {
            tokio::select! {
                answer = answered => answer.expect("the runtime API runs"),
                failed = init_error.wait_for(Option::is_some) => {
                    Answer::InitError { body: failed.expect("the runtime API runs").clone().unwrap_or_default() }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), answer).await.expect("the function answers within 30 s")
    }

    /// Starts `binary` as Lambda starts a bootstrap: `AWS_LAMBDA_*` pointing at this API, and
    /// otherwise only `env` (Lambda's environment is the function's variables, not ours).
    pub fn start_function(&self, binary: &std::path::Path, env: &[(String, String)]) -> Function {
        let name = binary.file_name().unwrap().to_string_lossy().into_owned();
        // `WEBHOOKS_BOOTSTRAP_RUNNER` (a command and its arguments, split at spaces) runs a
        // bootstrap of another architecture: scripts/check-deploy runs the arm64 ones under
        // qemu's user mode emulation on an x86_64 machine.
        let runner = std::env::var("WEBHOOKS_BOOTSTRAP_RUNNER").unwrap_or_default();
        let mut command = match runner.split_whitespace().collect::<Vec<_>>().split_first() {
            Some((program, arguments)) => {
                let mut command = Command::new(program);
                command.args(arguments).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        let child = command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "smoke")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        Function { child }
    }
}

/// A running bootstrap; killed when dropped.
pub struct Function {
    pub child: Child,
}

impl Function {
    /// Stops the function and answers everything it printed (stdout, then stderr).
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        self.output()
    }

    /// Waits for the function to exit by itself; answers whether it succeeded, and its output.
    pub fn wait(mut self) -> (bool, String) {
        let status = self.child.wait().unwrap();
        (status.success(), self.output())
    }

    fn output(&mut self) -> String {
        use std::io::Read;
        let mut printed = String::new();
        let _ = self.child.wait();
        for stream in [
            self.child.stdout.take().map(|s| Box::new(s) as Box<dyn Read>),
            self.child.stderr.take().map(|s| Box::new(s) as Box<dyn Read>),
        ]
        .into_iter()
        .flatten()
        {
            let mut stream = stream;
            let _ = stream.read_to_string(&mut printed);
        }
        printed
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> (HeaderMap, String) {
    shared.polls.send_modify(|polls| *polls += 1);
    let (event, answer) = shared.invocations.lock().await.recv().await.expect("the test holds the sender");
    let id = format!("req-{}", shared.next_id.fetch_add(1, Ordering::Relaxed));
    shared.waiting.lock().unwrap().insert(id.clone(), answer);
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_str(&id).unwrap());
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline.as_millis() as u64));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:000000000000:function:smoke"),
    );
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (headers, event.to_string())
}

fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> StatusCode {
    match shared.waiting.lock().unwrap().remove(id) {
        Some(waiting) => {
            let _ = waiting.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&shared, &id, Answer::Response { request_id: id.clone(), body: parse(&body) })
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&shared, &id, Answer::Error { request_id: id.clone(), body: parse(&body) })
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared.init_error.send_replace(Some(parse(&body)));
    StatusCode::ACCEPTED
}
