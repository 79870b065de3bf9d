//! URLs that two parsers read two ways, and loopback spelled other than the insecure switch
//! names it, are refused by the real binary (run with `--allow-insecure-urls`, as in
//! development) with a 400 that names the reason; nothing is stored and nothing is sent.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Reply};

/// The `url` field's message of a refused create; panics unless it is a 400 on `url`.
fn url_refusal(reply: &Reply, url: &str) -> String {
    assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{url}: {:?}", reply.body);
    let details = reply.body["error"]["details"].as_array().unwrap();
    let message = details.iter().find(|d| d["field"] == "url").unwrap_or_else(|| panic!("{url}: {details:?}"));
    message["message"].as_str().unwrap().to_owned()
}

async fn create(api: &Api, url: &str) -> Reply {
    api.post("/v1/webhooks", json!({"url": url, "events": ["run.failed"]})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_read_two_ways_and_other_loopback_spellings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let service = Binary::serve(dir.path(), &[], None);
    let api = &service.api;
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();

    // (url, a part of the message that names the reason)
    let refused: Vec<(String, &str)> = vec![
        ("https://example.com\\@127.0.0.1/hook".into(), "backslash"),
        (format!("http://localhost:{port}\\@example.com/a"), "backslash"),
        ("https://%38.8.8.8/hook".into(), "\"%38.8.8.8\" is read as \"8.8.8.8\""),
        ("https://134744072/hook".into(), "\"134744072\" is read as \"8.8.8.8\""),
        ("https://ex%61mple.com/hook".into(), "is read as \"example.com\""),
        ("https://１２７.０.０.１/hook".into(), "RFC 3986"),
        ("https://bücher.example/hook".into(), "xn--"),
        ("https://example.com/%zz".into(), "%XX"),
        ("https:example.com/hook".into(), "without a host"),
        ("https://@example.com/hook".into(), "credentials"),
    ];
    for (url, reason) in &refused {
        let message = url_refusal(&create(api, url).await, url);
        assert!(message.contains(reason), "{url}: {message}");
    }
    // Under the switch, loopback passes only as `localhost`, `127.0.0.1` or `[::1]`.
    for host in
        ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "127.0.0.2", "0", "[::ffff:127.0.0.1]", "[0:0:0:0:0:0:0:1]"]
    {
        let url = format!("http://{host}:{port}/a");
        assert!(url_refusal(&create(api, &url).await, &url).contains("https"), "{url}");
        let secure = format!("https://{host}:{port}/a");
        assert!(url_refusal(&create(api, &secure).await, &secure).contains("internal"), "{secure}");
    }
    let listed = api.get("/v1/webhooks").await;
    assert_eq!(listed.body["data"], json!([]), "nothing was stored");

    // The spellings the switch names still work, and a PATCH to a refused URL changes nothing.
    let good = format!("http://127.0.0.1:{port}/a");
    let created = create(api, &good).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap();
    for url in [format!("http://2130706433:{port}/a"), "https://example.com\\@127.0.0.1/hook".into()] {
        let reply = api.patch(&format!("/v1/webhooks/{id}"), json!({"url": url})).await;
        url_refusal(&reply, &url);
    }
    let shown = api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(shown.body["url"], Value::String(good), "stored exactly as given, unchanged");
    for url in [format!("http://localhost:{port}/b"), format!("http://[::1]:{port}/c")] {
        assert_eq!(create(api, &url).await.status, 201, "{url}");
    }
    let tested = api.post(&format!("/v1/webhooks/{id}/test"), json!({})).await;
    assert_eq!(tested.status, 200, "{:?}", tested.body);
    receiver.wait_for(1, Duration::from_secs(10)).await;
    receiver.assert_stays_at(1, Duration::from_millis(300)).await;
}
