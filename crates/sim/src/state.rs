//! Shared simulator state: the PBX model behind one mutex, plus what lives beside it
//! (journal, cancellation, faults). The PBX mutex is a std mutex and is never held
//! across an `.await`. Per-call media has its own lock; it may be taken while the
//! PBX lock is held, never the other way round.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use voicebot_model::{
    DeviceId, Dn, DnInfo, DnType, EntityPath, EventType, Participant, ParticipantId,
    ParticipantStatus, WsEnvelope, WsEvent,
};

use crate::audio::CallMedia;
use crate::faults::FaultState;
use crate::journal::{Journal, JournalKind};
use crate::{CallEnd, CallerState, FarEnd, RestartIds, SimConfig};

/// Everything the server, the callers and the fault injector share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) route_point: Dn,
    pub(crate) pbx: Mutex<Pbx>,
    pub(crate) journal: Journal,
    /// Cancelled when the simulator stops.
    pub(crate) shutdown: CancellationToken,
    pub(crate) faults: FaultState,
    /// Scripted calls the simulator runs by itself.
    pub(crate) scripted: crate::scripted::ScriptedCalls,
    /// Woken whenever an outbound call is placed.
    pub(crate) outbound_placed: Notify,
    /// Every access token issued, revoked or not.
    pub(crate) issued_tokens: std::sync::Mutex<Vec<String>>,
    /// How the media clock kept time.
    pub(crate) clock: crate::audio::ClockRecord,
}

impl Shared {
    pub(crate) fn new(config: SimConfig) -> Self {
        let route_point = config.route_point_dn();
        let pbx = Pbx::new(&config, 0);
        Self {
            route_point,
            pbx: Mutex::new(pbx),
            journal: Journal::new(Instant::now()),
            shutdown: CancellationToken::new(),
            faults: FaultState::default(),
            scripted: crate::scripted::ScriptedCalls::default(),
            outbound_placed: Notify::new(),
            issued_tokens: std::sync::Mutex::new(Vec::new()),
            clock: crate::audio::ClockRecord::default(),
            config,
        }
    }

    /// Locks the PBX model. A poisoned lock is taken over: the model stays usable.
    pub(crate) fn pbx(&self) -> MutexGuard<'_, Pbx> {
        self.pbx.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn record(&self, kind: JournalKind) {
        self.journal.record(kind);
    }
}

/// A token the PBX issued.
#[derive(Debug)]
pub(crate) struct TokenState {
    pub(crate) expires_at: Instant,
    /// Cancelled when the token is revoked (a newer one was issued).
    pub(crate) revoked: CancellationToken,
}

/// A DN of the PBX.
#[derive(Debug)]
pub(crate) struct DnState {
    pub(crate) dn_type: DnType,
    pub(crate) devices: Vec<DeviceId>,
    /// User agents of devices registered through [`crate::Sim::register_device`].
    pub(crate) user_agents: HashMap<DeviceId, String>,
    pub(crate) monitored: bool,
    pub(crate) direct_control: bool,
    pub(crate) on_ring: FarEnd,
    pub(crate) participants: BTreeMap<i64, Leg>,
    /// Participant ids of far legs (PD-CODE): visible in events, 403 on use.
    pub(crate) foreign: HashMap<i64, i64>,
    next_id: i64,
}

