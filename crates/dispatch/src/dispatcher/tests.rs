//! Dispatcher tests: sessions, ordering, parallel calls, DTMF, removal, overflow.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use voicebot_model::{Digit, Dn, Participant, ParticipantId, ParticipantStatus, PbxEvent};

use super::*;

fn participant(dn: &str, id: i64, status: ParticipantStatus) -> Participant {
    Participant {
        id: ParticipantId(id),
        dn: Dn::new(dn),
        status,
        party_caller_id: "+15550100".to_owned(),
        ..Participant::default()
    }
}

fn upsert(dn: &str, id: i64, status: ParticipantStatus) -> PbxEvent {
    PbxEvent::ParticipantUpdated {
        participant: participant(dn, id, status),
        resync: false,
    }
}

fn removal(dn: &str, id: i64) -> PbxEvent {
    PbxEvent::ParticipantRemoved {
        dn: Dn::new(dn),
        id: ParticipantId(id),
        resync: false,
    }
}

fn dtmf(dn: &str, id: i64, digits: &str) -> PbxEvent {
    PbxEvent::Dtmf {
        dn: Dn::new(dn),
        id: ParticipantId(id),
        digits: self::digits(digits),
    }
}

fn digits(text: &str) -> Vec<Digit> {
    voicebot_model::parse_digits(text).unwrap()
}

async fn watching(dn: &str, call_queue: usize) -> (Dispatcher, mpsc::Receiver<NewCall>) {
    let config = DispatchConfig {
        call_queue,
        ..DispatchConfig::default()
    };
    let (mut dispatcher, new_calls) = Dispatcher::new(config, CancellationToken::new());
    dispatcher.watch(Dn::new(dn)).await;
    (dispatcher, new_calls)
}

use ParticipantStatus::{Connected, Dialing, Ringing};

#[tokio::test]
async fn a_call_on_a_watched_dn_gets_ordered_updates_until_removal() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert("800", 1, Ringing)).await;
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    dispatcher.dispatch(dtmf("800", 1, "12#")).await;
    dispatcher.dispatch(upsert("800", 1, Connected)).await; // repeat: nothing
    dispatcher.dispatch(dtmf("800", 1, "4")).await;
    dispatcher.dispatch(removal("800", 1)).await;

    let mut call = new_calls.try_recv().expect("a new call");
    assert_eq!(call.participant.status, Ringing);
    assert_eq!(call.origin, Origin::Inbound);
    let mut seen = Vec::new();
    while let Some(update) = call.updates.recv().await {
        seen.push(update);
    }
    assert_eq!(
        seen,
        vec![
            CallUpdate::Status(Box::new(participant("800", 1, Connected))),
            CallUpdate::Digits(digits("12#")),
            CallUpdate::Digits(digits("4")),
            CallUpdate::Removed,
        ]
    );
    assert_eq!(dispatcher.session_count(), 0);
    assert!(new_calls.try_recv().is_err(), "one call, one session");
}

#[tokio::test]
async fn repeated_upserts_change_nothing_but_other_fields_do() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    for _ in 0..5 {
        dispatcher.dispatch(upsert("800", 1, Connected)).await;
    }
    let mut renamed = participant("800", 1, Connected);
    renamed.party_caller_name = "Alice".to_owned();
    dispatcher
        .dispatch(PbxEvent::ParticipantUpdated {
            participant: renamed.clone(),
            resync: true,
        })
        .await;
    let mut call = new_calls.try_recv().unwrap();
    assert!(new_calls.try_recv().is_err());
    assert_eq!(
        call.updates.try_recv().unwrap(),
        CallUpdate::Status(Box::new(renamed))
    );
    assert!(call.updates.try_recv().is_err());
}

#[tokio::test]
async fn unwatched_dns_start_nothing() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert("201", 1, Ringing)).await;
    dispatcher.dispatch(dtmf("201", 1, "5")).await;
    assert!(new_calls.try_recv().is_err());
    assert_eq!(dispatcher.session_count(), 0);
}

#[tokio::test]
async fn calls_are_separate_and_a_stalled_call_does_not_block_another() {
    let (mut dispatcher, mut new_calls) = watching("800", 2).await;
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    dispatcher.dispatch(upsert("800", 2, Connected)).await;
    let stalled = new_calls.try_recv().unwrap();
    let mut live = new_calls.try_recv().unwrap();
    assert_eq!(live.participant.id, ParticipantId(2));
    for key in ["1", "2", "3"] {
        dispatcher.dispatch(dtmf("800", 1, key)).await;
        dispatcher.dispatch(dtmf("800", 2, key)).await;
        // Call 2 keeps reading; call 1 never does.
        assert_eq!(
            live.updates.recv().await,
            Some(CallUpdate::Digits(digits(key)))
        );
    }
    assert!(stalled.cancel.is_cancelled(), "overflow cancels the call");
    assert!(!live.cancel.is_cancelled());
}

