//! The difference between two states as events, so that a call which started or ended
//! while the socket was down is still reported.

use voicebot_model::{DnInfo, PbxEvent};

use crate::events::cache::StateCache;

/// Events that turn `old` into `new`: removals first (participants, then devices), then
/// DNs that appeared or changed kind, then new or changed devices and participants.
/// Unchanged entities produce nothing. A participant id that now belongs to another
/// call (same DN and id, another callid or legid: a PBX restart started its ids
/// again) is a removal of the old leg followed by the new leg, never an update.
pub(crate) fn diff(old: &StateCache, new: &StateCache, resync: bool) -> Vec<PbxEvent> {
    let mut events = Vec::new();
    for (dn, state) in old.dns() {
        let fresh = new.dn(dn);
        for (id, participant) in &state.participants {
            let same_leg = fresh
                .and_then(|fresh| fresh.participants.get(id))
                .is_some_and(|fresh| fresh.is_same_leg(participant));
            if !same_leg {
                events.push(PbxEvent::ParticipantRemoved {
                    dn: dn.clone(),
                    id: *id,
                    resync,
                });
            }
        }
        for device in state.devices.keys() {
            if fresh.is_none_or(|fresh| !fresh.devices.contains_key(device)) {
                events.push(PbxEvent::DeviceRemoved {
                    dn: dn.clone(),
                    device: device.clone(),
                });
            }
        }
    }
    for (dn, state) in new.dns() {
        let before = old.dn(dn);
        if before.is_none_or(|before| before.dn_type != state.dn_type) {
            events.push(PbxEvent::DnUpdated {
                info: DnInfo {
                    dn: dn.clone(),
                    dn_type: state.dn_type.clone(),
                    devices: state.devices.values().cloned().collect(),
                    participants: state.participants.values().cloned().collect(),
                },
            });
        }
        for (id, device) in &state.devices {
            if before.and_then(|before| before.devices.get(id)) != Some(device) {
                events.push(PbxEvent::DeviceUpdated {
                    device: device.clone(),
                });
            }
        }
        for (id, participant) in &state.participants {
            if before.and_then(|before| before.participants.get(id)) != Some(participant) {
                events.push(PbxEvent::ParticipantUpdated {
                    participant: participant.clone(),
                    resync,
                });
            }
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use voicebot_model::{Device, DeviceId, Dn, DnType, Participant, ParticipantId};

    use super::*;

    fn participant(id: i64, status: &str) -> Participant {
        Participant {
            id: ParticipantId(id),
            dn: Dn::new("800"),
            status: status.into(),
            ..Participant::default()
        }
    }

    fn dn(participants: Vec<Participant>, devices: &[&str]) -> DnInfo {
        DnInfo {
            dn: Dn::new("800"),
            dn_type: DnType::RoutePoint,
            devices: devices
                .iter()
                .map(|id| Device {
                    dn: Dn::new("800"),
                    device_id: DeviceId::new(*id),
                    user_agent: String::new(),
                })
                .collect(),
            participants,
        }
    }

    #[test]
    fn same_state_yields_nothing() {
        let state = StateCache::from_snapshot(vec![dn(vec![participant(1, "Connected")], &["d"])]);
        assert!(diff(&state, &state.clone(), true).is_empty());
    }

    #[test]
    fn vanished_new_and_changed_participants_are_reported() {
        let old = StateCache::from_snapshot(vec![dn(
            vec![participant(1, "Connected"), participant(2, "Ringing")],
            &["d1"],
        )]);
        let new = StateCache::from_snapshot(vec![dn(
            vec![participant(2, "Connected"), participant(3, "Connected")],
            &["d2"],
        )]);
        let events = diff(&old, &new, true);
        assert_eq!(
            events,
            vec![
                PbxEvent::ParticipantRemoved {
                    dn: Dn::new("800"),
                    id: ParticipantId(1),
                    resync: true
                },
                PbxEvent::DeviceRemoved {
                    dn: Dn::new("800"),
                    device: DeviceId::new("d1")
                },
                PbxEvent::DeviceUpdated {
                    device: Device {
                        dn: Dn::new("800"),
                        device_id: DeviceId::new("d2"),
                        user_agent: String::new()
                    }
                },
                PbxEvent::ParticipantUpdated {
                    participant: participant(2, "Connected"),
                    resync: true
                },
                PbxEvent::ParticipantUpdated {
                    participant: participant(3, "Connected"),
                    resync: true
                },
            ]
        );
    }

    #[test]
    fn a_reused_id_in_another_call_is_a_removal_then_a_new_leg() {
        let call = |callid: i64, caller: &str| Participant {
            callid,
            legid: callid,
            party_caller_id: caller.to_owned(),
            ..participant(1, "Connected")
        };
        let old = StateCache::from_snapshot(vec![dn(vec![call(1, "+1555")], &[])]);
        let same = StateCache::from_snapshot(vec![dn(vec![call(1, "+1555")], &[])]);
        assert_eq!(diff(&old, &same, true), vec![]);
        // Same call, another field: an update, not a new call.
        let changed = Participant {
            party_caller_name: "Ann".to_owned(),
            ..call(1, "+1555")
        };
        let renamed = StateCache::from_snapshot(vec![dn(vec![changed.clone()], &[])]);
        assert_eq!(
            diff(&old, &renamed, true),
            vec![PbxEvent::ParticipantUpdated {
                participant: changed,
                resync: true
            }]
        );
        // After a restart the id names another call, even from the same caller.
        for reused in [call(7, "+1666"), call(7, "+1555")] {
            let new = StateCache::from_snapshot(vec![dn(vec![reused.clone()], &[])]);
            assert_eq!(
                diff(&old, &new, true),
                vec![
                    PbxEvent::ParticipantRemoved {
                        dn: Dn::new("800"),
                        id: ParticipantId(1),
                        resync: true
                    },
                    PbxEvent::ParticipantUpdated {
                        participant: reused,
                        resync: true
                    },
                ]
            );
        }
    }

    #[test]
    fn first_snapshot_announces_dns_and_participants() {
        let new = StateCache::from_snapshot(vec![dn(vec![participant(7, "Connected")], &[])]);
        let events = diff(&StateCache::default(), &new, true);
        assert!(matches!(events[0], PbxEvent::DnUpdated { .. }));
        assert!(matches!(
            events[1],
            PbxEvent::ParticipantUpdated { resync: true, .. }
        ));
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn a_vanished_dn_removes_its_participants() {
        let old = StateCache::from_snapshot(vec![dn(vec![participant(1, "Connected")], &[])]);
        let events = diff(&old, &StateCache::default(), false);
        assert_eq!(
            events,
            vec![PbxEvent::ParticipantRemoved {
                dn: Dn::new("800"),
                id: ParticipantId(1),
                resync: false
            }]
        );
    }
}
