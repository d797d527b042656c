//! `voicebot run -c voicebot.toml`: runs the engine with the configured bots against a
//! PBX until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::launch;

/// Options of `voicebot run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The configuration file.
    #[arg(
        short = 'c',
        long,
        value_name = "FILE",
        default_value = "voicebot.toml"
    )]
    config: PathBuf,
    /// Check the file and build the bots, then exit without connecting.
    #[arg(long)]
    check: bool,
}

/// Loads the configuration, checks the credentials, and runs the engine.
pub(crate) async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let bots = launch::build(&config)?;
    let route_points: Vec<String> = config
        .route_points
        .iter()
        .map(|(dn, route_point)| format!("{dn} → {}", route_point.bot.get_ref()))
        .collect();
    if args.check {
        println!(
            "{}: ok ({})",
            args.config.display(),
            route_points.join(", ")
        );
        return Ok(());
    }
    let client = launch::connect(&config, &args.config).await?;
    let engine = bots.engine(&config, client)?;
    println!("voicebot running against {}", config.url());
    println!("  route points: {}", route_points.join(", "));
    println!("  recordings:   {}", config.recordings_dir().display());
    if let Some(metrics) = config.metrics {
        println!("  metrics:      http://{metrics}/metrics");
    }
    println!(
        "Ctrl-C stops it (calls in progress get {} to finish).",
        humantime_serde::re::humantime::format_duration(config.limits.shutdown_timeout)
    );
    engine
        .run(shutdown_signal())
        .await
        .context("running the engine")?;
    println!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM on Unix (what service managers send).
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops voicebot");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
