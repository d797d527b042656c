//! Restarting a recogniser that died or stalled, without losing the call: exponential backoff
//! while the session keeps taking (and counting as lost) the call's frames.

use std::time::Duration;

use tokio::time::Instant;

use crate::worker::{Counters, FrameReceiver};

/// Restart delays and the stall limit shared by the command and WebSocket recognisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The first delay before a restart. Default 100 ms.
    pub min_backoff: Duration,
    /// The longest delay; delays double up to this. Default 5 s.
    pub max_backoff: Duration,
    /// How long writing audio to the recogniser may block before it is declared stalled and
    /// restarted. Default 2 s.
    pub stall_timeout: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(2),
        }
    }
}

/// The backoff state of one session.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: RestartPolicy,
    next: Duration,
    started: Instant,
}

impl Backoff {
    pub(crate) fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            next: policy.min_backoff,
            started: Instant::now(),
        }
    }

    /// The recogniser (re)started now.
    pub(crate) fn started(&mut self) {
        self.started = Instant::now();
    }

    /// Waits out the next delay, taking frames meanwhile and counting them as lost. Returns
    /// `false` if the session finished during the wait (no restart is needed then).
    pub(crate) async fn wait(&mut self, frames: &mut FrameReceiver, counters: &Counters) -> bool {
        // A recogniser that ran for a good while before failing is not crash-looping: start the
        // delays over so one failure a day does not cost the next call five seconds.
        if self.started.elapsed() > 10 * self.policy.max_backoff {
            self.next = self.policy.min_backoff;
        }
        let delay = self.next;
        self.next = (self.next * 2).min(self.policy.max_backoff);
        counters.add_restart();
        let deadline = tokio::time::sleep(delay);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return true,
                frame = frames.recv() => match frame {
                    Some(_) => counters.add_lost(1),
                    None => return false,
                },
            }
        }
    }
}
