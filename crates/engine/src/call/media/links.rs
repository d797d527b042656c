//! The call's two audio streams as links that heal: a stream that ends, fails or
//! stalls is reopened with backoff for as long as the call lives.
//!
//! 3CX keeps one GET (the caller's voice) and one chunked POST (what the caller
//! hears) per participant, and either can be cut by the network or the PBX mid-call.
//! The media task holds a [`Link`] for each; opening happens in the background (a
//! future polled by the media task's `select!`), so the 20 ms tick never waits for it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use voicebot_callcontrol::{AudioIn, AudioOut, CallControlError, Client};
use voicebot_model::{CallLeg, Dn, ParticipantId};

/// The first reopen waits this long; each failure doubles it, up to [`MAX_BACKOFF`].
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two reopen attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Which of the two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// GET: the caller's audio.
    In,
    /// POST: audio to the caller.
    Out,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::In => "the caller's audio (GET stream)",
            Self::Out => "the audio to the caller (POST stream)",
        }
    }
}

type Opening<S> = Pin<Box<dyn Future<Output = Result<S, CallControlError>> + Send>>;

/// The participant whose streams these are, and the call leg it must still be: no
/// stream of an ended call is ever opened on a new call that reuses the id.
#[derive(Clone)]
pub(super) struct Target {
    client: Client,
    dn: Dn,
    id: ParticipantId,
    leg: CallLeg,
}

/// Opens one direction's stream.
pub(super) trait OpenStream: Sized + Send + 'static {
    /// Which direction this is.
    const DIRECTION: Direction;
    /// Opens it for the participant, once the leg is checked.
    fn open(target: Target) -> Opening<Self>;
}

impl OpenStream for AudioIn {
    const DIRECTION: Direction = Direction::In;
    fn open(target: Target) -> Opening<Self> {
        // Out of the reactor before it is handed over: the media clock reads it at its
        // ticks, and arriving audio must not wake a worker in between.
        target.checked(|client, dn, id| async move {
            let mut stream = client.audio_from(&dn, id).await?.whole_samples();
            stream.detach()?;
            Ok(stream)
        })
    }
}

impl OpenStream for AudioOut {
    const DIRECTION: Direction = Direction::Out;
    fn open(target: Target) -> Opening<Self> {
        // Connected and out of the reactor before it is handed over: the media clock's
        // writes never wait, and the PBX's acknowledgements wake no worker.
        target.checked(|client, dn, id| async move {
            let mut stream = client.audio_to(&dn, id).await?;
            stream.connect().await?;
            stream.detach()?;
            Ok(stream)
        })
    }
}

impl Target {
    /// `open`, once the participant is checked to still be this call's leg.
    fn checked<S, F>(
        self,
        open: impl FnOnce(Client, Dn, ParticipantId) -> F + Send + 'static,
    ) -> Opening<S>
    where
        F: Future<Output = Result<S, CallControlError>> + Send + 'static,
    {
        Box::pin(async move {
            let Target {
                client,
                dn,
                id,
                leg,
            } = self;
            client.ensure_leg(&dn, id, leg).await?;
            open(client, dn, id).await
        })
    }
}

/// The opening and reopening of one of the call's audio streams (the stream itself,
/// once up, is the media task's to use).
pub(super) struct Link<S: OpenStream> {
    target: Target,
    opening: Option<Opening<S>>,
    /// The wait before the next attempt after a failure.
    backoff: Duration,
    /// Whether a stream was ever up (later opens are reopens).
    opened_before: bool,
}

impl<S: OpenStream> Link<S> {
    /// A link that starts opening at once.
    pub(super) fn open(client: Client, dn: Dn, id: ParticipantId, leg: CallLeg) -> Self {
        let target = Target {
            client,
            dn,
            id,
            leg,
        };
        let opening = Some(S::open(target.clone()));
        Self {
            target,
            opening,
            backoff: FIRST_BACKOFF,
            opened_before: false,
        }
    }

    /// The stream was lost (`why`; the caller has dropped it): reopen it after the
    /// first backoff step.
    pub(super) fn lost(&mut self, why: &str) {
        if self.opening.is_some() {
            return;
        }
        // INFO, not WARN: the caller's hang-up also ends the streams, just before the
        // PBX's removal event. The reopen that succeeds is the WARN.
        tracing::info!(
            direction = S::DIRECTION.label(),
            reason = why,
            "{} lost; reopening it",
            S::DIRECTION.what()
        );
        self.reopen_after(FIRST_BACKOFF);
    }

    fn reopen_after(&mut self, delay: Duration) {
        let target = self.target.clone();
        self.opening = Some(Box::pin(async move {
            tokio::time::sleep(delay).await;
            S::open(target).await
        }));
    }

    /// Waits for the open in progress; pending forever when none is. Returns the
    /// stream when it came up, `None` after a failed attempt (the next one is
    /// scheduled). Cancel-safe: the attempt goes on.
    pub(super) async fn opened(&mut self) -> Option<S> {
        let Some(opening) = self.opening.as_mut() else {
            return std::future::pending().await;
        };
        let result = opening.await;
        self.opening = None;
        match result {
            Ok(stream) => {
                if self.opened_before {
                    tracing::warn!(
                        direction = S::DIRECTION.label(),
                        "{} reopened",
                        S::DIRECTION.what()
                    );
                    metrics::counter!(
                        crate::metrics::STREAM_REOPENS,
                        "pbx" => self.target.client.pbx_name().to_owned(),
                        "direction" => S::DIRECTION.label()
                    )
                    .increment(1);
                }
                self.opened_before = true;
                self.backoff = FIRST_BACKOFF;
                Some(stream)
            }
            Err(error) => {
                let delay = self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                tracing::warn!(
                    direction = S::DIRECTION.label(),
                    %error,
                    retry_in = ?delay,
                    "cannot open {}; trying again",
                    S::DIRECTION.what()
                );
                self.reopen_after(delay);
                None
            }
        }
    }
}
