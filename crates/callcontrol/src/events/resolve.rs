//! Turns one WebSocket event into resolved [`PbxEvent`]s: the Upsert → GET pattern,
//! a 404 as a removal, duplicates dropped, the cache updated on the way.

use voicebot_model::{Digit, Dn, EntityPath, EventType, ParticipantId, PbxEvent, WsEnvelope};

use crate::client::Core;
use crate::error::CallControlError;
use crate::events::cache::{SharedState, StateCache, Upserted};
use crate::events::resync;

/// Resolves `envelope` against the PBX and the cache. Never fails: what cannot be
/// resolved is logged and yields no event (the next upsert or resync repairs it).
pub(crate) async fn resolve(
    core: &Core,
    state: &SharedState,
    envelope: WsEnvelope,
) -> Vec<PbxEvent> {
    let event = envelope.event;
    let label = match event.event_type {
        EventType::Upsert => "upsert",
        EventType::Remove => "remove",
        EventType::Dtmf => "dtmf",
        EventType::PromptPlaybackFinished => "prompt_finished",
        EventType::Response => "response",
        EventType::Other(_) => "other",
    };
    metrics::counter!(
        "voicebot_pbx_ws_events_total",
        "pbx" => std::sync::Arc::clone(&core.settings.pbx_label),
        "type" => label
    )
    .increment(1);
    tracing::trace!(sequence = envelope.sequence, kind = label, entity = %event.entity, "pbx event");
    match event.event_type {
        EventType::PromptPlaybackFinished => {
            return vec![PbxEvent::PromptPlaybackFinished {
                entity: event.entity,
            }];
        }
        EventType::Response | EventType::Other(_) => {
            tracing::debug!(kind = label, entity = %event.entity, "event ignored");
            return Vec::new();
        }
        _ => {}
    }
    let path = match event.entity_path() {
        Ok(path) => path,
        Err(error) => {
            tracing::warn!(%error, "event with an unusable entity; skipped");
            return Vec::new();
        }
    };
    match (event.event_type, path) {
        (EventType::Dtmf, EntityPath::Participant { dn, id }) => {
            let digits = event.dtmf_input().map(dtmf_keys).unwrap_or_default();
            match digits.is_empty() {
                false => vec![PbxEvent::Dtmf { dn, id, digits }],
                true => {
                    tracing::warn!(entity = %event.entity, "DTMF event without keys; skipped");
                    Vec::new()
                }
            }
        }
        (EventType::Dtmf, path) => {
            tracing::warn!(entity = %path, "DTMF event not for a participant; skipped");
            Vec::new()
        }
        (EventType::Upsert, path) => upsert(core, state, path).await,
        (EventType::Remove, path) => remove(state, path),
        _ => Vec::new(),
    }
}

async fn upsert(core: &Core, state: &SharedState, path: EntityPath) -> Vec<PbxEvent> {
    match path {
        EntityPath::Participant { dn, id } => match core.participant(&dn, id).await {
            Ok(participant) => {
                let change =
                    state.update(|cache| cache.upsert_participant(&dn, participant.clone()));
                let updated = PbxEvent::ParticipantUpdated {
                    participant,
                    resync: false,
                };
                match change {
                    Upserted::Unchanged => Vec::new(),
                    Upserted::New | Upserted::Changed => vec![updated],
                    // The id was given to another call (a PBX restart whose Removes
                    // we never saw): the old leg ends before the new one starts.
                    Upserted::Replaced => vec![
                        PbxEvent::ParticipantRemoved {
                            dn,
                            id,
                            resync: false,
                        },
                        updated,
                    ],
                }
            }
            Err(error) => unresolved(state, EntityPath::Participant { dn, id }, &error),
        },
        EntityPath::Device { dn, device } => match core.device(&dn, &device).await {
            Ok(fetched) => match state.update(|cache| cache.upsert_device(&dn, fetched.clone())) {
                true => vec![PbxEvent::DeviceUpdated { device: fetched }],
                false => Vec::new(),
            },
            Err(error) => unresolved(state, EntityPath::Device { dn, device }, &error),
        },
        EntityPath::Dn(dn) => match core.dn(&dn).await {
            Ok(mut info) => {
                // The PBX may leave the DN out of its own record.
                if info.dn.as_str().is_empty() {
                    info.dn = dn.clone();
                }
                let mut events = state.update(|cache| {
                    let before = cache.only(&dn);
                    cache.put_dn(info.clone());
                    resync::diff(&before, &cache.only(&dn), false)
                });
                if !events.is_empty()
                    && !events
                        .iter()
                        .any(|event| matches!(event, PbxEvent::DnUpdated { .. }))
                {
                    events.push(PbxEvent::DnUpdated { info });
                }
                events
            }
            Err(error) => unresolved(state, EntityPath::Dn(dn), &error),
        },
    }
}

/// A GET after an upsert failed: 404 means the entity is gone already; anything else
/// leaves the cache as it is.
fn unresolved(state: &SharedState, path: EntityPath, error: &CallControlError) -> Vec<PbxEvent> {
    match error {
        CallControlError::NotFound(_) => remove(state, path),
        CallControlError::Forbidden(_) => {
            // The far leg of an outbound call: visible in events, not ours to read.
            tracing::debug!(entity = %path, "upsert for an entity we may not read; skipped");
            Vec::new()
        }
        other => {
            tracing::warn!(entity = %path, error = %other, "cannot resolve upsert; skipped");
            Vec::new()
        }
    }
}

/// Removes an entity from the cache; reports it only if it was known, so a removal
/// seen twice (404 on GET, then the Remove event) is reported once.
fn remove(state: &SharedState, path: EntityPath) -> Vec<PbxEvent> {
    state.update(|cache| match path {
        EntityPath::Participant { dn, id } => removal(cache, dn, id).into_iter().collect(),
        EntityPath::Device { dn, device } => match cache.remove_device(&dn, &device) {
            Some(_) => vec![PbxEvent::DeviceRemoved { dn, device }],
            None => Vec::new(),
        },
        EntityPath::Dn(dn) => {
            let before = cache.only(&dn);
            cache.remove_dn(&dn);
            resync::diff(&before, &StateCache::default(), false)
        }
    })
}

fn removal(cache: &mut StateCache, dn: Dn, id: ParticipantId) -> Option<PbxEvent> {
    cache
        .remove_participant(&dn, id)
        .map(|_| PbxEvent::ParticipantRemoved {
            dn,
            id,
            resync: false,
        })
}

/// The keys of a `dtmf_input` text (the PBX may send several at once): blanks are
/// skipped, and so is any other character that is no DTMF key (logged), so one bad
/// character does not lose the keys around it.
fn dtmf_keys(text: &str) -> Vec<Digit> {
    text.chars()
        .filter(|key| !key.is_whitespace())
        .filter_map(|key| match Digit::new(key) {
            Ok(digit) => Some(digit),
            Err(error) => {
                tracing::warn!(%error, "ignoring a DTMF key");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_text_is_split_into_keys_and_bad_keys_skipped() {
        let keys = |text| -> String { dtmf_keys(text).iter().map(|d| d.as_char()).collect() };
        assert_eq!(keys("1x 2*"), "12*");
        assert_eq!(keys("12#"), "12#");
        assert_eq!(keys("zz"), "");
        assert_eq!(keys(""), "");
    }
}
