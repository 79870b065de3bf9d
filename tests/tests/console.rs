//! The web console (`/console`), driven in headless Chromium by its accessible names
//! (`tests/console_browser.py`, Playwright) against the real service and real receivers; and
//! the headers that keep its pages safe.

use std::process::Command;

use webhooks_tests::local_aws::python;
use webhooks_tests::{ADMIN_KEY, Receiver, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_manages_endpoints_and_deliveries_in_the_console() {
    // No retry: a failing receiver's delivery is failed at once.
    let service = Service::start_with(|config| config.settings.policy.schedule.clear()).await;
    // The receiver that is stopped and started again is the script's own.
    let bad = Receiver::start().await;
    bad.always(500);
    let shots = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/screenshots/console");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/console_browser.py");
    let args: Vec<String> =
        [script, &service.api.base, ADMIN_KEY, &bad.url("/runs"), shots].into_iter().map(str::to_owned).collect();
    let output =
        tokio::task::spawn_blocking(move || Command::new(python()).args(args).output()).await.unwrap().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the browser run failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("every step passed"), "{stdout}");
    // The failing receiver was tried, then retried by hand.
    assert!(bad.received().len() >= 2, "{} requests", bad.received().len());
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
