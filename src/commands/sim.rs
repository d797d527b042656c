//! `voicebot sim`: runs the PBX simulator until Ctrl-C or SIGTERM. Nothing else stops
//! it: a scripted caller whose script fails is reported and the simulator goes on.

mod file;
mod report;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use voicebot_sim::{
    AfterRoute, CallSpec, CallersPlan, ExpiresInUnit, ExtensionSpec, FarEnd, Faults, InboundMode,
    RecurringFault, Repeating, Script, Sim, SimConfig, SimTls,
};

use self::file::SimFile;
use crate::exit::Exit;

/// What a bare `--extension DN` does: its user answers after a second.
const BARE_EXTENSION: &str = "answer:1s";

/// Options of `voicebot sim`.
#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5001")]
    listen: SocketAddr,
    /// OAuth client id of the API client (also the route point's DN by default).
    #[arg(long, default_value = "800")]
    client_id: String,
    /// The API key (client secret).
    #[arg(long, default_value = "sim-secret")]
    client_secret: String,
    /// DN of the route point (default: the client id).
    #[arg(long, value_name = "DN")]
    route_point: Option<String>,
    /// A monitored extension and what its user does when it rings (repeatable):
    /// `100` (answers after 1 s), `100=answer:2s`, `100=answer:1s,hangup:30s`,
    /// `100=answer,script:FILE`, `100=busy`, `100=reject`, `100=noanswer[:20s]`.
    #[arg(long = "extension", value_name = "DN[=BEHAVIOUR]", value_parser = extension)]
    extensions: Vec<ExtensionSpec>,
    /// A configuration file: `[extensions]`, `[far_ends]`, `route_failure_status`,
    /// `after_route` (see the README).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve HTTPS and WSS with a new self-signed certificate; its CA goes to
    /// `--ca-out` for the client to trust (`pbx.ca_file`, `VOICEBOT_CA_FILE`).
    #[arg(long)]
    tls: bool,
    /// Serve HTTPS and WSS with this PEM certificate (chain) instead; needs `--key`.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The PEM private key of `--cert`.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Where `--tls` writes the CA certificate (default: voicebot-sim-ca-PORT.pem in
    /// the temporary folder).
    #[arg(long, value_name = "FILE")]
    ca_out: Option<PathBuf>,
    /// A callers file: groups of scripted callers (how many, how often, from which
    /// numbers, which script); prints a live count and a summary.
    #[arg(long, value_name = "FILE")]
    callers: Option<PathBuf>,
    /// HTTP status of a failed routeto/transferto: an error status (default 422), or
    /// 200 with `finalstatus: Failed`.
    #[arg(long, value_name = "STATUS", value_parser = file::route_failure_status)]
    route_failure_status: Option<u16>,
    /// What becomes of the participant a successful routeto handed on: `linger:1s`
    /// (default; it answers a `drop` until then) or `remove` (gone at once).
    #[arg(long, value_name = "remove|linger:DURATION", value_parser = file::after_route)]
    after_route: Option<AfterRoute>,
    /// How inbound route-point calls appear.
    #[arg(long, value_enum, default_value_t = Inbound::Connected)]
    inbound: Inbound,
    /// Token lifetime: seconds, or a duration such as "90s" or "5m".
    #[arg(long, value_name = "DURATION", default_value = "3600", value_parser = lifetime)]
    token_lifetime: Duration,
    /// Unit of `expires_in` in token answers: `minutes` as 3CX up to 20.0.8 sends it.
    #[arg(long, value_enum, default_value_t = Unit::Seconds)]
    expires_in_unit: Unit,
    /// Same as `--expires-in-unit minutes`.
    #[arg(long, hide = true, conflicts_with = "expires_in_unit")]
    expires_in_minutes: bool,
    /// A new token revokes the previous one.
    #[arg(long)]
    revoke_previous_token: bool,
    /// Send every Upsert twice.
    #[arg(long)]
    duplicate_upserts: bool,
    /// Place a call from this number to the route point after `--call-delay`.
    #[arg(long, value_name = "NUMBER")]
    call_in: Option<String>,
    /// TOML script the `--call-in` caller runs.
    #[arg(long, value_name = "FILE", requires = "call_in")]
    script: Option<PathBuf>,
    /// Seconds to wait before placing the `--call-in` call.
    #[arg(long, default_value_t = 5.0)]
    call_delay: f64,
    /// Refuse event WebSocket upgrades with 503: the next COUNT, or all without one.
    #[arg(long, value_name = "COUNT", num_args = 0..=1, default_missing_value = "all", value_parser = count)]
    refuse_websockets: Option<usize>,
    /// Answer requests whose path starts with PATH (optionally "METHOD PATH") with
    /// STATUS, N times or always without `xN`, e.g. `/connect/token=401`,
    /// `"POST /callcontrol=503x2"` (repeatable).
    #[arg(long, value_name = "PATH=STATUS[xN]", value_parser = failure)]
    fail: Vec<Failure>,
    /// End every audio stream (GET and POST) every DURATION, e.g. `7s`; calls go on.
    #[arg(long, value_name = "DURATION", value_parser = lifetime)]
    cut_streams_every: Option<Duration>,
    /// Stall every GET audio stream (open, delivering nothing; that audio is lost)
    /// every DURATION, for `--stall-for`.
    #[arg(long, value_name = "DURATION", value_parser = lifetime)]
    stall_streams_every: Option<Duration>,
    /// How long each stall of `--stall-streams-every` lasts.
    #[arg(long, value_name = "DURATION", value_parser = lifetime, default_value = "2s")]
    stall_for: Duration,
    /// Close every event WebSocket every DURATION.
    #[arg(long, value_name = "DURATION", value_parser = lifetime)]
    drop_websockets_every: Option<Duration>,
    /// Expire every access token every DURATION.
    #[arg(long, value_name = "DURATION", value_parser = lifetime)]
    expire_tokens_every: Option<Duration>,
}

