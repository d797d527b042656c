//! `voicebot sim`: runs the PBX simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use voicebot_sim::{ExpiresInUnit, ExtensionSpec, InboundMode, Script, Sim, SimConfig};

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
    /// Token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// Report `expires_in` in minutes, as 3CX up to 20.0.8 does.
    #[arg(long)]
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
            token_lifetime: Duration::from_secs(self.token_lifetime),
            expires_in_unit: match self.expires_in_minutes {
                true => ExpiresInUnit::Minutes,
                false => ExpiresInUnit::Seconds,
            },
            revoke_previous_token: self.revoke_previous_token,
            duplicate_upserts: self.duplicate_upserts,
            ..SimConfig::default()
        }
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
