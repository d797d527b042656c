//! Gap detection on the event socket's `sequence` numbers.
//!
//! The reference (§4.2, §11.6) leaves open whether `sequence` counts per connection or
//! PBX-wide, so only differences within one connection are trusted: the first event
//! of a connection sets the baseline (a PBX-wide counter starts anywhere), and after
//! that a jump by more than one means events were lost on the way. A `0` is taken as
//! "not numbered" and ignored; a number that goes backwards becomes the new baseline,
//! since a PBX that renumbers has not necessarily lost anything.

/// The last `sequence` seen on one connection.
#[derive(Debug, Default)]
pub(crate) struct SequenceTracker {
    last: Option<u64>,
}

impl SequenceTracker {
    /// Notes `sequence`; returns how many events were skipped before it, if any.
    pub(crate) fn observe(&mut self, sequence: u64) -> Option<u64> {
        if sequence == 0 {
            return None;
        }
        let previous = self.last.replace(sequence)?;
        match sequence.checked_sub(previous) {
            Some(step) if step > 1 => Some(step - 1),
            Some(_) => None,
            None => {
                tracing::debug!(
                    previous,
                    sequence,
                    "event sequence went backwards; new baseline"
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_event_sets_the_baseline() {
        let mut tracker = SequenceTracker::default();
        assert_eq!(tracker.observe(60), None);
        assert_eq!(tracker.observe(61), None);
        assert_eq!(tracker.observe(64), Some(2));
        assert_eq!(tracker.observe(65), None);
    }

    #[test]
    fn repeats_zeros_and_resets_are_not_gaps() {
        let mut tracker = SequenceTracker::default();
        assert_eq!(tracker.observe(5), None);
        assert_eq!(tracker.observe(5), None);
        assert_eq!(tracker.observe(0), None);
        assert_eq!(tracker.observe(6), None);
        assert_eq!(tracker.observe(1), None);
        assert_eq!(tracker.observe(2), None);
        assert_eq!(tracker.observe(4), Some(1));
    }
}