/// A `--fail` flag: which requests, the status, how many times.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    matcher: String,
    status: u16,
    count: usize,
}

/// Parses `PATH=STATUS[xN]`.
fn failure(text: &str) -> Result<Failure, String> {
    let usage = || format!("expected PATH=STATUS[xN], e.g. /callcontrol=503x2, got {text:?}");
    let (matcher, rest) = text.rsplit_once('=').ok_or_else(usage)?;
    let (status, count) = match rest.split_once(['x', 'X']) {
        Some((status, count)) => (status, count.trim().parse().map_err(|_| usage())?),
        None => (rest, usize::MAX),
    };
    let status: u16 = status.trim().parse().map_err(|_| usage())?;
    let matcher = matcher.trim();
    let path = matcher.rsplit(' ').next().unwrap_or_default();
    if !(100..=599).contains(&status) || count == 0 || !path.starts_with('/') {
        return Err(usage());
    }
    Ok(Failure {
        matcher: matcher.to_owned(),
        status,
        count,
    })
}

/// Parses `--extension DN[=BEHAVIOUR]`.
fn extension(text: &str) -> Result<ExtensionSpec, String> {
    let bare: FarEnd = BARE_EXTENSION.parse()?;
    ExtensionSpec::parse_in(text, &bare, Path::new(""))
}

/// Parses a count, or `all`.
fn count(text: &str) -> Result<usize, String> {
    match text {
        "all" => Ok(usize::MAX),
        _ => text
            .parse()
            .map_err(|_| format!("expected a count or `all`, got {text:?}")),
    }
}

