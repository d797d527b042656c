//! [`TestCaller`]: a scripted caller of a [`TestPbx`](crate::TestPbx) that knows its
//! prompts by name.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use voicebot_sim::{CallEnd, Caller, CallerState, SimError};

use crate::prompts::Prompts;

/// How often the waits look again.
const POLL: Duration = Duration::from_millis(10);

/// A caller placed by [`TestPbx::call_in`](crate::TestPbx::call_in): the simulator's
/// scripted [`Caller`] (every method of it works here: `send_wav`, `wait_heard`,
/// `heard`, `run(script)`, ...) plus answers in the test's terms: which prompts it
/// heard, what it pressed, where the call went. The waits fail the test with what was
/// heard so far rather than hang.
#[derive(Debug, Clone)]
pub struct TestCaller {
    caller: Caller,
    prompts: Arc<Prompts>,
    wait: Duration,
    pressed: Arc<Mutex<String>>,
    // Whole prompts already matched by `wait_for_prompt`: the next wait looks after them.
    matched: Arc<Mutex<usize>>,
}

impl TestCaller {
    pub(crate) fn new(caller: Caller, prompts: Arc<Prompts>, wait: Duration) -> Self {
        Self {
            caller,
            prompts,
            wait,
            pressed: Arc::default(),
            matched: Arc::default(),
        }
    }

    /// The simulator's caller.
    pub fn sim_caller(&self) -> &Caller {
        &self.caller
    }

    /// Presses DTMF keys (`"1"`, `"42#"`).
    ///
    /// # Errors
    /// A key that is no DTMF key, or a call that is not connected.
    pub async fn press(&self, keys: &str) -> Result<(), SimError> {
        self.caller.press(keys).await?;
        self.pressed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push_str(keys);
        Ok(())
    }

    /// Every key this caller pressed, in order.
    pub fn pressed(&self) -> String {
        self.pressed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The stand-in prompts heard so far, by name, in order: a prompt played twice
    /// counts twice, one cut short (barge-in) once; other audio (ringback, tones, real
    /// recordings) is left out.
    pub fn heard_prompts(&self) -> Vec<String> {
        self.prompts.heard(&self.caller.heard().samples)
    }

    /// Waits until the caller has heard the whole of the prompt `label`, after the
    /// prompts an earlier `wait_for_prompt` matched: a script reads as the call goes
    /// (`"welcome"`, press, `"sales"`, press, ...).
    ///
    /// # Panics
    /// When the call ends first, or the prompt is not heard within the wait limit;
    /// the message lists what was heard.
    pub async fn wait_for_prompt(&self, label: &str) {
        let label = label.strip_suffix(".wav").unwrap_or(label);
        assert!(
            self.prompts.labels().iter().any(|known| known == label),
            "{label:?} is not a test prompt (they are {:?})",
            self.prompts.labels()
        );
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            if self.match_prompt(label) {
                return;
            }
            if let CallerState::Ended(end) = self.caller.state() {
                panic!(
                    "the call ended ({end:?}) before {label:?} was heard in full; heard: {:?}",
                    self.heard_prompts()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{label:?} was not heard in full within {:?}; heard: {:?}",
                self.wait,
                self.heard_prompts()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether `label` was heard in full after the prompts matched so far; if so, it
    /// is matched too.
    fn match_prompt(&self, label: &str) -> bool {
        let whole = self.prompts.heard_whole(&self.caller.heard().samples);
        let mut matched = self
            .matched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let after = (*matched).min(whole.len());
        match whole[after..].iter().position(|heard| heard == label) {
            Some(found) => {
                *matched = after + found + 1;
                true
            }
            None => false,
        }
    }

    /// Waits until the call ends and says how: `TransferredTo("100")`,
    /// `RoutedTo(..)`, `Dropped` (the bot hung up), `HungUp` (this caller did).
    ///
    /// # Panics
    /// When the call has not ended within the wait limit.
    pub async fn wait_end(&self) -> CallEnd {
        match tokio::time::timeout(self.wait, self.caller.wait_ended()).await {
            Ok(end) => end,
            Err(_) => panic!(
                "the call did not end within {:?}; heard: {:?}, pressed: {:?}",
                self.wait,
                self.heard_prompts(),
                self.pressed()
            ),
        }
    }
}

impl Deref for TestCaller {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}
