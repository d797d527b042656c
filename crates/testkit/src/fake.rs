//! [`FakeCall`]: a [`Call`] without PBX or engine, for unit tests of a bot's logic.

mod entry;
mod serve;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};
use voicebot_bot::__engine::DigitSink;
use voicebot_bot::__engine::{ChannelCapacity, call_channel};
use voicebot_bot::{Call, CallEvent, CallInfo, Digit, Direction, Frame, RecordEnd, SinkItem};
use voicebot_model::{Participant, ParticipantId};

pub use self::entry::Entry;
use self::serve::{Behaviour, Shared};

/// A [`Call`] served by a fake call task on tokio's clock, with no PBX and no engine:
/// give [`call`](Self::call) to your bot, act as the caller ([`press`](Self::press),
/// [`send_audio`](Self::send_audio), [`speak`](Self::speak),
/// [`hang_up`](Self::hang_up)) and read what the bot did ([`journal`](Self::journal),
/// [`played_audio`](Self::played_audio)).
///
/// It behaves as the engine does where a bot can tell: a prompt takes its length
/// (silence and tones theirs, files one second unless
/// [`FakeCallBuilder::prompt`] says otherwise), a key press interrupts it and stays
/// queued for the next gather (type-ahead), gathers run the engine's own state
/// machine (`voicebot_bot::__engine::gather`) with every timeout, transfers and routes ring
/// for [`FakeCallBuilder::ring_time`] (with the ringback playing) and then succeed,
/// which ends the call for the bot, unless the destination is
/// [`refused`](FakeCallBuilder::refuse). A recording lasts its maximum length unless
/// [`FakeCallBuilder::recording`] says otherwise; a hang-up ends it with
/// [`RecordEnd::Hangup`]. Audio from an `AudioSink` plays at one frame per 20 ms. After
/// a hang-up every verb fails with `CallError::Hangup`, after the bot's own `hangup`
/// with `CallError::Ended`.
///
/// Not simulated: speech recognition (a speech gather is served as a digit gather),
/// the files themselves (no WAV is read or written).
///
/// Needs a tokio runtime; use `#[tokio::test(start_paused = true)]`, so that a
/// minute-long prompt takes no time.
///
/// ```
/// use voicebot_bot::{Bot, bot_fn};
/// use voicebot_testkit::FakeCall;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let bot = bot_fn(|call| async move {
///     let choice = call.gather().prompt("menu.wav").max_digits(1).await?;
///     if choice == "1" {
///         call.transfer("100").await?;
///     }
///     Ok(())
/// });
/// let fake = FakeCall::new();
/// fake.press("1");
/// bot.handle(fake.call()).await.unwrap();
/// fake.settle().await;
/// // The key pressed early skipped the menu prompt (type-ahead).
/// assert_eq!(fake.journal(), ["gather", "transfer 100", "play ringback forever", "stop"]);
/// # }
/// ```
#[derive(Debug)]
pub struct FakeCall {
    call: Call,
    shared: Arc<Shared>,
    digits: Mutex<Option<DigitSink>>,
    // Weak: the streams must end when the fake call task ends.
    events: broadcast::WeakSender<CallEvent>,
    audio_in: broadcast::WeakSender<Frame>,
    hangup: Arc<Notify>,
}

/// Settings of a [`FakeCall`]; [`start`](Self::start) makes it.
#[derive(Debug, Clone)]
#[must_use]
pub struct FakeCallBuilder {
    participant: Participant,
    direction: Direction,
    behaviour: Behaviour,
}

