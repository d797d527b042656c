//! [`StateCache`]: what the client believes the PBX holds, DN → devices and
//! participants, kept current by the event task.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use tokio::sync::watch;
use voicebot_model::{Device, DeviceId, Dn, DnInfo, DnType, Participant, ParticipantId};

/// The known state of one DN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnState {
    /// The DN kind, from the last snapshot or DN read.
    pub dn_type: DnType,
    /// Registered devices by id.
    pub devices: BTreeMap<DeviceId, Device>,
    /// Current participants by id.
    pub participants: BTreeMap<ParticipantId, Participant>,
}

/// A copy of the client's state cache (see [`crate::Client::state`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCache {
    dns: BTreeMap<Dn, DnState>,
}

impl StateCache {
    /// Builds a cache from a `GET /callcontrol` answer.
    pub fn from_snapshot(snapshot: Vec<DnInfo>) -> Self {
        let mut cache = Self::default();
        for info in snapshot {
            cache.put_dn(info);
        }
        cache
    }

    /// Every known DN with its state.
    pub fn dns(&self) -> impl Iterator<Item = (&Dn, &DnState)> {
        self.dns.iter()
    }

    /// One DN's state.
    pub fn dn(&self, dn: &Dn) -> Option<&DnState> {
        self.dns.get(dn)
    }

    /// One participant.
    pub fn participant(&self, dn: &Dn, id: ParticipantId) -> Option<&Participant> {
        self.dns.get(dn)?.participants.get(&id)
    }

    /// Every participant of every DN.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.dns
            .values()
            .flat_map(|state| state.participants.values())
    }

    /// How many participants are known across all DNs.
    pub fn participant_count(&self) -> usize {
        self.dns
            .values()
            .map(|state| state.participants.len())
            .sum()
    }

    /// Whether nothing is known (no snapshot read yet).
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty()
    }

    /// Replaces one DN with what the PBX reported.
    pub(crate) fn put_dn(&mut self, info: DnInfo) {
        let state = DnState {
            dn_type: info.dn_type,
            devices: info
                .devices
                .into_iter()
                .map(|device| (device.device_id.clone(), device))
                .collect(),
            participants: info
                .participants
                .into_iter()
                .map(|participant| (participant.id, participant))
                .collect(),
        };
        self.dns.insert(info.dn, state);
    }

    /// Keeps only `dn` (used to diff a single DN).
    pub(crate) fn only(&self, dn: &Dn) -> Self {
        Self {
            dns: self
                .dns
                .get(dn)
                .map(|state| BTreeMap::from([(dn.clone(), state.clone())]))
                .unwrap_or_default(),
        }
    }

    pub(crate) fn remove_dn(&mut self, dn: &Dn) -> Option<DnState> {
        self.dns.remove(dn)
    }

    /// Stores `participant` under `dn`; says how that changed the cache.
    pub(crate) fn upsert_participant(&mut self, dn: &Dn, participant: Participant) -> Upserted {
        let participants = &mut self.dns.entry(dn.clone()).or_default().participants;
        let change = match participants.get(&participant.id) {
            Some(cached) if *cached == participant => return Upserted::Unchanged,
            Some(cached) if !cached.is_same_leg(&participant) => Upserted::Replaced,
            Some(_) => Upserted::Changed,
            None => Upserted::New,
        };
        participants.insert(participant.id, participant);
        change
    }

    pub(crate) fn remove_participant(&mut self, dn: &Dn, id: ParticipantId) -> Option<Participant> {
        self.dns.get_mut(dn)?.participants.remove(&id)
    }

    /// Stores `device` under `dn`; returns whether anything changed.
    pub(crate) fn upsert_device(&mut self, dn: &Dn, device: Device) -> bool {
        let devices = &mut self.dns.entry(dn.clone()).or_default().devices;
        match devices.get(&device.device_id) {
            Some(cached) if *cached == device => false,
            _ => {
                devices.insert(device.device_id.clone(), device);
                true
            }
        }
    }

    pub(crate) fn remove_device(&mut self, dn: &Dn, device: &DeviceId) -> Option<Device> {
        self.dns.get_mut(dn)?.devices.remove(device)
    }
}

