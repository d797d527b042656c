//! What every audio stream carries whichever way it is served: its entry in the journal
//! (opened now, closed with a reason when dropped) and its cut.

use std::sync::Arc;

use tokio_util::sync::{CancellationToken, DropGuard};
use voicebot_model::{Dn, ParticipantId};

use crate::journal::{JournalKind, StreamDirection};
use crate::state::Shared;

/// Journals the end of a stream when dropped (also when the client goes away).
#[derive(Debug)]
pub(crate) struct StreamGuard {
    shared: Arc<Shared>,
    dn: Dn,
    id: ParticipantId,
    direction: StreamDirection,
    /// Bytes carried so far.
    pub(crate) bytes: u64,
    /// Why the stream ended, journalled when it is dropped.
    pub(crate) reason: String,
}

impl StreamGuard {
    /// Journals the opening of a stream.
    pub(crate) fn open(
        shared: &Arc<Shared>,
        dn: &Dn,
        id: &str,
        direction: StreamDirection,
    ) -> Self {
        let id = ParticipantId(id.parse().unwrap_or_default());
        shared.record(JournalKind::StreamOpened {
            dn: dn.clone(),
            id,
            direction,
        });
        Self {
            shared: shared.clone(),
            dn: dn.clone(),
            id,
            direction,
            bytes: 0,
            reason: "client went away".to_owned(),
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.shared.record(JournalKind::StreamClosed {
            dn: self.dn.clone(),
            id: self.id,
            direction: self.direction,
            bytes: self.bytes,
            reason: std::mem::take(&mut self.reason),
        });
    }
}

/// Waits until any of `tokens` is cancelled.
async fn any_cancelled(tokens: &[CancellationToken]) {
    let futures = tokens.iter().map(|t| Box::pin(t.cancelled()));
    futures::future::select_all(futures).await;
}

/// A stream's cut: one token of its own, cancelled once any of the tokens it stands for
/// is (or when the guard is dropped, with the stream). A stream checks its cut at every
/// chunk or tick: one token of its own is one uncontended check there, where the four
/// it stands for are four, two of them (shutdown, the stream-cut fault) shared by every
/// stream of the simulator.
#[derive(Debug)]
pub(crate) struct Cut {
    token: CancellationToken,
    _guard: DropGuard,
}

impl Cut {
    /// Watches `tokens` (a small task waits on them).
    pub(crate) fn new(tokens: Vec<CancellationToken>) -> Self {
        let token = CancellationToken::new();
        let watched = token.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = any_cancelled(&tokens) => watched.cancel(),
                // The stream ended first.
                () = watched.cancelled() => {}
            }
        });
        Self {
            _guard: token.clone().drop_guard(),
            token,
        }
    }

    /// Whether the stream is cut.
    pub(crate) fn is_cut(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The stream's own token (cancelled when it is cut).
    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}