#[tokio::test]
async fn overflow_cancels_the_call_and_never_leaves_a_gap() {
    let (mut dispatcher, mut new_calls) = watching("800", 2).await;
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    let mut call = new_calls.try_recv().unwrap();
    for key in ["1", "2", "3", "4"] {
        dispatcher.dispatch(dtmf("800", 1, key)).await;
    }
    assert!(call.cancel.is_cancelled());
    // What was queued is delivered, then the queue ends: nothing after a gap.
    assert_eq!(
        call.updates.recv().await,
        Some(CallUpdate::Digits(digits("1")))
    );
    assert_eq!(
        call.updates.recv().await,
        Some(CallUpdate::Digits(digits("2")))
    );
    assert_eq!(call.updates.recv().await, None);
    // Later upserts of the same participant do not start a second session...
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    assert!(new_calls.try_recv().is_err());
    // ...until it is removed; then the id may be a new call.
    dispatcher.dispatch(removal("800", 1)).await;
    dispatcher.dispatch(upsert("800", 1, Ringing)).await;
    assert!(new_calls.try_recv().is_ok());
}

#[tokio::test]
async fn a_call_task_that_ended_is_not_restarted_by_upserts() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert("800", 1, Ringing)).await;
    let call = new_calls.try_recv().unwrap();
    drop(call); // the bot hung up and its task ended before the PBX removed the leg
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    dispatcher.dispatch(upsert("800", 1, Ringing)).await;
    assert!(new_calls.try_recv().is_err());
    assert_eq!(dispatcher.session_count(), 1);
    dispatcher.dispatch(removal("800", 1)).await;
    assert_eq!(dispatcher.session_count(), 0);
}

#[tokio::test]
async fn removal_with_a_full_queue_cancels_the_call() {
    let (mut dispatcher, mut new_calls) = watching("800", 1).await;
    dispatcher.dispatch(upsert("800", 1, Ringing)).await;
    let call = new_calls.try_recv().unwrap();
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    dispatcher.dispatch(removal("800", 1)).await;
    assert!(call.cancel.is_cancelled());
}

#[tokio::test]
async fn dtmf_keys_reach_the_call_and_an_empty_press_does_not() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    dispatcher.dispatch(dtmf("800", 1, "12*")).await;
    dispatcher.dispatch(dtmf("800", 1, "")).await;
    let mut call = new_calls.try_recv().unwrap();
    assert_eq!(
        call.updates.try_recv().unwrap(),
        CallUpdate::Digits(digits("12*"))
    );
    assert!(call.updates.try_recv().is_err(), "no empty digit update");
}

#[tokio::test]
async fn outbound_legs_announced_before_or_after_their_first_upsert() {
    let (mut dispatcher, mut new_calls) =
        Dispatcher::new(DispatchConfig::default(), CancellationToken::new());
    // Announced first (makecall replied before the event arrived).
    dispatcher
        .expect_outbound(Dn::new("100"), ParticipantId(7))
        .await;
    dispatcher.dispatch(upsert("100", 7, Ringing)).await;
    let first = new_calls.try_recv().unwrap();
    assert_eq!(first.origin, Origin::Outbound);
    // Seen first (the event beat makecall's reply).
    dispatcher.dispatch(upsert("100", 8, Dialing)).await;
    assert!(new_calls.try_recv().is_err());
    dispatcher
        .expect_outbound(Dn::new("100"), ParticipantId(8))
        .await;
    let second = new_calls.try_recv().unwrap();
    assert_eq!(
        (second.participant.id, second.origin),
        (ParticipantId(8), Origin::Outbound)
    );
    // Other participants of that DN are still not ours.
    dispatcher.dispatch(upsert("100", 9, Ringing)).await;
    assert!(new_calls.try_recv().is_err());
}

#[tokio::test]
async fn a_leg_first_seen_dialing_on_a_watched_dn_is_outbound() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert("800", 3, Dialing)).await;
    assert_eq!(new_calls.try_recv().unwrap().origin, Origin::Outbound);
}

