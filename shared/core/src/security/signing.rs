//! Delivery signatures. An endpoint signs with HMAC-SHA256 (the default) or ed25519, as the
//! form of its secret says.
//!
//! - HMAC: one key, the UTF-8 bytes of the secret, for two headers:
//!   - `X-Webhook-Signature: sha256=<hex HMAC-SHA256(key, raw body)>`, the seeds' recipe;
//!   - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`;
//!     its libraries take the key as `whsec_` + base64 (see [`standard_webhooks_secret`]).
//! - ed25519 (Standard Webhooks' asymmetric scheme): the secret is `whsk_` + base64 of the
//!   64-byte key pair, never shown; receivers verify `webhook-signature: v1a,<base64
//!   ed25519("{id}.{ts}.{body}")>` with the public key, `whpk_` + base64 of its 32 bytes
//!   ([`public_key`]). There is no `X-Webhook-Signature`: it needs a shared secret.
//!
//! During a rotation the new secret signs beside the old one: `webhook-signature` lists both,
//! `X-Webhook-Signature` stays on the old secret (receivers compare it exactly) and
//! `X-Webhook-Signature-Next` carries the new secret's value (when both are HMAC).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::ids::random_bytes;
use crate::time::Timestamp;

type HmacSha256 = Hmac<Sha256>;

/// How an ed25519 secret starts.
pub const ED25519_SECRET_PREFIX: &str = "whsk_";
/// How an ed25519 public key starts.
pub const ED25519_PUBLIC_PREFIX: &str = "whpk_";

/// How an endpoint signs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Signing {
    /// `v1` and `X-Webhook-Signature`, with a shared secret.
    #[default]
    HmacSha256,
    /// `v1a`, verified with the endpoint's public key.
    Ed25519,
}

impl Signing {
    /// The scheme of `secret`: ed25519 for a `whsk_` key, else HMAC.
    pub fn of(secret: &Secret) -> Self {
        if secret.expose().starts_with(ED25519_SECRET_PREFIX) { Signing::Ed25519 } else { Signing::HmacSha256 }
    }

    /// A new secret of this scheme.
    pub fn generate(self) -> Secret {
        match self {
            Signing::HmacSha256 => generate_secret(),
            Signing::Ed25519 => {
                let key = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>());
                Secret::new(format!("{ED25519_SECRET_PREFIX}{}", BASE64.encode(key.to_keypair_bytes())))
            }
        }
    }
}

/// A new HMAC secret: 32 random bytes as 64 lowercase hex characters.
pub fn generate_secret() -> Secret {
    Secret::new(hex::encode(random_bytes::<32>()))
}

/// The ed25519 key of a `whsk_` secret; `None` if it is not one (or not a valid key pair).
pub fn ed25519_key(secret: &Secret) -> Option<ed25519_dalek::SigningKey> {
    let encoded = secret.expose().strip_prefix(ED25519_SECRET_PREFIX)?;
    let bytes: [u8; 64] = BASE64.decode(encoded).ok()?.try_into().ok()?;
    ed25519_dalek::SigningKey::from_keypair_bytes(&bytes).ok()
}

/// What receivers verify an ed25519 endpoint's `v1a` signatures with: `whpk_` + base64 of
/// the public key. `None` for an HMAC secret.
pub fn public_key(secret: &Secret) -> Option<String> {
    let key = ed25519_key(secret)?;
    Some(format!("{ED25519_PUBLIC_PREFIX}{}", BASE64.encode(key.verifying_key().as_bytes())))
}

/// The same key in the form the Standard Webhooks libraries expect.
pub fn standard_webhooks_secret(secret: &Secret) -> String {
    format!("whsec_{}", BASE64.encode(secret.expose().as_bytes()))
}

/// An HMAC key prepared once (the inner and outer pads hashed) and cloned for each message.
#[derive(Clone)]
pub struct SigningKey(HmacSha256);

impl SigningKey {
    pub fn new(secret: &Secret) -> Self {
        Self::from_bytes(secret.expose().as_bytes())
    }

    /// A key of any bytes (a Standard Webhooks `whsec_` secret decoded).
    pub fn from_bytes(key: &[u8]) -> Self {
        Self(HmacSha256::new_from_slice(key).expect("HMAC takes any key length"))
    }

    /// Whether `signature` (the raw MAC) is this key's over `parts`, compared in constant time.
    pub fn verifies(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(signature).is_ok()
    }

