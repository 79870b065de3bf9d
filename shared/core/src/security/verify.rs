//! A receiver's check of a delivery's signature (`webhooks verify`, `webhooks listen`): the
//! Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with a
//! shared secret (`v1`, HMAC) or a public key (`v1a`, ed25519), the timestamp within
//! [`TOLERANCE`]; a delivery without them is checked by `X-Webhook-Signature` (the seeds'
//! `sha256=` over the body) when a secret is given. Every comparison is in constant time.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

use crate::security::signing::{ED25519_PUBLIC_PREFIX, SigningKey};
use crate::time::Timestamp;

/// How far a delivery's timestamp may be from now (either way), as the Standard Webhooks
/// libraries allow.
pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// What a signature is checked with.
pub enum Verifier {
    /// A shared secret: the endpoint's, or its `whsec_` form.
    Secret(SigningKey),
    /// An ed25519 endpoint's public key.
    PublicKey(VerifyingKey),
}

impl Verifier {
    /// A secret as the service shows it: `whsec_` + base64, or the secret itself.
    pub fn secret(text: &str) -> Result<Self, String> {
        let key = match text.strip_prefix("whsec_") {
            Some(encoded) => BASE64.decode(encoded).map_err(|e| format!("the whsec_ secret is not base64: {e}"))?,
            None => text.as_bytes().to_vec(),
        };
        if key.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(Verifier::Secret(SigningKey::from_bytes(&key)))
    }

    /// A public key: `whpk_` + base64 of its 32 bytes.
    pub fn public_key(text: &str) -> Result<Self, String> {
        let encoded = text.strip_prefix(ED25519_PUBLIC_PREFIX).ok_or("a public key starts with whpk_")?;
        let bytes: [u8; 32] = BASE64
            .decode(encoded)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("a public key is whpk_ and the base64 of 32 bytes")?;
        VerifyingKey::from_bytes(&bytes).map(Verifier::PublicKey).map_err(|e| format!("not an ed25519 key: {e}"))
    }
}

/// Why a delivery is not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    MissingHeader(&'static str),
    MalformedTimestamp,
    /// Seconds between the delivery's timestamp and now.
    OutsideTolerance(i64),
    WrongSignature,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::MissingHeader(name) => write!(f, "missing header {name}"),
            Refusal::MalformedTimestamp => f.write_str("webhook-timestamp is not a whole number of seconds"),
            Refusal::OutsideTolerance(off) => write!(
                f,
                "timestamp outside the tolerance: {}s {} now (at most {}s)",
                off.abs(),
                if *off < 0 { "before" } else { "after" },
                TOLERANCE.as_secs()
            ),
            Refusal::WrongSignature => f.write_str("wrong signature: no signature matches"),
        }
    }
}

