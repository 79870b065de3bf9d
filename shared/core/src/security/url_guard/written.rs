//! The URL as written, read without the WHATWG parser's repairs. The HTTP client reads a URL
//! by WHATWG rules, which turn `\` into `/`, decode a percent-encoded host, read
//! `2130706433` as `127.0.0.1` and take `https:example.com` for `https://example.com/`;
//! RFC 3986 parsers, curl and proxies read the same text another way (the host of
//! `https://example.com\@127.0.0.1/` is `127.0.0.1` to them). A stored URL is shown back and
//! copied into other tools, so it must read the same to all of them: these checks refuse
//! whatever the WHATWG parser would rewrite.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::Host;

use super::{UrlRejection, is_localhost};

/// The parts of the authority as written.
pub(super) struct Authority<'a> {
    /// The host, as written: a name, an IPv4 or an IPv6 literal with its brackets.
    pub host: &'a str,
    /// Whether an `@` is there (credentials, even empty ones).
    pub userinfo: bool,
}

/// Only the characters RFC 3986 allows, and `%` only as a `%XX` escape. The WHATWG parser
/// would turn a backslash into a slash and percent-encode the others (`"`, `<`, `{`, non-ASCII)
/// or, in a host, map them (IDNA), so the URL sent would not be the URL stored.
pub(super) fn check_characters(url: &str) -> Result<(), UrlRejection> {
    if url.contains('\\') {
        return Err(UrlRejection::Backslash);
    }
    if let Some(c) = url.chars().find(|&c| !is_uri_char(c)) {
        return Err(UrlRejection::Character(c));
    }
    let bytes = url.as_bytes();
    for (at, _) in url.match_indices('%') {
        let escape = bytes.get(at + 1..at + 3);
        if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
            return Err(UrlRejection::BadEscape);
        }
    }
    Ok(())
}

/// RFC 3986's unreserved and reserved characters, and `%`.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// The authority of `scheme://authority/...`, as written. `https:example.com` and
/// `https:///example.com`, which the WHATWG parser repairs and RFC 3986 reads without a host,
/// are refused.
pub(super) fn authority(url: &str) -> Result<Authority<'_>, UrlRejection> {
    let (scheme, rest) = url.split_once("://").ok_or(UrlRejection::NoAuthority)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(UrlRejection::NoAuthority);
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((_, host_port)) => (true, host_port),
        None => (false, authority),
    };
    let host = if host_port.starts_with('[') {
        host_port.find(']').map_or(host_port, |end| &host_port[..=end])
    } else {
        host_port.split_once(':').map_or(host_port, |(host, _)| host)
    };
    if host.is_empty() {
        return Err(UrlRejection::NoAuthority);
    }
    Ok(Authority { host, userinfo })
}

/// `localhost` (any case, with or without the root's dot), `127.0.0.1` or `[::1]`, exactly
/// as the insecure switch names them.
pub(super) fn is_local_dev_host(written: &str) -> bool {
    is_localhost(written) || written == "127.0.0.1" || written == "[::1]"
}

/// The host as written must be the host as read: a name in its ASCII form (case aside), an
/// IPv4 address as four decimal numbers, or an IPv6 literal that the standard library reads
/// as the same address.
pub(super) fn check_host(written: &str, read: &Host<&str>) -> Result<(), UrlRejection> {
    let same = match read {
        Host::Domain(name) => written.eq_ignore_ascii_case(name),
        Host::Ipv4(ip) => written.parse::<Ipv4Addr>().is_ok_and(|w| w == *ip),
        Host::Ipv6(ip) => written
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
            .is_some_and(|w| w == *ip),
    };
    if same {
        return Ok(());
    }
    Err(UrlRejection::HostRewritten { written: written.to_owned(), read: read.to_string() })
}

#[cfg(test)]
mod tests {
    use super::super::{UrlPolicy, UrlRejection};

    fn check(url: &str, insecure: bool) -> Result<(), UrlRejection> {
        UrlPolicy::insecure(insecure).check_url(url).map(|_| ())
    }

    #[test]
    fn a_backslash_is_refused_anywhere() {
        for url in [
            "https://example.com\\@127.0.0.1/hook",
            "https://example.com\\@8.8.8.8/hook",
            "https:\\\\example.com/hook",
            "https://example.com/a\\b",
            "https://example.com/?q=\\",
            "https://example.com/#\\",
        ] {
            for insecure in [false, true] {
                assert_eq!(check(url, insecure), Err(UrlRejection::Backslash), "{url}");
            }
        }
        assert_eq!(check("http://localhost\\@evil.example/", true), Err(UrlRejection::Backslash));
    }

