//! The client commands (`webhooks endpoints create ...`, `events send ...`): each one API
//! call through [`Client`], its answer as a table or fields, or with `--json` the API's JSON
//! alone on stdout. A refusal prints the API's message and each field's on stderr and exits
//! 1; a usage error exits 2.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client::{CallError, Client};

/// Where the API is, with which key, and how to print (every client command takes them).
#[derive(Args)]
pub struct ClientOptions {
    /// The API's base URL.
    #[arg(long, global = true, env = "WEBHOOKS_URL", default_value = "http://127.0.0.1:8080")]
    pub api_url: String,
    /// The API key to call it with.
    #[arg(long, global = true, env = "WEBHOOKS_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Print the API's JSON answer on stdout, and nothing else.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Endpoints: where deliveries go.
    #[command(subcommand)]
    Endpoints(EndpointsCommand),
    /// Events: send one, list them, show one.
    #[command(subcommand)]
    Events(EventsCommand),
    /// An endpoint's deliveries.
    #[command(subcommand)]
    Deliveries(DeliveriesCommand),
    /// API keys (admin).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The catalog of event types, and the tenant's own.
    #[command(subcommand, name = "event-types")]
    EventTypes(EventTypesCommand),
    /// Send an event of TYPE with the type's example payload from the catalog.
    Trigger { event_type: String },
}

#[derive(Subcommand)]
pub enum EndpointsCommand {
    /// List the endpoints.
    List,
    /// Create an endpoint (the answer shows its secret, once here).
    Create {
        url: String,
        /// Event types or wildcards, comma-separated (playground.*,run.failed).
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        /// A secret of your own (generated when absent).
        #[arg(long)]
        secret: Option<String>,
        /// Your own id for it, usable wherever an endpoint id is.
        #[arg(long)]
        uid: Option<String>,
    },
    /// Show an endpoint (by id or uid).
    Show { id: String },
    /// Change an endpoint: what is given.
    Update {
        id: String,
        #[arg(long)]
        url: Option<String>,
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete an endpoint.
    Delete { id: String },
    /// Send a test delivery now.
    Test {
        id: String,
        /// The test's event type (webhook.test when absent).
        #[arg(long)]
        event_type: Option<String>,
    },
    /// Enable an endpoint (its failure count starts again).
    Enable { id: String },
    /// Disable an endpoint.
    Disable { id: String },
}

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Send an event: its payload from --data, --data-file, or stdin (`-`).
    Send {
        event_type: String,
        /// The payload, a JSON object.
        #[arg(long, conflicts_with_all = ["data_file", "stdin"])]
        data: Option<String>,
        /// A file holding the payload.
        #[arg(long, conflicts_with = "stdin")]
        data_file: Option<PathBuf>,
        /// `-`: the payload from stdin.
        #[arg(value_parser = ["-"])]
        stdin: Option<String>,
    },
    /// List events, newest first.
    List {
        /// Only events of this type.
        #[arg(long = "type")]
        event_type: Option<String>,
    },
    /// Show an event: its payload and its deliveries.
    Show { id: String },
}

