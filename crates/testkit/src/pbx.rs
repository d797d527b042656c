//! [`TestPbx`]: the simulator and an engine running a bot on its route point.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use voicebot_bot::{Bot, BotConfigError, BotContext, Dialer};
use voicebot_callcontrol::{Client, ClientBuilder, Secret};
use voicebot_engine::{Engine, EngineBuilder, EngineError, EngineHandle, LateDialer};
use voicebot_sim::{CallSpec, JournalKind, Sim, SimConfig};

use crate::caller::TestCaller;
use crate::prompts::Prompts;

/// How long the kit's waits wait by default before failing the test.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// Length of each stand-in prompt by default.
const DEFAULT_PROMPT_LENGTH: Duration = Duration::from_millis(300);
/// How often polling waits look again.
const POLL: Duration = Duration::from_millis(10);

type Configure = Box<dyn FnOnce(EngineBuilder) -> EngineBuilder + Send>;
type ConfigureClient = Box<dyn FnOnce(ClientBuilder) -> ClientBuilder + Send>;

/// The 3CX simulator and an engine running one bot on the simulator's route point,
/// in this process. Callers dial in with [`call_in`](Self::call_in).
///
/// Built with [`TestPbx::builder`] (or [`TestPbx::start`] for the defaults). The
/// engine records into, and resolves relative prompt paths against, a temporary
/// folder ([`dir`](Self::dir)) that lives as long as the `TestPbx`; the stand-in
/// prompts of [`TestPbxBuilder::prompts`] are written there. Its settings are those
/// of `voicebot run` except a 500 ms bot grace and a 2 s shutdown timeout, so tests
/// end quickly; [`TestPbxBuilder::engine`] changes any of them.
///
/// Use a multi-threaded runtime (`#[tokio::test(flavor = "multi_thread")]`): the
/// simulator's audio runs in real time.
#[derive(Debug)]
pub struct TestPbx {
    /// The simulator: its journal ([`Sim::journal`]), faults ([`Sim::faults`]) and
    /// callers of its own ([`Sim::call`]).
    pub sim: Sim,
    /// The running engine: its health, statistics and events.
    pub engine: EngineHandle,
    dir: tempfile::TempDir,
    prompts: Arc<Prompts>,
    wait: Duration,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), EngineError>>>,
}

/// Settings of a [`TestPbx`]; [`start`](Self::start) runs it.
#[must_use]
pub struct TestPbxBuilder {
    sim_config: SimConfig,
    sim: Option<Sim>,
    configure: Option<Configure>,
    configure_client: Option<ConfigureClient>,
    prompts: Vec<String>,
    prompt_length: Duration,
    wait: Duration,
}

