//! Property tests of the pure parts: the URL guard, subscription matching and signing. Each
//! runs a bounded number of cases (proptest's default, 256), so CI time stays fixed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use webhooks::events::patterns::{pattern_matches, patterns_matching};
use webhooks::security::signing::Secret;
use webhooks::security::signing::SigningKey;
use webhooks::security::url_guard::{IpNet, UrlPolicy, UrlRejection, is_internal};

/// IPv4 addresses from the internal ranges.
fn internal_v4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[b, c, d]| Ipv4Addr::new(127, b, c, d)),
        any::<[u8; 3]>().prop_map(|[b, c, d]| Ipv4Addr::new(10, b, c, d)),
        (16u8..32, any::<[u8; 2]>()).prop_map(|(b, [c, d])| Ipv4Addr::new(172, b, c, d)),
        any::<[u8; 2]>().prop_map(|[c, d]| Ipv4Addr::new(192, 168, c, d)),
        any::<[u8; 2]>().prop_map(|[c, d]| Ipv4Addr::new(169, 254, c, d)),
        (64u8..128, any::<[u8; 2]>()).prop_map(|(b, [c, d])| Ipv4Addr::new(100, b, c, d)),
        any::<[u8; 3]>().prop_map(|[b, c, d]| Ipv4Addr::new(0, b, c, d)),
        (224u8..=255, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d)),
    ]
}

/// The spellings of one IPv4 address that a WHATWG parser (and so the HTTP client) accepts.
fn spellings(ip: Ipv4Addr) -> Vec<String> {
    let [a, b, c, d] = ip.octets();
    let n = u32::from(ip);
    vec![
        ip.to_string(),
        n.to_string(),
        format!("{n}."),
        format!("0x{n:x}"),
        format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
        format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        format!("{a}.{}", n & 0x00ff_ffff),
        format!("{a}.{b}.{}", n & 0xffff),
        format!("[::ffff:{ip}]"),
        format!("[::{ip}]"),
        format!("[64:ff9b::{ip}]"),
        format!("[2002:{:x}:{:x}::1]", n >> 16, n & 0xffff),
    ]
}

/// The refused ranges as docs/security.md lists them.
const INTERNAL_V4: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
];
const INTERNAL_V6: &[&str] = &[
    "::/96",
    "100::/64",
    "64:ff9b:1::/48",
    "2001::/32",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];
/// IPv6 ranges that carry an IPv4 address, judged as that address.
const EMBEDDING_V4: &[&str] = &["::ffff:0:0/96", "64:ff9b::/96", "2002::/16"];

fn nets(cidrs: &[&str]) -> Vec<IpNet> {
    cidrs.iter().map(|cidr| cidr.parse().unwrap()).collect()
}

/// Whether `ip` is in a listed range, or carries an IPv4 address that is.
fn listed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => nets(INTERNAL_V4).iter().any(|net| net.contains(&ip)),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let embedded =
                if v6.segments()[..6] == [0, 0, 0, 0, 0, 0xffff] || v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                    Some(bits as u32)
                } else if v6.segments()[0] == 0x2002 {
                    Some((bits >> 80) as u32)
                } else {
                    None
                };
            match embedded {
                Some(v4) => listed(IpAddr::V4(Ipv4Addr::from(v4))),
                None => nets(INTERNAL_V6).iter().any(|net| net.contains(&ip)),
            }
        }
    }
}

/// Addresses of `width` bits: any, or one inside one of `cidrs`.
fn near_listed_ranges(cidrs: Vec<&'static str>, width: u32) -> impl Strategy<Value = u128> {
    let inside = (0..cidrs.len(), any::<u128>()).prop_map(move |(i, host)| {
        let net: IpNet = cidrs[i].parse().unwrap();
        let (network, prefix) = match net {
            IpNet::V4(net) => (u128::from(u32::from(net.network())), u32::from(net.prefix_len())),
            IpNet::V6(net) => (u128::from(net.network()), u32::from(net.prefix_len())),
        };
        let host_bits = width - prefix;
        let mask = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
        network | (host & mask)
    });
    let any_address = any::<u128>().prop_map(move |n| if width == 128 { n } else { n & ((1u128 << width) - 1) });
    prop_oneof![any_address, inside]
}

