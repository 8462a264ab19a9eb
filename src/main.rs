//! The `klamm` binary: `klamm serve` runs the broker; `topic`, `group`, `produce`, `consume`,
//! `cluster` and `health` are the admin CLI (`klamm::cli`), which talks to any Kafka broker.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use tracing::{error, info, warn};

use klamm::cli;
use klamm::settings::{Overrides, Settings};

#[derive(Parser)]
#[command(
    name = "klamm",
    version,
    about = "A single-node Kafka-compatible broker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the broker.
    Serve(ServeArgs),
    /// Create, list, describe, configure, grow and delete topics.
    Topic(cli::topic::TopicArgs),
    /// List, describe (members, offsets, lag), delete consumer groups and reset their offsets.
    Group(cli::group::GroupArgs),
    /// Produce lines from stdin as records.
    Produce(cli::produce::ProduceArgs),
    /// Print records of a topic.
    Consume(cli::consume::ConsumeArgs),
    /// Show the cluster: id, controller, brokers, API versions.
    Cluster(cli::cluster::ClusterArgs),
    /// Probe a broker's /health endpoint: exit 0 when it is serving (container HEALTHCHECK).
    Health(cli::health::HealthArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML config file (config/klamm.toml documents every setting).
    #[arg(long, env = "KLAMM_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (setting data.dir).
    #[arg(long, env = "KLAMM_DATA_DIR")]
    data_dir: Option<String>,
    /// Kafka listener HOST:PORT (setting listen; default 0.0.0.0:9092).
    #[arg(long, env = "KLAMM_LISTEN")]
    listen: Option<String>,
    /// HOST:PORT advertised to clients (setting advertised.listener).
    #[arg(long, env = "KLAMM_ADVERTISED_LISTENER")]
    advertised_listener: Option<String>,
    /// HTTP listener for /metrics and /health (setting http.listen).
    #[arg(long, env = "KLAMM_HTTP_LISTEN")]
    http_listen: Option<String>,
    /// Any setting by its Kafka name, e.g. --override num.partitions=3 (repeatable).
    #[arg(long = "override", value_name = "KEY=VALUE", value_parser = parse_override)]
    overrides: Vec<(String, String)>,
    /// Log line format.
    #[arg(long, env = "KLAMM_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Development security in one switch: a CA and certificates, SASL_SSL and SSL listeners
    /// beside PLAINTEXT, users `admin` (super user) and `alice` with generated passwords, ACLs
    /// on; prints client configs. Everything lives in DATA_DIR/dev-security.
    #[arg(long, env = "KLAMM_DEV_SECURITY")]
    dev_security: bool,
}

fn parse_override(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("expected KEY=VALUE, got {s:?}"));
    }
    Ok((k.to_string(), v.to_string()))
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a terminal, and not when NO_COLOR is set (no-color.org): a log file, a
    // pipe or journald gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Topic(a) => cli::output::finish(cli::topic::run(a)),
        Command::Group(a) => cli::output::finish(cli::group::run(a)),
        Command::Produce(a) => cli::output::finish(cli::produce::run(a)),
        Command::Consume(a) => cli::output::finish(cli::consume::run(a)),
        Command::Cluster(a) => cli::output::finish(cli::cluster::run(a)),
        Command::Health(a) => cli::output::finish(cli::health::run(a)),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    init_tracing(args.log_format);
    let mut overrides = Overrides {
        config_file: args.config,
        data_dir: args.data_dir,
        listen: args.listen,
        advertised_listener: args.advertised_listener,
        http_listen: args.http_listen,
        overrides: args.overrides,
        base: Vec::new(),
    };
    let invalid = |e: &dyn std::fmt::Display| {
        error!("invalid configuration: {e}");
        eprintln!("klamm: invalid configuration: {e}");
        ExitCode::from(2)
    };
    let mut settings = match Settings::load(&overrides) {
        Ok(s) => Arc::new(s),
        Err(e) => return invalid(&e),
    };
    if args.dev_security {
        let dev = match dev_security(&settings) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("klamm: --dev-security: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        overrides.base = dev.settings_layer();
        settings = match Settings::load(&overrides) {
            Ok(s) => Arc::new(s),
            Err(e) => return invalid(&e),
        };
        if let Err(e) = dev.provision(&settings) {
            eprintln!("klamm: --dev-security: {e:#}");
            return ExitCode::FAILURE;
        }
        let host = "localhost";
        print!(
            "{}",
            dev.client_configs(
                &format!("{host}:{}", dev.sasl_ssl_port),
                &format!("{host}:{}", dev.ssl_port)
            )
        );
    }
    for key in &settings.unknown_keys {
        warn!("the configuration '{key}' was supplied but isn't a known config");
    }
    raise_descriptor_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("klamm: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(klamm::server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("fatal: {e:#}");
            eprintln!("klamm: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prepares `--dev-security`'s material in the data directory.
fn dev_security(settings: &Settings) -> anyhow::Result<klamm::security::dev::DevSecurity> {
    let dev = klamm::security::dev::DevSecurity::prepare(
        &settings.data_dir(),
        &settings.string("listen"),
    )?;
    Ok(dev)
}

/// Raises the soft limit on open files to the hard limit, as the JVM does for Kafka on Linux
/// (HotSpot's `MaxFDLimit`): every partition keeps its active segment open, so with many
/// partitions a default soft limit of 1,024 leaves no descriptor for client connections.
fn raise_descriptor_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                info!(from = ?limit.current, to = ?limit.maximum, "raised the open-file limit")
            }
            Err(e) => warn!(current = ?limit.current, "could not raise the open-file limit: {e}"),
        }
    }
}
