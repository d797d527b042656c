//! The `voicebot` command: one subcommand per file in `src/commands/`.
//!
//! Errors from every command are `anyhow` chains; [`exit::code_of`] turns them into
//! the documented exit codes. Logs go to stderr (filtered by `RUST_LOG`), results to
//! stdout, so scripts can read `--json` output while logs stay visible.

mod commands;
mod config;
mod exit;
mod launch;
mod registry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Exit codes, shown at the end of `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  runtime failure
  2  bad usage or bad configuration file
  3  PBX unreachable (DNS, TCP, TLS, timeout)
  4  authentication failure (401/403 from the token endpoint or the API)
  5  a `doctor` step failed

Logging: RUST_LOG (e.g. RUST_LOG=debug or RUST_LOG=voicebot_engine=trace) filters the
log on stderr; the default is info for voicebot crates and warn for the rest.";

/// Voice bots on 3CX V20 through the Call Control API.
#[derive(Debug, Parser)]
#[command(name = "voicebot", version, about, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the engine with the configured bots against a PBX.
    Run(commands::run::RunArgs),
    /// Run a simulated 3CX PBX (Call Control API, WebSocket, audio) on a local port.
    Sim(commands::sim::SimArgs),
    /// Simulator, engine and scripted calls in one process: no PBX or setup needed.
    Demo(commands::demo::DemoArgs),
    /// Place a scripted test call: dial, send audio, press digits, save what was heard.
    Call(commands::call::CallArgs),
    /// Run the announcement bot's outbound campaign for a route point and report.
    Campaign(commands::campaign::CampaignArgs),
    /// Show the PBX's current DNs, devices and calls.
    State(commands::state::StateArgs),
    /// Check the credentials: fetch a token and show its lifetime.
    Token(commands::token::TokenArgs),
    /// Transcribe a recording with a speech recogniser, as the transcriber bot does.
    Transcribe(commands::transcribe::TranscribeArgs),
    /// Convert audio: any WAV to 8 kHz mono s16 WAV or raw PCM, and back.
    Convert(commands::convert::ConvertArgs),
    /// Speak a text into an 8 kHz WAV file with the configured speech synthesiser.
    Say(commands::say::SayArgs),
    /// Walk the troubleshooting checklist and say which step fails.
    Doctor(commands::doctor::DoctorArgs),
    /// Users (extensions) through the Configuration API.
    Users(commands::users::UsersArgs),
    /// Departments through the Configuration API.
    Departments(commands::departments::DepartmentsArgs),
    /// Shared parking through the Configuration API.
    Parking(commands::parking::ParkingArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    init_logging(&cli.command);
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args).await,
        Command::Sim(args) => commands::sim::run(args).await,
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Call(args) => commands::call::run(args).await,
        Command::Campaign(args) => commands::campaign::run(args).await,
        Command::State(args) => commands::state::run(args).await,
        Command::Token(args) => commands::token::run(args).await,
        Command::Convert(args) => commands::convert::run(args),
        Command::Say(args) => commands::say::run(args).await,
        Command::Transcribe(args) => commands::transcribe::run(args).await,
        Command::Doctor(args) => commands::doctor::run(args).await,
        Command::Users(args) => commands::users::run(args).await,
        Command::Departments(args) => commands::departments::run(args).await,
        Command::Parking(args) => commands::parking::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let exit = exit::code_of(&error);
            eprintln!("error: {error:#}");
            exit.into()
        }
    }
}

/// `RUST_LOG` wins; otherwise info for our crates and warn for others. The demo and
/// the one-shot checks default to warn, since their stdout already tells the story.
fn init_logging(command: &Command) {
    let ours = match command {
        Command::Demo(_)
        | Command::Token(_)
        | Command::Doctor(_)
        | Command::State(_)
        | Command::Convert(_)
        | Command::Say(_)
        | Command::Transcribe(_)
        | Command::Campaign(_) => "warn",
        _ => "info",
    };
    let default = [
        "voicebot",
        "voicebot_engine",
        "voicebot_callcontrol",
        "voicebot_dispatch",
        "voicebot_bot",
        "voicebot_sim",
        "voicebot_media",
        "voicebot_xapi",
        "voicebot_ivr_menu",
        "voicebot_announcement",
        "voicebot_recorder",
        "voicebot_echo",
        "voicebot_transcriber",
    ]
    .iter()
    .fold("warn".to_owned(), |filter, krate| {
        format!("{filter},{krate}={ours}")
    });
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
}