proptest! {
    #[test]
    fn every_spelling_of_an_internal_address_is_refused(ip in internal_v4(), insecure in any::<bool>()) {
        for host in spellings(ip) {
            let url = format!("https://{host}/hook");
            let checked = UrlPolicy::insecure(insecure).check_url(&url);
            // The insecure switch opens 127.0.0.1 as written, and no other spelling of it.
            if insecure && host == "127.0.0.1" {
                prop_assert!(checked.is_ok(), "{}", url);
                continue;
            }
            prop_assert_eq!(checked.map(|_| ()), Err(UrlRejection::InternalAddress), "{}", url);
        }
    }

    /// A public address passes only as four decimal numbers (or as an IPv6 literal): any
    /// other spelling is read as an address by the HTTP client and as a name by RFC 3986
    /// parsers, so it is refused and the answer names the address it reads as.
    #[test]
    fn other_spellings_of_a_public_address_are_refused(ip in any::<u32>().prop_map(Ipv4Addr::from)) {
        prop_assume!(!is_internal(IpAddr::V4(ip)));
        // IPv6 forms are judged by the address they embed (`literals_pass_exactly_when_public`).
        for host in spellings(ip).into_iter().filter(|host| !host.starts_with('[')) {
            let checked = UrlPolicy::default().check_url(&format!("https://{host}/hook")).map(|_| ());
            if host == ip.to_string() {
                prop_assert_eq!(checked, Ok(()), "{}", host);
            } else {
                prop_assert_eq!(checked, Err(UrlRejection::HostRewritten { written: host.clone(), read: ip.to_string() }));
            }
        }
    }

    /// Whatever the text, the guard answers (no panic); what it lets through is https (or the
    /// local development hosts) and never an internal literal.
    #[test]
    fn the_guard_never_lets_an_internal_literal_through(text in "\\PC{0,80}", host in "[0-9a-fx.:\\[\\]]{1,24}") {
        for url in [text.clone(), format!("https://{host}/"), format!("https://{text}")] {
            if let Ok(parsed) = UrlPolicy::default().check_url(&url) {
                prop_assert_eq!(parsed.scheme(), "https");
                match parsed.host() {
                    Some(url::Host::Ipv4(ip)) => prop_assert!(!is_internal(IpAddr::V4(ip)), "{}", url),
                    Some(url::Host::Ipv6(ip)) => prop_assert!(!is_internal(IpAddr::V6(ip)), "{}", url),
                    Some(url::Host::Domain(name)) => {
                        let name = name.trim_end_matches('.');
                        prop_assert!(name != "localhost" && !name.ends_with(".localhost"), "{}", url);
                    }
                    None => prop_assert!(false, "no host in {}", url),
                }
            }
        }
    }

    /// An address is let through exactly when it falls in none of the ranges that
    /// docs/security.md lists (written out below as CIDRs, apart from `is_internal`), in IPv4
    /// and IPv6 alike; half of the addresses tried are drawn from inside those ranges.
    #[test]
    fn literals_pass_exactly_when_outside_the_listed_ranges(
        v4 in near_listed_ranges(INTERNAL_V4.to_vec(), 32),
        v6 in near_listed_ranges([INTERNAL_V6, EMBEDDING_V4].concat(), 128),
    ) {
        let v4 = IpAddr::V4(Ipv4Addr::from(v4 as u32));
        let v6 = IpAddr::V6(Ipv6Addr::from(v6));
        for ip in [v4, v6] {
            let host = match ip { IpAddr::V4(ip) => ip.to_string(), IpAddr::V6(ip) => format!("[{ip}]") };
            let passed = UrlPolicy::default().check_url(&format!("https://{host}/")).is_ok();
            prop_assert_eq!(passed, !listed(ip), "{}", host);
            prop_assert_eq!(UrlPolicy::default().allows_address("example.com", ip), !listed(ip), "{}", host);
        }
    }

    /// The dispatcher looks subscriptions up by `patterns_matching`; it must find exactly the
    /// patterns `pattern_matches` accepts.
    #[test]
    fn subscription_lookup_keys_agree_with_matching(
        event in "[a-z]{1,4}(\\.[a-z]{1,4}){0,3}",
        pattern in prop_oneof![Just("*".to_owned()), "[a-z]{1,4}(\\.[a-z]{1,4}){0,3}", "[a-z]{1,4}(\\.[a-z]{1,4}){0,2}\\.\\*"],
    ) {
        prop_assert_eq!(pattern_matches(&pattern, &event), patterns_matching(&event).contains(&pattern));
        prop_assert!(pattern_matches(&event, &event));
        prop_assert!(pattern_matches("*", &event));
    }

    /// Both signatures are the HMAC-SHA256 the receivers compute, for any secret and body.
    #[test]
    fn signatures_are_what_receivers_compute(
        secret in "[ -~]{16,64}",
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        id in "[a-z0-9_]{1,40}",
        at in 0i64..4_000_000_000,
    ) {
        let key = SigningKey::new(&Secret::new(secret.clone()));
        let mac = |parts: &[&[u8]]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            for part in parts { mac.update(part); }
            mac.finalize().into_bytes()
        };
        prop_assert_eq!(key.body_signature(&body), format!("sha256={}", hex::encode(mac(&[&body]))));
        let signed = [id.as_bytes(), b".", at.to_string().as_bytes(), b".", &body].concat();
        let standard = base64::engine::general_purpose::STANDARD.encode(mac(&[&signed]));
        prop_assert_eq!(key.standard_signature(&id, at, &body), format!("v1,{standard}"));
    }
}
