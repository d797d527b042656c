//! The [`Bot`] trait and [`bot_fn`].

use std::fmt;
use std::future::Future;

use async_trait::async_trait;

use crate::Call;
use crate::error::BotError;
use crate::prompt::PromptRef;

/// A voice bot: runs once per call, on that call's own task.
///
/// Returning ends the bot's part: the engine hangs up if the call is still live.
/// An `Err` that [`is_hangup`](BotError::is_hangup) is a normal end; any other is
/// logged with the call id.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a voicebot `Bot`",
    label = "this type does not implement `Bot`",
    note = "implement `Bot` with `#[async_trait]`, or wrap a closure: `bot_fn(|call| async move {{ ... }})`"
)]
#[async_trait]
pub trait Bot: Send + Sync + 'static {
    /// Handles one call from start to end. Per-call state lives in locals.
    async fn handle(&self, call: Call) -> Result<(), BotError>;

    /// The prompts this bot's configuration names, each with its key, so that
    /// `voicebot run --check` loads every one before any call and names the bot, the
    /// key and the file when one is missing, broken or too long. Bots that build
    /// their prompts at run time may return nothing (the default).
    fn prompts(&self) -> Vec<PromptRef> {
        Vec::new()
    }
}

/// A bot made from an async closure; see [`bot_fn`].
#[derive(Clone)]
pub struct BotFn<F> {
    handler: F,
}

/// Makes a [`Bot`] from an async closure.
///
/// ```no_run
/// use voicebot_bot::{bot_fn, Bot};
///
/// let bot = bot_fn(|call| async move {
///     call.play("prompts/hello.wav").await?;
///     call.hangup().await?;
///     Ok(())
/// });
/// # fn takes(_: impl Bot) {}
/// # takes(bot);
/// ```
pub fn bot_fn<F, Fut>(handler: F) -> BotFn<F>
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BotError>> + Send + 'static,
{
    BotFn { handler }
}

#[async_trait]
impl<F, Fut> Bot for BotFn<F>
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BotError>> + Send + 'static,
{
    async fn handle(&self, call: Call) -> Result<(), BotError> {
        (self.handler)(call).await
    }
}

impl<F> fmt::Debug for BotFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotFn").finish_non_exhaustive()
    }
}
