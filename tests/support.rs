//! Helpers for the end-to-end tests: a simulator, an engine running one bot against
//! it, and small audio utilities. Tests assert on what the simulator saw and what the
//! caller heard, never on engine internals.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use voicebot_bot::{Bot, Prompt};
use voicebot_callcontrol::{Client, Secret};
use voicebot_engine::{Engine, EngineBuilder, EngineError, EngineHandle};
use voicebot_sim::{JournalKind, Sim, SimConfig};

/// Every end-to-end test finishes within this.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs a test body under the hard timeout.
pub(crate) async fn timeout<F: Future>(body: F) -> F::Output {
    timeout_for(TEST_TIMEOUT, body).await
}

/// Runs a test body under a hard timeout of its own, for tests that must let real
/// PBX timers run (a destination ringing 15 s).
pub(crate) async fn timeout_for<F: Future>(limit: Duration, body: F) -> F::Output {
    // `RUST_LOG=voicebot_engine=debug cargo test --test tests` shows the engine's logs.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    tokio::time::timeout(limit, body)
        .await
        .expect("the test finished within its timeout")
}

/// A simulator and an engine running against it.
pub(crate) struct Harness {
    pub(crate) sim: Sim,
    pub(crate) engine: EngineHandle,
    pub(crate) dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), EngineError>>>,
}

impl Harness {
    /// The default simulator and an engine with default settings running `bot` on the
    /// route point.
    pub(crate) async fn start(bot: impl Bot) -> Self {
        Self::start_with(SimConfig::default(), |builder| builder, Arc::new(bot)).await
    }

    /// A simulator with `config` and an engine built by `configure`.
    pub(crate) async fn start_with(
        config: SimConfig,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
        bot: Arc<dyn Bot>,
    ) -> Self {
        let sim = Sim::start_with(config).await.expect("the simulator starts");
        Self::start_against(sim, configure, bot).await
    }

    /// An engine built by `configure` against a simulator already running (with calls
    /// in progress, say, as after an engine restart).
    pub(crate) async fn start_against(
        sim: Sim,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
        bot: Arc<dyn Bot>,
    ) -> Self {
        let client = Client::builder(sim.base_url())
            .credentials(sim.client_id(), Secret::new(sim.client_secret()))
            .build()
            .expect("the client builds");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let builder = Engine::builder()
            .client(client)
            .route_point(sim.route_point().clone(), bot)
            .recordings_dir(dir.path())
            .bot_grace(Duration::from_millis(500))
            .shutdown_timeout(Duration::from_secs(2));
        let engine = configure(builder).build().expect("the engine builds");
        let handle = engine.handle();
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(engine.run(async {
            let _ = signal.await;
        }));
        let harness = Self {
            sim,
            engine: handle,
            dir,
            shutdown: Some(shutdown),
            task: Some(task),
        };
        harness.wait_pbx_connected().await;
        harness
    }

    /// Waits until the engine's event socket is up.
    pub(crate) async fn wait_pbx_connected(&self) {
        for _ in 0..500 {
            if self.engine.health().pbx_connected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the engine never connected to the simulator");
    }

    /// Shuts the engine down and returns what `run` returned.
    pub(crate) async fn stop(&mut self) -> Result<(), EngineError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("the engine task does not panic"),
            None => Ok(()),
        }
    }

    /// Waits (up to 2 s) until the simulator has journaled `count` participant actions,
    /// and returns them: the journal line is written just after the PBX acted.
    pub(crate) async fn wait_actions(&self, count: usize) -> Vec<(String, Option<String>)> {
        for _ in 0..200 {
            let actions = self.actions();
            if actions.len() >= count {
                return actions;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.actions()
    }

    /// Waits (up to 2 s) until the simulator has journaled a participant action named
    /// `action`, and returns every action so far. Use it rather than [`Self::actions`]
    /// after `wait_ended`: the caller sees the call end before the line is written.
    pub(crate) async fn wait_action(&self, action: &str) -> Vec<(String, Option<String>)> {
        for _ in 0..200 {
            let actions = self.actions();
            if actions.iter().any(|(name, _)| name == action) {
                return actions;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.actions()
    }

    /// Participant actions the simulator saw, as `(action, destination)`.
    pub(crate) fn actions(&self) -> Vec<(String, Option<String>)> {
        self.sim
            .journal()
            .into_iter()
            .filter_map(|entry| match entry.kind {
                JournalKind::Action {
                    action,
                    destination,
                    ..
                } => Some((action, destination)),
                _ => None,
            })
            .collect()
    }
}

/// A sender the bot reports through, and the test's receiver.
pub(crate) fn report<T>() -> (mpsc::UnboundedSender<T>, mpsc::UnboundedReceiver<T>) {
    mpsc::unbounded_channel()
}

/// A prompt of `frames` 20 ms frames whose samples are all non-zero and distinct
/// from frame to frame (a sawtooth), so what the caller heard can be compared
/// sample by sample.
pub(crate) fn sawtooth(frames: usize) -> Prompt {
    let samples: Vec<i16> = (0..frames * 160)
        .map(|n| 1000 + ((n * 37) % 8000) as i16)
        .collect();
    Prompt::from_samples(samples).expect("the prompt is not empty")
}

/// Where `needle` starts in `haystack`, if it is there.
pub(crate) fn find(haystack: &[i16], needle: &[i16]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Samples of a [`constant_prompt`]: 300 ms.
pub(crate) const CONSTANT_PROMPT_SAMPLES: usize = 2_400;

/// Writes a 300 ms WAV prompt into `dir` whose samples are all `value`, so what the
/// caller heard of it can be counted; returns its path.
pub(crate) fn constant_prompt(dir: &std::path::Path, value: i16) -> std::path::PathBuf {
    let path = dir.join(format!("{value}.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).expect("prompt file");
    for _ in 0..CONSTANT_PROMPT_SAMPLES {
        writer.write_sample(value).expect("prompt sample");
    }
    writer.finalize().expect("prompt finalised");
    path
}
