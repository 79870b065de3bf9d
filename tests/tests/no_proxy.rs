//! Deliveries never go through a proxy from the environment: a proxy would resolve the
//! receiver's name itself, where the URL policy cannot check the address. Its own test binary,
//! since it sets process-wide environment variables.

use std::time::Duration;

use webhooks::deliveries::outbound::{HttpSender, OutboundRequest};
use webhooks::security::url_guard::UrlPolicy;
use webhooks_http::ReqwestSender;
use webhooks_tests::{CountingPort, Receiver};

#[tokio::test]
async fn proxy_variables_are_ignored() {
    let proxy = CountingPort::bind("127.0.0.1:0").await;
    let proxy_url = format!("http://{}", proxy.addr);
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        // SAFETY: the only test of this binary, before any other thread reads the environment.
        unsafe { std::env::set_var(name, &proxy_url) };
    }
    let receiver = Receiver::start().await;
    let sender = ReqwestSender::new(UrlPolicy::insecure(true));
    let outcome = sender
        .post(OutboundRequest {
            url: receiver.url("/direct"),
            headers: Vec::new(),
            body: "{}".into(),
            timeout: Duration::from_secs(5),
        })
        .await;
    assert_eq!(outcome.status, Some(200), "{outcome:?}");
    assert_eq!((receiver.received().len(), proxy.accepted()), (1, 0));
}