impl FakeCall {
    /// A call from `+15550100` ("Alice") to route point 800, call id 7, with the
    /// default behaviour.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn new() -> Self {
        Self::builder().start()
    }

    /// Settings to start from (those of [`new`](Self::new)).
    pub fn builder() -> FakeCallBuilder {
        FakeCallBuilder {
            participant: Participant {
                id: ParticipantId(12),
                dn: "800".into(),
                party_caller_id: "+15550100".to_owned(),
                party_caller_name: "Alice".to_owned(),
                callid: 7,
                legid: 1,
                ..Participant::default()
            },
            direction: Direction::Inbound,
            behaviour: Behaviour {
                default_prompt_length: Duration::from_secs(1),
                prompt_lengths: BTreeMap::new(),
                ring_time: Duration::from_secs(1),
                refused: Vec::new(),
                recording: None,
            },
        }
    }

    /// The call to hand to the bot (clones drive the same call).
    pub fn call(&self) -> Call {
        self.call.clone()
    }

    /// Who is calling whom.
    pub fn info(&self) -> &CallInfo {
        self.call.info()
    }

    /// The caller presses `keys`: each a digit for gathers and barge-in, and a
    /// [`CallEvent::Digit`].
    ///
    /// # Panics
    /// A key that is no DTMF key (`0-9`, `*`, `#`, `A-D`), or a caller who hung up.
    pub fn press(&self, keys: &str) {
        let digits = self
            .digits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sink = digits
            .as_ref()
            .expect("the caller hung up and cannot press keys");
        for key in keys.chars() {
            let digit = Digit::new(key).unwrap_or_else(|_| panic!("{key:?} is not a DTMF key"));
            // One path only (the PBX's), so there is no echo to pair up.
            sink.push(digit);
            self.emit(CallEvent::Digit(digit));
        }
    }

    /// The caller starts speaking: a prompt that speech may interrupt stops
    /// (`Interrupted { by: Speech }`), and [`CallEvent::SpeechStarted`] is sent.
    pub fn speak(&self) {
        self.shared.speech.notify_waiters();
        self.emit(CallEvent::SpeechStarted);
    }

    /// The caller says `frame` (20 ms) to the bot's [`Call::audio`] streams.
    pub fn send_audio(&self, frame: Frame) {
        if let Some(audio) = self.audio_in.upgrade() {
            // No subscriber is not an error: nobody listens.
            let _ = audio.send(frame);
        }
    }

    /// Sends the bot an event of the call (`SpeechStopped`, `Status(..)`, ...).
    pub fn emit(&self, event: CallEvent) {
        if let Some(events) = self.events.upgrade() {
            let _ = events.send(event);
        }
    }

    /// The caller hangs up: verbs in flight end (a recording with
    /// [`RecordEnd::Hangup`], the others with `CallError::Hangup`), later ones fail,
    /// and the bot's event stream gets [`CallEvent::Hangup`] and ends.
    pub fn hang_up(&self) {
        self.digits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        self.hangup.notify_one();
    }

    /// What the bot did so far, in order.
    pub fn journal(&self) -> Vec<Entry> {
        self.shared.journal()
    }

    /// The audio the bot streamed with its `AudioSink` that has played so far (one
    /// frame per 20 ms), marks included.
    pub fn played_audio(&self) -> Vec<SinkItem> {
        self.shared.played()
    }

    /// Lets the fake call task catch up with the bot: what the bot just stopped (a
    /// prompt whose future it dropped) is in the journal after this. Meant for paused
    /// clocks, where it takes no time.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    /// Whether the call is over (hung up, or ended by the bot).
    pub fn is_ended(&self) -> bool {
        self.call.is_ended()
    }
}

impl Default for FakeCall {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeCallBuilder {
    /// The caller's number (default `+15550100`).
    pub fn caller(mut self, number: impl Into<String>) -> Self {
        self.participant.party_caller_id = number.into();
        self
    }

    /// The caller's name (default `Alice`).
    pub fn caller_name(mut self, name: impl Into<String>) -> Self {
        self.participant.party_caller_name = name.into();
        self
    }

    /// The DN the call reached (default `800`).
    pub fn dn(mut self, dn: impl Into<String>) -> Self {
        self.participant.dn = dn.into().into();
        self
    }

    /// The PBX call id (default 7).
    pub fn call_id(mut self, call_id: i64) -> Self {
        self.participant.callid = call_id;
        self
    }

    /// An outbound call (placed by the engine) rather than an inbound one.
    pub fn outbound(mut self) -> Self {
        self.direction = Direction::Outbound;
        self
    }

    /// How long a file prompt plays when [`prompt`](Self::prompt) does not name it
    /// (default 1 s).
    pub fn prompt_length(mut self, length: Duration) -> Self {
        self.behaviour.default_prompt_length = length;
        self
    }

    /// How long the file prompt `path` plays.
    pub fn prompt(mut self, path: impl Into<PathBuf>, length: Duration) -> Self {
        self.behaviour.prompt_lengths.insert(path.into(), length);
        self
    }

    /// How long transfers and routes ring before they succeed (default 1 s).
    pub fn ring_time(mut self, time: Duration) -> Self {
        self.behaviour.ring_time = time;
        self
    }

    /// Transfers, routes and diversions to `destination` are refused, after the ring
    /// time, with `CallError::Rejected` (the caller stays with the bot).
    pub fn refuse(mut self, destination: impl Into<String>) -> Self {
        self.behaviour.refused.push(destination.into());
        self
    }

    /// Every recording lasts `length` and ends by `end`. [`RecordEnd::Hangup`] also
    /// ends the call, as a caller hanging up mid-message does.
    pub fn recording(mut self, length: Duration, end: RecordEnd) -> Self {
        self.behaviour.recording = Some((length, end));
        self
    }

    /// The identity the call will have (no runtime needed): for unit tests of code
    /// that reads a [`CallInfo`] without a call.
    pub fn info(&self) -> CallInfo {
        CallInfo::new(&self.participant, self.direction)
    }

    /// Makes the call and starts its fake call task (the call's clock starts now).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(self) -> FakeCall {
        let (call, endpoint) = call_channel(self.info(), ChannelCapacity::default());
        endpoint.clock.start(tokio::time::Instant::now());
        let (digits, queue) = voicebot_bot::__engine::digit_queue();
        let shared = Arc::new(Shared::new(self.behaviour));
        let hangup = Arc::new(Notify::new());
        let events = endpoint.events.downgrade();
        let audio_in = endpoint.audio_in.downgrade();
        tokio::spawn(serve::serve(
            endpoint,
            queue,
            Arc::clone(&shared),
            Arc::clone(&hangup),
        ));
        FakeCall {
            call,
            shared,
            digits: Mutex::new(Some(digits)),
            events,
            audio_in,
            hangup,
        }
    }
}
