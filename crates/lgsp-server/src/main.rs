//! `lgsp`: the command line of the platform.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lgsp_server::keys::Keyring;
use lgsp_server::settings::{Flags, Secret, Settings};

#[derive(Parser)]
#[command(
    name = "lgsp",
    version,
    about = "The provincial data integration and sharing platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform.
    Serve(ServeArgs),
    /// Manage the platform's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Print generated documentation.
    Docs {
        #[command(subcommand)]
        command: DocsCommand,
    },
}

#[derive(Args)]
struct CommonArgs {
    /// Settings file (default: ./lgsp.toml when present).
    #[arg(long, env = "LGSP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory [default: ./lgsp-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// `postgres://…` URL or SQLite file [default: <data-dir>/lgsp.db].
    #[arg(long)]
    database: Option<String>,
    /// Address of the Prometheus metrics listener.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// Load the demo province (Hà Nam) with demo accounts and clients.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key; older keys stay published and verifiable.
    Rotate,
    /// List the key ids, newest last.
    List,
}

#[derive(Subcommand)]
enum DocsCommand {
    /// The error code table as Markdown (docs/errors.md).
    Errors,
    /// The OpenAPI 3.1 document of the REST API.
    Openapi,
}

fn load(common: &CommonArgs, flags: Flags) -> Result<Settings, String> {
    let flags = Flags {
        data_dir: common.data_dir.clone(),
        ..flags
    };
    Settings::load(common.config.as_deref(), std::env::vars(), &flags).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Keys { command, common } => keys(command, &common),
        Command::Docs { command } => {
            match command {
                DocsCommand::Errors => print!("{}", lgsp_server::error::errors_markdown()),
                DocsCommand::Openapi => {
                    let (_, openapi) = lgsp_server::app::documented_routes(&Settings::default());
                    println!("{}", openapi.to_pretty_json().unwrap_or_default());
                }
            }
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lgsp: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let flags = Flags {
        listen: args.listen,
        database: args.database.map(Secret::new),
        metrics_listen: args.metrics_listen,
        demo: args.demo,
        ..Flags::default()
    };
    let settings = load(&args.common, flags)?;
    lgsp_server::init_tracing(&settings);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime
        .block_on(lgsp_server::serve(settings))
        .map_err(|e| format!("{e:#}"))
}

fn keys(command: KeysCommand, common: &CommonArgs) -> Result<(), String> {
    let settings = load(common, Flags::default())?;
    let keyring = match command {
        KeysCommand::Rotate => Keyring::rotate(&settings.data_dir),
        KeysCommand::List => Keyring::load_or_create(&settings.data_dir),
    }
    .map_err(|e| e.to_string())?;
    for key in keyring.keys() {
        println!("{}  created {}", key.kid, key.created_at.to_rfc3339());
    }
    if matches!(command, KeysCommand::Rotate) {
        println!(
            "New signing key: {}. Restart the servers to sign with it.",
            keyring.active().kid
        );
    }
    Ok(())
}
