//! [`Call`]: the handle a bot drives its call with.

mod play;
mod record;
mod route;

use std::sync::{Arc, OnceLock};

use tokio::sync::{broadcast, mpsc, oneshot};
use voicebot_media::Frame;
use voicebot_model::{Action, ActionRequest, AttachedData, DiversionReason};

pub use play::{BargeIn, Interruption, PlayBuilder, PlayOutcome};
pub use record::{RecordBuilder, RecordEnd, Recording, RecordingGap};
pub use route::RouteToBuilder;

use crate::audio::{AudioSink, AudioStream};
use crate::audio_out::AudioOutOpener;
use crate::error::{CallError, CallResult};
use crate::event::{CallEvent, CallEvents};
use crate::gather::GatherBuilder;
use crate::info::CallInfo;
use crate::message::{CallClock, CallMessage, CallNote, Reply};
use crate::prompt::PromptSource;

/// A live call. Cheap to clone; every clone drives the same call.
///
/// Verbs return builders you `.await`: `call.gather().max_digits(4).await?`. Each
/// verb is carried out by the engine's call task; dropping a verb's future stops
/// it (a prompt stops playing, a recording is finalised). Once the caller hangs
/// up, every verb fails with [`CallError::Hangup`].
#[derive(Debug, Clone)]
pub struct Call {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    info: CallInfo,
    messages: mpsc::Sender<CallMessage>,
    // Weak, so that the streams end when the engine drops its senders.
    events: broadcast::WeakSender<CallEvent>,
    audio_in: broadcast::WeakSender<Frame>,
    audio_out: AudioOutOpener,
    end: Arc<OnceLock<CallError>>,
    clock: CallClock,
}

