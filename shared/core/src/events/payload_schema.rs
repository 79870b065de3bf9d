//! JSON Schema for event payloads: a tenant's type may carry one, and every payload of that
//! type is checked against it (by the API, and by the dispatcher for events sent straight to
//! the queue). The schema's `$schema` picks the draft (2020-12 when absent). Only the schema
//! itself is read: a `$ref` to anything outside it is refused when the type is saved, since
//! the validator is built without file or network access.

use std::fmt;

use serde_json::Value;
use serde_json::value::RawValue;

/// A compiled schema.
pub struct PayloadSchema {
    validator: jsonschema::Validator,
}

impl fmt::Debug for PayloadSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PayloadSchema")
    }
}

/// The longest error text kept from the validator, so that an answer stays small.
const MAX_MESSAGE_CHARS: usize = 300;

fn short(text: String) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}...")
}

impl PayloadSchema {
    /// Compiles `schema`; the error says what is wrong with it.
    pub fn compile(schema: &Value) -> Result<Self, String> {
        if !schema.is_object() && !schema.is_boolean() {
            return Err("must be a JSON Schema: an object (or true / false)".to_owned());
        }
        jsonschema::validator_for(schema)
            .map(|validator| Self { validator })
            .map_err(|e| short(format!("not a valid JSON Schema: {e}")))
    }

    /// `Ok` if `payload` satisfies the schema, else the first failure: where (a JSON Pointer
    /// into the payload, empty for the payload itself) and why.
    pub fn check(&self, payload: &RawValue) -> Result<(), (String, String)> {
        let Ok(value) = serde_json::from_str::<Value>(payload.get()) else {
            return Err((String::new(), "is not valid JSON".to_owned()));
        };
        match self.validator.iter_errors(&value).next() {
            None => Ok(()),
            Some(error) => Err((error.instance_path().as_str().to_owned(), short(error.to_string()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn payloads_are_checked_and_the_failing_path_named() {
        let schema = PayloadSchema::compile(&json!({
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "integer", "minimum": 0}, "tool": {"properties": {"id": {"type": "string"}}}}
        }))
        .unwrap();
        assert_eq!(schema.check(&raw(r#"{"amount": 5}"#)), Ok(()));
        let (path, message) = schema.check(&raw(r#"{"amount": 5, "tool": {"id": 7}}"#)).unwrap_err();
        assert_eq!(path, "/tool/id");
        assert!(message.contains("string"), "{message}");
        assert_eq!(schema.check(&raw(r#"{"amount": -1}"#)).unwrap_err().0, "/amount");
        assert_eq!(schema.check(&raw(r#"{}"#)).unwrap_err().0, "");
    }

    #[test]
    fn bad_schemas_and_outside_references_are_refused() {
        assert!(PayloadSchema::compile(&json!({"type": "nonsense"})).is_err());
        assert!(PayloadSchema::compile(&json!("string")).is_err());
        assert!(PayloadSchema::compile(&json!({"$ref": "https://example.com/schema.json"})).is_err());
        assert!(PayloadSchema::compile(&json!({"$ref": "file:///etc/passwd"})).is_err());
        let local = json!({"$defs": {"id": {"type": "string"}}, "properties": {"id": {"$ref": "#/$defs/id"}}});
        assert!(PayloadSchema::compile(&local).is_ok());
        assert!(PayloadSchema::compile(&json!(true)).is_ok());
    }
}
