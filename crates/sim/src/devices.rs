//! Device registrations: a phone (or the route point's SIP endpoint) appears on or
//! leaves a DN. The snapshot follows, and with [`crate::SimConfig::device_events`] the
//! client hears about it as a device-level Upsert or Remove (§4.2, §11.11).

use voicebot_model::{DeviceId, Dn, EntityPath, EventType};

use crate::SimError;
use crate::journal::JournalKind;
use crate::state::Shared;

/// Registers `device` on `dn` (or changes its user agent); announces it when it is
/// new or changed.
pub(crate) fn register(
    shared: &Shared,
    dn: &Dn,
    device: DeviceId,
    user_agent: String,
) -> Result<(), SimError> {
    let mut pbx = shared.pbx();
    let Some(state) = pbx.dns.get_mut(dn) else {
        return Err(SimError::UnknownDestination(dn.to_string()));
    };
    let known = state.devices.contains(&device);
    let changed = state.user_agents.get(&device) != Some(&user_agent);
    if !known {
        state.devices.push(device.clone());
    }
    state.user_agents.insert(device.clone(), user_agent);
    if known && !changed {
        // A re-registration that changes nothing: a PBX has nothing to report.
        return Ok(());
    }
    shared.record(JournalKind::DeviceRegistered {
        dn: dn.clone(),
        device: device.clone(),
    });
    if shared.config.device_events {
        let entity = EntityPath::Device {
            dn: dn.clone(),
            device,
        };
        pbx.emit(shared, EventType::Upsert, entity, None);
    }
    announce_dn(shared, &mut pbx, dn);
    Ok(())
}

/// Removes `device` from `dn`; announces it if it was registered.
pub(crate) fn unregister(shared: &Shared, dn: &Dn, device: &DeviceId) -> Result<(), SimError> {
    let mut pbx = shared.pbx();
    let Some(state) = pbx.dns.get_mut(dn) else {
        return Err(SimError::UnknownDestination(dn.to_string()));
    };
    let before = state.devices.len();
    state.devices.retain(|known| known != device);
    state.user_agents.remove(device);
    if state.devices.len() == before {
        return Ok(());
    }
    shared.record(JournalKind::DeviceUnregistered {
        dn: dn.clone(),
        device: device.clone(),
    });
    if shared.config.device_events {
        let entity = EntityPath::Device {
            dn: dn.clone(),
            device: device.clone(),
        };
        pbx.emit(shared, EventType::Remove, entity, None);
    }
    announce_dn(shared, &mut pbx, dn);
    Ok(())
}

fn announce_dn(shared: &Shared, pbx: &mut crate::state::Pbx, dn: &Dn) {
    if shared.config.dn_events {
        pbx.emit(shared, EventType::Upsert, EntityPath::Dn(dn.clone()), None);
    }
}