#[derive(Subcommand)]
pub enum DeliveriesCommand {
    /// An endpoint's deliveries, newest first.
    List {
        endpoint_id: String,
        /// pending, delivered or failed.
        #[arg(long)]
        status: Option<String>,
    },
    /// A delivery, with its payload and attempts.
    Show { endpoint_id: String, delivery_id: String },
    /// Send a failed or delivered delivery again.
    Retry { endpoint_id: String, delivery_id: String },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Mint a key (shown once).
    Create {
        name: String,
        /// Comma-separated: webhooks:read, webhooks:write, webhooks:delete, events:write,
        /// event_types:write, portal:write, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// The key's tenant (yours when absent).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List the keys of a tenant.
    List {
        /// The tenant (yours when absent).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a key.
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum EventTypesCommand {
    /// The catalog: default types and the tenant's own.
    List,
    /// Create one of the tenant's own types.
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// A JSON Schema its payloads must match.
        #[arg(long)]
        schema_file: Option<PathBuf>,
    },
}

/// How an answer is printed without `--json`.
enum Shape {
    /// A list under `data`, with these columns (header, field).
    Table(&'static [(&'static str, &'static str)]),
    /// One object's fields.
    Fields,
    /// Nothing to show but that it was done.
    Done(&'static str),
}

const ENDPOINTS: &[(&str, &str)] =
    &[("ID", "id"), ("URL", "url"), ("ENABLED", "enabled"), ("FAILURES", "failure_count"), ("EVENTS", "events")];
const EVENTS: &[(&str, &str)] = &[("ID", "id"), ("TYPE", "type"), ("RECEIVED", "created_at")];
const DELIVERIES: &[(&str, &str)] = &[
    ("ID", "id"),
    ("STATUS", "status"),
    ("EVENT TYPE", "event_type"),
    ("HTTP", "http_status"),
    ("ATTEMPTS", "attempts"),
    ("CREATED", "created_at"),
];
const KEYS: &[(&str, &str)] =
    &[("ID", "id"), ("NAME", "name"), ("TENANT", "tenant"), ("SCOPES", "scopes"), ("PREFIX", "prefix")];
const TYPES: &[(&str, &str)] =
    &[("TYPE", "type"), ("SOURCE", "source"), ("ARCHIVED", "archived"), ("DESCRIPTION", "description")];

/// A usage error: the message, for exit status 2.
type Usage = String;

fn read_json(what: &str, text: &str) -> Result<Value, Usage> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not JSON: {e}"))
}

fn read_file(path: &PathBuf) -> Result<String, Usage> {
    if path.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin()).map_err(|e| format!("reading stdin: {e}"));
    }
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn path_part(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The call a command makes: (method, path, body, shape).
fn request(command: ClientCommand) -> Result<(&'static str, String, Option<Value>, Shape), Usage> {
    use ClientCommand as C;
    let endpoint = |id: &str| format!("/v1/webhooks/{}", path_part(id));
    Ok(match command {
        C::Endpoints(EndpointsCommand::List) => ("GET", "/v1/webhooks?limit=100".into(), None, Shape::Table(ENDPOINTS)),
        C::Endpoints(EndpointsCommand::Create { url, events, description, secret, uid }) => {
            let mut body = json!({"url": url, "events": events});
            for (field, value) in [("description", description), ("secret", secret), ("uid", uid)] {
                if let Some(value) = value {
                    body[field] = json!(value);
                }
            }
            ("POST", "/v1/webhooks".into(), Some(body), Shape::Fields)
        }
        C::Endpoints(EndpointsCommand::Show { id }) => ("GET", endpoint(&id), None, Shape::Fields),
        C::Endpoints(EndpointsCommand::Update { id, url, events, description }) => {
            let mut body = json!({});
            for (field, value) in [
                ("url", url.map(Value::from)),
                ("events", events.map(Value::from)),
                ("description", description.map(Value::from)),
            ] {
                if let Some(value) = value {
                    body[field] = value;
                }
            }
            if body.as_object().is_some_and(|fields| fields.is_empty()) {
                return Err("endpoints update: give --url, --events or --description".into());
            }
            ("PATCH", endpoint(&id), Some(body), Shape::Fields)
        }
        C::Endpoints(EndpointsCommand::Delete { id }) => ("DELETE", endpoint(&id), None, Shape::Done("deleted")),
        C::Endpoints(EndpointsCommand::Test { id, event_type }) => {
            let body = event_type.map_or_else(|| json!({}), |event_type| json!({"event_type": event_type}));
            ("POST", format!("{}/test", endpoint(&id)), Some(body), Shape::Fields)
        }
        C::Endpoints(EndpointsCommand::Enable { id }) => {
            ("PATCH", endpoint(&id), Some(json!({"enabled": true})), Shape::Fields)
        }
        C::Endpoints(EndpointsCommand::Disable { id }) => {
            ("PATCH", endpoint(&id), Some(json!({"enabled": false})), Shape::Fields)
        }
        C::Events(EventsCommand::Send { event_type, data, data_file, stdin }) => {
            let text = match (data, data_file, stdin) {
                (Some(data), _, _) => data,
                (None, Some(file), _) => read_file(&file)?,
                (None, None, Some(_)) => read_file(&PathBuf::from("-"))?,
                (None, None, None) => "{}".to_owned(),
            };
            let payload = read_json("the payload", &text)?;
            ("POST", "/v1/events".into(), Some(json!({"type": event_type, "payload": payload})), Shape::Fields)
        }
        C::Events(EventsCommand::List { event_type }) => {
            let query = event_type.map_or_else(String::new, |t| format!("&type={}", path_part(&t)));
            ("GET", format!("/v1/events?limit=100{query}"), None, Shape::Table(EVENTS))
        }
        C::Events(EventsCommand::Show { id }) => ("GET", format!("/v1/events/{}", path_part(&id)), None, Shape::Fields),
        C::Deliveries(DeliveriesCommand::List { endpoint_id, status }) => {
            let query = status.map_or_else(String::new, |s| format!("&status={}", path_part(&s)));
            ("GET", format!("{}/deliveries?limit=100{query}", endpoint(&endpoint_id)), None, Shape::Table(DELIVERIES))
        }
        C::Deliveries(DeliveriesCommand::Show { endpoint_id, delivery_id }) => {
            ("GET", format!("{}/deliveries/{}", endpoint(&endpoint_id), path_part(&delivery_id)), None, Shape::Fields)
        }
        C::Deliveries(DeliveriesCommand::Retry { endpoint_id, delivery_id }) => {
            let path = format!("{}/deliveries/{}/retry", endpoint(&endpoint_id), path_part(&delivery_id));
            ("POST", path, Some(json!({})), Shape::Fields)
        }
        C::Keys(KeysCommand::Create { name, scopes, tenant }) => {
            let mut body = json!({"name": name, "scopes": scopes});
            if let Some(tenant) = tenant {
                body["tenant"] = json!(tenant);
            }
            ("POST", "/v1/api-keys".into(), Some(body), Shape::Fields)
        }
        C::Keys(KeysCommand::List { tenant }) => {
            let query = tenant.map_or_else(String::new, |tenant| format!("?tenant={}", path_part(&tenant)));
            ("GET", format!("/v1/api-keys{query}"), None, Shape::Table(KEYS))
        }
        C::Keys(KeysCommand::Revoke { id }) => {
            ("DELETE", format!("/v1/api-keys/{}", path_part(&id)), None, Shape::Done("revoked"))
        }
        // Made an `events send` once the example is read (`run`).
        C::Trigger { .. } => return Err("trigger: the type's example was not read".into()),
        C::EventTypes(EventTypesCommand::List) => ("GET", "/v1/event-types".into(), None, Shape::Table(TYPES)),
        C::EventTypes(EventTypesCommand::Create { name, description, schema_file }) => {
            let mut body = json!({"name": name});
            if let Some(description) = description {
                body["description"] = json!(description);
            }
            if let Some(file) = schema_file {
                body["schema"] = read_json("the schema", &read_file(&file)?)?;
            }
            ("POST", "/v1/event-types".into(), Some(body), Shape::Fields)
        }
    })
}

/// A cell: text as is, lists joined, nothing as `-`.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn print_table(answer: &Value, columns: &[(&str, &str)]) {
    let rows: Vec<Vec<String>> = answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| columns.iter().map(|(_, field)| cell(&item[*field])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(n, (header, _))| rows.iter().map(|row| row[n].chars().count()).chain([header.len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(text, width)| format!("{text:<width$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|(header, _)| (*header).to_owned()).collect());
    for row in rows {
        line(row);
    }
    if answer["next_cursor"].is_string() {
        println!("(more: see the API's next_cursor, or --json)");
    }
}

fn print_fields(answer: &Value) {
    match answer.as_object() {
        Some(fields) => {
            let width = fields.keys().map(String::len).max().unwrap_or(0);
            for (name, value) in fields {
                let shown = match value {
                    Value::Object(_) | Value::Array(_)
                        if !value.as_array().is_some_and(|a| a.iter().all(Value::is_string)) =>
                    {
                        value.to_string()
                    }
                    other => cell(other),
                };
                println!("{name:<width$}  {shown}");
            }
        }
        None => println!("{}", cell(answer)),
    }
}

/// `trigger TYPE` as the `events send` it is: the type's example payload, read from the
/// catalog (`GET /v1/event-types/{type}`); exit status 1 if the type has none.
async fn with_example(client: &Client, event_type: String) -> Result<ClientCommand, i32> {
    let shown = match client.call("GET", &format!("/v1/event-types/{}", path_part(&event_type)), None).await {
        Ok(shown) => shown,
        Err(error) => {
            eprintln!("webhooks: {error}");
            return Err(1);
        }
    };
    let Some(example) = shown.get("example").filter(|example| example.is_object()) else {
        eprintln!(
            "webhooks: {event_type} has no example payload in the catalog; send one with \
             `webhooks events send {event_type} --data '{{...}}'`"
        );
        return Err(1);
    };
    Ok(ClientCommand::Events(EventsCommand::Send {
        event_type,
        data: Some(example.to_string()),
        data_file: None,
        stdin: None,
    }))
}

/// Runs `command`; answers the process's exit status.
pub async fn run(options: &ClientOptions, command: ClientCommand) -> i32 {
    let Some(key) = options.key.as_deref() else {
        eprintln!("webhooks: an API key is needed: --key KEY (or WEBHOOKS_KEY)");
        return 2;
    };
    let client = match Client::new(&options.api_url, key) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("webhooks: {error}");
            return 2;
        }
    };
    let command = match command {
        ClientCommand::Trigger { event_type } => match with_example(&client, event_type).await {
            Ok(send) => send,
            Err(code) => return code,
        },
        other => other,
    };
    let (method, path, body, shape) = match request(command) {
        Ok(call) => call,
        Err(usage) => {
            eprintln!("webhooks: {usage}");
            return 2;
        }
    };
    match client.call(method, &path, body.as_ref()).await {
        Ok(answer) if options.json => {
            println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            0
        }
        Ok(answer) => {
            match shape {
                Shape::Table(columns) => print_table(&answer, columns),
                Shape::Fields => print_fields(&answer),
                Shape::Done(what) => println!("{what}"),
            }
            0
        }
        Err(error @ CallError::Refused(..)) | Err(error @ CallError::Unreachable(_)) => {
            eprintln!("webhooks: {error}");
            1
        }
    }
}
