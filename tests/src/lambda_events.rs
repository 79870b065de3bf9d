//! Lambda events built from AWS's own samples (`tests/fixtures`): an API Gateway HTTP API
//! (payload 2.0) request and an SQS event, with the parts a test cares about replaced.

use base64::Engine;
use serde_json::{Value, json};

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The sample HTTP API request, turned into `method path?query` with this key and body.
pub fn http_api_request(method: &str, path: &str, query: &str, key: Option<&str>, body: Option<&str>) -> Value {
    let mut event = fixture("apigw-v2-request.json");
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    let headers = event["headers"].as_object_mut().unwrap();
    match key {
        Some(key) => headers.insert("authorization".into(), json!(format!("Bearer {key}"))),
        None => headers.remove("authorization"),
    };
    if let Some(body) = body {
        // API Gateway base64-encodes bodies it does not know to be text; both must work.
        headers.insert("content-length".into(), json!(body.len().to_string()));
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        event["isBase64Encoded"] = json!(true);
    }
    event
}

/// The sample SQS event with one record per (message id, receipt, body).
pub fn sqs_event(records: &[(&str, &str, &str)]) -> Value {
    let mut event = fixture("sqs-event.json");
    let template = event["Records"][0].clone();
    event["Records"] = records
        .iter()
        .map(|(id, receipt, body)| {
            let mut record = template.clone();
            record["messageId"] = json!(id);
            record["receiptHandle"] = json!(receipt);
            record["body"] = json!(body);
            record
        })
        .collect();
    event
}

/// The item identifiers of a partial batch response, sorted.
pub fn failed_ids(response: &Value) -> Vec<String> {
    let mut ids: Vec<String> = response["batchItemFailures"]
        .as_array()
        .expect("a partial batch response")
        .iter()
        .map(|failure| failure["itemIdentifier"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}