#[tokio::test]
async fn run_applies_handle_commands_and_stops_with_the_stream() {
    let cancel = CancellationToken::new();
    let (dispatcher, mut new_calls) = Dispatcher::new(DispatchConfig::default(), cancel.clone());
    let handle = dispatcher.handle();
    let (events, receiver) = mpsc::channel(8);
    let task = tokio::spawn(dispatcher.run(receiver));
    handle.watch(Dn::new("800")).await.unwrap();
    // Let the command land before the event (commands are not ordered with events).
    tokio::time::sleep(Duration::from_millis(10)).await;
    events.send(upsert("800", 1, Connected)).await.unwrap();
    let mut call = tokio::time::timeout(Duration::from_secs(5), new_calls.recv())
        .await
        .unwrap()
        .unwrap();
    drop(events);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    // The dispatcher is gone: the call's queue ends and the handle reports it.
    assert_eq!(call.updates.recv().await, None);
    assert!(handle.watch(Dn::new("801")).await.is_err());
    assert!(!cancel.is_cancelled());
}

#[tokio::test]
async fn cancelling_the_root_stops_run_and_cancels_calls() {
    let cancel = CancellationToken::new();
    let (mut dispatcher, mut new_calls) =
        Dispatcher::new(DispatchConfig::default(), cancel.clone());
    dispatcher.watch(Dn::new("800")).await;
    dispatcher.dispatch(upsert("800", 1, Connected)).await;
    let call = new_calls.try_recv().unwrap();
    let (_events, receiver) = mpsc::channel(8);
    let task = tokio::spawn(dispatcher.run(receiver));
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(call.cancel.is_cancelled());
}

/// The participant `id` on 800 as a leg of call `callid` (a PBX restart gives ids of
/// lost calls to new ones).
fn in_call(id: i64, callid: i64, status: ParticipantStatus) -> Participant {
    Participant {
        callid,
        legid: callid,
        ..participant("800", id, status)
    }
}

fn upsert_in_call(id: i64, callid: i64, status: ParticipantStatus) -> PbxEvent {
    PbxEvent::ParticipantUpdated {
        participant: in_call(id, callid, status),
        resync: false,
    }
}

#[tokio::test]
async fn a_reused_id_in_another_call_ends_the_old_session_and_starts_a_new_one() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert_in_call(1, 1, Connected)).await;
    let mut old = new_calls.try_recv().expect("the first call");
    // Without a removal in between (the PBX restarted while nobody listened).
    dispatcher.dispatch(upsert_in_call(1, 2, Connected)).await;
    dispatcher.dispatch(dtmf("800", 1, "5")).await;
    dispatcher.dispatch(upsert_in_call(1, 2, Connected)).await; // repeat: nothing

    let mut new = new_calls.try_recv().expect("the reused id is a new call");
    assert_eq!(new.participant, in_call(1, 2, Connected));
    assert_eq!(new.origin, Origin::Inbound);
    assert_eq!(old.updates.recv().await, Some(CallUpdate::Removed));
    assert_eq!(old.updates.recv().await, None, "nothing after the removal");
    assert_eq!(dispatcher.session_count(), 1);

    // The same call changing status stays one session.
    dispatcher.dispatch(upsert_in_call(1, 2, Ringing)).await;
    dispatcher.dispatch(removal("800", 1)).await;
    let mut seen = Vec::new();
    while let Some(update) = new.updates.recv().await {
        seen.push(update);
    }
    assert_eq!(
        seen,
        vec![
            CallUpdate::Digits(digits("5")),
            CallUpdate::Status(Box::new(in_call(1, 2, Ringing))),
            CallUpdate::Removed,
        ]
    );
    assert!(new_calls.try_recv().is_err());
}

#[tokio::test]
async fn an_ended_session_does_not_hide_a_new_call_given_its_id() {
    let (mut dispatcher, mut new_calls) = watching("800", 64).await;
    dispatcher.dispatch(upsert_in_call(1, 1, Ringing)).await;
    drop(new_calls.try_recv().unwrap()); // its task ended before the removal
    dispatcher.dispatch(upsert_in_call(1, 1, Connected)).await;
    assert!(new_calls.try_recv().is_err(), "the same call is ignored");
    dispatcher.dispatch(upsert_in_call(1, 7, Connected)).await;
    let new = new_calls.try_recv().expect("another call with that id");
    assert_eq!(new.participant.callid, 7);
    assert_eq!(dispatcher.session_count(), 1);
}

#[tokio::test]
async fn a_reused_id_cancels_an_old_session_whose_queue_is_full() {
    let (mut dispatcher, mut new_calls) = watching("800", 1).await;
    dispatcher.dispatch(upsert_in_call(1, 1, Ringing)).await;
    let old = new_calls.try_recv().unwrap();
    dispatcher.dispatch(upsert_in_call(1, 1, Connected)).await; // fills the queue
    dispatcher.dispatch(upsert_in_call(1, 2, Connected)).await;
    assert!(old.cancel.is_cancelled());
    let new = new_calls.try_recv().expect("the new call starts anyway");
    assert!(!new.cancel.is_cancelled());
}