impl DnState {
    pub(crate) fn allocate_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A participant and the call it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Leg {
    pub(crate) participant: Participant,
    pub(crate) callid: i64,
    /// Cancelled when the leg is removed: requests waiting on it (a pending
    /// `routeto`) end with it.
    pub(crate) gone: CancellationToken,
    /// Handed on by a successful `routeto`/`transferto` and lingering
    /// ([`crate::AfterRoute::Lingers`]): no longer the caller's leg.
    pub(crate) handed_on: bool,
}

/// What the simulated caller (or far end) of a call shares with its [`crate::Caller`].
#[derive(Debug)]
pub(crate) struct CallCore {
    pub(crate) callid: i64,
    /// The participant the client sees for this call (on the dialled DN).
    pub(crate) dn: Dn,
    pub(crate) participant_id: ParticipantId,
    pub(crate) media: Mutex<CallMedia>,
    pub(crate) state: watch::Sender<CallerState>,
    /// Cancelled when the call's media ends (participant gone, restart, shutdown).
    pub(crate) media_ended: CancellationToken,
}

impl CallCore {
    pub(crate) fn media(&self) -> MutexGuard<'_, CallMedia> {
        self.media.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A call in progress.
#[derive(Debug)]
pub(crate) struct CallState {
    pub(crate) core: Arc<CallCore>,
    /// Participants of the call on DNs of this PBX.
    pub(crate) legs: Vec<(Dn, i64)>,
    /// The far leg's id, for outbound calls with `far_leg_events`.
    pub(crate) far_leg: Option<(Dn, i64)>,
    /// The calling leg of a call from a DN of this PBX to the route point: its
    /// streams carry the other side of the core's media.
    pub(crate) bridged: Option<(Dn, i64)>,
}

/// One WebSocket connection's event queue.
#[derive(Debug)]
pub(crate) struct Subscriber {
    pub(crate) connection: u64,
    pub(crate) tx: mpsc::Sender<WsEnvelope>,
    sequence: u64,
}

/// The PBX model: DNs, participants, calls, tokens, event subscribers.
#[derive(Debug)]
pub(crate) struct Pbx {
    /// Bumped by every restart; timers of an older epoch do nothing.
    pub(crate) epoch: u64,
    pub(crate) tokens: HashMap<String, TokenState>,
    pub(crate) dns: BTreeMap<Dn, DnState>,
    pub(crate) calls: HashMap<i64, CallState>,
    /// Far ends of outbound calls, with the destination dialled.
    pub(crate) outbound: Vec<(String, Arc<CallCore>)>,
    pub(crate) subscribers: Vec<Subscriber>,
    next_callid: i64,
    next_legid: i64,
    sequence: u64,
    pub(crate) next_connection: u64,
}

impl Pbx {
    pub(crate) fn new(config: &SimConfig, epoch: u64) -> Self {
        let mut dns = BTreeMap::new();
        let route_point = config.route_point_dn();
        dns.insert(
            route_point,
            DnState {
                dn_type: DnType::RoutePoint,
                devices: config.route_point_device_ids(),
                user_agents: HashMap::new(),
                monitored: true,
                direct_control: false,
                on_ring: FarEnd::Busy,
                participants: BTreeMap::new(),
                foreign: HashMap::new(),
                next_id: 0,
            },
        );
        for extension in &config.extensions {
            dns.entry(extension.dn.clone()).or_insert_with(|| DnState {
                dn_type: DnType::Extension,
                devices: extension.device_ids(),
                user_agents: HashMap::new(),
                monitored: extension.monitored,
                direct_control: extension.direct_control,
                on_ring: extension.on_ring.clone(),
                participants: BTreeMap::new(),
                foreign: HashMap::new(),
                next_id: 0,
            });
        }
        Self {
            epoch,
            tokens: HashMap::new(),
            dns,
            calls: HashMap::new(),
            outbound: Vec::new(),
            subscribers: Vec::new(),
            next_callid: 0,
            next_legid: 0,
            sequence: 0,
            next_connection: 0,
        }
    }

    pub(crate) fn allocate_callid(&mut self) -> i64 {
        self.next_callid += 1;
        self.next_callid
    }

    pub(crate) fn allocate_legid(&mut self) -> i64 {
        self.next_legid += 1;
        self.next_legid
    }

    /// The DN if the client may see it.
    pub(crate) fn visible(&self, dn: &Dn) -> Option<&DnState> {
        self.dns.get(dn).filter(|state| state.monitored)
    }

    pub(crate) fn leg(&self, dn: &Dn, id: i64) -> Option<&Leg> {
        self.dns.get(dn)?.participants.get(&id)
    }

