//! `voicebot run -c voicebot.toml`: runs the engine with the configured bots against a
//! PBX until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use voicebot_bot::BotRegistry;
use voicebot_callcontrol::CallControlError;

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
    /// Check the file, build the bots, load every prompt they name and check the
    /// recordings folder, then exit without connecting (`run` does the same first).
    #[arg(long)]
    check: bool,
    /// Exit (code 3) when the PBX cannot be reached at start, instead of retrying
    /// until it is up; for scripts.
    #[arg(long)]
    exit_on_connect_failure: bool,
}

/// How long records still being posted to the webhook may hold up the exit.
const RECORDS_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Loads the configuration, builds its bots from `registry`, checks the credentials, and
/// runs the engine.
pub(crate) async fn run(args: RunArgs, registry: &Arc<BotRegistry>) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let bots = launch::build(&config, registry)?;
    let route_points: Vec<String> = config
        .route_points
        .iter()
        .map(|(dn, route_point)| format!("{dn} → {}", route_point.bot.get_ref()))
        .collect();
    // The same checks start `run`: a missing prompt found now is better than
    // every call that needs it going to the fallback.
    crate::check::verify(&config, &bots)?;
    crate::uploads::check(&config)?;
    if args.check {
        crate::commands::tts_check::check(&config).await?;
        println!(
            "{}: ok ({})",
            args.config.display(),
            route_points.join(", ")
        );
        return Ok(());
    }
    let client = launch::client(&config, &args.config)?;
    match launch::check(&config, &client).await {
        Ok(()) => {}
        // Refused credentials or API access do not fix themselves: exit (code 4).
        Err(error) if args.exit_on_connect_failure || !is_unreachable(&error) => {
            return Err(error);
        }
        Err(error) => {
            // The engine's event task keeps trying with capped backoff, logging each
            // attempt; `/health` says "connecting" until it is through.
            tracing::warn!(
                error = format!("{error:#}"),
                "the PBX cannot be reached yet; retrying until it is up \
                 (--exit-on-connect-failure exits instead)"
            );
        }
    }
    // After `engine` made the recordings folder; its scan sees only earlier runs' files.
    let recordings = config.recordings_dir();
    std::fs::create_dir_all(&recordings)
        .with_context(|| format!("creating the recordings folder {}", recordings.display()))?;
    if config.metrics.is_some() {
        // Before the uploader describes its metrics, so /metrics keeps their HELP text.
        voicebot_engine::install_metrics_recorder();
    }
    let uploads = crate::uploads::start(&config)?;
    let records = launch::call_records(&config)?;
    let engine = bots.engine(&config, client, &records, uploads.as_ref())?;
    println!("voicebot running against {}", config.url());
    println!("  route points: {}", route_points.join(", "));
    println!("  recordings:   {}", recordings.display());
    if let Some(uploads) = &uploads {
        let kept = match uploads.keeps_local() {
            true => ", local files kept",
            false => "",
        };
        println!("  uploaded to:  {}{kept}", uploads.url());
    }
    println!("  call records: {}", records.path.display());
    if let Some(metrics) = config.metrics {
        println!("  metrics:      http://{metrics}/metrics");
    }
    println!(
        "Ctrl-C stops it (calls in progress get {} to finish).",
        humantime_serde::re::humantime::format_duration(config.limits.shutdown_timeout)
    );
    let ran = engine.run(shutdown_signal()).await;
    // The engine is gone, so every call's record has been handed over.
    records.finish(RECORDS_GRACE).await;
    if let Some(uploads) = uploads {
        // What does not make it now stays on disk; the next start uploads it.
        uploads.stop(config.limits.shutdown_timeout).await;
    }
    ran.context("running the engine")?;
    println!("stopped");
    Ok(())
}

/// Whether `error` says the PBX is down or failing (unreachable, timed out, 5xx),
/// which waiting may cure, rather than refusing us.
fn is_unreachable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<CallControlError>())
        .is_some_and(CallControlError::is_transient)
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
