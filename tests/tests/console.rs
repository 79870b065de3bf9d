//! The web console (`/console`), driven in headless Chromium by its accessible names
//! (`tests/console_browser.py`, Playwright) against the real service and real receivers; and
//! the headers that keep its pages safe.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::local_aws::python;
use webhooks_tests::{ADMIN_KEY, Receiver, Service};

/// Runs a browser script of `tests/` with `args`; panics with its output unless it passed.
async fn browse(script: &str, args: Vec<String>) {
    let script = format!("{}/{script}", env!("CARGO_MANIFEST_DIR"));
    let run = move || Command::new(python()).arg(script).args(args).output();
    let output = tokio::task::spawn_blocking(run).await.unwrap().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the browser run failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("every step passed"), "{stdout}");
}

const SHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/screenshots/console");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_manages_endpoints_and_deliveries_in_the_console() {
    // No retry: a failing receiver's delivery is failed at once.
    let service = Service::start_with(|config| config.settings.policy.schedule.clear()).await;
    // The receiver that is stopped and started again is the script's own.
    let bad = Receiver::start().await;
    bad.always(500);
    let args = [&service.api.base, ADMIN_KEY, &bad.url("/runs"), SHOTS].map(|arg| arg.to_string()).to_vec();
    browse("console_browser.py", args).await;
    // The failing receiver was tried, then retried by hand.
    assert!(bad.received().len() >= 2, "{} requests", bad.received().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_manages_its_endpoints_in_the_portal_inside_another_sites_frame() {
    // Any page on 127.0.0.1 may frame it: the test's other site is there, on another port.
    let service =
        Service::start_with(|config| config.settings.console_frame_ancestors = "http://127.0.0.1:*".into()).await;
    let receiver = Receiver::start().await;
    let admin = &service.api;
    let scopes = ["webhooks:read", "webhooks:write", "webhooks:delete", "portal:write"];
    let acme = admin.with_key(&admin.mint_key("acme", &scopes).await);
    let globex = admin.with_key(&admin.mint_key("globex", &scopes).await);
    let (a_url, b_url, other_url) = (receiver.url("/a"), receiver.url("/b"), receiver.url("/globex"));
    let a = acme.create_endpoint(&a_url, &["*"]).await["id"].clone();
    acme.create_endpoint(&b_url, &["*"]).await;
    let other = globex.create_endpoint(&other_url, &["*"]).await["id"].clone();
    let mint = async |body: Value| {
        let reply = acme.post("/v1/portal-sessions", body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body
    };
    let full = mint(json!({})).await;
    let limited = mint(json!({"endpoints": [a], "read_only": true})).await;
    let revoked = mint(json!({})).await;
    assert_eq!(acme.delete(&format!("/v1/portal-sessions/{}", revoked["id"].as_str().unwrap())).await.status, 204);
    let expired = mint(json!({"expires_in": 1})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let sessions = json!({
        "full": full, "limited": limited, "revoked": revoked, "expired": expired,
        "endpoints": [a_url, b_url, other_url], "limited_endpoint": a, "other_endpoint": other,
    });
    browse("portal_browser.py", vec![service.api.base.clone(), sessions.to_string(), SHOTS.to_owned()]).await;
    assert_eq!(receiver.received().len(), 1, "the portal's test delivery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_carry_a_strict_policy_and_no_secret() {
    let service = Service::start().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let root = client.get(format!("{}/", service.api.base)).send().await.unwrap();
    assert_eq!(root.status().as_u16(), 303);
    assert_eq!(root.headers()["location"], "/console");
    let files = webhooks_api::console::FILES.map(|(name, kind, _)| (format!("/console/{name}"), kind));
    let mut first_load = 0;
    for (path, kind) in [("/console".to_owned(), "text/html")].into_iter().chain(files) {
        let answer = client.get(format!("{}{path}", service.api.base)).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{path}");
        let headers = answer.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind.split(';').next().unwrap()),
            "{path}: {headers:?}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.get("set-cookie").is_none(), "the console sets no cookie");
        let body = answer.text().await.unwrap();
        first_load += body.len();
        assert!(!body.contains(ADMIN_KEY), "{path} shows no key");
        if path == "/console" {
            for (name, _, _) in webhooks_api::console::FILES.iter().filter(|(name, _, _)| name.ends_with(".js")) {
                assert!(body.contains(&format!("src=\"/console/{name}\"")), "the page loads {name}");
            }
            assert!(!body.contains("<script>") && !body.contains(" style="), "no inline script or style");
        }
    }
    // Everything the first load fetches, uncompressed, within the 200 KiB it may take compressed.
    println!("the console's first load: {first_load} bytes");
    assert!(first_load < 200 * 1024, "{first_load} bytes");
    let missing = client.get(format!("{}/console/nothing.js", service.api.base)).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
