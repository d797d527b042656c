//! `voicebot demo`: the simulator, the engine running `samples/demo.toml`, and four
//! scripted callers, all in one process; no PBX and no setup. Prints progress as it
//! goes and a summary of what each caller did and heard and where the recordings are.

mod assets;
mod callers;
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio::sync::oneshot;
use voicebot_bot::BotRegistry;
use voicebot_callcontrol::Client;
use voicebot_media::Prompt;
use voicebot_sim::{ExtensionSpec, FarEnd, Sim, SimConfig};

use self::callers::{BARGE_IN, MENU, Stage, TRANSFER, Timing, VOICEMAIL};
use self::report::Progress;
use crate::config::Config;
use crate::exit::Exit;
use crate::launch;

/// Options of `voicebot demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder for the demo's configuration, prompts and recordings (default: a new
    /// folder in the system's temporary directory, kept afterwards).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Runs the demo; exit 0 when every scripted call went as planned.
pub(crate) async fn run(args: DemoArgs, registry: &Arc<BotRegistry>) -> anyhow::Result<()> {
    let progress = Progress::new();
    let out = match args.out {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("voicebot-demo-{}", std::process::id())),
    };
    let config_path = assets::write(&out)?;
    let mut config = Config::load(&config_path)?;

    let sim = Sim::start_with(sim_config(&config))
        .await
        .context("starting the simulator")?;
    progress.line(
        "sim",
        format!(
            "simulated 3CX at {} (route point {}, extensions 100 and 200)",
            sim.base_url(),
            sim.route_point()
        ),
    );
    config.pbx_mut().url = toml::Spanned::new(0..0, sim.base_url());

    let bots = launch::build(&config, registry)?;
    let client = Client::builder(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        .build()
        .context("building the client")?;
    let records = launch::call_records(&config)?;
    let engine = bots.engine(&config, client, &records, None)?;
    let handle = engine.handle();
    let printer = tokio::spawn(progress.clone().follow(engine.subscribe()));
    let (stop, stopped) = oneshot::channel::<()>();
    let engine_task = tokio::spawn(engine.run(async {
        let _ = stopped.await;
    }));
    progress.line(
        "engine",
        format!(
            "running {} (a copy of samples/demo.toml): ivr-menu on route point 800",
            config_path.display()
        ),
    );
    wait_connected(&handle).await?;

    let stage = Stage {
        sim: &sim,
        progress: progress.clone(),
        timing: timing(&config).await?,
        voice: config.resolve(std::path::Path::new(assets::CALLER_VOICE)),
    };
    let scenarios = [
        ("Alice", MENU, "+15550101"),
        ("Bob", VOICEMAIL, "+15550102"),
        ("Carol", BARGE_IN, "+15550103"),
        ("Dave", TRANSFER, "+15550104"),
    ];
    // Concurrent, a quarter second apart: the engine runs one task per call.
    let reports = futures::future::join_all(scenarios.iter().enumerate().map(
        |(index, &(name, scenario, from))| {
            let stage = &stage;
            async move {
                tokio::time::sleep(Duration::from_millis(250) * index as u32).await;
                callers::call(stage, name, scenario, from).await
            }
        },
    ))
    .await;

    // The recorder writes its metadata after the call; give the engine's grace period.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = handle.stats();
    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(10), engine_task).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => tracing::warn!(%error, "engine stopped with an error"),
        Ok(Err(error)) => tracing::warn!(%error, "engine task failed"),
        Err(_) => tracing::warn!("engine did not stop within 10 s"),
    }
    printer.abort();
    sim.shutdown().await;

    let recordings_dir = config.recordings_dir();
    let recordings = report::find_recordings(&recordings_dir);
    report::print_summary(
        progress.elapsed(),
        &stats,
        &reports,
        &recordings_dir,
        &recordings,
    );
    let failed: Vec<&str> = reports
        .iter()
        .filter(|report| report.error.is_some())
        .map(|report| report.name)
        .collect();
    if !failed.is_empty() {
        return Err(Exit::Runtime.error(format!(
            "the demo did not go as planned for {}",
            failed.join(", ")
        )));
    }
    if recordings.is_empty() {
        return Err(Exit::Runtime.error("the voicemail was not recorded"));
    }
    Ok(())
}

/// The simulated PBX: the demo's route point, extensions 100 and 200 whose users
/// answer after half a second.
fn sim_config(config: &Config) -> SimConfig {
    let extension = |dn: &str| ExtensionSpec {
        on_ring: FarEnd::answer_after(Duration::from_millis(500)),
        ..ExtensionSpec::new(dn)
    };
    SimConfig {
        client_id: config.pbx().client_id.clone(),
        extensions: vec![extension("100"), extension("200")],
        ..SimConfig::default()
    }
}

/// Prompt durations the scripts time their keys by. The welcome is spoken from text:
/// synthesising it here also puts it in the speech cache before the first caller.
async fn timing(config: &Config) -> anyhow::Result<Timing> {
    let load = |name: &str| {
        Prompt::load_checked(config.prompts_dir().join(name), &config.audio_limits())
            .map(|loaded| loaded.prompt.duration())
            .with_context(|| format!("loading {name}"))
    };
    let welcome = config
        .route_points
        .get("800")
        .and_then(|route_point| route_point.config.as_ref())
        .and_then(|table| {
            table
                .get_ref()
                .get("nodes")?
                .get("main")?
                .get("prompt")?
                .get("text")?
                .as_str()
                .map(str::to_owned)
        })
        .context("samples/demo.toml: the main menu's prompt is a text")?;
    let welcome = config
        .speaker_with_cache()?
        .synthesize(&welcome, None)
        .await
        .context("speaking the welcome (is espeak-ng installed?)")?;
    Ok(Timing {
        welcome: welcome.duration(),
        greeting_and_beep: load("prompts/message.wav")? + load("prompts/beep.wav")?,
    })
}

/// Waits until the engine's event socket is up, so the first call is not missed.
async fn wait_connected(handle: &voicebot_engine::EngineHandle) -> anyhow::Result<()> {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while !handle.health().pbx_connected {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    waited.map_err(|_| Exit::Runtime.error("the engine did not connect to the simulator in 10 s"))
}
