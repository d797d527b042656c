//! Call flows: inbound calls from scripted callers, outbound `makecall`s to scripted
//! far ends, and the timers that make far ends answer, stay busy or ring out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use voicebot_model::{
    DeviceId, Dn, DnType, EntityPath, EventType, Participant, ParticipantId, ParticipantStatus,
};

use crate::audio::CallMedia;
use crate::journal::JournalKind;
use crate::state::{CallCore, CallState, Pbx, Shared};
use crate::{CallEnd, CallSpec, CallerState, FarEnd, SimError};

/// Runs `action` on the PBX after `delay`, unless the simulator stopped or restarted.
pub(crate) fn after<F>(shared: &Arc<Shared>, delay: Duration, action: F)
where
    F: FnOnce(&Arc<Shared>, &mut Pbx) + Send + 'static,
{
    let epoch = shared.pbx().epoch;
    after_in(shared, epoch, delay, action);
}

/// [`after`] for a caller that holds the PBX lock: `epoch` is the PBX's now.
pub(crate) fn after_in<F>(shared: &Arc<Shared>, epoch: u64, delay: Duration, action: F)
where
    F: FnOnce(&Arc<Shared>, &mut Pbx) + Send + 'static,
{
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = shared.shutdown.cancelled() => {}
            _ = tokio::time::sleep(delay) => {
                let mut pbx = shared.pbx();
                if pbx.epoch == epoch {
                    action(&shared, &mut pbx);
                }
            }
        }
    });
}

pub(crate) fn new_core(callid: i64, dn: Dn, id: i64, state: CallerState) -> Arc<CallCore> {
    Arc::new(CallCore {
        callid,
        dn,
        participant_id: ParticipantId(id),
        media: Mutex::new(CallMedia::default()),
        state: watch::Sender::new(state),
        media_ended: CancellationToken::new(),
    })
}

/// An external (or internal) caller dials a DN of the PBX.
pub(crate) fn start_inbound(
    shared: &Arc<Shared>,
    spec: CallSpec,
) -> Result<Arc<CallCore>, SimError> {
    let config = &shared.config;
    let to = spec
        .to
        .clone()
        .unwrap_or_else(|| shared.route_point.clone());
    let mut pbx = shared.pbx();
    let Some(target) = pbx.dns.get(&to) else {
        return Err(SimError::UnknownDestination(to.to_string()));
    };
    let is_route_point = target.dn_type == DnType::RoutePoint;
    let device = target.devices.first().cloned();
    let direct_control = target.direct_control;
    let on_ring = target.on_ring.clone();
    let status = match (is_route_point, config.inbound) {
        (true, crate::InboundMode::Connected) => ParticipantStatus::Connected,
        _ => ParticipantStatus::Ringing,
    };
    let (party_dn, party_dn_type) = match pbx.dns.get(&Dn::new(spec.from.clone())) {
        Some(state) => (Dn::new(spec.from.clone()), state.dn_type.clone()),
        None => (config.trunk_dn.clone(), DnType::ExternalLine),
    };
    let callid = pbx.allocate_callid();
    let legid = pbx.allocate_legid();
    let id = match pbx.dns.get_mut(&to) {
        Some(state) => state.allocate_id(),
        None => return Err(SimError::UnknownDestination(to.to_string())),
    };
    let participant = Participant {
        id: ParticipantId(id),
        status: status.clone(),
        dn: to.clone(),
        party_caller_name: spec.caller_name.clone().unwrap_or_default(),
        party_dn,
        party_caller_id: spec.from.clone(),
        party_did: match config.fill_party_did {
            true => spec.did.clone().unwrap_or_default(),
            false => String::new(),
        },
        device_id: device,
        party_dn_type,
        direct_control: direct_control && !is_route_point,
        callid,
        legid,
        ..Participant::default()
    };
    let caller_state = match status {
        ParticipantStatus::Connected => CallerState::Connected,
        _ => CallerState::Ringing,
    };
    let core = new_core(callid, to.clone(), id, caller_state);
    if status == ParticipantStatus::Connected {
        core.media().start(Instant::now());
    }
    shared.record(JournalKind::CallStarted {
        callid,
        from: spec.from.clone(),
        to: to.to_string(),
    });
    pbx.calls.insert(
        callid,
        CallState {
            core: core.clone(),
            legs: Vec::new(),
            far_leg: None,
            bridged: None,
        },
    );
    pbx.add_leg(shared, participant, callid);
    drop(pbx);
    if !is_route_point {
        ring(shared, callid, to, id, &on_ring, None);
    } else if status == ParticipantStatus::Ringing
        && let Some(timeout) = config.inbound_ring_timeout
    {
        give_up_ringing(shared, timeout, to, id, callid);
    }
    Ok(core)
}

