//! Which endpoint URLs are allowed: the SSRF policy applied when an endpoint is created or
//! changed.
//!
//! HTTPS only; plain `http://` (and HTTPS) to `localhost`/`127.0.0.1`/`[::1]` only when the
//! deployment allows insecure URLs (local development and tests). Hosts that are literal
//! loopback, private, link-local (the cloud metadata address among them), shared, unspecified
//! or multicast IPs are refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRejection {
    #[error("url must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("url is not a valid absolute URL")]
    Malformed,
    #[error("url must use https")]
    NotHttps,
    #[error("url must not carry credentials")]
    Credentials,
    #[error("url points at a private, loopback, link-local or otherwise internal address")]
    InternalAddress,
}

/// Checks `url` against the policy; `allow_insecure_local` is the `--allow-insecure-urls` switch.
pub fn check_url(url: &str, allow_insecure_local: bool) -> Result<(), UrlRejection> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlRejection::TooLong);
    }
    let (scheme, rest) = url.split_once("://").ok_or(UrlRejection::Malformed)?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlRejection::Malformed);
    }
    if authority.contains('@') {
        return Err(UrlRejection::Credentials);
    }
    let host = host_of(authority).ok_or(UrlRejection::Malformed)?;
    let is_local_dev_host = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1");
    if allow_insecure_local && is_local_dev_host && (scheme == "http" || scheme == "https") {
        return Ok(());
    }
    if scheme != "https" {
        return Err(UrlRejection::NotHttps);
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return Err(UrlRejection::InternalAddress);
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if is_internal(ip) => Err(UrlRejection::InternalAddress),
        Ok(_) => Ok(()),
        Err(_) if is_hostname(&host) => Ok(()),
        Err(_) => Err(UrlRejection::Malformed),
    }
}

/// The lower-cased host of `authority` (`host[:port]` or `[v6][:port]`), port checked.
fn host_of(authority: &str) -> Option<String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if let Some(port) = port {
        port.parse::<u16>().ok().filter(|p| *p != 0)?;
    }
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

fn is_hostname(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Loopback, private, link-local, shared (CGNAT), unspecified, broadcast, multicast,
/// documentation and IPv4-mapped forms of them.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_public_hosts_pass() {
        assert_eq!(check_url("https://example.com/hooks?x=1", false), Ok(()));
        assert_eq!(check_url("https://93.184.216.34:8443/h", false), Ok(()));
    }

    #[test]
    fn insecure_and_internal_urls_are_refused() {
        use UrlRejection::*;
        assert_eq!(check_url("http://example.com/", false), Err(NotHttps));
        assert_eq!(check_url("ftp://example.com/", true), Err(NotHttps));
        assert_eq!(check_url("http://localhost:9/", false), Err(NotHttps));
        for internal in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://100.64.0.1/",
            "https://localhost/",
        ] {
            assert_eq!(check_url(internal, false), Err(InternalAddress), "{internal}");
        }
        assert_eq!(check_url("https://user:pw@example.com/", false), Err(Credentials));
        assert_eq!(check_url("https://exa mple.com/", false), Err(Malformed));
        assert_eq!(check_url("https://example.com:99999/", false), Err(Malformed));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check_url(&long, false), Err(TooLong));
    }

    #[test]
    fn local_http_only_with_the_insecure_switch() {
        assert_eq!(check_url("http://127.0.0.1:8080/hook", true), Ok(()));
        assert_eq!(check_url("http://localhost:8080/hook", true), Ok(()));
        assert_eq!(check_url("http://[::1]:8080/hook", true), Ok(()));
        assert_eq!(check_url("http://10.0.0.1/hook", true), Err(UrlRejection::NotHttps));
        assert_eq!(check_url("https://10.0.0.1/hook", true), Err(UrlRejection::InternalAddress));
    }
}
