//! `voicebot sim`: runs the PBX simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use voicebot_sim::{
    ExpiresInUnit, ExtensionSpec, Faults, InboundMode, RecurringFault, Repeating, Script, Sim,
    SimConfig,
};

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
    /// Monitored extensions (repeatable).
    #[arg(long = "extension", value_name = "DN", default_values_t = ["101".to_owned()])]
    extensions: Vec<String>,
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
    fn config(&self) -> SimConfig {
        SimConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            route_point: self.route_point.clone().map(Into::into),
            extensions: self
                .extensions
                .iter()
                .map(|dn| ExtensionSpec::new(dn.as_str()))
                .collect(),
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

/// Runs the simulator until Ctrl-C.
pub(crate) async fn run(args: SimArgs) -> anyhow::Result<()> {
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(Script::from_toml(&text)?)
        }
        None => None,
    };
    let sim = Sim::bind(args.config(), args.listen)
        .await
        .with_context(|| format!("starting the simulator on {}", args.listen))?;
    println!("voicebot sim: a simulated 3CX V20 PBX");
    println!("  base URL:      {}", sim.base_url());
    println!("  client id:     {}", sim.client_id());
    println!("  client secret: {}", sim.client_secret());
    println!("  route point:   {}", sim.route_point());
    let (applied, _repeating) = args.apply_faults(sim.faults());
    for fault in applied {
        println!("  fault:         {fault}");
    }
    println!("Ctrl-C stops it.");
    if let Some(from) = args.call_in.clone() {
        let caller_task = async {
            tokio::time::sleep(Duration::try_from_secs_f64(args.call_delay).unwrap_or_default())
                .await;
            let caller = sim.call_in(&from).await?;
            tracing::info!(participant = %caller.participant_id(), "scripted call placed");
            if let Some(script) = &script {
                caller.run(script).await?;
            }
            let end = caller.wait_ended().await;
            tracing::info!(?end, heard = ?caller.heard().audio_duration(), "scripted call ended");
            anyhow::Ok(())
        };
        let interrupted = tokio::select! {
            result = caller_task => {
                result?;
                false
            }
            _ = tokio::signal::ctrl_c() => true,
        };
        if !interrupted {
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
        }
    } else {
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
    }
    println!("stopping");
    sim.shutdown().await;
    Ok(())
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