/// Checks the delivery whose headers `header` answers (by lower-case name) and whose raw
/// body is `body`, at `now`.
pub fn verify<'a>(
    verifier: &Verifier,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
    now: Timestamp,
) -> Result<(), Refusal> {
    let Some(signatures) = header("webhook-signature") else {
        // The seeds' recipe: an HMAC of the body alone, with no timestamp to check.
        return match (verifier, header("x-webhook-signature")) {
            (Verifier::Secret(key), Some(given)) => {
                let mac = given.strip_prefix("sha256=").and_then(|hex_mac| hex::decode(hex_mac).ok());
                match mac {
                    Some(mac) if key.verifies(&[body], &mac) => Ok(()),
                    _ => Err(Refusal::WrongSignature),
                }
            }
            _ => Err(Refusal::MissingHeader("webhook-signature")),
        };
    };
    let id = header("webhook-id").ok_or(Refusal::MissingHeader("webhook-id"))?;
    let timestamp = header("webhook-timestamp").ok_or(Refusal::MissingHeader("webhook-timestamp"))?;
    let seconds: i64 = timestamp.trim().parse().map_err(|_| Refusal::MalformedTimestamp)?;
    let off = seconds - now.unix_seconds();
    if off.unsigned_abs() > TOLERANCE.as_secs() {
        return Err(Refusal::OutsideTolerance(off));
    }
    let signed: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.trim().as_bytes(), b".", body];
    let matches = |version: &str, encoded: &str| {
        let Ok(raw) = BASE64.decode(encoded) else { return false };
        match (verifier, version) {
            (Verifier::Secret(key), "v1") => key.verifies(&signed, &raw),
            (Verifier::PublicKey(key), "v1a") => {
                Signature::from_slice(&raw).is_ok_and(|signature| key.verify(&signed.concat(), &signature).is_ok())
            }
            _ => false,
        }
    };
    // Several may be given (a rotation): one that matches is enough.
    let verified = signatures
        .split_whitespace()
        .filter_map(|one| one.split_once(','))
        .any(|(version, encoded)| matches(version, encoded));
    if verified { Ok(()) } else { Err(Refusal::WrongSignature) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::signing::{EndpointKeys, Secret, Signing, public_key, standard_webhooks_secret};

    fn signed(secret: &Secret, at: Timestamp, body: &[u8]) -> Vec<(&'static str, String)> {
        let mut headers = EndpointKeys::new(secret, None, at).headers("msg_1", at.unix_seconds(), body);
        headers.push(("webhook-id", "msg_1".into()));
        headers.push(("webhook-timestamp", at.unix_seconds().to_string()));
        headers
    }

    fn check(
        verifier: &Verifier,
        headers: &[(&'static str, String)],
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), Refusal> {
        verify(
            verifier,
            |name| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()),
            body,
            now,
        )
    }

    #[test]
    fn a_genuine_delivery_verifies_and_a_tampered_one_does_not() {
        let now = Timestamp::from_millis(1_800_000_000_000);
        let secret = Secret::new("a".repeat(64));
        let headers = signed(&secret, now, b"{\"n\":1}");
        for verifier in
            [Verifier::secret(secret.expose()).unwrap(), Verifier::secret(&standard_webhooks_secret(&secret)).unwrap()]
        {
            assert_eq!(check(&verifier, &headers, b"{\"n\":1}", now), Ok(()));
            assert_eq!(check(&verifier, &headers, b"{\"n\":2}", now), Err(Refusal::WrongSignature));
        }
        let other = Verifier::secret(&"b".repeat(64)).unwrap();
        assert_eq!(check(&other, &headers, b"{\"n\":1}", now), Err(Refusal::WrongSignature));
        let late = now.plus(TOLERANCE + Duration::from_secs(1));
        assert_eq!(
            check(&Verifier::secret(secret.expose()).unwrap(), &headers, b"{\"n\":1}", late),
            Err(Refusal::OutsideTolerance(-301))
        );
        let without: Vec<_> = headers.iter().filter(|(n, _)| *n != "webhook-id").cloned().collect();
        assert_eq!(check(&other, &without, b"{\"n\":1}", now), Err(Refusal::MissingHeader("webhook-id")));
        // The seeds' body signature alone.
        let seed: Vec<_> = headers.iter().filter(|(n, _)| *n == "X-Webhook-Signature").cloned().collect();
        assert_eq!(check(&Verifier::secret(secret.expose()).unwrap(), &seed, b"{\"n\":1}", now), Ok(()));
    }

    #[test]
    fn an_ed25519_delivery_verifies_with_the_public_key() {
        let now = Timestamp::from_millis(1_800_000_000_000);
        let secret = Signing::Ed25519.generate();
        let headers = signed(&secret, now, b"{}");
        let verifier = Verifier::public_key(&public_key(&secret).unwrap()).unwrap();
        assert_eq!(check(&verifier, &headers, b"{}", now), Ok(()));
        assert_eq!(check(&verifier, &headers, b"{ }", now), Err(Refusal::WrongSignature));
        let stranger = Verifier::public_key(&public_key(&Signing::Ed25519.generate()).unwrap()).unwrap();
        assert_eq!(check(&stranger, &headers, b"{}", now), Err(Refusal::WrongSignature));
        assert!(Verifier::public_key("whpk_abc").is_err());
    }
}
