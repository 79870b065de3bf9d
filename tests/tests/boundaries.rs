//! The crates' boundaries as their dependency trees show them: the core and the pipeline
//! link no SDK, database, Lambda runtime or HTTP client; the HTTP API, which `serve` and the
//! API Lambda share, links no AWS SDK, Lambda runtime or database; and `webhooks` built
//! without its `aws` feature links no AWS SDK. Read from `cargo tree` over the lock file, so a
//! dependency added anywhere below a crate shows up here.

use std::collections::BTreeSet;
use std::process::Command;

/// The packages `package` links (normal dependencies, transitively, itself included).
fn linked(package: &str, extra: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "--offline", "--quiet", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo tree: {}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8(output.stdout).unwrap();
    let names: BTreeSet<String> =
        tree.lines().filter_map(|line| line.split_whitespace().next()).map(str::to_owned).collect();
    assert!(names.contains(package), "{package} is in its own tree: {names:?}");
    names
}

/// Which of `forbidden` (names, or name prefixes ending in `*`) `package` links.
fn offending(package: &str, extra: &[&str], forbidden: &[&str]) -> Vec<String> {
    linked(package, extra)
        .into_iter()
        .filter(|name| {
            forbidden.iter().any(|rule| match rule.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == rule,
            })
        })
        .collect()
}

const AWS: [&str; 3] = ["aws-sdk-*", "aws-config", "webhooks-aws"];
const LAMBDA: [&str; 4] = ["lambda_runtime", "lambda_http", "aws_lambda_events", "webhooks-lambda"];
const DATABASE: [&str; 2] = ["rusqlite", "webhooks-sqlite"];
const HTTP: [&str; 5] = ["reqwest", "hyper", "axum", "webhooks-http", "webhooks-api"];

#[test]
fn the_core_and_the_pipeline_link_no_sdk_database_runtime_or_http() {
    let forbidden: Vec<&str> = [&AWS[..], &LAMBDA, &DATABASE, &HTTP].concat();
    for package in ["webhooks", "webhooks-pipeline"] {
        assert_eq!(offending(package, &[], &forbidden), Vec::<String>::new(), "{package} links these");
    }
}

#[test]
fn the_http_api_links_no_aws_sdk_lambda_runtime_or_database() {
    let forbidden: Vec<&str> = [&AWS[..], &LAMBDA, &DATABASE, &["reqwest", "webhooks-http"]].concat();
    assert_eq!(offending("webhooks-api", &[], &forbidden), Vec::<String>::new());
}

#[test]
fn serve_without_the_aws_feature_links_no_aws_sdk() {
    let forbidden: Vec<&str> = [&AWS[..], &LAMBDA].concat();
    assert_eq!(offending("webhooks-cli", &["--no-default-features"], &forbidden), Vec::<String>::new());
    // With it (the default), it does: the feature is what brings them.
    let linked = offending("webhooks-cli", &[], &forbidden);
    assert!(linked.contains(&"aws-sdk-dynamodb".to_owned()), "{linked:?}");
    assert!(!linked.iter().any(|name| name.starts_with("lambda")), "{linked:?}");
}
