//! Delivery signatures. Both schemes use one key: the UTF-8 bytes of the endpoint's secret.
//!
//! - `X-Webhook-Signature: sha256=<hex HMAC-SHA256(key, raw body)>`, the seeds' recipe.
//! - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`;
//!   its libraries take the key as `whsec_` + base64 (see [`standard_webhooks_secret`]).
//!
//! During a rotation the new secret signs beside the old one: `webhook-signature` lists both,
//! `X-Webhook-Signature` stays on the old secret (receivers compare it exactly) and
//! `X-Webhook-Signature-Next` carries the new secret's value.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::random_bytes;
use crate::model::{Endpoint, Secret};
use crate::time::Timestamp;

type HmacSha256 = Hmac<Sha256>;

/// A new secret: 32 random bytes as 64 lowercase hex characters.
pub fn generate_secret() -> Secret {
    Secret::new(hex::encode(random_bytes::<32>()))
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
        Self(HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length"))
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

/// The keys an endpoint signs with at one moment: the current secret and, during a rotation
/// overlap, the previous one.
#[derive(Clone)]
pub struct EndpointKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

impl EndpointKeys {
    pub fn for_endpoint(endpoint: &Endpoint, now: Timestamp) -> Self {
        let previous = endpoint
            .previous_secret
            .as_ref()
            .filter(|previous| previous.expires_at > now)
            .map(|previous| SigningKey::new(&previous.secret));
        Self { current: SigningKey::new(&endpoint.secret), previous }
    }

    /// The signature headers for one delivery attempt.
    pub fn headers(&self, message_id: &str, unix_seconds: i64, body: &[u8]) -> Vec<(&'static str, String)> {
        let current_standard = self.current.standard_signature(message_id, unix_seconds, body);
        match &self.previous {
            None => vec![
                ("X-Webhook-Signature", self.current.body_signature(body)),
                ("webhook-signature", current_standard),
            ],
            Some(previous) => vec![
                ("X-Webhook-Signature", previous.body_signature(body)),
                ("X-Webhook-Signature-Next", self.current.body_signature(body)),
                (
                    "webhook-signature",
                    format!("{} {current_standard}", previous.standard_signature(message_id, unix_seconds, body)),
                ),
            ],
        }
    }
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
    fn generated_secrets_are_64_lowercase_hex() {
        let secret = generate_secret();
        assert_eq!(secret.expose().len(), 64);
        assert!(secret.expose().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(secret, generate_secret());
    }
}