impl std::fmt::Debug for TestPbxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPbxBuilder")
            .field("sim_config", &self.sim_config)
            .field("prompts", &self.prompts)
            .field("prompt_length", &self.prompt_length)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl TestPbx {
    /// Settings to start from: the default simulator, no stand-in prompts.
    pub fn builder() -> TestPbxBuilder {
        TestPbxBuilder {
            sim_config: SimConfig::default(),
            sim: None,
            configure: None,
            configure_client: None,
            prompts: Vec::new(),
            prompt_length: DEFAULT_PROMPT_LENGTH,
            wait: DEFAULT_WAIT,
        }
    }

    /// The default simulator and engine running `bot`.
    ///
    /// # Panics
    /// When the simulator or the engine cannot start (see [`TestPbxBuilder::start`]).
    pub async fn start(bot: impl Bot) -> Self {
        Self::builder().start(bot).await
    }

    /// A simulator with `config` and an engine changed by `configure`, running `bot`.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn start_with(
        config: SimConfig,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
        bot: Arc<dyn Bot>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for the test PBX");
        Self::builder()
            .sim_config(config)
            .launch(bot, dir, configure)
            .await
    }

    /// An engine changed by `configure` against a simulator already running (with
    /// calls in progress, say, as after an engine restart).
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn start_against(
        sim: Sim,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
        bot: Arc<dyn Bot>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for the test PBX");
        Self::builder().sim(sim).launch(bot, dir, configure).await
    }

    /// External caller `from` dials the route point.
    ///
    /// # Panics
    /// When the simulator refuses the call (it never does for the route point).
    pub async fn call_in(&self, from: &str) -> TestCaller {
        self.call(CallSpec::new(from)).await
    }

    /// A caller dials as `spec` says (another DN, a name, a DID).
    ///
    /// # Panics
    /// When the simulator refuses the call (an unknown DN).
    pub async fn call(&self, spec: CallSpec) -> TestCaller {
        let caller = self
            .sim
            .call(spec.clone())
            .await
            .unwrap_or_else(|error| panic!("the simulator refused the call {spec:?}: {error}"));
        TestCaller::new(caller, Arc::clone(&self.prompts), self.wait)
    }

    /// The folder the engine records into and resolves relative prompt paths against.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The file of the stand-in prompt `label` (`dir/LABEL.wav`).
    pub fn prompt(&self, label: &str) -> PathBuf {
        Prompts::path(self.dir(), label)
    }

    /// Waits until the engine's event socket is up.
    ///
    /// # Panics
    /// When it is not up within the wait limit.
    pub async fn wait_pbx_connected(&self) {
        let deadline = tokio::time::Instant::now() + self.wait;
        while !self.engine.health().pbx_connected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the engine did not connect to the simulator within {:?}",
                self.wait
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Shuts the engine down and returns what its `run` returned.
    ///
    /// # Panics
    /// When the engine's task panicked.
    pub async fn stop(&mut self) -> Result<(), EngineError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("the engine task does not panic"),
            None => Ok(()),
        }
    }

    /// Participant actions the simulator saw, as `(action, destination)`:
    /// `("transferto", Some("100"))`, `("drop", None)`.
    pub fn actions(&self) -> Vec<(String, Option<String>)> {
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

    /// Waits (up to 2 s) until the simulator has journaled `count` participant
    /// actions, and returns them all: the journal line is written just after the PBX
    /// acted.
    pub async fn wait_actions(&self, count: usize) -> Vec<(String, Option<String>)> {
        self.wait_actions_until(|actions| actions.len() >= count)
            .await
    }

    /// Waits (up to 2 s) until the simulator has journaled a participant action named
    /// `action`, and returns every action so far. Use it rather than
    /// [`actions`](Self::actions) after a caller's call ended: the caller sees the end
    /// before the line is written.
    pub async fn wait_action(&self, action: &str) -> Vec<(String, Option<String>)> {
        self.wait_actions_until(|actions| actions.iter().any(|(name, _)| name == action))
            .await
    }

    async fn wait_actions_until(
        &self,
        done: impl Fn(&[(String, Option<String>)]) -> bool,
    ) -> Vec<(String, Option<String>)> {
        for _ in 0..200 {
            let actions = self.actions();
            if done(&actions) {
                return actions;
            }
            tokio::time::sleep(POLL).await;
        }
        self.actions()
    }
}

