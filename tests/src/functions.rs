//! The Lambda functions as the template deploys them: which bootstrap runs, and the
//! environment template.yaml gives it (its references resolved to the emulator's table and
//! queues).

use std::path::PathBuf;

use webhooks_aws::env;

use crate::binary_path;
use crate::local_aws::{Provisioned, local_aws};
use crate::template::{Stack, Template};

/// The function's bootstrap: by default the workspace's binary, built for this machine
/// beside the `webhooks` one; with `WEBHOOKS_BOOTSTRAPS` set to a `sam build` directory,
/// the bootstrap SAM built for the function whose `Binary` is `name` (scripts/check-deploy
/// runs the bootstrap tests again that way, on the arm64 release build, under qemu on a
/// machine of another architecture: see `WEBHOOKS_BOOTSTRAP_RUNNER` in `runtime_api.rs`).
pub fn bootstrap(name: &str) -> PathBuf {
    let Ok(built) = std::env::var("WEBHOOKS_BOOTSTRAPS") else {
        return binary_path().with_file_name(name);
    };
    let template = Template::load();
    let function = template
        .of_type("AWS::Serverless::Function")
        .into_iter()
        .find(|id| template.resource(id)["Metadata"]["BuildProperties"]["Binary"] == name)
        .unwrap_or_else(|| panic!("no function builds {name}"));
    let path = PathBuf::from(built).join(function).join("bootstrap");
    assert!(path.exists(), "{} is missing: run sam build first", path.display());
    path
}

/// The functions' environment as the template sets it for this deployment, plus what Lambda
/// itself would provide (region, credentials) pointed at the emulator.
pub fn function_env(aws: &Provisioned) -> Vec<(String, String)> {
    let template = Template::load();
    let mut stack = Stack { name: aws.prefix.clone(), ..Stack::default() };
    stack.refs.insert("Table".into(), aws.resources.table.clone());
    stack.refs.insert("EventsQueue".into(), aws.resources.events_url.clone());
    stack.refs.insert("EventsDeadLetterQueue".into(), aws.resources.events_dlq_url.clone());
    stack.refs.insert("DeliveriesQueue".into(), aws.resources.deliveries_url.clone());
    stack.refs.insert("DeliveriesDeadLetterQueue".into(), aws.resources.deliveries_dlq_url.clone());
    stack.refs.insert("SlowDeliveriesQueue".into(), aws.resources.slow_deliveries_url.clone());
    let variables = template.evaluate(&template.root["Globals"]["Function"]["Environment"]["Variables"], &stack);
    let mut vars: Vec<(String, String)> = variables
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    // The receiver listens on 127.0.0.1, which a deployed stack rightly refuses.
    vars.retain(|(name, _)| name != env::ALLOW_INSECURE_URLS);
    vars.push((env::ALLOW_INSECURE_URLS.into(), "true".into()));
    vars.extend(local_aws().env().into_iter().map(|(name, value)| (name.to_owned(), value)));
    vars
}