/// How an upsert changed the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    /// The participant was already cached as it is.
    Unchanged,
    /// A participant id not cached before.
    New,
    /// The same leg with other fields (status, parties).
    Changed,
    /// The id now belongs to another call: the cached leg is gone.
    Replaced,
}

/// Whether the cache can be trusted to say which call a participant id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// No event task runs (never started, or stopped): nothing keeps the cache
    /// current, so it cannot judge a request.
    Untracked,
    /// The event task runs but the socket is down or a snapshot is being read: what
    /// the PBX did meanwhile (a restart handing ids to new callers) is not known yet.
    Stale,
    /// The last snapshot was read and the socket is up.
    Current,
}

/// The cache shared between the event task (writer) and [`crate::Client::state`]
/// (readers), and whether it is current. The lock is never held across an `.await`.
#[derive(Debug)]
pub(crate) struct SharedState {
    cache: RwLock<StateCache>,
    freshness: watch::Sender<Freshness>,
}

impl Default for SharedState {
    fn default() -> Self {
        Self {
            cache: RwLock::default(),
            freshness: watch::Sender::new(Freshness::Untracked),
        }
    }
}

impl SharedState {
    pub(crate) fn snapshot(&self) -> StateCache {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `look` on the cache under the read lock.
    pub(crate) fn read<T>(&self, look: impl FnOnce(&StateCache) -> T) -> T {
        look(&self.cache.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set_freshness(&self, freshness: Freshness) {
        self.freshness.send_replace(freshness);
    }

    pub(crate) fn freshness(&self) -> watch::Receiver<Freshness> {
        self.freshness.subscribe()
    }

    /// Runs `change` on the cache under the write lock.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut StateCache) -> T) -> T {
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        change(&mut cache)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn participant(id: i64, status: &str) -> Participant {
        Participant {
            id: ParticipantId(id),
            dn: Dn::new("800"),
            status: status.into(),
            ..Participant::default()
        }
    }

    #[test]
    fn upserts_report_only_changes() {
        let mut cache = StateCache::default();
        let dn = Dn::new("800");
        let first = participant(1, "Ringing");
        assert_eq!(cache.upsert_participant(&dn, first.clone()), Upserted::New);
        assert_eq!(cache.upsert_participant(&dn, first), Upserted::Unchanged);
        assert_eq!(
            cache.upsert_participant(&dn, participant(1, "Connected")),
            Upserted::Changed
        );
        let reused = Participant {
            callid: 9,
            ..participant(1, "Connected")
        };
        assert_eq!(cache.upsert_participant(&dn, reused), Upserted::Replaced);
        assert_eq!(cache.participant_count(), 1);
        assert!(cache.remove_participant(&dn, ParticipantId(1)).is_some());
        assert!(cache.remove_participant(&dn, ParticipantId(1)).is_none());
    }

    #[test]
    fn snapshots_index_devices_and_participants() {
        let cache = StateCache::from_snapshot(vec![DnInfo {
            dn: Dn::new("800"),
            dn_type: DnType::RoutePoint,
            devices: vec![Device {
                dn: Dn::new("800"),
                device_id: DeviceId::new("dev-1"),
                user_agent: "x".into(),
            }],
            participants: vec![participant(4, "Connected")],
        }]);
        let state = cache.dn(&Dn::new("800")).unwrap();
        assert_eq!(state.dn_type, DnType::RoutePoint);
        assert!(state.devices.contains_key(&DeviceId::new("dev-1")));
        assert!(
            cache
                .participant(&Dn::new("800"), ParticipantId(4))
                .is_some()
        );
        assert_eq!(cache.only(&Dn::new("nope")), StateCache::default());
    }
}
