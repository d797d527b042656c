//! Calls from a DN of this PBX (an extension, or one of its devices) to the route
//! point: `makecall` from `101` to `800` reaches the route point's client as an
//! inbound call would, with `party_dn` 101 and `party_dn_type` `Wextension`.
//!
//! The call has two legs, the caller's on its DN (`Dialing` until the route point's
//! leg is connected) and the route point's. The route point's leg carries the call's
//! media as for any caller; the caller's leg is *bridged* to it: what is POSTed on
//! the caller's leg is what the route point's GET stream hears, and the caller's GET
//! stream carries what the route point's client plays. Both legs belong to the
//! application's own call, so both have streams even when extension streams are off
//! (ISS3's 424 is about calls that are not the application's own; reference §5.2).

use std::sync::{Arc, MutexGuard};

use tokio::time::Instant;
use voicebot_model::{DeviceId, Dn, DnType, Participant, ParticipantId, ParticipantStatus};

use crate::calls::{MakeCallRefused, new_core};
use crate::journal::JournalKind;
use crate::state::{CallState, Pbx, Shared};
use crate::{CallerState, InboundMode};

/// `makecall` from `dn` to the route point.
pub(crate) fn call_route_point(
    shared: &Arc<Shared>,
    mut pbx: MutexGuard<'_, Pbx>,
    dn: &Dn,
    device: Option<DeviceId>,
) -> Result<Participant, MakeCallRefused> {
    let route_point = shared.route_point.clone();
    let refused = |text: String| MakeCallRefused {
        reason: "NotFound",
        text,
    };
    let Some(source) = pbx.dns.get_mut(dn) else {
        return Err(refused(format!("DN {dn} not found")));
    };
    let source_type = source.dn_type.clone();
    let device = device.or_else(|| source.devices.first().cloned());
    let caller_id = source.allocate_id();
    let Some(target) = pbx.dns.get_mut(&route_point) else {
        return Err(refused(format!("route point {route_point} not found")));
    };
    let route_point_device = target.devices.first().cloned();
    let route_point_id = target.allocate_id();
    let connected = shared.config.inbound == InboundMode::Connected;
    let callid = pbx.allocate_callid();
    let caller_legid = pbx.allocate_legid();
    let route_point_legid = pbx.allocate_legid();
    let caller = Participant {
        id: ParticipantId(caller_id),
        status: ParticipantStatus::Dialing,
        dn: dn.clone(),
        party_dn: route_point.clone(),
        party_caller_id: route_point.to_string(),
        device_id: device,
        party_dn_type: DnType::RoutePoint,
        originated_by_dn: Some(dn.clone()),
        originated_by_type: source_type.clone(),
        callid,
        legid: caller_legid,
        ..Participant::default()
    };
    let inbound = Participant {
        id: ParticipantId(route_point_id),
        status: match connected {
            true => ParticipantStatus::Connected,
            false => ParticipantStatus::Ringing,
        },
        dn: route_point.clone(),
        party_dn: dn.clone(),
        party_caller_id: dn.to_string(),
        device_id: route_point_device,
        party_dn_type: source_type,
        callid,
        legid: route_point_legid,
        ..Participant::default()
    };
    let core = new_core(
        callid,
        route_point.clone(),
        route_point_id,
        match connected {
            true => CallerState::Connected,
            false => CallerState::Ringing,
        },
    );
    if connected {
        core.media().start(Instant::now());
    }
    shared.record(JournalKind::CallStarted {
        callid,
        from: dn.to_string(),
        to: route_point.to_string(),
    });
    pbx.calls.insert(
        callid,
        CallState {
            core: core.clone(),
            legs: Vec::new(),
            far_leg: None,
            bridged: Some((dn.clone(), caller_id)),
        },
    );
    pbx.add_leg(shared, caller.clone(), callid);
    pbx.add_leg(shared, inbound, callid);
    if connected {
        pbx.set_status(shared, dn, caller_id, ParticipantStatus::Connected);
    }
    pbx.outbound.push((route_point.to_string(), core));
    drop(pbx);
    shared.outbound_placed.notify_waiters();
    if !connected && let Some(timeout) = shared.config.inbound_ring_timeout {
        // Nobody answered the route point: the caller gives up, as for outside callers.
        crate::calls::give_up_ringing(shared, timeout, route_point, route_point_id, callid);
    }
    Ok(caller)
}

/// Whether `(dn, id)` is the calling leg of a bridged call, and which call.
pub(crate) fn bridged_call(pbx: &Pbx, dn: &Dn, id: i64) -> Option<i64> {
    let callid = pbx.leg(dn, id)?.callid;
    let call = pbx.calls.get(&callid)?;
    match &call.bridged {
        Some((bridged_dn, bridged_id)) if bridged_dn == dn && *bridged_id == id => Some(callid),
        _ => None,
    }
}
