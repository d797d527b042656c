//! [`LateDialer`]: the dialer bots get when they are built, before the engine that
//! dials exists.

use std::fmt;
use std::sync::{Arc, OnceLock};

use voicebot_bot::{CallError, DialOutcome, DialRequest, Dialer, async_trait};

/// A [`Dialer`] handed to bots at build time (bots are built before the engine, so
/// configuration errors come first). It forwards to the engine's dialer once
/// [`LateDialer::connect`] gives it one; before that, `dial` fails with
/// [`CallError::Shutdown`].
#[derive(Default)]
pub struct LateDialer {
    engine: OnceLock<Arc<dyn Dialer>>,
}

impl LateDialer {
    /// Forwards every later `dial` to `dialer` (normally [`crate::Engine::dialer`]).
    /// Only the first call takes effect.
    pub fn connect(&self, dialer: Arc<dyn Dialer>) {
        let _ = self.engine.set(dialer);
    }
}

impl fmt::Debug for LateDialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LateDialer")
            .field("connected", &self.engine.get().is_some())
            .finish()
    }
}

#[async_trait]
impl Dialer for LateDialer {
    async fn dial(&self, request: DialRequest) -> Result<DialOutcome, CallError> {
        match self.engine.get() {
            Some(dialer) => dialer.dial(request).await,
            None => Err(CallError::Shutdown),
        }
    }
}
