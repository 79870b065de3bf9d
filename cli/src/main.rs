//! `webhooks`: run the service (`serve`), mint an admin key (`admin-key`), receive deliveries
//! locally (`listen`), check a delivery's signature (`verify`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use webhooks_cli::admin_key::create_admin_key;
use webhooks_cli::commands::{ClientCommand, ClientOptions};
use webhooks_cli::flags::SettingsFlags;
use webhooks_cli::listen::{Listening, listen};
use webhooks_cli::serve::{Running, ServeConfig, start};
use webhooks_cli::verify::{check, parse_headers, verifier};

#[derive(Parser)]
#[command(name = "webhooks", version, about = "Signed, retried, observable outgoing webhooks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    client: ClientOptions,
}

// Parsed once per process: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the API, the dispatcher and the sender in one process on an embedded SQLite file,
    /// or on DynamoDB and SQS with --aws.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Directory holding the database (created if missing).
        #[arg(long = "data", default_value = "data")]
        data_dir: PathBuf,
        #[command(flatten)]
        settings: SettingsFlags,
        /// Requests the sender keeps open to one endpoint at most (1 to 1000); more wait for a
        /// turn while it answers within a second, and are deferred once it is slower.
        #[arg(long, env = "WEBHOOKS_ENDPOINT_CONCURRENCY", default_value = "16", value_parser = parse_endpoint_concurrency)]
        endpoint_concurrency: usize,
        /// Use this admin API key (at least 32 characters) instead of minting one on first
        /// start; it replaces the key an earlier --admin-key set.
        #[arg(long, env = "WEBHOOKS_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
        /// Run on DynamoDB and SQS (AWS, or a local emulator at AWS_ENDPOINT_URL) instead of
        /// SQLite; credentials and region come from the usual AWS settings.
        #[arg(long)]
        aws: bool,
        /// With --aws: create the table and queues first, where missing.
        #[arg(long, requires = "aws")]
        provision: bool,
        /// With --aws: the table's name; the queues are <prefix>-events, <prefix>-deliveries and
        /// their -dlq.
        #[arg(long, default_value = "webhooks", requires = "aws")]
        prefix: String,
        /// Also serve GET /metrics (Prometheus) without a key at this address, e.g.
        /// 10.0.0.5:9090 for a scraper on a private network; on the API's address it needs an
        /// admin key.
        #[arg(long, env = "WEBHOOKS_METRICS_LISTEN", value_name = "ADDR")]
        metrics_listen: Option<SocketAddr>,
        /// Label the metrics by tenant for the first N tenants seen (0 to 1000; the rest
        /// count as tenant="_other"); 0, the default: no tenant label.
        #[arg(long, env = "WEBHOOKS_METRICS_TENANT_LABELS", value_name = "N", default_value = "0",
            value_parser = clap::value_parser!(u16).range(0..=1000))]
        metrics_tenant_labels: u16,
        /// Log lines for people (text) or as JSON; text on a terminal, JSON otherwise.
        #[arg(long, value_parser = ["text", "json"])]
        log_format: Option<String>,
    },
    /// Mint an admin API key into the store and print it once: a deployed stack's first key,
    /// or a replacement for a lost one.
    AdminKey {
        /// The key's name, shown by GET /v1/api-keys.
        #[arg(long, default_value = "admin (webhooks admin-key)")]
        name: String,
        /// The embedded backend's data directory; it must hold a database unless --create.
        #[arg(long = "data", default_value = "data", conflicts_with = "aws")]
        data_dir: PathBuf,
        /// Start a new database in --data if it holds none (otherwise a mistyped path is an
        /// error, not an empty new store).
        #[arg(long, conflicts_with = "aws")]
        create: bool,
        /// Into the DynamoDB table of a deployed stack (or of `serve --aws`), at the usual AWS
        /// settings (AWS_REGION, AWS_PROFILE, ...).
        #[arg(long)]
        aws: bool,
        /// With --aws: the stack's name (its table's name), or serve --aws's --prefix.
        #[arg(long, default_value = "webhooks", requires = "aws")]
        prefix: String,
    },
    /// A local receiver: prints each delivery as it arrives, with its signature checked when
    /// a secret or public key is given, and answers it.
    Listen {
        /// Port on 127.0.0.1 (0: any free one, printed).
        #[arg(long, default_value = "9000")]
        port: u16,
        /// The endpoint's secret (as shown, or its whsec_ form), to check signatures.
        #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true, conflicts_with = "public_key")]
        secret: Option<String>,
        /// An ed25519 endpoint's public key (whpk_...), to check signatures.
        #[arg(long)]
        public_key: Option<String>,
        /// The status to answer each delivery with.
        #[arg(long, default_value = "200", value_parser = clap::value_parser!(u16).range(100..=599))]
        status: u16,
        /// Pass each request on to this URL (your app), with its headers and body.
        #[arg(long, value_name = "URL")]
        forward_to: Option<String>,
    },
    #[command(flatten)]
    Client(ClientCommand),
    /// Measure the embedded service end to end (a fresh SQLite file per workload, a receiver
    /// in this process): deliveries/s, latency, CPU per 1,000 deliveries, peak memory; a
    /// table, or with --json one JSON document on stdout. Progress on stderr.
    Bench {
        /// Events of the flat-out workloads (the fan-out 10 one sends a tenth as many).
        #[arg(long, default_value = "20000", value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
        events: u64,
    },
    /// Print a shell's completion script: `webhooks completions bash > /etc/bash_completion.d/webhooks`,
    /// or `source <(webhooks completions bash)`.
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Check one delivery's signature: its body on stdin, its headers as --header. Exits 0
    /// when it verifies, 1 (saying why) when it does not.
    Verify {
        /// The endpoint's secret (as shown, or its whsec_ form).
        #[arg(
            long,
            env = "WEBHOOK_SECRET",
            hide_env_values = true,
            required_unless_present = "public_key",
            conflicts_with = "public_key"
        )]
        secret: Option<String>,
        /// An ed25519 endpoint's public key (whpk_...).
        #[arg(long)]
        public_key: Option<String>,
        /// A header of the delivery, "name: value" (repeat it for each).
        #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
        headers: Vec<String>,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Command::Serve { log_format, .. } => log_format.as_deref(),
        _ => None,
    };
    if matches!(cli.command, Command::Bench { .. }) {
        // The services it starts log warnings only, on stderr: stdout is the report.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    } else {
        init_logs(log_format);
    }
    match cli.command {
        Command::Bench { events } => bench(usize::try_from(events).unwrap_or(usize::MAX), cli.client.json).await,
        Command::Client(command) => std::process::exit(webhooks_cli::commands::run(&cli.client, command).await),
        Command::Completions { shell } => {
            let shell = match shell.as_str() {
                "zsh" => clap_complete::Shell::Zsh,
                "fish" => clap_complete::Shell::Fish,
                _ => clap_complete::Shell::Bash,
            };
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "webhooks", &mut script);
            // A reader that stops early (`| head`) is no error of ours.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
        }
        Command::AdminKey { name, data_dir, create, aws, prefix } => {
            let minted =
                if aws { aws_admin_key(prefix, &name).await } else { create_admin_key(&data_dir, create, &name).await };
            match minted {
                Ok(key) => println!("admin API key (shown once, keep it): {key}"),
                Err(error) => {
                    eprintln!("webhooks admin-key: {error}");
                    std::process::exit(1);
                }
            }
        }
        Command::Listen { port, secret, public_key, status, forward_to } => {
            let verifier = verifier(secret.as_deref(), public_key.as_deref()).unwrap_or_else(|error| usage(&error));
            let status = axum::http::StatusCode::from_u16(status).unwrap_or_else(|error| usage(&error.to_string()));
            let listening = Listening { verifier, status, forward_to };
            if let Err(error) = listen(SocketAddr::from(([127, 0, 0, 1], port)), listening).await {
                eprintln!("webhooks listen: {error}");
                std::process::exit(1);
            }
        }
        Command::Verify { secret, public_key, headers } => {
            let verifier = verifier(secret.as_deref(), public_key.as_deref()).unwrap_or_else(|error| usage(&error));
            let headers = parse_headers(&headers).unwrap_or_else(|error| usage(&error));
            let mut body = Vec::new();
            if let Err(error) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut body) {
                usage(&format!("reading the body from stdin: {error}"));
            }
            match check(&verifier.expect("clap requires a secret or a public key"), &headers, &body) {
                Ok(()) => println!("valid"),
                Err(refusal) => {
                    eprintln!("INVALID: {refusal}");
                    std::process::exit(1);
                }
            }
        }
        Command::Serve {
            listen,
            data_dir,
            settings,
            endpoint_concurrency,
            admin_key,
            aws,
            provision,
            prefix,
            metrics_listen,
            metrics_tenant_labels,
            ..
        } => {
            let mut config = ServeConfig::new(listen, data_dir);
            config.settings = settings.settings(|name| std::env::var(name).ok()).unwrap_or_else(|error| {
                eprintln!("webhooks serve: {error}");
                std::process::exit(2);
            });
            config.admin_key = admin_key;
            config.endpoint_concurrency = endpoint_concurrency;
            config.metrics_listen = metrics_listen;
            config.metrics_tenant_labels = usize::from(metrics_tenant_labels);
            config.traces = webhooks_http::otlp::OtlpSettings::from_lookup(|name| std::env::var(name).ok(), "webhooks")
                .unwrap_or_else(|error| {
                    eprintln!("webhooks serve: {error}");
                    std::process::exit(2);
                });
            let running = if aws { start_aws(config, prefix, provision).await } else { start(config).await };
            serve(running).await;
        }
    }
}

