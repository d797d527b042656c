//! Every lifecycle fault of issue #11, as events in and actions out. Times are
//! `Instant`s passed in (one test sleeps on tokio's paused clock to show the deadline
//! is a `tokio::time` instant); no test reads a wall clock.

use super::*;
use LifecycleAction as Do;
use LifecycleEvent as On;

const GRACE: Duration = Duration::from_secs(2);

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// A lifecycle and the instant its times count from.
struct Call {
    life: Lifecycle,
    t0: Instant,
}

impl Call {
    /// A live, connected call whose bot runs.
    fn connected() -> Self {
        let mut call = Self {
            life: Lifecycle::new(GRACE),
            t0: Instant::now(),
        };
        assert_eq!(call.at(0, On::Connected), [Do::StartMedia]);
        call
    }

    /// Feeds `event` `seconds` after the start.
    fn at(&mut self, seconds: u64, event: LifecycleEvent) -> Vec<LifecycleAction> {
        self.life.step(event, self.t0 + secs(seconds))
    }

    fn deadline(&self) -> Option<Duration> {
        self.life.deadline().map(|at| at - self.t0)
    }

    fn over_since(&self, seconds: u64, removed: bool) -> Phase {
        Phase::Over {
            since: self.t0 + secs(seconds),
            removed,
        }
    }
}

/// What a removal the caller caused does.
const HUNG_UP: [LifecycleAction; 4] = [
    Do::EndForBot(EndCause::Hangup),
    Do::TellHangup,
    Do::CancelOver,
    Do::DropInputs,
];

#[test]
fn a_first_connect_starts_the_media_once() {
    let mut call = Call::connected();
    assert_eq!(call.at(1, On::Connected), []);
    assert_eq!(call.life.connected_at(), Some(call.t0));
    assert_eq!(call.life.phase(), Phase::Live);
    assert_eq!(call.deadline(), None);
}

#[test]
fn caller_hangs_up_mid_bot_and_the_bot_finishes_within_its_grace() {
    let mut call = Call::connected();
    assert_eq!(call.at(3, On::VerbStarted), []);
    assert_eq!(call.at(10, On::Removed), HUNG_UP);
    assert_eq!(call.life.phase(), call.over_since(10, true));
    assert_eq!(call.deadline(), Some(secs(12)));
    // The play in flight ends with the call; the bot then returns within its grace.
    assert_eq!(call.at(10, On::VerbEnded(None)), []);
    assert_eq!(call.deadline(), Some(secs(12)));
    assert_eq!(
        call.at(11, On::BotReturned),
        [Do::Finish(CallOutcome::Hangup)]
    );
    assert_eq!(call.life.phase(), Phase::Done);
}

