//! `/mcp` driven by the official MCP client (Python's `mcp`), over real HTTP: initialize,
//! list the tools, call each, a read-only key refused where it may not write, a bad key
//! refused at the door; on the embedded service and on `serve --aws`.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::local_aws::python;
use webhooks_tests::{Api, Binary, Receiver, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_uses_every_tool() {
    let service = Service::start().await;
    every_tool(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_the_official_client_uses_every_tool() {
    let (_data, service) = Binary::serve_on_aws("mcp", &[]);
    every_tool(&service.api).await;
}

async fn every_tool(admin: &Api) {
    let writer = admin.mint_key("acme", &["webhooks:read", "webhooks:write", "webhooks:delete", "events:write"]).await;
    let reader = admin.mint_key("acme", &["webhooks:read"]).await;
    let receiver = Receiver::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/mcp_client.py");
    let args: Vec<String> =
        [script, &admin.base, &writer, &reader, &receiver.url("/mcp")].into_iter().map(str::to_owned).collect();
    let output =
        tokio::task::spawn_blocking(move || Command::new(python()).args(args).output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the MCP client failed: {stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let ok = |step: &str| {
        assert_eq!(seen[step]["is_error"], false, "{step}: {}", seen[step]);
        &seen[step]["structured"]
    };
    let refused = |step: &str, code: &str| {
        assert_eq!(seen[step]["is_error"], true, "{step}: {}", seen[step]);
        assert_eq!(seen[step]["structured"]["error"]["code"], code, "{step}: {}", seen[step]);
    };

    assert_eq!(seen["server_name"], "webhooks");
    let tools = seen["tools"].as_object().unwrap();
    let mut names: Vec<&str> = tools.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "create_webhook_endpoint",
            "delete_webhook_endpoint",
            "list_event_types",
            "list_webhook_deliveries",
            "list_webhook_endpoints",
            "send_event",
            "test_webhook_endpoint",
            "update_webhook_endpoint"
        ]
    );
    for (name, schema) in tools {
        assert_eq!(schema["type"], "object", "{name}");
        assert_eq!(schema["additionalProperties"], false, "{name}");
    }
    assert_eq!(tools["create_webhook_endpoint"]["required"], json!(["url", "events"]));

    let id = seen["endpoint_id"].as_str().expect("created").to_owned();
    assert!(ok("create")["secret"].as_str().unwrap().len() >= 32, "the create answer holds the secret");
    assert!(ok("list")["data"].as_array().unwrap().iter().any(|e| e["id"] == id));
    assert_eq!(ok("update")["description"], "via MCP");
    assert_eq!(ok("update")["uid"], "mcp-one");
    assert_eq!((&ok("update_by_uid")["id"], &ok("update_by_uid")["rate_limit"]), (&json!(id), &json!(5)), "by its uid");
    assert_eq!(ok("send")["ids"].as_array().unwrap().len(), 1);
    assert_eq!(ok("test")["delivered"], true);
    assert!(!ok("deliveries")["data"].as_array().unwrap().is_empty());
    ok("delivery_log");
    assert!(ok("event_types")["data"].as_array().unwrap().iter().any(|t| t["type"] == "run.failed"));
    refused("unknown_argument", "validation_error");
    refused("path_injection", "validation_error");
    refused("invalid", "validation_error");

    // A read-only key reads, and is refused what it may not do, as over HTTP.
    assert!(ok("reader_list")["data"].as_array().unwrap().iter().any(|e| e["id"] == id));
    assert!(ok("reader_list")["data"][0].get("secret").is_none());
    refused("reader_create", "forbidden");
    refused("reader_delete", "forbidden");
    ok("delete");
    refused("delete_again", "not_found");
    assert!(seen["bad_key"].as_str().unwrap().starts_with("refused"), "{}", seen["bad_key"]);

    // The tools' event and test delivery reached the receiver, signed.
    let got = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert!(got.iter().any(|g| g.json()["via"] == "mcp"));
    assert!(got.iter().all(|g| g.header("webhook-signature").starts_with("v1,")));
}
