//! The `voicebot` command: one subcommand per file in `src/commands/`.

mod commands;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Voice bots on 3CX V20 through the Call Control API.
#[derive(Debug, Parser)]
#[command(name = "voicebot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a simulated 3CX PBX (Call Control API, WebSocket, audio) on a local port.
    Sim(commands::sim::SimArgs),
    /// Users (extensions) through the Configuration API.
    Users(commands::users::UsersArgs),
    /// Departments through the Configuration API.
    Departments(commands::departments::DepartmentsArgs),
    /// Shared parking through the Configuration API.
    Parking(commands::parking::ParkingArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => commands::sim::run(args).await,
        Command::Users(args) => commands::users::run(args).await,
        Command::Departments(args) => commands::departments::run(args).await,
        Command::Parking(args) => commands::parking::run(args).await,
    }
}
