//! [`Caller`]: a scripted party of a call (an inbound caller, or the far end of an
//! outbound call) that dials, talks, presses keys, listens and hangs up.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use voicebot_model::{Dn, EntityPath, EventType, ParticipantId, parse_digits};

use crate::audio::Heard;
use crate::journal::JournalKind;
use crate::state::{CallCore, Shared};
use crate::{Script, SimError};

/// How long the polling waits sleep between looks (tokio clock).
const POLL: Duration = Duration::from_millis(10);

/// How a call ended, from the simulated caller's point of view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum CallEnd {
    /// The caller hung up.
    HungUp,
    /// The client dropped the participant.
    Dropped,
    /// `transferto` handed the call to this destination.
    TransferredTo(String),
    /// `routeto` handed the call to this destination.
    RoutedTo(String),
    /// `divert` sent the ringing call to this destination.
    DivertedTo(String),
    /// The called party was busy.
    Busy,
    /// The called party declined the call.
    Rejected,
    /// The called party did not answer.
    NoAnswer,
    /// The called number could not be reached.
    Unreachable,
    /// The PBX restarted.
    Restarted,
}

/// Where a call stands, from the simulated caller's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerState {
    /// Ringing or dialling: not connected yet.
    Ringing,
    /// Connected: audio flows.
    Connected,
    /// Over.
    Ended(CallEnd),
}

/// Who calls whom, for [`crate::Sim::call`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSpec {
    /// Calling number (an extension of the PBX, or any external number).
    pub from: String,
    /// Called DN; `None` is the route point.
    pub to: Option<Dn>,
    /// Caller's display name (`party_caller_name`).
    pub caller_name: Option<String>,
    /// DID dialled (shown in `party_did` only with `fill_party_did`).
    pub did: Option<String>,
}

impl CallSpec {
    /// `from` calls the route point.
    pub fn new(from: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            ..Self::default()
        }
    }

    /// Calls `dn` instead of the route point.
    #[must_use]
    pub fn to(mut self, dn: impl Into<Dn>) -> Self {
        self.to = Some(dn.into());
        self
    }

    /// Sets the caller's display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.caller_name = Some(name.into());
        self
    }

    /// Sets the DID dialled.
    #[must_use]
    pub fn did(mut self, did: impl Into<String>) -> Self {
        self.did = Some(did.into());
        self
    }
}

/// A scripted party of one call. Cheap to clone; all clones drive the same call.
#[derive(Debug, Clone)]
pub struct Caller {
    shared: Arc<Shared>,
    core: Arc<CallCore>,
}

impl Caller {
    pub(crate) fn new(shared: Arc<Shared>, core: Arc<CallCore>) -> Self {
        Self { shared, core }
    }

    /// Its participant on the DN it called (for outbound calls: the route point's
    /// participant that `makecall` returned) — what the bot sees.
    pub fn participant_id(&self) -> ParticipantId {
        self.core.participant_id
    }

    /// The DN of that participant.
    pub fn dn(&self) -> &Dn {
        &self.core.dn
    }

    /// The PBX call id.
    pub fn callid(&self) -> i64 {
        self.core.callid
    }

    /// Where the call stands now.
    pub fn state(&self) -> CallerState {
        self.core.state.borrow().clone()
    }

    /// Whether the call was ever connected (audio flowed).
    pub fn was_connected(&self) -> bool {
        self.core.media().has_started()
    }

    /// Waits until the call is connected.
    ///
    /// # Errors
    /// [`SimError::CallEnded`] when it ends first.
    pub async fn wait_connected(&self) -> Result<(), SimError> {
        let mut rx = self.core.state.subscribe();
        let state = rx
            .wait_for(|state| *state != CallerState::Ringing)
            .await
            .map(|state| state.clone())
            .map_err(|_| SimError::Stopped)?;
        match state {
            CallerState::Ended(end) => Err(SimError::CallEnded(end)),
            _ => Ok(()),
        }
    }

    /// Waits until the call ends and says how.
    pub async fn wait_ended(&self) -> CallEnd {
        let mut rx = self.core.state.subscribe();
        let result = rx
            .wait_for(|state| matches!(state, CallerState::Ended(_)))
            .await
            .map(|state| state.clone());
        match result {
            Ok(CallerState::Ended(end)) => end,
            _ => CallEnd::Restarted,
        }
    }

    fn require_connected(&self) -> Result<(), SimError> {
        match self.state() {
            CallerState::Connected => Ok(()),
            CallerState::Ringing => Err(SimError::NotConnected),
            CallerState::Ended(end) => Err(SimError::CallEnded(end)),
        }
    }

