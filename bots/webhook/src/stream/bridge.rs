//! The bridge loop: one task per stream, moving the caller's audio and keys to the
//! agent and the agent's audio and marks to the call.
//!
//! Writes to the socket go through a bounded queue to a writer running beside the
//! loop, so a slow agent never holds up the caller's audio path: caller frames that
//! find the queue full are dropped and counted (the agent is behind anyway); control
//! messages (keys, marks, stop) wait for room.

use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voicebot_bot::{
    AudioSink, AudioStream, Call, CallError, CallEvent, CallEvents, CallResult, Frame,
};

use super::queue::{OutQueue, Outgoing};
use super::twilio::TwilioEncoder;
use super::{Protocol, StreamEnd, StreamSettings, raw};
use crate::request::CallDetails;
use crate::verb::quote_bytes;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Messages waiting for the writer (about 2.5 s of caller audio).
const WRITE_QUEUE: usize = 128;
/// The agent's audio waiting for the call (5 minutes).
const QUEUE_LIMIT_FRAMES: usize = 15_000;
/// After the agent closes, how long past its queued audio to wait for it to play.
const PLAYOUT_SLACK: Duration = Duration::from_secs(2);

/// What one message from the agent asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FromAgent {
    /// Audio (decoded into the bridge's sample buffer).
    Audio,
    /// A mark after the audio so far.
    Mark(String),
    /// Drop the audio not yet played.
    Clear,
    /// Nothing to do.
    Ignored,
}

/// Connects `call` to the agent of `settings` until one side ends it.
///
/// # Errors
/// [`CallError::Hangup`] when the caller hangs up (the agent is sent `stop` first), or
/// the error of the call's audio sink.
pub async fn bridge(
    call: &Call,
    details: &CallDetails,
    settings: &StreamSettings,
) -> CallResult<StreamEnd> {
    // Subscribe first, so nothing the caller says or presses after the agent
    // accepted the socket is missed.
    let audio = call.audio();
    let events = call.events();
    let socket = match connect(settings).await {
        Ok(socket) => socket,
        Err(why) => return Ok(StreamEnd::ConnectFailed(why)),
    };
    let (write, read) = socket.split();
    let (out, queued) = mpsc::channel(WRITE_QUEUE);
    let mut encoder = match settings.protocol {
        Protocol::Twilio => Encoder::Twilio(Box::new(TwilioEncoder::new(call.info()))),
        Protocol::Raw => Encoder::Raw,
    };
    let opening = match &mut encoder {
        Encoder::Twilio(twilio) => twilio.opening(&settings.parameters).to_vec(),
        Encoder::Raw => vec![raw::start(details, &settings.parameters)],
    };
    for text in opening {
        // A fresh channel has room for the opening messages.
        let _ = out.try_send(Message::text(text));
    }
    let session = Session {
        call,
        settings,
        sink: call.audio_sink(),
        out,
        encoder,
        queue: OutQueue::new(QUEUE_LIMIT_FRAMES),
        mark_prefix: format!("voicebot-stream-{:016x}-", rand::random::<u64>()),
        samples: Vec::with_capacity(Frame::SAMPLES * 50),
        carry: None,
        started: Instant::now(),
        last_timestamp: None,
        dropped_to_agent: 0,
    };
    let (end, ()) = tokio::join!(session.run(audio, events, read), write_all(queued, write));
    // Keys pressed during the stream went to the agent; they must not become
    // type-ahead for the verbs that follow.
    let _ = call.clear_digits().await;
    end
}

enum Encoder {
    Twilio(Box<TwilioEncoder>),
    Raw,
}

struct Session<'a> {
    call: &'a Call,
    settings: &'a StreamSettings,
    sink: AudioSink,
    out: mpsc::Sender<Message>,
    encoder: Encoder,
    queue: OutQueue,
    mark_prefix: String,
    samples: Vec<i16>,
    carry: Option<u8>,
    started: Instant,
    last_timestamp: Option<Duration>,
    dropped_to_agent: u64,
}

/// What ended the loop.
enum LoopEnd {
    Stream(StreamEnd),
    CallerLeft,
}