    pub(crate) fn leg_mut(&mut self, dn: &Dn, id: i64) -> Option<&mut Leg> {
        self.dns.get_mut(dn)?.participants.get_mut(&id)
    }

    /// `DnInfo` records of the DNs visible to the client.
    pub(crate) fn dn_infos(&self) -> Vec<DnInfo> {
        self.dns
            .iter()
            .filter(|(_, state)| state.monitored)
            .map(|(dn, state)| self.dn_info(dn, state))
            .collect()
    }

    pub(crate) fn dn_info(&self, dn: &Dn, state: &DnState) -> DnInfo {
        DnInfo {
            dn: dn.clone(),
            dn_type: state.dn_type.clone(),
            devices: state
                .devices
                .iter()
                .map(|device| voicebot_model::Device {
                    dn: dn.clone(),
                    device_id: device.clone(),
                    user_agent: state
                        .user_agents
                        .get(device)
                        .cloned()
                        .unwrap_or_else(|| format!("voicebot-sim {}", state.dn_type)),
                })
                .collect(),
            participants: state
                .participants
                .values()
                .map(|leg| leg.participant.clone())
                .collect(),
        }
    }

    /// Queues an event to every WebSocket, if the DN is one of the client's.
    pub(crate) fn emit(
        &mut self,
        shared: &Shared,
        event_type: EventType,
        entity: EntityPath,
        attached_data: Option<Value>,
    ) {
        if self.visible(entity.dn()).is_none() {
            return;
        }
        let entity = entity.to_string();
        self.sequence += 1;
        shared.record(JournalKind::EventSent {
            sequence: self.sequence,
            event_type: event_type.code(),
            entity: entity.clone(),
        });
        let global = self.sequence;
        let per_connection = shared.config.sequence_per_connection;
        if shared.faults.take_dropped_event() {
            shared.record(JournalKind::EventDropped {
                sequence: global,
                entity,
            });
            // Lost on the way, not unsent: every socket's numbering moves on.
            for subscriber in &mut self.subscribers {
                subscriber.sequence += 1;
            }
            return;
        }
        self.subscribers.retain_mut(|subscriber| {
            subscriber.sequence += 1;
            let envelope = WsEnvelope {
                sequence: match per_connection {
                    true => subscriber.sequence,
                    false => global,
                },
                event: WsEvent {
                    event_type,
                    entity: entity.clone(),
                    attached_data: attached_data.clone(),
                },
            };
            // A socket that cannot keep up with 1024 queued events is dropped, as a
            // PBX drops a dead client; the client must reconnect and resync.
            subscriber.tx.try_send(envelope).is_ok()
        });
    }

    /// Takes over the id counters of `before` (the PBX before a restart) that
    /// `restart_ids` says a restart keeps; the others stay at their fresh start.
    pub(crate) fn keep_counters(&mut self, before: &Self, restart_ids: RestartIds) {
        if restart_ids == RestartIds::All {
            return;
        }
        self.next_callid = before.next_callid;
        self.next_legid = before.next_legid;
        if restart_ids == RestartIds::Keep {
            for (dn, state) in &mut self.dns {
                if let Some(old) = before.dns.get(dn) {
                    state.next_id = old.next_id;
                }
            }
        }
    }

    /// A sequence number for a reply sent to one socket.
    pub(crate) fn reply_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    pub(crate) fn subscribe(&mut self, connection: u64, tx: mpsc::Sender<WsEnvelope>) {
        self.subscribers.push(Subscriber {
            connection,
            tx,
            sequence: 0,
        });
    }

    pub(crate) fn unsubscribe(&mut self, connection: u64) {
        self.subscribers
            .retain(|subscriber| subscriber.connection != connection);
    }

    /// Emits an Upsert for a participant (twice with `duplicate_upserts`).
    pub(crate) fn upsert(&mut self, shared: &Shared, dn: &Dn, id: i64) {
        let times = match shared.config.duplicate_upserts {
            true => 2,
            false => 1,
        };
        for _ in 0..times {
            self.emit(
                shared,
                EventType::Upsert,
                EntityPath::Participant {
                    dn: dn.clone(),
                    id: ParticipantId(id),
                },
                None,
            );
        }
    }

