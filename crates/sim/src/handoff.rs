//! Handing a call on (`routeto`, `transferto`, `divert`) and what an answered party
//! does next ([`crate::Answered`]).
//!
//! When a call arrives at a DN the client sees, the new leg becomes the call's media
//! core: the scripted party on it can speak, press keys and hang up, and the call's
//! original [`crate::Caller`] has ended with `TransferredTo`/`RoutedTo`/`DivertedTo`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use voicebot_model::{Dn, DnType, Participant, ParticipantId, ParticipantStatus};

use crate::calls::{after_in, new_core};
use crate::state::{Pbx, Shared, finish_caller};
use crate::{Answered, CallEnd, Caller, CallerState, FarEnd};

/// What a destination will do when a call is handed to it.
pub(crate) fn destination_behaviour(shared: &Shared, pbx: &Pbx, destination: &str) -> FarEnd {
    match pbx.dns.get(&Dn::new(destination)) {
        Some(state) if state.dn_type == DnType::RoutePoint => FarEnd::answer_after(Duration::ZERO),
        Some(state) => state.on_ring.clone(),
        None => shared.config.far_ends.get(destination).clone(),
    }
}

/// Participant `(dn, id)` of `callid` hands the call on to `destination`, which has
/// answered. The caller's state ends with `end`; the leg is removed, or with
/// `linger` stays listed (media ended) until the client drops it or `linger` passes.
/// A destination the client sees gets a connected leg, and its party then does what
/// its [`Answered`] says.
#[allow(clippy::too_many_arguments)]
pub(crate) fn hand_on(
    shared: &Arc<Shared>,
    pbx: &mut Pbx,
    callid: i64,
    dn: &Dn,
    id: i64,
    end: CallEnd,
    destination: &str,
    linger: Option<Duration>,
) {
    let Some(core) = pbx.calls.get(&callid).map(|call| call.core.clone()) else {
        return;
    };
    // The caller's leg carries the identity the destination sees.
    let source = pbx
        .leg(&core.dn, core.participant_id.0)
        .or_else(|| pbx.leg(dn, id))
        .map(|leg| leg.participant.clone());
    if core.dn == *dn && core.participant_id.0 == id {
        finish_caller(shared, &core, end);
    }
    match linger {
        Some(linger) if !linger.is_zero() => {
            if let Some(leg) = pbx.leg_mut(dn, id) {
                leg.handed_on = true;
            }
            let dn = dn.clone();
            after_in(shared, pbx.epoch, linger, move |shared, pbx| {
                let lingering = pbx.leg(&dn, id).is_some_and(|leg| leg.handed_on);
                if lingering {
                    remove_handed_on(shared, pbx, &dn, id);
                }
            });
        }
        _ => {
            pbx.remove_leg(shared, dn, id);
        }
    }
    let visible = pbx.visible(&Dn::new(destination)).is_some();
    if let (true, Some(source)) = (visible, source) {
        arrive_at(shared, pbx, callid, destination, dn, source);
    }
    forget_if_empty(pbx, callid);
}

/// Removes a leg a `routeto`/`transferto` handed on (dropped by the client, or its
/// linger is over); the call goes on without it.
pub(crate) fn remove_handed_on(shared: &Shared, pbx: &mut Pbx, dn: &Dn, id: i64) {
    if let Some(callid) = pbx.remove_leg(shared, dn, id) {
        forget_if_empty(pbx, callid);
    }
}

/// Forgets call `callid` once it has no legs left.
fn forget_if_empty(pbx: &mut Pbx, callid: i64) {
    let empty = pbx
        .calls
        .get(&callid)
        .is_some_and(|call| call.legs.is_empty());
    if empty {
        pbx.calls.remove(&callid);
    }
}

/// The call shows up, connected, on DN `destination`; its new leg becomes the call's
/// media core, and the destination's party does what its behaviour says.
fn arrive_at(
    shared: &Arc<Shared>,
    pbx: &mut Pbx,
    callid: i64,
    destination: &str,
    referred_by: &Dn,
    source: Participant,
) {
    let dn = Dn::new(destination);
    let behaviour = destination_behaviour(shared, pbx, destination);
    let legid = pbx.allocate_legid();
    let Some(state) = pbx.dns.get_mut(&dn) else {
        return;
    };
    let id = state.allocate_id();
    let participant = Participant {
        id: ParticipantId(id),
        status: ParticipantStatus::Connected,
        dn: dn.clone(),
        device_id: state.devices.first().cloned(),
        direct_control: state.direct_control && state.dn_type != DnType::RoutePoint,
        referred_by_dn: Some(referred_by.clone()),
        referred_by_type: DnType::RoutePoint,
        legid,
        ..source
    };
    let core = new_core(callid, dn, id, CallerState::Connected);
    core.media().start(Instant::now());
    match pbx.calls.get_mut(&callid) {
        Some(call) => call.core = core,
        None => return,
    }
    pbx.add_leg(shared, participant, callid);
    if let FarEnd::Answer { audio, then, .. } = behaviour {
        answered(shared, pbx, callid, audio.as_deref(), &then);
    }
}

/// The party on the call's media core has answered: it speaks `audio`, then does
/// what `then` says.
pub(crate) fn answered(
    shared: &Arc<Shared>,
    pbx: &mut Pbx,
    callid: i64,
    audio: Option<&Path>,
    then: &Answered,
) {
    let Some(core) = pbx.calls.get(&callid).map(|call| call.core.clone()) else {
        return;
    };
    if let Some(path) = audio {
        match crate::wav::read_pcm(path) {
            Ok(samples) => core.media().queue_uplink(&crate::wav::to_bytes(&samples)),
            Err(error) => tracing::warn!(%error, "far-end audio"),
        }
    }
    match then {
        Answered::Stay => {}
        Answered::HangUpAfter(delay) => {
            let answered_core = core.clone();
            after_in(shared, pbx.epoch, *delay, move |shared, pbx| {
                let same = pbx
                    .calls
                    .get(&callid)
                    .is_some_and(|call| Arc::ptr_eq(&call.core, &answered_core));
                if same {
                    pbx.end_call(shared, callid, CallEnd::HungUp);
                }
            });
        }
        Answered::Script(script) => {
            let label = format!("answered on {}", core.dn);
            let from = core.dn.to_string();
            let caller = Caller::new(shared.clone(), core);
            crate::scripted::spawn(shared, caller, script.clone(), label, from);
        }
    }
}
