//! A local DynamoDB + SQS for the tests: moto's server from the test venv, started once per
//! test binary and gone when it exits (the server stops when its stdin closes).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::ports::SystemClock;
use webhooks::settings::Settings;
use webhooks_api::App;
use webhooks_aws::deployment::{Deployment, provision};
use webhooks_aws::{AwsBackend, AwsPorts, AwsSettings};
use webhooks_http::ReqwestSender;

/// The Python of the venv that `scripts/test` sets up.
pub fn python() -> String {
    std::env::var("WEBHOOKS_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/../.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

pub struct LocalAws {
    /// `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL.
    pub endpoint: String,
    _server: Mutex<Child>,
}

static LOCAL_AWS: OnceLock<LocalAws> = OnceLock::new();

/// The emulator of this test binary, started on first use.
pub fn local_aws() -> &'static LocalAws {
    LOCAL_AWS.get_or_init(|| {
        let python = python();
        let script = format!("{}/local_aws.py", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{python} (run scripts/test to set up the venv with moto): {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("moto's first line");
        let port = line.trim().strip_prefix("port ").unwrap_or_else(|| panic!("moto did not start: {line:?}"));
        LocalAws { endpoint: format!("http://127.0.0.1:{port}"), _server: Mutex::new(child) }
    })
}

impl LocalAws {
    /// An SDK configuration pointing at the emulator, with placeholder credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "local-aws"))
            .load()
            .await
    }

    /// Environment variables that point a child process (the real binary) at the emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ]
    }
}

/// A resource name no other test of this run uses.
pub fn unique_name(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{what}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A freshly provisioned deployment on the emulator (its own table and queues) and the
/// settings the functions would read from their environment for it.
pub struct Provisioned {
    pub config: SdkConfig,
    /// The resources' prefix: the table's name and the queues' `{prefix}-...`.
    pub prefix: String,
    pub settings: AwsSettings,
    pub resources: webhooks_aws::deployment::Provisioned,
}

pub async fn provisioned(policy: DeliveryPolicy) -> Provisioned {
    let config = local_aws().sdk_config().await;
    let prefix = unique_name("wh");
    let deployment = Deployment::named(&prefix, &policy);
    let resources = provision(&aws_sdk_dynamodb::Client::new(&config), &aws_sdk_sqs::Client::new(&config), &deployment)
        .await
        .expect("provisioning on the emulator");
    let settings = AwsSettings {
        table: resources.table.clone(),
        events_queue_url: resources.events_url.clone(),
        events_dlq_url: resources.events_dlq_url.clone(),
        deliveries_queue_url: resources.deliveries_url.clone(),
        deliveries_dlq_url: resources.deliveries_dlq_url.clone(),
        slow_deliveries_queue_url: resources.slow_deliveries_url.clone(),
        service: Settings {
            policy,
            url_policy: webhooks::security::url_guard::UrlPolicy::insecure(true),
            ..Settings::default()
        },
    };
    Provisioned { config, prefix, settings, resources }
}

/// The API's state over `backend`, as the API Lambda's `main` builds it.
pub fn aws_app(backend: &AwsBackend, settings: &AwsSettings) -> Arc<App<AwsPorts<ReqwestSender>>> {
    Arc::new(App {
        store: backend.store.clone(),
        events: backend.events.clone(),
        deliveries: backend.deliveries.clone(),
        dead_letters: backend.dead_letters(),
        http: ReqwestSender::new(settings.service.url_policy.clone()),
        clock: SystemClock,
        settings: (&settings.service).into(),
        metrics: Default::default(),
        tracer: Default::default(),
    })
}
