//! `route_to`: [`RouteToBuilder`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use voicebot_media::Repeat;
use voicebot_model::{Action, ActionRequest, DiversionReason};

use crate::error::CallResult;
use crate::message::{CallMessage, PlayRequest};
use crate::prompt::PromptSource;
use crate::{BargeIn, Call};

/// A `route_to` (`routeto`) to `.await`.
///
/// As 3CX's sample IVR does, a prompt loops while the destination rings: the
/// engine's ringback ([`PromptSource::Ringback`]) unless [`prompt`](Self::prompt)
/// names another ("please hold"); it stops when the route succeeds or fails. On
/// success our leg is dropped, since the caller now talks to the destination.
///
/// ```no_run
/// # use std::time::Duration;
/// # use voicebot_bot::{Call, CallError};
/// # async fn example(call: Call) -> Result<(), CallError> {
/// match call.route_to("200").prompt("prompts/hold.wav").timeout(Duration::from_secs(30)).await {
///     Ok(()) => {}
///     Err(CallError::Rejected { .. }) => { call.play("prompts/nobody.wav").await?; }
///     Err(other) => return Err(other),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a verb does nothing until awaited"]
pub struct RouteToBuilder {
    call: Call,
    request: ActionRequest,
    prompt: PromptSource,
    drop_after: bool,
}

impl RouteToBuilder {
    pub(crate) fn new(call: Call, destination: String) -> Self {
        Self {
            call,
            request: ActionRequest::to(destination),
            prompt: PromptSource::Ringback,
            drop_after: true,
        }
    }

    /// Loops `prompt` while the destination rings (default: the engine's ringback).
    pub fn prompt(mut self, prompt: impl Into<PromptSource>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// How long the destination may ring (default: the engine's ring timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request.timeout = Some(u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX));
        self
    }

    /// The reason given to the PBX.
    pub fn reason(mut self, reason: DiversionReason) -> Self {
        self.request.reason = Some(reason);
        self
    }

    /// Whether to drop our leg after a successful route (default true).
    pub fn drop_after(mut self, drop_after: bool) -> Self {
        self.drop_after = drop_after;
        self
    }
}

impl IntoFuture for RouteToBuilder {
    type Output = CallResult<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// Routes the call; resolves when the route attempt ends.
    ///
    /// # Errors
    /// [`CallError::Rejected`](crate::CallError::Rejected) when the destination
    /// does not take the call (the caller is still with the bot: play something
    /// else or try another route); [`CallError::Hangup`](crate::CallError::Hangup).
    ///
    /// # Cancellation
    /// Dropping the future stops the prompt; a route the PBX already started may
    /// still complete.
    fn into_future(self) -> Self::IntoFuture {
        let Self {
            call,
            request,
            prompt,
            drop_after,
        } = self;
        Box::pin(async move {
            let route = call.action(Action::RouteTo, request);
            while_ringing(&call, prompt, route).await?;
            if drop_after {
                // The PBX may already have removed our leg; any failure is moot.
                if let Err(error) = call.action(Action::Drop, ActionRequest::default()).await {
                    tracing::debug!(%error, "dropping our leg after routeto");
                }
            }
            Ok(())
        })
    }
}

/// Loops `prompt` while `attempt` (a `routeto` or `transferto`) runs; the prompt stops
/// when the attempt ends either way.
pub(crate) async fn while_ringing(
    call: &Call,
    prompt: PromptSource,
    attempt: impl Future<Output = CallResult<()>>,
) -> CallResult<()> {
    let request = PlayRequest {
        prompt,
        repeat: Repeat::Forever,
        barge_in: BargeIn::NONE,
    };
    let ringing = call.request(|reply| CallMessage::Play {
        request: Box::new(request),
        reply,
    });
    tokio::pin!(attempt, ringing);
    tokio::select! {
        // The attempt first: a prompt that fails (say, a missing file) must not hide
        // the attempt's outcome.
        biased;
        // Leaving the select drops the prompt's future: it stops.
        outcome = &mut attempt => outcome,
        played = &mut ringing => {
            match played {
                // Only an error ends a looping prompt early: a hang-up ends the attempt
                // too, and a prompt that cannot play must not stop the hand-off.
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "the prompt while ringing ended"),
            }
            attempt.await
        }
    }
}
