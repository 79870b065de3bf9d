//! Where deliveries may go: the SSRF policy. [`UrlPolicy::check_url`] judges an endpoint's URL
//! when it is created or changed and again before every send; [`UrlPolicy::allows_address`]
//! judges every address a host name resolves to, at send time, so the address the HTTP client
//! connects to is the one that was checked (the HTTP adapter's resolver calls it).
//!
//! URLs are parsed with the `url` crate, the WHATWG parser the HTTP client itself uses, so
//! `https://2130706433/`, `https://0x7f.1/` and `https://[::ffff:7f00:1]/` are seen as the
//! 127.0.0.1 the client would connect to. A URL is also read as written (the `written`
//! module): one that other parsers (RFC 3986, curl, proxies) would read another way, or that
//! the WHATWG parser would silently rewrite (a backslash, a percent-encoded or numeric host,
//! a character it would escape), is refused, so the stored URL is the one every tool reads.
//!
//! HTTPS only. With the insecure switch (`--allow-insecure-urls`, development and tests),
//! also plain `http://`, to exactly `localhost`, `127.0.0.1` and `[::1]` as written (not
//! `2130706433`, `127.1` or `[::ffff:127.0.0.1]`, which stay refused). Internal addresses
//! ([`is_internal`]) are refused unless the operator's allow list ([`UrlPolicy::allow_private`])
//! names them.

pub use ipnet::IpNet;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use url::{Host, Url};

mod written;

pub const MAX_URL_LEN: usize = 2048;
/// Entries of the operator's allow list.
pub const MAX_ALLOW_PRIVATE: usize = 64;

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
    #[error("url must not contain a backslash: parsers disagree on where its host ends")]
    Backslash,
    #[error(
        "url must not contain {0:?}: only the characters RFC 3986 allows (percent-encode the others; \
         write an international host in its xn-- form)"
    )]
    Character(char),
    #[error("url has a '%' that does not begin a %XX escape")]
    BadEscape,
    #[error("url must begin with https:// and its host: other parsers read this one without a host")]
    NoAuthority,
    #[error("url's host {written:?} is read as {read:?} by the HTTP client but not by other parsers: write {read:?}")]
    HostRewritten { written: String, read: String },
}

/// The deployment's outbound policy; the same value for the API (create, update) and the
/// sender (every send).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// `--allow-insecure-urls`: http and https to `localhost`, `127.0.0.1` and `[::1]`.
    pub allow_insecure_local: bool,
    /// `--allow-private`: internal ranges the operator opens (e.g. a VPC's `10.0.0.0/16`).
    pub allow_private: Vec<IpNet>,
}

impl UrlPolicy {
    /// The default policy with the insecure switch set as given.
    pub fn insecure(allow_insecure_local: bool) -> Self {
        Self { allow_insecure_local, allow_private: Vec::new() }
    }

    /// The parsed URL if the policy allows it. A host name passes here; its addresses are
    /// judged when it is resolved ([`UrlPolicy::allows_address`]).
    pub fn check_url(&self, url: &str) -> Result<Url, UrlRejection> {
        if url.len() > MAX_URL_LEN {
            return Err(UrlRejection::TooLong);
        }
        // The parser would silently drop tabs and newlines and trim spaces; refuse them.
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlRejection::Malformed);
        }
        written::check_characters(url)?;
        let parsed = Url::parse(url).map_err(|_| UrlRejection::Malformed)?;
        let scheme = parsed.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(UrlRejection::NotHttps);
        }
        let authority = written::authority(url)?;
        if authority.userinfo || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(UrlRejection::Credentials);
        }
        if parsed.port() == Some(0) {
            return Err(UrlRejection::Malformed);
        }
        let host = parsed.host().ok_or(UrlRejection::Malformed)?;
        // The development hosts are judged as written: `2130706433` is not `127.0.0.1` here.
        if self.allow_insecure_local && written::is_local_dev_host(authority.host) {
            return Ok(parsed);
        }
        if scheme != "https" {
            return Err(UrlRejection::NotHttps);
        }
        self.check_host(&host)?;
        // Internal spellings were refused as internal above; any other rewritten host here.
        written::check_host(authority.host, &host)?;
        Ok(parsed)
    }

    fn check_host(&self, host: &Host<&str>) -> Result<(), UrlRejection> {
        match *host {
            Host::Domain(name) => {
                let name = name.trim_end_matches('.');
                if name == "localhost" || name.ends_with(".localhost") {
                    return Err(UrlRejection::InternalAddress);
                }
                if !is_hostname(name) {
                    return Err(UrlRejection::Malformed);
                }
            }
            Host::Ipv4(ip) => self.check_ip(IpAddr::V4(ip))?,
            Host::Ipv6(ip) => self.check_ip(IpAddr::V6(ip))?,
        }
        Ok(())
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), UrlRejection> {
        if is_internal(ip) && !self.is_allow_listed(ip) {
            return Err(UrlRejection::InternalAddress);
        }
        Ok(())
    }

    /// Whether a delivery to host name `name` may connect to `ip`, one of its addresses.
    pub fn allows_address(&self, name: &str, ip: IpAddr) -> bool {
        if self.allow_insecure_local && is_localhost(name) {
            return ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST);
        }
        !is_internal(ip) || self.is_allow_listed(ip)
    }

    fn is_allow_listed(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow_private.iter().any(|net| net.contains(&ip))
    }
}