impl Session<'_> {
    async fn run(
        mut self,
        mut audio: AudioStream,
        mut events: CallEvents,
        mut read: futures::stream::SplitStream<Socket>,
    ) -> CallResult<StreamEnd> {
        let call_id = self.call.info().call_id();
        let mut last_from_agent = Instant::now();
        let max_deadline = self.settings.max_duration.map(|max| self.started + max);
        let end = loop {
            let silence_deadline = self
                .settings
                .silence_timeout
                .map(|timeout| last_from_agent + timeout);
            let next = self.queue.front().cloned();
            tokio::select! {
                frame = audio.next() => match frame {
                    Some(frame) => self.caller_frame(&frame),
                    None => break LoopEnd::CallerLeft,
                },
                event = events.next() => if let Some(end) = self.call_event(event).await {
                    break end;
                },
                message = read.next() => {
                    last_from_agent = Instant::now();
                    match message {
                        Some(Ok(message)) => match self.agent_message(message, &mut events).await {
                            Ok(None) => {}
                            Ok(Some(end)) => break end,
                            Err(error) => return self.failed(error).await,
                        },
                        Some(Err(error)) => break LoopEnd::Stream(StreamEnd::AgentFailed(error.to_string())),
                        None => break LoopEnd::Stream(StreamEnd::AgentClosed),
                    }
                }
                sent = feed(&self.sink, &self.mark_prefix, next), if self.queue.front().is_some() => {
                    sent?;
                    self.queue.pop_front();
                }
                () = sleep_until_some(silence_deadline) => break LoopEnd::Stream(StreamEnd::AgentSilent),
                () = sleep_until_some(max_deadline) => break LoopEnd::Stream(StreamEnd::MaxDuration),
            }
        };
        if self.dropped_to_agent > 0 || self.queue.dropped_frames() > 0 {
            tracing::warn!(
                call_id,
                to_agent = self.dropped_to_agent,
                from_agent = self.queue.dropped_frames(),
                "stream frames dropped: the agent read too slowly or sent too far ahead"
            );
        }
        match end {
            LoopEnd::CallerLeft => {
                self.send_stop().await;
                Err(CallError::Hangup)
            }
            LoopEnd::Stream(StreamEnd::AgentClosed) => {
                self.play_out(&mut events).await?;
                Ok(StreamEnd::AgentClosed)
            }
            LoopEnd::Stream(end) => {
                self.send_stop().await;
                // What the agent queued is not wanted any more.
                let _ = self.sink.clear().await;
                Ok(end)
            }
        }
    }

    fn caller_frame(&mut self, frame: &Frame) {
        let elapsed = self.started.elapsed();
        // Twilio's timestamp is the media time of the chunk: keep it rising by at least
        // a frame, and let it jump forward over audio that never came (a gap).
        let floor = Duration::from_millis(elapsed.as_millis() as u64 / 20 * 20);
        let timestamp = match self.last_timestamp {
            None => Duration::ZERO,
            Some(last) => (last + Frame::DURATION).max(floor),
        };
        self.last_timestamp = Some(timestamp);
        let message = match &mut self.encoder {
            Encoder::Twilio(twilio) => Message::text(twilio.media(frame, timestamp)),
            Encoder::Raw => Message::binary(frame.to_bytes().to_vec()),
        };
        if self.out.try_send(message).is_err() {
            self.dropped_to_agent += 1;
        }
    }

    /// Handles a call event; `Some` when the loop must end.
    async fn call_event(&mut self, event: Option<CallEvent>) -> Option<LoopEnd> {
        match event {
            Some(CallEvent::Digit(digit)) => {
                let text = match &mut self.encoder {
                    Encoder::Twilio(twilio) => twilio.dtmf(digit),
                    Encoder::Raw => raw::dtmf(digit),
                };
                self.send(text).await;
                None
            }
            Some(CallEvent::Mark(name)) => {
                let id = name
                    .strip_prefix(self.mark_prefix.as_str())
                    .and_then(|id| id.parse().ok());
                if let Some(id) = id {
                    for name in self.queue.reached(id) {
                        self.echo_mark(&name).await;
                    }
                }
                None
            }
            Some(CallEvent::Hangup) | None => Some(LoopEnd::CallerLeft),
            Some(_) => None,
        }
    }

    /// Handles a message from the agent; `Some` when the loop must end.
    async fn agent_message(
        &mut self,
        message: Message,
        events: &mut CallEvents,
    ) -> CallResult<Option<LoopEnd>> {
        let parsed = match (&message, self.settings.protocol) {
            (Message::Text(text), Protocol::Twilio) => {
                super::twilio::decode(text.as_str(), &mut self.samples)
            }
            (Message::Text(text), Protocol::Raw) => raw::decode_event(text.as_str()),
            (Message::Binary(bytes), Protocol::Raw) => {
                raw::decode_audio(bytes, &mut self.carry, &mut self.samples);
                Ok(FromAgent::Audio)
            }
            (Message::Close(_), _) => return Ok(Some(LoopEnd::Stream(StreamEnd::AgentClosed))),
            // Pings are answered by the socket; Twilio agents send no binary messages.
            _ => Ok(FromAgent::Ignored),
        };
        match parsed {
            Ok(FromAgent::Audio) => self.queue.push_samples(&self.samples),
            Ok(FromAgent::Mark(name)) => {
                self.queue.push_mark(name);
            }
            Ok(FromAgent::Clear) => return self.clear(events).await,
            Ok(FromAgent::Ignored) => {}
            Err(what) => {
                let quoted = match &message {
                    Message::Text(text) => quote_bytes(text.as_str().as_bytes()),
                    _ => String::new(),
                };
                return Ok(Some(LoopEnd::Stream(StreamEnd::AgentFailed(format!(
                    "{what}: {quoted}"
                )))));
            }
        }
        Ok(None)
    }

    /// Barge-in: drops the agent's audio here and in the engine at once, then echoes
    /// the marks: those the engine played before the clear as played, the rest as
    /// cleared (Twilio echoes both).
    async fn clear(&mut self, events: &mut CallEvents) -> CallResult<Option<LoopEnd>> {
        self.sink.clear().await?;
        // Every mark the engine reached before it cleared is already in our event
        // buffer: its events are sent before the clear is answered.
        while let Some(event) = events.next().now_or_never() {
            if let Some(end) = self.call_event(event).await {
                return Ok(Some(end));
            }
        }
        for name in self.queue.clear() {
            self.echo_mark(&name).await;
        }
        Ok(None)
    }

    /// Plays what the agent queued before it closed, and waits (a while) until heard.
    async fn play_out(&mut self, events: &mut CallEvents) -> CallResult<()> {
        let last = self.queue.push_mark(String::new());
        let deadline = Instant::now()
            + Frame::DURATION * u32::try_from(self.queue.frames()).unwrap_or(u32::MAX)
            + PLAYOUT_SLACK;
        let last_name = format!("{}{last}", self.mark_prefix);
        while let Some(item) = self.queue.front().cloned() {
            feed(&self.sink, &self.mark_prefix, Some(item)).await?;
            self.queue.pop_front();
        }
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(CallEvent::Mark(name)) if name == last_name => return Ok(()),
                    Some(CallEvent::Hangup) | None => return Err(CallError::Hangup),
                    _ => {}
                },
                () = sleep_until(deadline) => return Ok(()),
            }
        }
    }

    async fn failed(&mut self, error: CallError) -> CallResult<StreamEnd> {
        self.send_stop().await;
        Err(error)
    }

    async fn echo_mark(&mut self, name: &str) {
        let text = match &mut self.encoder {
            Encoder::Twilio(twilio) => twilio.mark(name),
            Encoder::Raw => raw::mark(name),
        };
        self.send(text).await;
    }

    async fn send_stop(&mut self) {
        let text = match &mut self.encoder {
            Encoder::Twilio(twilio) => twilio.stop(),
            Encoder::Raw => raw::stop(),
        };
        self.send(text).await;
    }

    /// Queues a control message for the writer; a writer that has gone (the socket
    /// failed) is noticed by the read side.
    async fn send(&self, text: String) {
        let _ = self.out.send(Message::text(text)).await;
    }
}