    /// Presses DTMF keys: DTMF events reach the route point's client (one per digit,
    /// or one for all with `dtmf_per_digit = false`). Extension calls send none.
    ///
    /// # Errors
    /// A key that is not a DTMF digit, or a call that is not connected.
    pub async fn press(&self, digits: &str) -> Result<(), SimError> {
        let keys = parse_digits(digits)?;
        self.require_connected()?;
        let text: String = keys.iter().map(|d| d.as_char()).collect();
        let heard = self.core.media().heard_duration();
        self.shared.record(JournalKind::DtmfPressed {
            callid: self.core.callid,
            digits: text.clone(),
            heard,
        });
        if self.core.dn != self.shared.route_point {
            return Ok(());
        }
        let groups: Vec<String> = match self.shared.config.dtmf_per_digit {
            true => text.chars().map(String::from).collect(),
            false => vec![text],
        };
        let mut pbx = self.shared.pbx();
        for group in groups {
            pbx.emit(
                &self.shared,
                EventType::Dtmf,
                EntityPath::Participant {
                    dn: self.core.dn.clone(),
                    id: self.core.participant_id,
                },
                Some(json!({ "dtmf_input": group })),
            );
        }
        Ok(())
    }

    /// Queues audio to say (8 kHz s16 samples); it reaches GET streams at real time
    /// once the call is connected. Silence is sent while nothing is queued.
    pub async fn send_pcm(&self, samples: &[i16]) {
        self.send_bytes(&crate::wav::to_bytes(samples)).await;
    }

    /// Queues raw s16le audio (any length; an odd byte waits for its pair).
    pub async fn send_bytes(&self, s16le: &[u8]) {
        self.core.media().queue_uplink(s16le);
    }

    /// Queues s16le audio held elsewhere without copying it: callers given clones of one
    /// `Bytes` share its buffer (a crowd saying the same recording).
    pub async fn send_shared(&self, s16le: bytes::Bytes) {
        self.core.media().queue_uplink_shared(s16le);
    }

    /// Queues `duration` of silence.
    pub async fn send_silence(&self, duration: Duration) {
        let samples = (duration.as_micros() / 125) as usize;
        self.send_bytes(&vec![0u8; samples * 2]).await;
    }

    /// Queues a WAV file (any rate and channel count; converted to 8 kHz mono).
    ///
    /// # Errors
    /// When the file cannot be read.
    pub async fn send_wav(&self, path: &Path) -> Result<(), SimError> {
        let samples = crate::wav::read_pcm(path)?;
        self.send_pcm(&samples).await;
        Ok(())
    }

    /// Waits until all queued audio has been said (or the call ended).
    pub async fn wait_sent(&self) {
        while self.core.media().uplink_queued() > 0 && !self.core.media_ended.is_cancelled() {
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the caller has heard at least `duration` of audio in total.
    ///
    /// # Errors
    /// [`SimError::CallEnded`] when the call ends first.
    pub async fn wait_heard(&self, duration: Duration) -> Result<(), SimError> {
        loop {
            if self.core.media().heard_duration() >= duration {
                return Ok(());
            }
            if let CallerState::Ended(end) = self.state() {
                return Err(SimError::CallEnded(end));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the caller has heard something and then `duration` of silence.
    ///
    /// # Errors
    /// [`SimError::CallEnded`] when the call ends first.
    pub async fn wait_silence(&self, duration: Duration) -> Result<(), SimError> {
        loop {
            if self
                .core
                .media()
                .silent_for()
                .is_some_and(|s| s >= duration)
            {
                return Ok(());
            }
            if let CallerState::Ended(end) = self.state() {
                return Err(SimError::CallEnded(end));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Hangs up: every participant of the call is removed. Does nothing on a call
    /// that has already ended.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for refusals.
    pub async fn hang_up(&self) -> Result<(), SimError> {
        let mut pbx = self.shared.pbx();
        if pbx.calls.contains_key(&self.core.callid) {
            pbx.end_call(&self.shared, self.core.callid, CallEnd::HungUp);
        }
        Ok(())
    }

    /// What the caller heard so far.
    pub fn heard(&self) -> Heard {
        self.core.media().heard()
    }

    /// The call's media time: how much audio the PBX has clocked since the leg
    /// connected, in both directions (what the caller said went out at this rate, silence
    /// when nothing was queued). Tests measure in it rather than in wall time, which a
    /// busy machine stretches.
    pub fn media_time(&self) -> Duration {
        let mut media = self.core.media();
        // Up to date, not as of the simulator's last clock run.
        media.tick(
            tokio::time::Instant::now(),
            &self.shared.config.audio,
            self.shared.faults.audio_is_stalled(),
        );
        media.clocked()
    }

    /// The call's media time to the microsecond: where the caller's ear is within the
    /// frame playing now ([`Caller::media_time`] counts whole frames). What a caller
    /// heard after an instant (a key pressed, say) is measured from it exactly.
    pub fn media_now(&self) -> Duration {
        let mut media = self.core.media();
        let now = tokio::time::Instant::now();
        media.tick(
            now,
            &self.shared.config.audio,
            self.shared.faults.audio_is_stalled(),
        );
        media.clocked_at(now)
    }

    /// Runs a script step by step.
    ///
    /// # Errors
    /// The first step that fails.
    pub async fn run(&self, script: &Script) -> Result<(), SimError> {
        for step in &script.steps {
            step.run(self).await?;
        }
        Ok(())
    }
}
