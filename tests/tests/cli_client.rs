//! The client commands of the real `webhooks` binary against a real service and receiver:
//! each command's answer as a table, as fields, or as the API's JSON (`--json`); a refusal's
//! message and fields on stderr with exit status 1; a usage error with 2.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{ADMIN_KEY, Receiver, Service, binary_path};

struct Cli {
    url: String,
}

struct Ran {
    code: i32,
    out: String,
    err: String,
}

impl Ran {
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{}{}", self.out, self.err);
        serde_json::from_str(&self.out).unwrap_or_else(|e| panic!("not JSON alone ({e}): {}", self.out))
    }
}

impl Cli {
    fn run_with(&self, args: &[&str], stdin: &[u8], key: Option<&str>) -> Ran {
        let mut command = Command::new(binary_path());
        command.args(args).env("WEBHOOKS_URL", &self.url).env_remove("WEBHOOKS_KEY");
        if let Some(key) = key {
            command.env("WEBHOOKS_KEY", key);
        }
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let output = child.wait_with_output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        Ran { code: output.status.code().unwrap_or(-1), out: text(&output.stdout), err: text(&output.stderr) }
    }

    fn run(&self, args: &[&str]) -> Ran {
        self.run_with(args, b"", Some(ADMIN_KEY))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_command_works_against_a_running_service() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let cli = Cli { url: service.api.base.clone() };
    let url = receiver.url("/hooks");
    let run = |args: &[&str]| {
        let cli = &cli;
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tokio::task::block_in_place(|| cli.run(&args))
        }
    };