impl Drop for TestPbx {
    fn drop(&mut self) {
        // The engine stops with the test's runtime anyway; asking first lets it end
        // its calls on a runtime that outlives this `TestPbx`.
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestPbxBuilder {
    /// The simulator's settings (extensions, far ends, audio, fault flags).
    pub fn sim_config(mut self, config: SimConfig) -> Self {
        self.sim_config = config;
        self
    }

    /// Runs against `sim`, already started, instead of starting one.
    pub fn sim(mut self, sim: Sim) -> Self {
        self.sim = Some(sim);
        self
    }

    /// Changes the engine's settings: `.engine(|engine| engine.max_calls(2))`. The
    /// kit's defaults (client, route point, folders, grace) are set before.
    pub fn engine(
        mut self,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder + Send + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// Changes the PBX client's settings (timeouts, retry policies):
    /// `.client(|client| client.request_timeout(Duration::from_secs(2)))`. The kit sets
    /// the address and credentials before.
    pub fn client(
        mut self,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder + Send + 'static,
    ) -> Self {
        self.configure_client = Some(Box::new(configure));
        self
    }

    /// Stand-in prompts, by name: `"welcome"` becomes `welcome.wav` in the
    /// [`dir`](TestPbx::dir) the engine resolves relative prompt paths against, so a
    /// bot configured with `"welcome.wav"` plays it. Each is a constant tone of its own
    /// that [`TestCaller::heard_prompts`] reads back as its name. At most 63.
    pub fn prompts<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.prompts = labels.into_iter().map(Into::into).collect();
        self
    }

    /// How long each stand-in prompt is (default 300 ms).
    pub fn prompt_length(mut self, length: Duration) -> Self {
        self.prompt_length = length;
        self
    }

    /// How long the kit's waits ([`TestCaller::wait_for_prompt`],
    /// [`TestCaller::wait_end`], ...) wait before failing the test (default 10 s).
    pub fn wait_limit(mut self, limit: Duration) -> Self {
        self.wait = limit;
        self
    }

    /// Starts the simulator (unless given one) and an engine running `bot`, and waits
    /// until the engine is connected.
    ///
    /// # Panics
    /// When a port cannot be bound, the prompts cannot be written, the engine refuses
    /// its settings, or it does not connect within the wait limit: a test cannot go on.
    pub async fn start(self, bot: impl Bot) -> TestPbx {
        self.start_arc(Arc::new(bot)).await
    }

    /// As [`start`](Self::start), with a bot built by `build` from a [`BotContext`]
    /// like the one `voicebot run` gives: recordings go to the kit's folder, and its
    /// dialer places calls through this engine (for outbound bots).
    ///
    /// # Panics
    /// As [`start`](Self::start), and when `build` refuses (the message names the key).
    pub async fn start_with_context<F>(self, build: F) -> TestPbx
    where
        F: FnOnce(&BotContext) -> Result<Arc<dyn Bot>, BotConfigError>,
    {
        let dir = tempfile::tempdir().expect("a temporary folder for the test PBX");
        let dialer = Arc::new(LateDialer::default());
        let context = BotContext::new()
            .with_recordings_dir(dir.path())
            .with_dialer(Arc::clone(&dialer) as Arc<dyn Dialer>);
        let bot = build(&context).unwrap_or_else(|error| panic!("the bot does not build: {error}"));
        let pbx = self.launch(bot, dir, |builder| builder).await;
        dialer.connect(pbx.engine.dialer());
        pbx
    }

    /// As [`start`](Self::start), for a bot already shared.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn start_arc(self, bot: Arc<dyn Bot>) -> TestPbx {
        let dir = tempfile::tempdir().expect("a temporary folder for the test PBX");
        self.launch(bot, dir, |builder| builder).await
    }

    /// Starts it all; `configure` changes the engine's settings after the kit's and
    /// the builder's.
    async fn launch(
        self,
        bot: Arc<dyn Bot>,
        dir: tempfile::TempDir,
        configure: impl FnOnce(EngineBuilder) -> EngineBuilder,
    ) -> TestPbx {
        crate::init_logging();
        let prompts = Prompts::new(self.prompts, self.prompt_length);
        prompts
            .write(dir.path())
            .unwrap_or_else(|error| panic!("writing the test prompts: {error}"));
        let sim = match self.sim {
            Some(sim) => sim,
            None => Sim::start_with(self.sim_config)
                .await
                .unwrap_or_else(|error| panic!("the simulator does not start: {error}")),
        };
        let mut client = Client::builder(sim.base_url())
            .credentials(sim.client_id(), Secret::new(sim.client_secret()));
        if let Some(configure) = self.configure_client {
            client = configure(client);
        }
        let client = client
            .build()
            .unwrap_or_else(|error| panic!("the PBX client does not build: {error}"));
        let mut builder = Engine::builder()
            .client(client)
            .route_point(sim.route_point().clone(), bot)
            .recordings_dir(dir.path())
            .prompt_dir(dir.path())
            .bot_grace(Duration::from_millis(500))
            .shutdown_timeout(Duration::from_secs(2));
        if let Some(configured) = self.configure {
            builder = configured(builder);
        }
        let engine = configure(builder)
            .build()
            .unwrap_or_else(|error| panic!("the engine refuses its settings: {error}"));
        let handle = engine.handle();
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(engine.run(async {
            let _ = signal.await;
        }));
        let pbx = TestPbx {
            sim,
            engine: handle,
            dir,
            prompts: Arc::new(prompts),
            wait: self.wait,
            shutdown: Some(shutdown),
            task: Some(task),
        };
        pbx.wait_pbx_connected().await;
        pbx
    }
}