/// Parses seconds (`90`) or a duration (`90s`, `5m`), above zero.
fn lifetime(text: &str) -> Result<Duration, String> {
    let duration = match text.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime_serde::re::humantime::parse_duration(text.trim())
            .map_err(|error| format!("{text:?}: {error}"))?,
    };
    match duration.is_zero() {
        true => Err("must be longer than zero".to_owned()),
        false => Ok(duration),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Unit {
    /// OAuth seconds (3CX 20.0.9 and later).
    Seconds,
    /// Minutes (3CX 20.0.8 and earlier).
    Minutes,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Inbound {
    /// Calls arrive connected.
    Connected,
    /// Calls ring until the client answers.
    Ringing,
}

impl SimArgs {
    /// The simulator's settings: defaults, then the file, then the flags.
    fn config(&self, file: SimFile) -> SimConfig {
        let mut extensions = file.extensions;
        for spec in &self.extensions {
            extensions.retain(|known| known.dn != spec.dn);
            extensions.push(spec.clone());
        }
        if extensions.is_empty() {
            extensions.extend(extension("101"));
        }
        let defaults = SimConfig::default();
        SimConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            route_point: self.route_point.clone().map(Into::into),
            extensions,
            far_ends: file.far_ends.unwrap_or(defaults.far_ends),
            route_failure_status: self
                .route_failure_status
                .or(file.route_failure_status)
                .unwrap_or(defaults.route_failure_status),
            after_route: self
                .after_route
                .or(file.after_route)
                .unwrap_or(defaults.after_route),
            inbound: match self.inbound {
                Inbound::Connected => InboundMode::Connected,
                Inbound::Ringing => InboundMode::Ringing,
            },
            token_lifetime: self.token_lifetime,
            expires_in_unit: match (self.expires_in_unit, self.expires_in_minutes) {
                (Unit::Minutes, _) | (_, true) => ExpiresInUnit::Minutes,
                (Unit::Seconds, false) => ExpiresInUnit::Seconds,
            },
            revoke_previous_token: self.revoke_previous_token,
            duplicate_upserts: self.duplicate_upserts,
            ..SimConfig::default()
        }
    }
}

impl SimArgs {
    /// Sets the fault flags on the running simulator; returns them in words, and the
    /// recurring ones, which last as long as their handles.
    fn apply_faults(&self, faults: &Faults) -> (Vec<String>, Vec<Repeating>) {
        let times = |count: usize| match count {
            usize::MAX => "always".to_owned(),
            1 => "once".to_owned(),
            n => format!("{n} times"),
        };
        let mut applied = Vec::new();
        if let Some(count) = self.refuse_websockets {
            faults.refuse_websockets(count);
            applied.push(format!(
                "WebSocket upgrades refused with 503 ({})",
                times(count)
            ));
        }
        for failure in &self.fail {
            faults.fail_next(failure.matcher.as_str(), failure.status, failure.count);
            applied.push(format!(
                "{} answered with {} ({})",
                failure.matcher,
                failure.status,
                times(failure.count)
            ));
        }
        let recurring = [
            (self.cut_streams_every, RecurringFault::CutAudioStreams),
            (
                self.stall_streams_every,
                RecurringFault::StallAudioStreams(self.stall_for),
            ),
            (self.drop_websockets_every, RecurringFault::DropWebSockets),
            (self.expire_tokens_every, RecurringFault::ExpireTokens),
        ];
        let mut repeating = Vec::new();
        for (every, fault) in recurring {
            if let Some(every) = every {
                repeating.push(faults.repeat(fault, every));
                applied.push(format!("{fault} every {every:?}"));
            }
        }
        (applied, repeating)
    }
}

/// Runs the simulator until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: SimArgs) -> anyhow::Result<()> {
    let script = match &args.script {
        Some(path) => Some(read_script(path)?),
        None => None,
    };
    let file = match &args.config {
        Some(path) => SimFile::load(path)?,
        None => SimFile::default(),
    };
    let plan = match &args.callers {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Exit::Usage.error(format!("{}: {e}", path.display())))?;
            let base = path.parent().unwrap_or(Path::new(""));
            Some(
                CallersPlan::from_toml(&text, base)
                    .map_err(|e| Exit::Usage.error(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let tls = args.tls_identity()?;
    let config = args.config(file);
    let extensions: Vec<String> = config
        .extensions
        .iter()
        .map(|spec| format!("{} ({})", spec.dn, describe(&spec.on_ring)))
        .collect();
    let sim = Sim::bind_with(config, args.listen, tls)
        .await
        .with_context(|| format!("starting the simulator on {}", args.listen))?;
    println!("voicebot sim: a simulated 3CX V20 PBX");
    println!("  base URL:      {}", sim.base_url());
    println!("  client id:     {}", sim.client_id());
    println!("  client secret: {}", sim.client_secret());
    println!("  route point:   {}", sim.route_point());
    println!("  extensions:    {}", extensions.join(", "));
    if let Some(tls) = sim.tls() {
        println!("  fingerprint:   SHA-256 {}", tls.fingerprint());
        if tls.ca_pem().is_some() {
            let ca_out = args.ca_out.clone().unwrap_or_else(|| {
                std::env::temp_dir()
                    .join(format!("voicebot-sim-ca-{}.pem", sim.local_addr().port()))
            });
            tls.write_ca(&ca_out)?;
            println!(
                "  CA file:       {} (VOICEBOT_CA_FILE or pbx.ca_file)",
                ca_out.display()
            );
        }
    }
    println!(
        "  control API:   {}/sim/calls, {}/sim/journal",
        sim.base_url(),
        sim.base_url()
    );
    let (applied, _repeating) = args.apply_faults(sim.faults());
    for fault in applied {
        println!("  fault:         {fault}");
    }
    println!("Ctrl-C stops it.");
    let callers = plan.map(|plan| {
        println!("callers: {} calls planned", plan.total());
        sim.start_callers(plan)
    });
    let call_in = async {
        let Some(from) = args.call_in.clone() else {
            return std::future::pending().await;
        };
        tokio::time::sleep(Duration::try_from_secs_f64(args.call_delay).unwrap_or_default()).await;
        let script = script.clone().unwrap_or_default();
        match sim.call_scripted(CallSpec::new(from), script) {
            Ok(id) => tracing::info!(id, "scripted call placed"),
            Err(error) => println!("the --call-in call was not placed: {error}"),
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        () = report::follow(&sim, callers.as_ref()) => {}
        () = call_in => {}
        stop = stopped() => stop?,
    }
    println!("stopping");
    if let Some(run) = &callers {
        report::print_summary(&run.summary());
    }
    sim.shutdown().await;
    Ok(())
}

impl SimArgs {
    /// The TLS identity the flags ask for, if any.
    fn tls_identity(&self) -> anyhow::Result<Option<SimTls>> {
        let usage = |error: voicebot_sim::SimError| Exit::Usage.error(error.to_string());
        match (&self.cert, &self.key, self.tls) {
            (Some(cert), Some(key), _) => {
                Ok(Some(SimTls::from_pem_files(cert, key).map_err(usage)?))
            }
            (None, None, true) => {
                let mut names = Vec::new();
                if !self.listen.ip().is_unspecified() {
                    names.push(self.listen.ip().to_string());
                }
                Ok(Some(SimTls::self_signed(&names).map_err(usage)?))
            }
            _ => Ok(None),
        }
    }
}

fn read_script(path: &Path) -> anyhow::Result<Script> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Exit::Usage.error(format!("{}: {e}", path.display())))?;
    Script::from_toml(&text).map_err(|e| Exit::Usage.error(format!("{}: {e}", path.display())))
}

/// A far end's behaviour in the words of `--extension`.
fn describe(far_end: &FarEnd) -> String {
    match far_end {
        FarEnd::Answer { after, then, .. } => {
            let then = match then {
                voicebot_sim::Answered::Stay => String::new(),
                voicebot_sim::Answered::HangUpAfter(after) => format!(", hangs up after {after:?}"),
                voicebot_sim::Answered::Script(_) => ", runs a script".to_owned(),
            };
            format!("answers after {after:?}{then}")
        }
        FarEnd::Busy => "busy".to_owned(),
        FarEnd::Reject { after } => format!("rejects after {after:?}"),
        FarEnd::NoAnswer { after } => format!("rings {after:?}, no answer"),
        FarEnd::Unreachable => "unreachable".to_owned(),
    }
}

/// Resolves on Ctrl-C or SIGTERM: the only things that stop the simulator.
async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_flags_parse_path_status_and_count() {
        assert_eq!(
            failure("/callcontrol=503x2").unwrap(),
            Failure {
                matcher: "/callcontrol".to_owned(),
                status: 503,
                count: 2
            }
        );
        let always = failure("POST /callcontrol/800/makecall=403").unwrap();
        assert_eq!(always.matcher, "POST /callcontrol/800/makecall");
        assert_eq!((always.status, always.count), (403, usize::MAX));
        for bad in ["/x", "/x=abc", "x=503", "/x=503x0", "/x=42", "/x=503xz"] {
            assert!(failure(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_take_seconds_or_durations() {
        assert_eq!(lifetime("90").unwrap(), Duration::from_secs(90));
        assert_eq!(lifetime("5m").unwrap(), Duration::from_secs(300));
        assert!(lifetime("0").is_err());
        assert!(lifetime("soon").is_err());
        assert_eq!(count("all").unwrap(), usize::MAX);
        assert_eq!(count("3").unwrap(), 3);
    }
}