impl Call {
    pub(crate) fn new(
        info: CallInfo,
        messages: mpsc::Sender<CallMessage>,
        events: broadcast::WeakSender<CallEvent>,
        audio_in: broadcast::WeakSender<Frame>,
        audio_out: AudioOutOpener,
        end: Arc<OnceLock<CallError>>,
        clock: CallClock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                info,
                messages,
                events,
                audio_in,
                audio_out,
                end,
                clock,
            }),
        }
    }

    /// Who is calling whom.
    pub fn info(&self) -> &CallInfo {
        &self.inner.info
    }

    /// Call time: how long the call has been on, counted from when its audio started
    /// (when the call was connected to the bot; route-point calls arrive connected),
    /// and zero before that. Prompts, waits and a notice played first all count.
    ///
    /// Speech results of [`gather`](Self::gather) are timed on this clock. A bot
    /// running a recognition session of its own on [`audio`](Self::audio) gets the
    /// same times by reading `elapsed()` when it subscribes and passing it to
    /// [`SessionOptions::call_offset`](crate::SessionOptions::call_offset): the
    /// session's times count from its first frame.
    ///
    /// It runs on tokio's clock, so a paused test clock drives it.
    pub fn elapsed(&self) -> std::time::Duration {
        self.inner.clock.now()
    }

    /// Answers a ringing call. Route-point calls usually arrive already connected;
    /// then this does nothing.
    ///
    /// # Errors
    /// [`CallError::Rejected`] when the PBX refuses (the device has no direct
    /// control); [`CallError::Hangup`] when the caller left.
    ///
    /// # Cancellation
    /// Dropping the future after the request went out does not undo the answer.
    pub async fn answer(&self) -> CallResult<()> {
        self.request(|reply| CallMessage::Answer { reply }).await
    }

    /// Plays a prompt; see [`PlayBuilder`] for the options and outcome.
    #[must_use = "a verb does nothing until awaited"]
    pub fn play(&self, prompt: impl Into<PromptSource>) -> PlayBuilder {
        PlayBuilder::new(self.clone(), prompt.into())
    }

    /// Speaks `text` with the engine's speech synthesiser: a `play` of
    /// [`PromptSource::Text`], with the same options, barge-in and outcome (how much the
    /// caller heard when interrupted). The first sentence plays as soon as it is
    /// synthesised, while the rest is still being made. Pass a [`SpeechText`] for
    /// another voice: `call.say(SpeechText::new("Bonjour").voice("fr"))`.
    ///
    /// # Errors
    /// As [`play`](Self::play); [`CallError::InvalidRequest`] when the engine has no
    /// synthesiser; [`CallError::Media`] when synthesis fails (in the first sentence:
    /// nothing is played; later: the speech stops there).
    ///
    /// # Cancellation
    /// Dropping the future stops the speech and its synthesis.
    ///
    /// [`SpeechText`]: crate::SpeechText
    #[must_use = "a verb does nothing until awaited"]
    pub fn say(&self, text: impl Into<crate::SpeechText>) -> PlayBuilder {
        PlayBuilder::new(self.clone(), PromptSource::Text(text.into()))
    }

    /// Collects digits (`play_and_get_digits`); see [`GatherBuilder`].
    #[must_use = "a verb does nothing until awaited"]
    pub fn gather(&self) -> GatherBuilder {
        GatherBuilder::new(self.clone())
    }

    /// Records the caller; see [`RecordBuilder`].
    #[must_use = "a verb does nothing until awaited"]
    pub fn record(&self) -> RecordBuilder {
        RecordBuilder::new(self.clone())
    }

    /// Routes the call to `destination` (`routeto`), optionally playing a prompt
    /// while it rings; see [`RouteToBuilder`].
    #[must_use = "a verb does nothing until awaited"]
    pub fn route_to(&self, destination: impl Into<String>) -> RouteToBuilder {
        RouteToBuilder::new(self.clone(), destination.into())
    }

    /// Transfers the connected call to `destination` (`transferto`). On success the
    /// call leaves the bot (the call has [`CallError::Ended`] for later verbs). While
    /// the destination rings the caller hears the engine's ringback
    /// ([`PromptSource::Ringback`]), for up to the engine's ring timeout.
    ///
    /// # Errors
    /// [`CallError::Rejected`] when the PBX refuses or the transfer fails (the
    /// caller is then still with the bot); [`CallError::Hangup`].
    ///
    /// # Cancellation
    /// Dropping the future does not cancel a transfer the PBX already started.
    pub async fn transfer(&self, destination: impl Into<String>) -> CallResult<()> {
        let transfer = self.action(Action::TransferTo, ActionRequest::to(destination));
        route::while_ringing(self, PromptSource::Ringback, transfer).await
    }

    /// Diverts a *ringing* call to `destination` (`divert`) for `reason`.
    ///
    /// # Errors
    /// [`CallError::Rejected`] when the call is already connected or the PBX
    /// refuses; [`CallError::Hangup`].
    ///
    /// # Cancellation
    /// As [`transfer`](Self::transfer).
    pub async fn divert(
        &self,
        destination: impl Into<String>,
        reason: DiversionReason,
    ) -> CallResult<()> {
        let request = ActionRequest {
            reason: Some(reason),
            ..ActionRequest::to(destination)
        };
        self.action(Action::Divert, request).await
    }

    /// Hangs up (`drop`). Later verbs fail with [`CallError::Ended`].
    ///
    /// # Errors
    /// [`CallError::Hangup`] when the caller hung up first (harmless);
    /// [`CallError::Rejected`] when the PBX refuses.
    ///
    /// # Cancellation
    /// Dropping the future after the request went out does not stop the hang-up.
    pub async fn hangup(&self) -> CallResult<()> {
        self.action(Action::Drop, ActionRequest::default()).await
    }

    /// Attaches data to our leg (`attach_participant_data`), e.g. a CRM id for the
    /// agent who gets the call next.
    ///
    /// # Errors
    /// [`CallError::Rejected`] when the PBX refuses; [`CallError::Hangup`].
    ///
    /// # Cancellation
    /// Dropping the future may or may not leave the data attached.
    pub async fn attach_data(&self, data: AttachedData) -> CallResult<()> {
        let request = ActionRequest {
            attacheddata: Some(data),
            ..ActionRequest::default()
        };
        self.action(Action::AttachParticipantData, request).await
    }

    /// Forgets digits the caller typed ahead; returns how many.
    ///
    /// # Errors
    /// [`CallError::Hangup`] once the call has ended.
    ///
    /// # Cancellation
    /// If cancelled after the request went out, the digits are still cleared.
    pub async fn clear_digits(&self) -> CallResult<usize> {
        self.request(|reply| CallMessage::ClearDigits { reply })
            .await
    }

    /// Adds `note` (a transcript, a handled error) to the call's record: the line
    /// `cdr.jsonl` gets when the call ends.
    ///
    /// # Errors
    /// The call's end cause once it has ended.
    pub async fn note(&self, note: CallNote) -> CallResult<()> {
        self.request(|reply| CallMessage::Note { note, reply })
            .await
    }

    /// The call's events from now on (digits, speech, marks, status, hang-up).
    /// The stream is empty once the call has ended.
    pub fn events(&self) -> CallEvents {
        CallEvents::new(self.inner.events.upgrade().map(|sender| sender.subscribe()))
    }

    /// The caller's audio from now on, as 20 ms frames (lossy, bounded).
    pub fn audio(&self) -> AudioStream {
        AudioStream::new(
            self.inner
                .audio_in
                .upgrade()
                .map(|sender| sender.subscribe()),
        )
    }

    /// Fills a [`record`](Self::record) path template (`{callid}`, `{legid}`, `{dn}`,
    /// `{participant}`, `{caller}`, `{unix}` with the current time) as `record` would,
    /// so a bot can name files that go beside a recording before it starts.
    pub fn expand_path(&self, template: &str) -> std::path::PathBuf {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        std::path::PathBuf::from(record::expand(template, self.info(), unix))
    }

    /// A sink for audio to the caller (streaming and AI bots). Its queue is made the
    /// first time a bot asks, so calls that never stream pay nothing for it.
    pub fn audio_sink(&self) -> AudioSink {
        AudioSink::new(self.inner.audio_out.sender(), self.clone())
    }

    /// Whether the call task has recorded an end (hang-up, transfer, shutdown).
    pub fn is_ended(&self) -> bool {
        self.inner.end.get().is_some() || self.inner.messages.is_closed()
    }

    pub(crate) async fn action(&self, action: Action, request: ActionRequest) -> CallResult<()> {
        self.request(|reply| CallMessage::Action {
            action,
            request: Box::new(request),
            reply,
        })
        .await
    }

    /// Sends a message and waits for its reply.
    pub(crate) async fn request<T>(
        &self,
        message: impl FnOnce(Reply<T>) -> CallMessage,
    ) -> CallResult<T> {
        let (reply, outcome) = oneshot::channel();
        self.inner
            .messages
            .send(message(reply))
            .await
            .map_err(|_| self.end_cause())?;
        outcome.await.unwrap_or_else(|_| Err(self.end_cause()))
    }

    /// Why the call task is gone: what it recorded, else `Ended`.
    pub(crate) fn end_cause(&self) -> CallError {
        self.inner.end.get().cloned().unwrap_or(CallError::Ended)
    }
}