#[test]
fn caller_hangs_up_and_a_bot_past_its_grace_is_aborted() {
    let mut call = Call::connected();
    assert_eq!(call.at(3, On::VerbStarted), []);
    assert_eq!(call.at(10, On::Removed), HUNG_UP);
    assert_eq!(
        call.at(12, On::DeadlineReached),
        [
            Do::AbortBot,
            Do::ClearVerbs,
            Do::Finish(CallOutcome::Hangup)
        ]
    );
    assert_eq!(call.life.verbs_in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_bot_past_its_grace_is_aborted_on_the_paused_clock() {
    let mut life = Lifecycle::new(GRACE);
    let hung_up = Instant::now();
    assert_eq!(life.step(On::Removed, hung_up), HUNG_UP);
    let deadline = life.deadline().expect("an over call has a deadline");
    tokio::time::sleep_until(deadline).await;
    assert_eq!(Instant::now() - hung_up, GRACE);
    assert_eq!(
        life.step(On::DeadlineReached, Instant::now()),
        [Do::AbortBot, Do::Finish(CallOutcome::Hangup)]
    );
}

#[test]
fn our_own_drop_is_over_at_once_and_lingers_for_the_removal() {
    let mut call = Call::connected();
    // The bot's `hangup()`: a drop verb that succeeds.
    assert_eq!(call.at(4, On::VerbStarted), []);
    assert_eq!(
        call.at(5, On::EndedByUs),
        [Do::EndForBot(EndCause::Ended), Do::CancelOver]
    );
    assert_eq!(call.life.phase(), call.over_since(5, false));
    assert_eq!(call.at(5, On::VerbEnded(None)), []);
    // The bot's grace while it runs, then the linger for the removal.
    assert_eq!(call.deadline(), Some(secs(7)));
    assert_eq!(call.at(6, On::BotReturned), [], "no engine end after ours");
    assert_eq!(call.deadline(), Some(secs(5) + LINGER));
    // The bot is not told of a hang-up: the call ended as it asked.
    assert_eq!(
        call.at(7, On::Removed),
        [
            Do::EndForBot(EndCause::Hangup),
            Do::CancelOver,
            Do::DropInputs,
            Do::Finish(CallOutcome::Completed)
        ]
    );
}

#[test]
fn a_removal_never_confirmed_ends_at_the_linger() {
    let mut call = Call::connected();
    call.at(5, On::EndedByUs);
    call.at(6, On::BotReturned);
    assert_eq!(call.life.phase(), call.over_since(5, false));
    assert_eq!(
        call.at(10, On::DeadlineReached),
        [Do::Finish(CallOutcome::Completed)]
    );
    assert!(call.life.is_removed());
}

#[test]
fn a_bot_past_its_grace_after_our_drop_is_aborted_and_the_call_released() {
    let mut call = Call::connected();
    call.at(5, On::EndedByUs);
    assert_eq!(call.deadline(), Some(secs(7)));
    // The grace's end is also the end of the wait for the removal (as before #11):
    // with no verb left, nothing more is waited for.
    assert_eq!(
        call.at(7, On::DeadlineReached),
        [Do::AbortBot, Do::Finish(CallOutcome::Completed)]
    );
}

#[test]
fn a_returning_bot_gets_the_polite_drop() {
    let mut call = Call::connected();
    assert_eq!(
        call.at(8, On::BotReturned),
        [Do::SpawnEngineEnd(EngineEnd::BotReturned)]
    );
    assert_eq!(
        call.life.phase(),
        Phase::Ending {
            why: EngineEnd::BotReturned
        }
    );
    assert_eq!(call.life.verbs_in_flight(), 1);
    assert_eq!(call.at(9, On::VerbEnded(Some(CallOutcome::Completed))), []);
    assert_eq!(
        call.at(9, On::EndedByUs),
        [Do::EndForBot(EndCause::Ended), Do::CancelOver]
    );
    assert_eq!(
        call.at(9, On::Removed).last(),
        Some(&Do::Finish(CallOutcome::Completed))
    );
}

#[test]
fn a_failing_bot_gets_one_fallback() {
    let mut call = Call::connected();
    assert_eq!(
        call.at(3, On::BotFailed("boom".to_owned())),
        [Do::SpawnEngineEnd(EngineEnd::BotFailed)]
    );
    assert_eq!(call.life.bot_error(), Some("boom"));
    // A shutdown while the fallback rings starts no second end.
    assert_eq!(call.at(4, On::HandOff), []);
    assert_eq!(call.life.verbs_in_flight(), 1);
    assert_eq!(call.at(6, On::VerbEnded(Some(CallOutcome::Fallback))), []);
    call.at(6, On::EndedByUs);
    assert_eq!(
        call.at(7, On::Removed).last(),
        Some(&Do::Finish(CallOutcome::Fallback))
    );
}

#[test]
fn hand_off_at_shutdown_starts_one_engine_end_and_the_bot_is_told() {
    let mut call = Call::connected();
    assert_eq!(
        call.at(2, On::HandOff),
        [
            Do::EndForBot(EndCause::Shutdown),
            Do::SpawnEngineEnd(EngineEnd::Shutdown)
        ]
    );
    assert!(!call.life.is_live());
    assert_eq!(call.at(2, On::HandOff), []);
    // The bot returning meanwhile is no reason for another end.
    assert_eq!(call.at(3, On::BotReturned), []);
    assert_eq!(call.at(4, On::VerbEnded(Some(CallOutcome::Shutdown))), []);
    call.at(4, On::EndedByUs);
    assert_eq!(
        call.at(5, On::Removed).last(),
        Some(&Do::Finish(CallOutcome::Shutdown))
    );
}

#[test]
fn a_hard_stop_ends_the_call_without_waiting_for_the_pbx() {
    let mut call = Call::connected();
    assert_eq!(
        call.at(1, On::HardStop),
        [Do::EndForBot(EndCause::Shutdown), Do::CancelOver]
    );
    assert!(call.life.is_removed());
    assert_eq!(
        call.at(1, On::Removed),
        [],
        "the PBX is no longer listened to"
    );
    assert_eq!(call.deadline(), Some(secs(3)));
    assert_eq!(
        call.at(3, On::DeadlineReached),
        [Do::AbortBot, Do::Finish(CallOutcome::Hangup)]
    );
}

#[test]
fn the_dispatcher_giving_up_ends_the_call_as_a_connection_error() {
    let mut call = Call::connected();
    assert_eq!(
        call.at(6, On::UpdatesLost),
        [Do::EndForBot(EndCause::UpdatesLost), Do::CancelOver]
    );
    assert_eq!(call.life.phase(), call.over_since(6, true));
    assert_eq!(call.at(6, On::HardStop), []);
    assert_eq!(
        call.at(7, On::BotReturned),
        [Do::Finish(CallOutcome::Hangup)]
    );
}

#[test]
fn a_removal_while_an_engine_end_is_in_flight_starts_no_second_end() {
    let mut call = Call::connected();
    call.at(8, On::BotReturned);
    assert_eq!(call.at(9, On::Removed), HUNG_UP);
    assert_eq!(call.at(9, On::HandOff), []);
    // The drop in flight still has its grace to find the leg gone.
    assert_eq!(call.deadline(), Some(secs(11)));
    assert_eq!(
        call.at(10, On::VerbEnded(Some(CallOutcome::Hangup))),
        [Do::Finish(CallOutcome::Hangup)]
    );
}

#[test]
fn an_engine_end_stuck_past_the_grace_is_dropped() {
    let mut call = Call::connected();
    call.at(8, On::BotReturned);
    call.at(9, On::Removed);
    assert_eq!(
        call.at(11, On::DeadlineReached),
        [Do::ClearVerbs, Do::Finish(CallOutcome::Hangup)]
    );
}

#[test]
fn an_engine_end_that_gives_up_waits_for_the_removal() {
    let mut call = Call::connected();
    call.at(8, On::BotReturned);
    // The leg could not be confirmed as ours: nothing was sent, nothing ended.
    assert_eq!(call.at(9, On::VerbEnded(None)), []);
    assert_eq!(
        call.life.phase(),
        Phase::Ending {
            why: EngineEnd::BotReturned
        }
    );
    assert_eq!(call.deadline(), None);
    assert_eq!(call.at(10, On::HandOff), []);
    assert_eq!(
        call.at(12, On::Removed).last(),
        Some(&Do::Finish(CallOutcome::Hangup))
    );
}

#[test]
fn a_reused_participant_id_ends_the_old_session_as_a_removal() {
    // After a PBX restart the old call's id names a new caller: callcontrol reports the
    // old leg's removal, so the old session ends like a hang-up. It must not end the
    // call itself: a drop or fallback would reach the new caller.
    let mut call = Call::connected();
    call.at(20, On::VerbStarted);
    let mut actions = call.at(30, On::Removed);
    assert_eq!(actions, HUNG_UP);
    actions.extend(call.at(30, On::VerbEnded(None)));
    actions.extend(call.at(31, On::BotReturned));
    assert!(
        !actions
            .iter()
            .any(|action| matches!(action, Do::SpawnEngineEnd(_))),
        "{actions:?}"
    );
    assert_eq!(actions.last(), Some(&Do::Finish(CallOutcome::Hangup)));
}

#[test]
fn an_unanswered_call_goes_straight_to_the_fallback() {
    let mut call = Call {
        life: Lifecycle::new(GRACE),
        t0: Instant::now(),
    };
    assert_eq!(
        call.at(0, On::AnswerFailed),
        [Do::SpawnEngineEnd(EngineEnd::AnswerFailed)]
    );
    assert_eq!(call.at(1, On::HandOff), []);
    assert_eq!(call.at(2, On::VerbEnded(Some(CallOutcome::Fallback))), []);
    // No bot to wait for: over and removed is done.
    assert_eq!(
        call.at(2, On::EndedByUs),
        [Do::EndForBot(EndCause::Ended), Do::CancelOver]
    );
    assert_eq!(
        call.at(2, On::Removed).last(),
        Some(&Do::Finish(CallOutcome::Fallback))
    );
}

#[test]
fn the_first_engine_outcome_counts_and_nothing_follows_done() {
    let mut call = Call::connected();
    call.at(1, On::VerbStarted);
    call.at(1, On::VerbStarted);
    call.at(2, On::VerbEnded(Some(CallOutcome::Fallback)));
    call.at(2, On::VerbEnded(Some(CallOutcome::Dropped)));
    call.at(3, On::UpdatesLost);
    assert_eq!(
        call.at(3, On::BotReturned),
        [Do::Finish(CallOutcome::Fallback)]
    );
    for event in [
        On::Connected,
        On::EndedByUs,
        On::DeadlineReached,
        On::VerbStarted,
    ] {
        assert_eq!(call.at(4, event), []);
    }
    assert_eq!(call.life.phase(), Phase::Done);
}