/// Applies a far end's behaviour to a ringing leg.
fn ring(
    shared: &Arc<Shared>,
    callid: i64,
    dn: Dn,
    id: i64,
    far_end: &FarEnd,
    timeout: Option<Duration>,
) {
    let timeout = timeout.filter(|t| !t.is_zero());
    match far_end {
        FarEnd::Answer { after, audio, then } => {
            let audio = audio.clone();
            let then = then.clone();
            match timeout {
                Some(timeout) if timeout < *after => {
                    after_end(shared, callid, timeout, CallEnd::NoAnswer);
                }
                _ => self::after(shared, *after, move |shared, pbx| {
                    let ringing = pbx
                        .leg(&dn, id)
                        .is_some_and(|leg| leg.participant.status != ParticipantStatus::Connected);
                    if ringing {
                        connect(shared, pbx, callid, &dn, id);
                        crate::handoff::answered(shared, pbx, callid, audio.as_deref(), &then);
                    }
                }),
            }
        }
        FarEnd::Reject { after } => {
            let wait = timeout.map_or(*after, |t| t.min(*after));
            let end = match wait < *after {
                true => CallEnd::NoAnswer,
                false => CallEnd::Rejected,
            };
            after_end(shared, callid, wait, end);
        }
        FarEnd::Busy => after_end(shared, callid, Duration::from_millis(100), CallEnd::Busy),
        FarEnd::NoAnswer { after } => {
            let wait = timeout.map_or(*after, |t| t.min(*after));
            after_end(shared, callid, wait, CallEnd::NoAnswer);
        }
        FarEnd::Unreachable => after_end(shared, callid, Duration::ZERO, CallEnd::Unreachable),
    }
}

pub(crate) fn after_end(shared: &Arc<Shared>, callid: i64, delay: Duration, end: CallEnd) {
    after(shared, delay, move |shared, pbx| {
        let connected = pbx
            .calls
            .get(&callid)
            .is_some_and(|call| matches!(*call.core.state.borrow(), CallerState::Connected));
        if !connected {
            pbx.end_call(shared, callid, end);
        }
    });
}

/// A leg connects: status, events, and (for the caller's own leg) the media clock.
pub(crate) fn connect(shared: &Shared, pbx: &mut Pbx, callid: i64, dn: &Dn, id: i64) {
    if !pbx.set_status(shared, dn, id, ParticipantStatus::Connected) {
        return;
    }
    let bridged = pbx.calls.get(&callid).and_then(|call| call.bridged.clone());
    if let Some((bridged_dn, bridged_id)) = bridged
        && (bridged_dn != *dn || bridged_id != id)
    {
        // The internal caller's phone shows the call answered when the route point is.
        pbx.set_status(
            shared,
            &bridged_dn,
            bridged_id,
            ParticipantStatus::Connected,
        );
    }
    let far_leg = pbx.calls.get(&callid).and_then(|call| call.far_leg.clone());
    if let Some((far_dn, far_id)) = far_leg {
        pbx.emit(
            shared,
            EventType::Upsert,
            EntityPath::Participant {
                dn: far_dn,
                id: ParticipantId(far_id),
            },
            None,
        );
    }
    if let Some(call) = pbx.calls.get(&callid)
        && call.core.dn == *dn
        && call.core.participant_id.0 == id
    {
        call.core.media().start(Instant::now());
        call.core.state.send_replace(CallerState::Connected);
    }
}

