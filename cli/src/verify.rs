//! `webhooks verify`: checks one delivery's signature, as a receiver would, from its body on
//! stdin and its headers as `--header "name: value"`; and the parts `listen` shares with it.

use std::collections::BTreeMap;

use webhooks::security::verify::{Refusal, Verifier, verify};
use webhooks::time::Timestamp;

/// `--secret` or `--public-key`, whichever is given (clap lets through one at most).
pub fn verifier(secret: Option<&str>, public_key: Option<&str>) -> Result<Option<Verifier>, String> {
    match (secret, public_key) {
        (Some(secret), _) => Verifier::secret(secret).map(Some).map_err(|e| format!("--secret: {e}")),
        (None, Some(key)) => Verifier::public_key(key).map(Some).map_err(|e| format!("--public-key: {e}")),
        (None, None) => Ok(None),
    }
}

/// `name: value` headers by lower-case name.
pub fn parse_headers(given: &[String]) -> Result<BTreeMap<String, String>, String> {
    given
        .iter()
        .map(|line| {
            let (name, value) =
                line.split_once(':').ok_or_else(|| format!("--header {line:?}: not \"name: value\""))?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!("--header {line:?}: not a header name"));
            }
            Ok((name.to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect()
}

/// Checks `body` with `headers` (lower-case names) now.
pub fn check(verifier: &Verifier, headers: &BTreeMap<String, String>, body: &[u8]) -> Result<(), Refusal> {
    verify(verifier, |name| headers.get(name).map(String::as_str), body, Timestamp::now())
}