/// Parses the operator's allow list: CIDRs (`10.0.0.0/16`, `fd00::/8`) or single addresses,
/// separated by commas or whitespace.
pub fn parse_allow_list(text: &str) -> Result<Vec<IpNet>, String> {
    let nets = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            IpNet::from_str(part)
                .or_else(|_| IpAddr::from_str(part).map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| format!("{part:?} is not a CIDR such as 10.0.0.0/16 or an IP address"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if nets.len() > MAX_ALLOW_PRIVATE {
        return Err(format!("at most {MAX_ALLOW_PRIVATE} entries"));
    }
    Ok(nets)
}

/// `localhost`, in any case, with or without the root's trailing dot.
fn is_localhost(name: &str) -> bool {
    name.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

fn is_hostname(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An IPv4 address written in IPv6 form, as the IPv4 address it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Addresses no delivery may reach unless allow-listed. IPv4: this network (0/8), loopback,
/// private, shared (CGNAT 100.64/10), link-local (the cloud metadata address), IETF protocol
/// assignments, documentation, benchmarking, multicast, reserved and broadcast. IPv6:
/// unspecified, loopback, IPv4-compatible (`::/96`), discard-only, Teredo, documentation,
/// unique local (fc00::/7), link-local, site-local, multicast, the local-use NAT64 prefix;
/// and an IPv4 address embedded in IPv6 (mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`, 6to4
/// `2002::/16`) is judged as that IPv4 address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded_v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_internal_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_internal_v4(embedded_v4(s[1], s[2]));
    }
    s[..6] == [0; 6] // ::/96: unspecified, loopback and the deprecated IPv4-compatible form
        || s[..4] == [0x100, 0, 0, 0] // discard-only 100::/64
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || (s[0] == 0x2001 && s[1] == 0) // Teredo 2001::/32
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local
        || (s[0] & 0xff00) == 0xff00 // multicast
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, insecure: bool) -> Result<(), UrlRejection> {
        UrlPolicy::insecure(insecure).check_url(url).map(|_| ())
    }

    #[test]
    fn https_public_hosts_pass() {
        assert_eq!(check("https://example.com/hooks?x=1", false), Ok(()));
        assert_eq!(check("https://93.184.216.34:8443/h", false), Ok(()));
        assert_eq!(check("https://[2606:4700::1111]/h", false), Ok(()));
        // NAT64 and 6to4 forms of a public IPv4 address are public.
        assert_eq!(check("https://[64:ff9b::808:808]/", false), Ok(()));
        assert_eq!(check("https://[2002:808:808::1]/", false), Ok(()));
    }

    /// Every spelling the WHATWG parser reads as an internal address, as the HTTP client
    /// would connect to it.
    #[test]
    fn numeric_spellings_of_internal_addresses_are_refused() {
        for internal in [
            "https://2130706433/",
            "https://2130706433./",
            "https://0x7f000001/",
            "https://0x7f.0.0.1/",
            "https://0177.0.0.1/",
            "https://012.0.0.1/",
            "https://127.1/",
            "https://0/",
            "https://2852039166/latest/meta-data",
            "https://169.254.169.254./",
            "https://[::127.0.0.1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[2002:a9fe:a9fe::]/",
            "https://[2002:7f00:1::1]/",
            "https://%31%32%37.0.0.1/",
            "https://LOCALHOST/",
            "https://localhost./",
            "https://api.localhost/",
        ] {
            assert_eq!(check(internal, false), Err(UrlRejection::InternalAddress), "{internal}");
        }
    }

    #[test]
    fn every_internal_range_is_refused() {
        for internal in [
            "https://127.0.0.1/",
            "https://127.255.255.254/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://0.0.0.0/",
            "https://0.1.2.3/",
            "https://100.64.0.1/",
            "https://100.127.255.255/",
            "https://192.0.0.8/",
            "https://198.18.0.1/",
            "https://224.0.0.1/",
            "https://239.255.255.250/",
            "https://240.0.0.1/",
            "https://255.255.255.255/",
            "https://[::]/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fc00::1]/",
            "https://[fe80::1]/",
            "https://[febf::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::8.8.8.8]/",
            "https://[64:ff9b:1::1]/",
            "https://[2001:db8::1]/",
            "https://[2001::1]/",
        ] {
            assert_eq!(check(internal, false), Err(UrlRejection::InternalAddress), "{internal}");
        }
        for public in ["https://172.32.0.1/", "https://100.128.0.1/", "https://11.0.0.1/", "https://[2001:4860::8888]/"]
        {
            assert_eq!(check(public, false), Ok(()), "{public}");
        }
    }

    #[test]
    fn malformed_and_insecure_urls_are_refused() {
        use UrlRejection::*;
        assert_eq!(check("http://example.com/", false), Err(NotHttps));
        assert_eq!(check("ftp://example.com/", true), Err(NotHttps));
        assert_eq!(check("file:///etc/passwd", true), Err(NotHttps));
        assert_eq!(check("http://localhost:9/", false), Err(NotHttps));
        assert_eq!(check("https://user:pw@example.com/", false), Err(Credentials));
        assert_eq!(check("https://user@example.com/", false), Err(Credentials));
        assert_eq!(check("https://exa mple.com/", false), Err(Malformed));
        assert_eq!(check(" https://example.com/", false), Err(Malformed));
        assert_eq!(check("https://exam\tple.com/", false), Err(Malformed));
        assert_eq!(check("https://example.com:99999/", false), Err(Malformed));
        assert_eq!(check("https://example.com:0/", false), Err(Malformed));
        assert_eq!(check("https://1.2.3.256/", false), Err(Malformed));
        assert_eq!(check("https://", false), Err(Malformed));
        assert_eq!(check("https://[::1/", false), Err(Malformed));
        assert_eq!(check("example.com/hook", false), Err(Malformed));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check(&long, false), Err(TooLong));
    }

    #[test]
    fn the_insecure_switch_opens_exactly_localhost_127_0_0_1_and_ipv6_loopback() {
        for local in
            ["http://127.0.0.1:8080/hook", "http://localhost:8080/hook", "http://[::1]:8080/hook", "https://localhost/"]
        {
            assert_eq!(check(local, true), Ok(()), "{local}");
        }
        use UrlRejection::*;
        assert_eq!(check("http://10.0.0.1/hook", true), Err(NotHttps));
        assert_eq!(check("https://10.0.0.1/hook", true), Err(InternalAddress));
        assert_eq!(check("https://127.0.0.2/hook", true), Err(InternalAddress));
        assert_eq!(check("http://127.0.0.2/hook", true), Err(NotHttps));
        assert_eq!(check("http://api.localhost/hook", true), Err(NotHttps));
        assert_eq!(check("https://[::ffff:127.0.0.2]/", true), Err(InternalAddress));

        let insecure = UrlPolicy::insecure(true);
        assert!(insecure.allows_address("localhost", "127.0.0.1".parse().unwrap()));
        assert!(insecure.allows_address("localhost.", "::1".parse().unwrap()));
        assert!(!insecure.allows_address("localhost", "127.0.0.2".parse().unwrap()));
        assert!(!insecure.allows_address("localhost", "10.0.0.1".parse().unwrap()));
        assert!(!insecure.allows_address("evil.example", "127.0.0.1".parse().unwrap()));
        assert!(!UrlPolicy::default().allows_address("localhost", "127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_allow_list_opens_only_the_ranges_it_names() {
        let policy =
            UrlPolicy { allow_insecure_local: false, allow_private: parse_allow_list("10.1.0.0/16, fd00::1").unwrap() };
        assert_eq!(policy.check_url("https://10.1.2.3/").map(|_| ()), Ok(()));
        assert_eq!(policy.check_url("https://[::ffff:10.1.2.3]/").map(|_| ()), Ok(()));
        assert_eq!(policy.check_url("https://[fd00::1]/").map(|_| ()), Ok(()));
        assert_eq!(policy.check_url("https://10.2.0.1/").map(|_| ()), Err(UrlRejection::InternalAddress));
        assert_eq!(policy.check_url("https://[fd00::2]/").map(|_| ()), Err(UrlRejection::InternalAddress));
        assert_eq!(policy.check_url("http://10.1.2.3/").map(|_| ()), Err(UrlRejection::NotHttps));
        assert!(policy.allows_address("svc.internal", "10.1.200.1".parse().unwrap()));
        assert!(!policy.allows_address("svc.internal", "169.254.169.254".parse().unwrap()));
        assert!(policy.allows_address("example.com", "8.8.8.8".parse().unwrap()));

        assert_eq!(parse_allow_list("").unwrap(), []);
        assert_eq!(parse_allow_list("10.1.2.3/8").unwrap(), [parse_allow_list("10.0.0.0/8").unwrap()[0]]);
        assert!(parse_allow_list("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
        assert!(parse_allow_list("intranet").is_err());
        assert!(parse_allow_list(&vec!["10.0.0.1"; MAX_ALLOW_PRIVATE + 1].join(",")).is_err());
    }
}