/// Hands one item to the call's audio sink (cancel-safe: a cancelled send queued
/// nothing); pending forever without an item. Marks carry our prefix, so the engine's
/// mark events can be told from other sinks' marks.
async fn feed(sink: &AudioSink, prefix: &str, item: Option<Outgoing>) -> CallResult<()> {
    match item {
        Some(Outgoing::Frame(frame)) => sink.send(frame).await,
        Some(Outgoing::Mark(id)) => sink.mark(format!("{prefix}{id}")).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Writes queued messages until the session drops its sender, then closes the socket.
async fn write_all(
    mut queued: mpsc::Receiver<Message>,
    mut write: futures::stream::SplitSink<Socket, Message>,
) {
    while let Some(message) = queued.recv().await {
        if write.send(message).await.is_err() {
            return;
        }
    }
    let _ = write.close().await;
}

/// Opens the agent's WebSocket, signing the handshake when a signer is set.
async fn connect(settings: &StreamSettings) -> Result<Socket, String> {
    // tungstenite's rustls needs a process-wide provider: ring, as the rest of voicebot.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = &settings.url;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| format!("{url}: {error}"))?;
    if let Some(signer) = &settings.signer {
        for (name, value) in signer.headers(url.as_bytes()) {
            let value = HeaderValue::from_str(&value).map_err(|error| error.to_string())?;
            request.headers_mut().insert(name, value);
        }
    }
    let connecting = tokio_tungstenite::connect_async_with_config(request, None, false);
    match tokio::time::timeout(settings.connect_timeout, connecting).await {
        Err(_) => Err(format!(
            "{url}: the agent did not accept within {:?}",
            settings.connect_timeout
        )),
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(tungstenite::Error::Http(response))) => Err(crate::http::refusal(
            url,
            response.status().as_u16(),
            response
                .headers()
                .get("location")
                .and_then(|value| value.to_str().ok()),
            response.body().as_deref().unwrap_or_default(),
        )),
        Ok(Err(error)) => Err(format!("{url}: {error}")),
    }
}
