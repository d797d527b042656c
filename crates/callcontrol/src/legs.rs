//! [`Client::ensure_leg`]: the check a call makes before each request it sends, so
//! that a request of a call that is over never reaches another call's participant.
//!
//! Requests address a participant by DN and id, and a PBX restart starts participant
//! ids again: a session that outlived the restart would otherwise drop (or transfer,
//! or stream to) the next caller given its id. The state cache knows which call each
//! id belongs to, once it is current; while the event socket is down it is not, so
//! the check waits for the reconnect's snapshot rather than guess.

use voicebot_model::{CallLeg, Dn, Participant, ParticipantId};

use crate::client::Client;
use crate::error::{CallControlError, Result};
use crate::events::Freshness;

impl Client {
    /// Checks that the participant `id` on `dn` is still the call leg `leg`, before
    /// a request meant for that leg is sent.
    ///
    /// Passes at once while the event socket is up and the cache holds that leg.
    /// While the socket is down (or its snapshot is being read) it waits for the
    /// resync, up to the request timeout. Without a running event task (no
    /// [`Client::events`] yet, or after [`Client::shutdown`]) nothing is known and
    /// it passes.
    ///
    /// A request sent right after this passes can still meet a PBX that restarted
    /// in between; the window is one round trip, not a whole reconnect.
    ///
    /// # Errors
    /// [`CallControlError::LegGone`] when the id is gone or belongs to another call
    /// now; [`CallControlError::Timeout`] when the socket did not resync in time
    /// (nothing is sent either way).
    pub async fn ensure_leg(&self, dn: &Dn, id: ParticipantId, leg: CallLeg) -> Result<()> {
        let state = self.shared_state();
        let mut freshness = state.freshness();
        let settled = freshness.wait_for(|freshness| *freshness != Freshness::Stale);
        let timeout = self.core().settings.request_timeout;
        let freshness = match tokio::time::timeout(timeout, settled).await {
            Ok(Ok(freshness)) => *freshness,
            // The state (and its sender) lives as long as this client.
            Ok(Err(_)) => Freshness::Untracked,
            Err(_) => {
                return Err(CallControlError::Timeout {
                    what: format!(
                        "waiting for the event socket to resync before a request for participant {id} on {dn}"
                    ),
                    after: Some(timeout),
                });
            }
        };
        if freshness == Freshness::Untracked {
            return Ok(());
        }
        let current = state.read(|cache| cache.participant(dn, id).map(Participant::call_leg));
        match current {
            Some(current) if current == leg => Ok(()),
            current => {
                tracing::debug!(%dn, %id, ?leg, ?current, "request refused: the participant is no longer this call");
                Err(CallControlError::LegGone {
                    dn: dn.clone(),
                    id,
                    leg,
                    current,
                })
            }
        }
    }
}