    /// `sha256=<hex>` over the raw body.
    pub fn body_signature(&self, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// `v1,<base64>` over `{id}.{timestamp}.{body}`.
    pub fn standard_signature(&self, message_id: &str, unix_seconds: i64, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(unix_seconds.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// One secret's key, prepared once: HMAC or ed25519.
#[derive(Clone)]
enum Key {
    Hmac(SigningKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl Key {
    fn new(secret: &Secret) -> Self {
        match ed25519_key(secret) {
            Some(key) => Key::Ed25519(Box::new(key)),
            None => Key::Hmac(SigningKey::new(secret)),
        }
    }

    /// `v1,...` or `v1a,...` over `{id}.{timestamp}.{body}`.
    fn standard_signature(&self, message_id: &str, unix_seconds: i64, body: &[u8]) -> String {
        match self {
            Key::Hmac(key) => key.standard_signature(message_id, unix_seconds, body),
            Key::Ed25519(key) => {
                let signed = [message_id.as_bytes(), b".", unix_seconds.to_string().as_bytes(), b".", body].concat();
                format!("v1a,{}", BASE64.encode(key.sign(&signed).to_bytes()))
            }
        }
    }

    /// `sha256=...` over the body: HMAC only.
    fn body_signature(&self, body: &[u8]) -> Option<String> {
        match self {
            Key::Hmac(key) => Some(key.body_signature(body)),
            Key::Ed25519(_) => None,
        }
    }
}

/// The keys an endpoint signs with at one moment: the current secret and, during a rotation
/// overlap, the previous one.
#[derive(Clone)]
pub struct EndpointKeys {
    current: Key,
    previous: Option<Key>,
}

impl EndpointKeys {
    /// `secret`, and `previous` while its overlap lasts (until its `expires_at`, after `now`).
    pub fn new(secret: &Secret, previous: Option<&PreviousSecret>, now: Timestamp) -> Self {
        let previous = previous.filter(|previous| previous.expires_at > now).map(|previous| Key::new(&previous.secret));
        Self { current: Key::new(secret), previous }
    }

    /// The signature headers for one delivery attempt.
    pub fn headers(&self, message_id: &str, unix_seconds: i64, body: &[u8]) -> Vec<(&'static str, String)> {
        let current_standard = self.current.standard_signature(message_id, unix_seconds, body);
        let current_body = self.current.body_signature(body);
        let mut headers = Vec::with_capacity(3);
        match &self.previous {
            None => {
                headers.extend(current_body.map(|signature| ("X-Webhook-Signature", signature)));
                headers.push(("webhook-signature", current_standard));
            }
            Some(previous) => {
                // The old secret keeps `X-Webhook-Signature` while it signs, if it can.
                match previous.body_signature(body) {
                    Some(old) => {
                        headers.push(("X-Webhook-Signature", old));
                        headers.extend(current_body.map(|signature| ("X-Webhook-Signature-Next", signature)));
                    }
                    None => headers.extend(current_body.map(|signature| ("X-Webhook-Signature", signature))),
                }
                let previous_standard = previous.standard_signature(message_id, unix_seconds, body);
                headers.push(("webhook-signature", format!("{previous_standard} {current_standard}")));
            }
        }
        headers
    }
}

/// An endpoint's signing secret. `Debug` never shows it, so it cannot leak through logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The HMAC key material: the UTF-8 bytes of the secret string.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The secret that keeps signing beside the current one until `expires_at` (a rotation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub secret: Secret,
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_signature_matches_a_known_vector() {
        // RFC 4231 test case 2.
        let key = SigningKey::new(&Secret::new("Jefe"));
        assert_eq!(
            key.body_signature(b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn standard_signature_covers_id_timestamp_and_body() {
        let secret = Secret::new("test-secret-1234567890");
        let key = SigningKey::new(&secret);
        let signature = key.standard_signature("msg_1", 1_700_000_000, br#"{"a":1}"#);
        let mut mac = HmacSha256::new_from_slice(b"test-secret-1234567890").unwrap();
        mac.update(br#"msg_1.1700000000.{"a":1}"#);
        assert_eq!(signature, format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())));
        assert_eq!(standard_webhooks_secret(&secret), format!("whsec_{}", BASE64.encode("test-secret-1234567890")));
    }

    #[test]
    fn ed25519_signatures_verify_with_the_public_key_and_nothing_else() {
        use ed25519_dalek::Verifier;
        let secret = Signing::Ed25519.generate();
        assert_eq!(Signing::of(&secret), Signing::Ed25519);
        assert_eq!(Signing::of(&generate_secret()), Signing::HmacSha256);
        let public = public_key(&secret).unwrap();
        let bytes: [u8; 32] = BASE64.decode(public.strip_prefix("whpk_").unwrap()).unwrap().try_into().unwrap();
        let verifying = ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap();
        let key = Key::new(&secret);
        let header = key.standard_signature("msg_1", 1_700_000_000, br#"{"a":1}"#);
        let signature: [u8; 64] = BASE64.decode(header.strip_prefix("v1a,").unwrap()).unwrap().try_into().unwrap();
        let signature = ed25519_dalek::Signature::from_bytes(&signature);
        assert!(verifying.verify(br#"msg_1.1700000000.{"a":1}"#, &signature).is_ok());
        assert!(verifying.verify(br#"msg_1.1700000000.{"a":2}"#, &signature).is_err());
        assert_eq!(key.body_signature(b"x"), None, "no shared-secret header");
        assert_eq!(public_key(&generate_secret()), None);
        assert!(ed25519_key(&Secret::new("whsk_AAAA")).is_none(), "not a key pair");
    }

    #[test]
    fn generated_secrets_are_64_lowercase_hex() {
        let secret = generate_secret();
        assert_eq!(secret.expose().len(), 64);
        assert!(secret.expose().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(secret, generate_secret());
    }
}