    #[test]
    fn characters_the_parser_would_rewrite_are_refused() {
        use UrlRejection::*;
        // Hosts that IDNA maps to an address or another name, and characters it would escape.
        assert_eq!(check("https://１２７.０.０.１/", false), Err(Character('１')));
        assert_eq!(check("https://ｅｘａｍｐｌｅ.com/", false), Err(Character('ｅ')));
        assert_eq!(check("https://bücher.example/", false), Err(Character('ü')));
        assert_eq!(check("https://example.com/ü", false), Err(Character('ü')));
        assert_eq!(check("https://example.com/a\"b", false), Err(Character('"')));
        assert_eq!(check("https://example.com/{x}", false), Err(Character('{')));
        assert_eq!(check("https://example.com/a|b", false), Err(Character('|')));
        assert_eq!(check("https://example.com/%zz", false), Err(BadEscape));
        assert_eq!(check("https://example.com/%4", false), Err(BadEscape));
        assert_eq!(check("https://example.com/%", false), Err(BadEscape));
        // What RFC 3986 allows passes as it is.
        assert_eq!(check("https://xn--bcher-kva.example/a%C3%BC?x=1&y=(2)*;z=$#f", false), Ok(()));
        assert_eq!(check("https://example.com/~user/a-b_c.d!'+,=@:", false), Ok(()));
    }

    #[test]
    fn hosts_read_another_way_by_other_parsers_are_refused() {
        use UrlRejection::*;
        let rewritten = |written: &str, read: &str| HostRewritten { written: written.into(), read: read.into() };
        // Percent-encoded and numeric spellings of public addresses and names.
        assert_eq!(check("https://%38.8.8.8/", false), Err(rewritten("%38.8.8.8", "8.8.8.8")));
        assert_eq!(check("https://134744072/", false), Err(rewritten("134744072", "8.8.8.8")));
        assert_eq!(check("https://0x8080808/", false), Err(rewritten("0x8080808", "8.8.8.8")));
        assert_eq!(check("https://010.8.8.8/", false), Err(rewritten("010.8.8.8", "8.8.8.8")));
        assert_eq!(check("https://8.8.2056/", false), Err(rewritten("8.8.2056", "8.8.8.8")));
        assert_eq!(check("https://8.8.8.8./", false), Err(rewritten("8.8.8.8.", "8.8.8.8")));
        assert_eq!(check("https://ex%61mple.com/", false), Err(rewritten("ex%61mple.com", "example.com")));
        // The WHATWG parser supplies a missing `//` or skips an extra one.
        assert!(check("https:example.com/hook", false) == Err(NoAuthority));
        assert!(check("https:/example.com/hook", false) == Err(NoAuthority));
        assert!(check("https:///example.com/hook", false) == Err(NoAuthority));
        // Empty credentials, which the WHATWG parser drops.
        assert_eq!(check("https://@example.com/", false), Err(Credentials));
        assert_eq!(check("https://:@example.com/", false), Err(Credentials));
        // What reads the same everywhere passes: case, a root dot, a port, IPv6 forms.
        for same in [
            "https://EXAMPLE.com/Hook",
            "HTTPS://example.com./",
            "https://example.com:8443/",
            "https://8.8.8.8/",
            "https://[2606:4700:0:0:0:0:0:1111]/",
            "https://[2606:4700::1111]:443/",
            "https://example.com",
        ] {
            assert_eq!(check(same, false), Ok(()), "{same}");
        }
    }

    /// Only the written `localhost`, `127.0.0.1` and `[::1]` are opened by the switch: every
    /// other spelling of a loopback address stays refused exactly as it is without it.
    #[test]
    fn the_insecure_switch_judges_the_host_as_written() {
        for url in [
            "http://2130706433:8080/a",
            "http://0x7f000001:8080/a",
            "http://0x7f.0.0.1:8080/a",
            "http://0177.0.0.1:8080/a",
            "http://127.1:8080/a",
            "http://127.0.1:8080/a",
            "http://127.0.0.2:8080/a",
            "http://0:8080/a",
            "http://0.0.0.0:8080/a",
            "http://127.0.0.1.:8080/a",
            "http://%31%32%37.0.0.1:8080/a",
            "http://[::ffff:127.0.0.1]:8080/a",
            "http://[::ffff:7f00:1]:8080/a",
            "http://[0:0:0:0:0:0:0:1]:8080/a",
            "http://[::127.0.0.1]:8080/a",
            "https://2130706433:8080/a",
            "https://127.1/a",
            "https://[::ffff:127.0.0.1]/a",
            "https://[0::1]/a",
        ] {
            let without = check(url, false);
            assert!(without.is_err(), "{url}");
            assert_eq!(check(url, true), without, "{url}");
        }
        for url in
            ["http://127.0.0.1:8080/a", "http://localhost:8080/a", "http://LocalHost.:8080/a", "http://[::1]:8080/a"]
        {
            assert_eq!(check(url, true), Ok(()), "{url}");
        }
    }
}
