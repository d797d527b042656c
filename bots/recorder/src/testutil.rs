//! Test helpers: a call identity, and a fake call task serving the `voicebot-bot`
//! message protocol the way the engine does (prompts finish at once, the
//! recording ends as the test says, actions are journaled).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use voicebot_bot::message::{CallMessage, ChannelCapacity, call_channel};
use voicebot_bot::{Call, CallError, CallInfo, Direction, PlayOutcome, RecordEnd, Recording};
use voicebot_model::{Participant, ParticipantId};

/// Alice (+15550100) calling route point 800, call 7.
pub(crate) fn info() -> CallInfo {
    let participant = Participant {
        id: ParticipantId(12),
        dn: "800".into(),
        party_caller_id: "+15550100".to_owned(),
        party_caller_name: "Alice".to_owned(),
        callid: 7,
        legid: 1,
        ..Participant::default()
    };
    CallInfo::new(&participant, Direction::Inbound)
}

/// A call whose recording lasts `length` and ends by `end`; a `Hangup` end also
/// ends the call, as a real hang-up does. Returns the journal of what the bot did.
pub(crate) fn fake_call(length: Duration, end: RecordEnd) -> (Call, Arc<Mutex<Vec<String>>>) {
    let (call, mut endpoint) = call_channel(info(), ChannelCapacity::default());
    let journal = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&journal);
    tokio::spawn(async move {
        let note = |entry: String| log.lock().unwrap().push(entry);
        while let Some(message) = endpoint.messages.recv().await {
            match message {
                CallMessage::Play { request, reply } => {
                    note(format!("play {:?}", request.prompt));
                    let _ = reply.send(Ok(PlayOutcome::Finished));
                }
                CallMessage::Record { request, reply } => {
                    note(format!(
                        "record beep={} max={:?} silence={:?}",
                        request.beep, request.max_length, request.silence_timeout
                    ));
                    tokio::time::sleep(length).await;
                    let _ = reply.send(Ok(Recording {
                        path: request.path,
                        duration: length,
                        ended_by: end,
                        gaps: Vec::new(),
                    }));
                    if end == RecordEnd::Hangup {
                        endpoint.end(CallError::Hangup);
                        return;
                    }
                }
                CallMessage::Action { action, reply, .. } => {
                    note(action.to_string());
                    let _ = reply.send(Ok(()));
                }
                other => panic!("the recorder sent an unexpected message: {other:?}"),
            }
        }
    });
    (call, journal)
}