/// Why a `makecall` was refused.
#[derive(Debug)]
pub(crate) struct MakeCallRefused {
    pub(crate) reason: &'static str,
    pub(crate) text: String,
}

/// `makecall` from `dn` (through `device`) to `destination`.
pub(crate) fn make_call(
    shared: &Arc<Shared>,
    dn: &Dn,
    device: Option<DeviceId>,
    destination: &str,
    timeout: Option<Duration>,
) -> Result<Participant, MakeCallRefused> {
    let mut pbx = shared.pbx();
    let to_route_point = Dn::new(destination) == shared.route_point && *dn != shared.route_point;
    if to_route_point {
        return crate::internal::call_route_point(shared, pbx, dn, device);
    }
    let internal = pbx
        .dns
        .get(&Dn::new(destination))
        .map(|state| (state.dn_type.clone(), state.on_ring.clone()));
    let (party_dn_type, far_end) = match internal {
        Some((dn_type, on_ring)) => (dn_type, on_ring),
        None => (
            DnType::ExternalLine,
            shared.config.far_ends.get(destination).clone(),
        ),
    };
    if far_end == FarEnd::Unreachable {
        return Err(MakeCallRefused {
            reason: "Unreachable",
            text: format!("Destination {destination} cannot be reached"),
        });
    }
    let Some(state) = pbx.dns.get_mut(dn) else {
        return Err(MakeCallRefused {
            reason: "NotFound",
            text: format!("DN {dn} not found"),
        });
    };
    let device = device.or_else(|| state.devices.first().cloned());
    let id = state.allocate_id();
    let far_id = match shared.config.far_leg_events {
        true => {
            let far = state.allocate_id();
            Some(far)
        }
        false => None,
    };
    let callid = pbx.allocate_callid();
    if let (Some(far), Some(state)) = (far_id, pbx.dns.get_mut(dn)) {
        state.foreign.insert(far, callid);
    }
    let legid = pbx.allocate_legid();
    let participant = Participant {
        id: ParticipantId(id),
        status: ParticipantStatus::Dialing,
        dn: dn.clone(),
        party_dn: Dn::new(destination),
        party_caller_id: destination.to_owned(),
        device_id: device,
        party_dn_type,
        originated_by_dn: Some(dn.clone()),
        originated_by_type: pbx.dns.get(dn).map_or(DnType::None, |s| s.dn_type.clone()),
        callid,
        legid,
        ..Participant::default()
    };
    let core = new_core(callid, dn.clone(), id, CallerState::Ringing);
    shared.record(JournalKind::CallStarted {
        callid,
        from: dn.to_string(),
        to: destination.to_owned(),
    });
    pbx.calls.insert(
        callid,
        CallState {
            core: core.clone(),
            legs: Vec::new(),
            far_leg: far_id.map(|far| (dn.clone(), far)),
            bridged: None,
        },
    );
    pbx.add_leg(shared, participant.clone(), callid);
    if let Some(far) = far_id {
        pbx.emit(
            shared,
            EventType::Upsert,
            EntityPath::Participant {
                dn: dn.clone(),
                id: ParticipantId(far),
            },
            None,
        );
    }
    pbx.outbound.push((destination.to_owned(), core));
    drop(pbx);
    shared.outbound_placed.notify_waiters();
    ring(shared, callid, dn.clone(), id, &far_end, timeout);
    Ok(participant)
}

/// Nobody answered the route point within `timeout`: the caller gives up. Only while
/// its leg `id` on `dn` still rings; a call answered or routed on is left alone.
pub(crate) fn give_up_ringing(
    shared: &Arc<Shared>,
    timeout: Duration,
    dn: Dn,
    id: i64,
    callid: i64,
) {
    after(shared, timeout, move |shared, pbx| {
        let ringing = pbx
            .leg(&dn, id)
            .is_some_and(|leg| leg.participant.status == ParticipantStatus::Ringing);
        if ringing {
            pbx.end_call(shared, callid, CallEnd::NoAnswer);
        }
    });
}
