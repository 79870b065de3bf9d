//! The client commands' HTTP side: one call to the API with the key, its JSON answer, and
//! what a refusal says (the API's message and each field's), for `commands.rs`.

use serde_json::Value;

/// Where the API is and the key to call it with (`--api-url`, `--key`).
pub struct Client {
    base: String,
    key: String,
    http: reqwest::Client,
}

/// Why a call did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// The API answered with an error: its status and body.
    Refused(u16, Value),
    /// The API could not be reached, or answered something else than JSON.
    Unreachable(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused(status, body) => {
                let error = &body["error"];
                let message = error["message"].as_str().map_or_else(|| body.to_string(), str::to_owned);
                write!(f, "HTTP {status}: {message}")?;
                for detail in error["details"].as_array().into_iter().flatten() {
                    write!(
                        f,
                        "\n  {}: {}",
                        detail["field"].as_str().unwrap_or("?"),
                        detail["message"].as_str().unwrap_or("?")
                    )?;
                }
                Ok(())
            }
            CallError::Unreachable(why) => f.write_str(why),
        }
    }
}

impl Client {
    pub fn new(base: &str, key: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { base: base.trim_end_matches('/').to_owned(), key: key.to_owned(), http })
    }

    /// `method path` with `body` as JSON; the answer's JSON (`null` for an empty one).
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, CallError> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method name");
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let answer = request.send().await.map_err(|e| CallError::Unreachable(format!("calling {}: {e}", self.base)))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .map_err(|_| CallError::Unreachable(format!("HTTP {status} from {}, not JSON: {text}", self.base)))?
        };
        if (200..300).contains(&status) { Ok(body) } else { Err(CallError::Refused(status, body)) }
    }
}