    /// Adds a participant and announces it.
    pub(crate) fn add_leg(&mut self, shared: &Shared, participant: Participant, callid: i64) {
        let dn = participant.dn.clone();
        let id = participant.id.0;
        shared.record(JournalKind::ParticipantStatus {
            dn: dn.clone(),
            id: participant.id,
            status: participant.status.clone(),
        });
        if let Some(state) = self.dns.get_mut(&dn) {
            state.participants.insert(
                id,
                Leg {
                    participant,
                    callid,
                    gone: CancellationToken::new(),
                    handed_on: false,
                },
            );
        }
        if let Some(call) = self.calls.get_mut(&callid) {
            call.legs.push((dn.clone(), id));
        }
        self.upsert(shared, &dn, id);
    }

    /// Changes a participant's status and announces it.
    pub(crate) fn set_status(
        &mut self,
        shared: &Shared,
        dn: &Dn,
        id: i64,
        status: ParticipantStatus,
    ) -> bool {
        let Some(leg) = self.leg_mut(dn, id) else {
            return false;
        };
        leg.participant.status = status.clone();
        shared.record(JournalKind::ParticipantStatus {
            dn: dn.clone(),
            id: ParticipantId(id),
            status,
        });
        self.upsert(shared, dn, id);
        true
    }

    /// Removes a participant and announces it; returns its call id.
    pub(crate) fn remove_leg(&mut self, shared: &Shared, dn: &Dn, id: i64) -> Option<i64> {
        let leg = self.dns.get_mut(dn)?.participants.remove(&id)?;
        leg.gone.cancel();
        shared.record(JournalKind::ParticipantRemoved {
            dn: dn.clone(),
            id: ParticipantId(id),
        });
        self.emit(
            shared,
            EventType::Remove,
            EntityPath::Participant {
                dn: dn.clone(),
                id: ParticipantId(id),
            },
            None,
        );
        if let Some(call) = self.calls.get_mut(&leg.callid) {
            call.legs
                .retain(|(leg_dn, leg_id)| !(leg_dn == dn && *leg_id == id));
            if call.core.dn == *dn && call.core.participant_id.0 == id {
                call.core.media_ended.cancel();
                call.core.media().stop(
                    Instant::now(),
                    &shared.config.audio,
                    shared.faults.audio_is_stalled(),
                );
            }
        }
        Some(leg.callid)
    }

    /// Ends a call: every remaining leg is removed and the caller learns how it ended.
    pub(crate) fn end_call(&mut self, shared: &Shared, callid: i64, end: CallEnd) {
        let Some(call) = self.calls.get(&callid) else {
            return;
        };
        let legs = call.legs.clone();
        let far_leg = call.far_leg.clone();
        for (dn, id) in legs {
            self.remove_leg(shared, &dn, id);
        }
        if let Some((dn, id)) = far_leg {
            if let Some(state) = self.dns.get_mut(&dn) {
                state.foreign.remove(&id);
            }
            self.emit(
                shared,
                EventType::Remove,
                EntityPath::Participant {
                    dn,
                    id: ParticipantId(id),
                },
                None,
            );
        }
        if let Some(call) = self.calls.remove(&callid) {
            finish_caller(shared, &call.core, end);
        }
    }
}

pub(crate) fn finish_caller(shared: &Shared, core: &CallCore, end: CallEnd) {
    core.media_ended.cancel();
    core.media().stop(
        Instant::now(),
        &shared.config.audio,
        shared.faults.audio_is_stalled(),
    );
    let already = matches!(*core.state.borrow(), CallerState::Ended(_));
    if !already {
        shared.record(JournalKind::CallEnded {
            callid: core.callid,
            end: end.clone(),
        });
        core.state.send_replace(CallerState::Ended(end));
    }
}
