//! [`App`]: the `voicebot` command line with the bundled bots and your own.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde::de::DeserializeOwned;
use voicebot_bot::{Bot, BotConfigError, BotContext, BotRegistry, IntoBot};

use crate::logging::LogFormat;
use crate::{commands, exit, registry};

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
log on stderr; the default is info for voicebot crates under `run` and `sim`, warn for
every other command and for other crates. `--log-format json` writes one JSON object per
line; colour is used only on a terminal and never with NO_COLOR set.";

/// Crates whose logs show at info by default (the one-shot commands: warn).
const OUR_CRATES: [&str; 15] = [
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
    "voicebot_webhook",
    "voicebot_speech",
];

/// The `voicebot` program: every command (`run`, `run --check`, `sim`, `demo`,
/// `call`, `campaign`, `doctor`, ...), configuration loading, logging and the bundled
/// bots, plus the bots you register. A binary of your own is one line:
///
/// ```no_run
/// use voicebot::bot::{Bot, BotError, Call, async_trait};
///
/// #[derive(serde::Deserialize)]
/// #[serde(deny_unknown_fields)] // a misspelt key is an error at startup
/// struct Hello {
///     greeting: std::path::PathBuf,
///     operator: String,
/// }
///
/// #[async_trait]
/// impl Bot for Hello {
///     async fn handle(&self, call: Call) -> Result<(), BotError> {
///         let key = call.gather().prompt(self.greeting.as_path()).max_digits(1).await?;
///         if key == "0" {
///             call.transfer(self.operator.as_str()).await?;
///         }
///         Ok(()) // returning hangs up
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     voicebot::App::new().bot("hello", |config: Hello| config).run()
/// }
/// ```
///
/// A route point then names it in `voicebot.toml`, with its table checked at
/// startup like a bundled bot's (an unknown key, a missing one or a bad value is an
/// error naming the file, line and key, before anything connects):
///
/// ```toml
/// [route_points."800"]
/// bot = "hello"
///
/// [route_points."800".config]
/// greeting = "prompts/hello.wav"
/// operator = "100"
/// ```
#[derive(Debug)]
#[must_use = "an App does nothing until `run`"]
pub struct App {
    registry: BotRegistry,
    /// Crates of the bots registered here, logged at info like voicebot's own.
    log_targets: BTreeSet<String>,
    /// Names registered by `bot`/`bot_with_context`, to refuse one given twice.
    custom: Vec<String>,
    /// Registrations refused; reported by `run` (exit 2).
    refused: Vec<String>,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// The program with the bundled bots: `ivr-menu`, `recorder`, `announcement`,
    /// `echo`, `transcriber`.
    pub fn new() -> Self {
        Self {
            registry: registry::bundled(),
            log_targets: BTreeSet::new(),
            custom: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Registers a bot as `name` (what `bot = "..."` says in the configuration),
    /// built by `factory` from its `[config]` table deserialised as `C`. The factory
    /// returns the bot, or `Result<bot, BotConfigError>` to refuse settings that
    /// deserialised but make no sense (the error names the key). Use
    /// `#[serde(deny_unknown_fields)]` on `C` so misspelt keys are errors too. A
    /// bundled bot of the same name is replaced.
    pub fn bot<C, R>(mut self, name: &str, factory: fn(C) -> R) -> Self
    where
        C: DeserializeOwned + 'static,
        R: IntoBot + 'static,
    {
        if self.accept::<C, R::Bot>(name) {
            self.registry.register(name, factory);
        }
        self
    }

    /// As [`bot`](Self::bot), for a factory that also takes the engine's
    /// [`BotContext`] (outbound dialling, the recordings folder, the speech
    /// recogniser, other bots by name) and may refuse a configuration that
    /// deserialised but makes no sense: its [`BotConfigError`] names the key, and
    /// `voicebot run` reports it with the file and line.
    pub fn bot_with_context<C, B>(
        mut self,
        name: &str,
        factory: fn(C, &BotContext) -> Result<B, BotConfigError>,
    ) -> Self
    where
        C: DeserializeOwned + 'static,
        B: Bot,
    {
        if self.accept::<C, B>(name) {
            self.registry.register_with(name, factory);
        }
        self
    }

    /// The names of every bot it knows, sorted.
    pub fn bots(&self) -> impl Iterator<Item = &str> {
        self.registry.names()
    }

    /// Runs the command line of this process (`std::env::args_os`) to the end and
    /// returns its exit code (0 success, 1 runtime failure, 2 bad usage or
    /// configuration, 3 PBX unreachable, 4 authentication refused, 5 a `doctor` step
    /// failed).
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Runs the command line `args` (the program's name first), as [`run`](Self::run).
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let cli = Cli::parse_from(args);
        if !self.refused.is_empty() {
            eprintln!("error: {}", self.refused.join("; "));
            return exit::Exit::Usage.into();
        }
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("error: starting the async runtime: {error}");
                return ExitCode::FAILURE;
            }
        };
        runtime.block_on(self.dispatch(cli))
    }

    /// Checks a registration; a refused one is reported by `run`.
    fn accept<C, B>(&mut self, name: &str) -> bool {
        let refusal = match () {
            () if name.trim().is_empty() => Some("a bot needs a name".to_owned()),
            () if name.trim() != name => Some(format!(
                "bot name {name:?} has spaces around it; the configuration could not name it"
            )),
            () if self.custom.iter().any(|known| known == name) => {
                Some(format!("bot {name:?} is registered twice"))
            }
            () => None,
        };
        if let Some(refusal) = refusal {
            self.refused.push(refusal);
            return false;
        }
        self.custom.push(name.to_owned());
        self.log_targets.extend(
            [std::any::type_name::<B>(), std::any::type_name::<C>()]
                .into_iter()
                .filter_map(crate_of),
        );
        true
    }

