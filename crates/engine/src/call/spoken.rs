//! What a play hands the media task: a whole prompt, or text being spoken, whose first
//! sentence is ready and whose next sentences follow as the synthesiser makes them.
//!
//! Text goes through the engine's [`Speaker`] (sentences, 8 kHz, disk cache). A play of text
//! waits for the first sentence only, so the caller hears speech after one sentence's
//! synthesis, not the whole text's; [`Feed`] then carries the rest to the media task while the
//! play runs. Text that loops (hold messages) is synthesised whole first, as the pacer repeats
//! a prompt it holds.

use tokio::sync::mpsc;
use voicebot_bot::{CallError, Prompt, PromptSource, SpeechText};
use voicebot_media::Repeat;
use voicebot_speech::{Speaker, SpeechStream, TtsError};

use super::CallCtx;

/// Sentences the media task may hold before the feed waits (it plays them in order).
const SENTENCES_QUEUED: usize = 4;

/// Audio for one play.
#[derive(Debug)]
pub(crate) struct PlayAudio {
    /// The prompt, or the first sentence of a text.
    pub(crate) first: Prompt,
    /// The rest of a text, still being synthesised.
    pub(crate) rest: Option<SpeechStream>,
}

impl From<Prompt> for PlayAudio {
    fn from(first: Prompt) -> Self {
        Self { first, rest: None }
    }
}

/// The audio of `source` played `repeat` times.
///
/// # Errors
/// [`CallError::Media`] when a file cannot be loaded, or text cannot be synthesised (no
/// synthesiser configured, or its first sentence failed).
pub(crate) async fn open(
    ctx: &CallCtx,
    source: &PromptSource,
    repeat: Repeat,
) -> Result<PlayAudio, CallError> {
    let PromptSource::Text(text) = source else {
        return ctx
            .shared
            .prompts
            .resolve(source)
            .await
            .map(PlayAudio::from);
    };
    let speaker = speaker(ctx, text)?;
    let voice = text.voice.as_deref();
    if repeat != Repeat::Times(1) {
        let whole = speaker.synthesize(&text.text, voice).await;
        return whole.map(PlayAudio::from).map_err(CallError::media);
    }
    let mut rest = speaker.speak(&text.text, voice);
    match rest.next().await {
        Some(Ok(first)) => Ok(PlayAudio {
            first,
            rest: Some(rest),
        }),
        Some(Err(error)) => Err(CallError::media(error)),
        None => Err(CallError::media(TtsError::EmptyText)),
    }
}

fn speaker<'a>(ctx: &'a CallCtx, text: &SpeechText) -> Result<&'a Speaker, CallError> {
    ctx.shared.settings.speaker.as_ref().ok_or_else(|| {
        CallError::InvalidRequest(format!(
            "cannot say {:?}: the engine has no speech synthesiser",
            text.text
        ))
    })
}

/// Carries a text's further sentences from its [`SpeechStream`] to the media task.
#[derive(Debug)]
pub(crate) struct Feed {
    stream: SpeechStream,
    to_media: mpsc::Sender<Prompt>,
}

impl Feed {
    /// A feed and the receiver the media task plays from (closed once the text is said).
    pub(crate) fn new(stream: SpeechStream) -> (Self, mpsc::Receiver<Prompt>) {
        let (to_media, receiver) = mpsc::channel(SENTENCES_QUEUED);
        (Self { stream, to_media }, receiver)
    }

    /// Hands the next sentence to the media task. `Ok(false)` once everything was handed
    /// over (or the media task stopped wanting it: the play was stopped).
    ///
    /// # Errors
    /// [`CallError::Media`] when the synthesiser failed on this sentence.
    pub(crate) async fn forward(&mut self) -> Result<bool, CallError> {
        match self.stream.next().await {
            Some(Ok(sentence)) => Ok(self.to_media.send(sentence).await.is_ok()),
            Some(Err(error)) => Err(CallError::media(error)),
            None => Ok(false),
        }
    }
}