    // Endpoints.
    let created = run(&[
        "endpoints",
        "create",
        &url,
        "--events",
        "run.failed,playground.*",
        "--description",
        "shop",
        "--uid",
        "shop-1",
        "--json",
    ])
    .await
    .json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["events"], json!(["run.failed", "playground.*"]));
    assert!(created["secret"].is_string(), "the secret, once");
    let listed = run(&["endpoints", "list"]).await;
    assert!(listed.out.starts_with("ID "), "{}", listed.out);
    assert!(listed.out.lines().any(|line| line.starts_with(&id) && line.contains(&url)), "{}", listed.out);
    assert_eq!(run(&["endpoints", "show", "shop-1", "--json"]).await.json()["id"], id.as_str(), "by its uid");
    let updated = run(&["endpoints", "update", &id, "--description", "the shop"]).await;
    assert!(
        updated.out.lines().any(|line| line.starts_with("description") && line.ends_with("the shop")),
        "{}",
        updated.out
    );
    let disabled = run(&["endpoints", "disable", &id, "--json"]).await.json();
    assert_eq!(disabled["enabled"], false);
    assert_eq!(run(&["endpoints", "enable", &id, "--json"]).await.json()["enabled"], true);
    let tested = run(&["endpoints", "test", &id, "--event-type", "run.failed"]).await;
    assert!(tested.out.lines().any(|line| line.starts_with("delivered") && line.ends_with("true")), "{}", tested.out);

    // Events: from --data and from stdin.
    let sent = run(&["events", "send", "run.failed", "--data", r#"{"run": 1}"#, "--json"]).await.json();
    let event_id = sent["ids"][0].as_str().unwrap().to_owned();
    let piped = tokio::task::block_in_place(|| {
        cli.run_with(&["events", "send", "playground.created", "-", "--json"], br#"{"id": 42}"#, Some(ADMIN_KEY))
    });
    assert_eq!(piped.json()["ids"].as_array().unwrap().len(), 1);
    // trigger: the type's example payload from the catalog.
    let triggered = run(&["trigger", "run.failed", "--json"]).await;
    assert_eq!(triggered.code, 0, "{}", triggered.err);
    let catalog: Value = serde_json::from_str(include_str!("../../shared/catalog/event_types.json")).unwrap();
    let example = catalog.as_array().unwrap().iter().find(|t| t["type"] == "run.failed").unwrap()["example"].clone();
    assert!(example.is_object(), "{example}");
    let got = receiver.wait_for(4, Duration::from_secs(20)).await;
    assert!(got.iter().any(|r| r.json() == json!({"id": 42})), "the payload from stdin arrived");
    assert!(got.iter().any(|r| r.json() == example), "the example arrived");
    let events = run(&["events", "list", "--type", "run.failed", "--json"]).await.json();
    assert!(events["data"].as_array().unwrap().iter().any(|e| e["id"] == event_id.as_str()));
    let shown = run(&["events", "show", &event_id]).await;
    assert!(shown.out.contains("run.failed"), "{}", shown.out);

    // Deliveries.
    let delivered = service
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered"), Duration::from_secs(20), |b| {
            b["data"].as_array().unwrap().len() >= 3
        })
        .await;
    let delivery_id = delivered["data"][0]["id"].as_str().unwrap().to_owned();
    let table = run(&["deliveries", "list", &id, "--status", "delivered"]).await;
    assert!(table.out.lines().nth(1).is_some_and(|row| row.contains("delivered")), "{}", table.out);
    assert_eq!(run(&["deliveries", "show", &id, &delivery_id, "--json"]).await.json()["id"], delivery_id.as_str());
    assert_eq!(run(&["deliveries", "retry", &id, &delivery_id, "--json"]).await.json()["status"], "pending");

    // Keys and event types.
    let key =
        run(&["keys", "create", "reader", "--scopes", "webhooks:read", "--tenant", "acme", "--json"]).await.json();
    assert!(key["key"].as_str().unwrap().starts_with("whk_"));
    assert!(run(&["keys", "list", "--tenant", "acme"]).await.out.contains("reader"));
    let key_id = key["id"].as_str().unwrap().to_owned();
    assert_eq!(run(&["keys", "revoke", &key_id]).await.out.trim(), "revoked");
    let schema = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(schema.path(), r#"{"type": "object", "required": ["invoice_id"]}"#).unwrap();
    let schema_path = schema.path().to_str().unwrap().to_owned();
    let own = run(&[
        "event-types",
        "create",
        "invoice.paid",
        "--description",
        "paid",
        "--schema-file",
        &schema_path,
        "--json",
    ])
    .await
    .json();
    assert_eq!(own["schema"]["required"], json!(["invoice_id"]));
    assert!(run(&["event-types", "list"]).await.out.lines().any(|line| line.starts_with("invoice.paid")));
    let no_example = run(&["trigger", "invoice.paid"]).await;
    assert_eq!(no_example.code, 1, "{}", no_example.err);
    assert!(no_example.err.contains("has no example payload"), "{}", no_example.err);
    assert_eq!(run(&["trigger", "no.such"]).await.code, 1, "an unknown type");

    // Refusals: the API's message and each field on stderr, exit status 1.
    let refused = run(&["endpoints", "create", "https://10.0.0.1/x", "--events", "run.failed"]).await;
    assert_eq!(refused.code, 1, "{}", refused.err);
    assert!(refused.err.starts_with("webhooks: HTTP 400: "), "{}", refused.err);
    assert!(refused.err.lines().any(|line| line.starts_with("  url: ")), "{}", refused.err);
    assert_eq!(refused.out, "", "nothing on stdout");
    let missing = run(&["endpoints", "show", "ep_01ARZ3NDEKTSV4RRFFQ69G5FAV"]).await;
    assert_eq!((missing.code, missing.err.trim()), (1, "webhooks: HTTP 404: not found"));
    // Usage errors: exit status 2.
    assert_eq!(run(&["endpoints", "update", &id]).await.code, 2, "nothing to change");
    assert_eq!(run(&["events", "send", "run.failed", "--data", "not json"]).await.code, 2);
    assert_eq!(run(&["endpoints", "create", &url]).await.code, 2, "--events is required");
    let keyless = tokio::task::block_in_place(|| cli.run_with(&["endpoints", "list"], b"", None));
    assert_eq!(keyless.code, 2, "{}", keyless.err);
    assert!(keyless.err.contains("WEBHOOKS_KEY"), "{}", keyless.err);

    // Completions for three shells, naming the commands.
    for shell in ["bash", "zsh", "fish"] {
        let script = run(&["completions", shell]).await;
        assert_eq!(script.code, 0, "{}", script.err);
        assert!(script.out.contains("endpoints") && script.out.contains("event-types"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).await.code, 2);

    assert_eq!(run(&["endpoints", "delete", &id]).await.out.trim(), "deleted");
    assert_eq!(service.api.get(&format!("/v1/webhooks/{id}")).await.status, 404);
}