    async fn dispatch(self, cli: Cli) -> ExitCode {
        let _ = rustls::crypto::ring::default_provider().install_default();
        init_logging(&cli.command, cli.log_format, &self.log_targets);
        let bots = Arc::new(self.registry);
        let result = match cli.command {
            Command::Run(args) => commands::run::run(args, &bots).await,
            Command::Sim(args) => commands::sim::run(args).await,
            Command::Demo(args) => commands::demo::run(args, &bots).await,
            Command::Call(args) => commands::call::run(args).await,
            Command::Calls(args) => commands::calls::run(args).await,
            Command::Campaign(args) => commands::campaign::run(args, &bots).await,
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
}

/// The crate a type comes from (`my_bot` for `my_bot::Menu`), unless it is the
/// standard library's or a type without a path (a tuple, a reference).
fn crate_of(type_name: &str) -> Option<String> {
    let (krate, _) = type_name.split_once("::")?;
    let plain = krate.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let standard = matches!(krate, "std" | "core" | "alloc");
    (plain && !standard && !krate.is_empty()).then(|| krate.to_owned())
}

/// Voice bots on 3CX V20 through the Call Control API.
#[derive(Debug, Parser)]
#[command(name = "voicebot", version, about, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
struct Cli {
    /// Log line format on stderr: `text`, or `json` (one object per line, call ids
    /// as fields) for a log shipper.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        env = "VOICEBOT_LOG_FORMAT"
    )]
    log_format: LogFormat,
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
    /// List the calls the engine handled, from its call records (cdr.jsonl).
    Calls(commands::calls::CallsArgs),
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

/// `RUST_LOG` wins; otherwise info for our crates (and those of the bots registered
/// with [`App::bot`]) and warn for others. The demo and the one-shot commands default
/// to warn, since their stdout already tells the story; `run` and `sim` are services
/// and log at info.
fn init_logging(command: &Command, format: LogFormat, extra: &BTreeSet<String>) {
    let ours = default_level(command);
    let default = OUR_CRATES
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .fold("warn".to_owned(), |filter, krate| {
            format!("{filter},{krate}={ours}")
        });
    crate::logging::init(format, &default);
}

/// Our crates' default level for `command`: `info` for the services, `warn` for the
/// rest (the README's Command line section says the same).
fn default_level(command: &Command) -> &'static str {
    match command {
        Command::Run(_) | Command::Sim(_) => "info",
        _ => "warn",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Greeting {
        #[allow(dead_code)]
        prompt: String,
    }

    /// A bot type of this crate, so its crate name is `voicebot`.
    struct Quiet;

    #[voicebot_bot::async_trait]
    impl Bot for Quiet {
        async fn handle(&self, _call: voicebot_bot::Call) -> Result<(), voicebot_bot::BotError> {
            Ok(())
        }
    }

    fn quiet(_config: Greeting) -> Quiet {
        Quiet
    }

    #[test]
    fn a_custom_bot_joins_the_bundled_ones() {
        let app = App::new().bot("greeter", quiet);
        let names: Vec<&str> = app.bots().collect();
        let bundled = registry::bundled();
        for name in bundled.names() {
            assert!(names.contains(&name), "{name} is missing: {names:?}");
        }
        assert_eq!(names.len(), bundled.names().count() + 1);
        assert!(names.contains(&"greeter"), "{names:?}");
        assert!(app.refused.is_empty());
        // The bot is checked like a bundled one: its table must fit its type.
        let table = |text: &str| toml::Value::Table(toml::from_str(text).unwrap());
        assert!(
            app.registry
                .build("greeter", table("prompt = 'a.wav'"))
                .is_ok()
        );
        let error = app
            .registry
            .build("greeter", table("promt = 'a.wav'"))
            .err()
            .unwrap();
        assert_eq!(error.key.as_deref(), Some("promt"), "{error}");
    }

    #[test]
    fn names_that_cannot_work_are_refused_at_run() {
        fn context_bot(_config: Greeting, _context: &BotContext) -> Result<Quiet, BotConfigError> {
            Ok(Quiet)
        }
        let app = App::new()
            .bot("", quiet)
            .bot(" padded", quiet)
            .bot("twice", quiet)
            .bot_with_context("twice", context_bot);
        assert_eq!(app.refused.len(), 3, "{:?}", app.refused);
        assert!(app.refused[2].contains("twice"), "{:?}", app.refused);
        // A bundled name may be taken over on purpose.
        let app = App::new().bot("echo", quiet);
        assert!(app.refused.is_empty());
    }

    #[test]
    fn the_bots_crates_are_logged_like_ours() {
        assert_eq!(crate_of("my_bot::menu::Menu"), Some("my_bot".to_owned()));
        assert_eq!(crate_of("alloc::string::String"), None);
        assert_eq!(crate_of("(u8, u16)"), None);
        assert_eq!(crate_of("&my_bot::Menu"), None);
        let app = App::new().bot("greeter", quiet);
        assert!(
            app.log_targets.contains("voicebot"),
            "{:?}",
            app.log_targets
        );
    }
}
