//! `voicebot run -c voicebot.toml`: runs the engine with the configured bots against a
//! PBX until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;
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
/// runs one engine per PBX of the file.
pub(crate) async fn run(args: RunArgs, registry: &Arc<BotRegistry>) -> anyhow::Result<()> {
    let file = Config::load(&args.config)?;
    let several = file.has_several_pbxs();
    let mut sites = Vec::new();
    for mut site in file.sites() {
        let bots = launch::build(&site, registry)?;
        // The same checks start `run`: a missing prompt found now is better than
        // every call that needs it going to the fallback.
        crate::check::verify(&site, &bots)?;
        if several {
            // One listener serves every PBX's engine (below).
            site.metrics = None;
        }
        sites.push((site, bots));
    }
    crate::uploads::check(&file)?;
    let route_points = |site: &Config| -> String {
        site.route_points
            .iter()
            .map(|(dn, route_point)| format!("{dn} → {}", route_point.bot.get_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if args.check {
        crate::commands::tts_check::check(&file).await?;
        let summary: Vec<String> = sites
            .iter()
            .map(|(site, _)| match several {
                true => format!("{}: {}", site.pbx_name(), route_points(site)),
                false => route_points(site),
            })
            .collect();
        println!("{}: ok ({})", args.config.display(), summary.join("; "));
        return Ok(());
    }
    let mut clients = Vec::new();
    for (site, _) in &sites {
        let client = launch::client(site, &args.config)?;
        match launch::check(site, &client).await {
            Ok(()) => {}
            // Refused credentials or API access do not fix themselves: with one PBX,
            // exit (code 4). With several, the others must not pay for it.
            Err(error) if args.exit_on_connect_failure || (!several && !is_unreachable(&error)) => {
                return Err(error);
            }
            Err(error) if is_unreachable(&error) => {
                // The engine's event task keeps trying with capped backoff, logging each
                // attempt; `/health` says "connecting" until it is through.
                tracing::warn!(
                    pbx = site.pbx_name(),
                    error = format!("{error:#}"),
                    "the PBX cannot be reached yet; retrying until it is up \
                     (--exit-on-connect-failure exits instead)"
                );
            }
            Err(error) => tracing::error!(
                pbx = site.pbx_name(),
                error = format!("{error:#}"),
                "the PBX refuses this API client; its engine keeps retrying while the \
                 other PBXs run (fix the credentials and restart)"
            ),
        }
        clients.push(client);
    }
    // After `engine` made the recordings folder; its scan sees only earlier runs' files.
    let recordings = file.recordings_dir();
    std::fs::create_dir_all(&recordings)
        .with_context(|| format!("creating the recordings folder {}", recordings.display()))?;
    if file.metrics.is_some() {
        // Before the uploader describes its metrics, so /metrics keeps their HELP text.
        voicebot_engine::install_metrics_recorder();
    }
    let uploads = crate::uploads::start(&file)?;
    let records = launch::call_records(&file)?;
    let mut running = Vec::new();
    for ((site, bots), client) in sites.into_iter().zip(clients) {
        let engine = bots.engine(&site, client, &records, uploads.as_ref())?;
        running.push((site, engine));
    }
    match several {
        true => println!("voicebot running against {} PBXs", running.len()),
        false => println!("voicebot running against {}", file.url()),
    }
    for (site, _) in &running {
        match several {
            true => println!(
                "  pbx {}: {} ({})",
                site.pbx_name(),
                site.url(),
                route_points(site)
            ),
            false => println!("  route points: {}", route_points(site)),
        }
    }
    println!("  recordings:   {}", recordings.display());
    if let Some(uploads) = &uploads {
        let kept = match uploads.keeps_local() {
            true => ", local files kept",
            false => "",
        };
        println!("  uploaded to:  {}{kept}", uploads.url());
    }
    println!("  call records: {}", records.path.display());
    let stop = CancellationToken::new();
    if let Some(metrics) = file.metrics {
        if several {
            let handles = running.iter().map(|(_, engine)| engine.handle()).collect();
            voicebot_engine::serve_engines(metrics, handles, stop.clone())
                .await
                .context("serving /metrics and /health")?;
        }
        println!("  metrics:      http://{metrics}/metrics");
    }
    println!(
        "Ctrl-C stops it (calls in progress get {} to finish).",
        humantime_serde::re::humantime::format_duration(file.limits.shutdown_timeout)
    );
    let names: Vec<String> = running
        .iter()
        .map(|(site, _)| site.pbx_name().to_owned())
        .collect();
    let signal = {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            stop.cancel();
        })
    };
    // Each engine runs on its own: one whose PBX fails never stops the others.
    let runs = running
        .into_iter()
        .map(|(_, engine)| engine.run(stop.clone().cancelled_owned()));
    let ran = futures::future::join_all(runs).await;
    signal.abort();
    stop.cancel();
    // The engines are gone, so every call's record has been handed over.
    records.finish(RECORDS_GRACE).await;
    if let Some(uploads) = uploads {
        // What does not make it now stays on disk; the next start uploads it.
        uploads.stop(file.limits.shutdown_timeout).await;
    }
    for (name, result) in names.iter().zip(ran) {
        result.with_context(|| match several {
            true => format!("running the engine of PBX {name}"),
            false => "running the engine".to_owned(),
        })?;
    }
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