async fn bench(events: usize, json: bool) {
    use webhooks_cli::bench::{highest_rate, machine, measure, table, workloads};
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg:28} {bar:40} {pos}/{len} deliveries").expect("a valid template"),
    );
    let mut results = Vec::new();
    for workload in workloads(events) {
        bar.set_length((workload.events * usize::from(workload.fan_out)) as u64);
        bar.set_position(0);
        bar.set_message(workload.name.clone());
        match measure(&workload, &|arrived| bar.set_position(arrived)).await {
            Ok(measured) => results.push(measured),
            Err(error) => {
                bar.abandon();
                eprintln!("webhooks bench: {}: {error}", workload.name);
                std::process::exit(1);
            }
        }
    }
    bar.set_length(0);
    let search = highest_rate(events, &|probe| bar.set_message(probe.to_owned())).await.unwrap_or_else(|error| {
        bar.abandon();
        eprintln!("webhooks bench: the highest rate: {error}");
        std::process::exit(1);
    });
    bar.finish_and_clear();
    let command = format!("webhooks bench --events {events}");
    if json {
        let report = serde_json::json!({
            "command": command,
            "machine": machine(),
            "workloads": results,
            "highest_rate": search,
        });
        println!("{report}");
    } else {
        let machine = machine();
        let cpu = machine["cpu"].as_str().unwrap_or("an unknown CPU");
        println!(
            "{command}, on {} cores of {cpu} ({} {})",
            machine["cpus"],
            machine["os"].as_str().unwrap_or(""),
            machine["arch"].as_str().unwrap_or("")
        );
        print!("{}", table(&results));
        let probes: Vec<String> = search
            .probes
            .iter()
            .map(|p| {
                format!(
                    "{:.0}/s: p99 {:.1} ms{}",
                    p.offered_events_per_s,
                    p.p99_ms,
                    if p.held { "" } else { " (missed)" }
                )
            })
            .collect();
        match search.highest_events_per_s {
            Some(rate) => println!(
                "highest rate with p99 under {} ms (1 per POST, fan-out 1): {rate:.0} events/s ({})",
                search.p99_goal_ms,
                probes.join(", ")
            ),
            None => println!("p99 is over {} ms even at {}", search.p99_goal_ms, probes.join(", ")),
        }
    }
}

