//! Faults on a schedule: a hostile network does not fail once, it fails again and
//! again. [`Faults::repeat`] applies one fault every period until its
//! [`Repeating`] handle is dropped; `voicebot sim --cut-streams-every 7s` and the
//! fault bench are built on it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::faults::Faults;

/// A fault that can recur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurringFault {
    /// [`Faults::cut_audio_streams`]: every GET and POST audio stream ends.
    CutAudioStreams,
    /// [`Faults::stall_audio_streams`] for this long: GET streams stay open and
    /// deliver nothing (that audio is lost), then resume.
    StallAudioStreams(Duration),
    /// [`Faults::drop_websockets`]: every event socket is closed.
    DropWebSockets,
    /// [`Faults::expire_tokens`]: every token issued so far expires.
    ExpireTokens,
}

impl std::fmt::Display for RecurringFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CutAudioStreams => f.write_str("audio streams cut"),
            Self::StallAudioStreams(length) => write!(f, "audio streams stalled for {length:?}"),
            Self::DropWebSockets => f.write_str("event WebSockets dropped"),
            Self::ExpireTokens => f.write_str("tokens expired"),
        }
    }
}

/// A fault being repeated; dropping it stops the repetition (a stall under way ends
/// at once).
#[derive(Debug)]
#[must_use = "the fault repeats only while the handle lives"]
pub struct Repeating {
    task: JoinHandle<()>,
    faults: Faults,
    fault: RecurringFault,
}

impl Drop for Repeating {
    fn drop(&mut self) {
        self.task.abort();
        if matches!(self.fault, RecurringFault::StallAudioStreams(_)) {
            self.faults.stall_audio_streams(false);
        }
    }
}

impl Faults {
    /// Applies `fault` every `every`, the first time one period from now, until the
    /// returned handle is dropped. A stall longer than the period is cut to half of it.
    pub fn repeat(&self, fault: RecurringFault, every: Duration) -> Repeating {
        let every = every.max(Duration::from_millis(10));
        let faults = self.clone();
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                match fault {
                    RecurringFault::CutAudioStreams => faults.cut_audio_streams(),
                    RecurringFault::StallAudioStreams(length) => {
                        let length = if length >= every { every / 2 } else { length };
                        faults.stall_audio_streams(true);
                        tokio::time::sleep(length).await;
                        faults.stall_audio_streams(false);
                    }
                    RecurringFault::DropWebSockets => faults.drop_websockets(),
                    RecurringFault::ExpireTokens => faults.expire_tokens(),
                }
            }
        });
        Repeating {
            task,
            faults: self.clone(),
            fault,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JournalKind, Sim};

    fn faults_seen(sim: &Sim, text: &str) -> usize {
        sim.journal()
            .iter()
            .filter(|entry| {
                matches!(&entry.kind, JournalKind::Fault { description } if description.contains(text))
            })
            .count()
    }

    #[tokio::test(start_paused = true)]
    async fn a_fault_repeats_each_period_until_the_handle_is_dropped() {
        let sim = Sim::start().await.unwrap();
        let repeating = sim
            .faults()
            .repeat(RecurringFault::CutAudioStreams, Duration::from_secs(7));
        tokio::time::sleep(Duration::from_millis(20_500)).await;
        assert_eq!(faults_seen(&sim, "cut audio streams"), 2);
        drop(repeating);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(faults_seen(&sim, "cut audio streams"), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_ends_after_its_length_and_with_its_handle() {
        let sim = Sim::start().await.unwrap();
        let repeating = sim.faults().repeat(
            RecurringFault::StallAudioStreams(Duration::from_secs(2)),
            Duration::from_secs(10),
        );
        tokio::time::sleep(Duration::from_millis(11_000)).await;
        assert_eq!(faults_seen(&sim, "stall audio streams: true"), 1);
        assert_eq!(faults_seen(&sim, "stall audio streams: false"), 0);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(faults_seen(&sim, "stall audio streams: false"), 1);
        tokio::time::sleep(Duration::from_millis(8_000)).await;
        drop(repeating);
        // Dropped mid-stall: the streams resume at once.
        assert_eq!(faults_seen(&sim, "stall audio streams: false"), 2);
    }
}