async fn serve(running: Result<Running, String>) {
    let running = match running {
        Ok(running) => running,
        Err(error) => {
            eprintln!("webhooks serve: {error}");
            std::process::exit(1);
        }
    };
    if let Some(key) = &running.minted_admin_key {
        println!("admin API key (shown once, keep it): {key}");
    }
    println!("listening on http://{}", running.addr);
    if let Some(addr) = running.metrics_addr {
        println!("metrics on http://{addr}/metrics");
    }
    wait_for_signal().await;
    println!("shutting down: finishing work in flight");
    running.stop().await;
}

/// What `--aws` answers in a build without the `aws` feature.
#[cfg(not(feature = "aws"))]
const NO_AWS: &str = "this build of webhooks has no AWS support (build it with the `aws` feature, on by default)";

async fn start_aws(config: ServeConfig, prefix: String, provision: bool) -> Result<Running, String> {
    #[cfg(feature = "aws")]
    return webhooks_cli::aws::start_aws(config, webhooks_cli::aws::AwsServe { prefix, provision }).await;
    #[cfg(not(feature = "aws"))]
    {
        let _ = (config, prefix, provision);
        Err(NO_AWS.to_owned())
    }
}

async fn aws_admin_key(table: String, name: &str) -> Result<String, String> {
    #[cfg(feature = "aws")]
    return webhooks_cli::aws::create_aws_admin_key(table, name).await;
    #[cfg(not(feature = "aws"))]
    {
        let _ = (table, name);
        Err(NO_AWS.to_owned())
    }
}

async fn wait_for_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

fn parse_endpoint_concurrency(text: &str) -> Result<usize, String> {
    let most = webhooks_pipeline::sender::in_flight::MAX_PER_ENDPOINT;
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=most).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {most}"))
}

/// A usage error: said on stderr, exit status 2 (as clap's own).
fn usage(error: &str) -> ! {
    eprintln!("webhooks: {error}");
    std::process::exit(2);
}

/// Logs on stdout (`RUST_LOG` filters, `info` by default): for people on a terminal, with
/// colours; JSON lines otherwise (a file, a pipe, a log collector), or as `format` says.
/// Never colour codes outside a terminal.
fn init_logs(format: Option<&str>) {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if format == Some("json") || (format.is_none() && !terminal) {
        logs.json().with_ansi(false).init();
    } else {
        logs.with_ansi(terminal).init();
    }
}
