//! [`SimConfig`]: what the simulated PBX looks like and how it behaves where the
//! reference leaves the behaviour open (§11). Every uncertain behaviour is a setting.

use std::collections::HashMap;
use std::time::Duration;

use voicebot_model::{DeviceId, Dn};

use crate::FarEnd;

/// Settings of a simulated PBX. `SimConfig::default()` is a 20.0.9+ PBX with API
/// client `800` (its route point is `800`), one monitored extension `101`, inbound
/// route-point calls that arrive `Connected`, and far ends that answer after 1 s.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// OAuth client id of the API client; also the route point's DN unless
    /// [`SimConfig::route_point`] says otherwise.
    pub client_id: String,
    /// The API key (`client_secret`).
    pub client_secret: String,
    /// DN of the API client's route point; `None` means [`SimConfig::client_id`].
    pub route_point: Option<Dn>,
    /// Devices of the route point; empty means one, `sip:{route point}@127.0.0.1:5488`.
    pub route_point_devices: Vec<DeviceId>,
    /// Extensions of the PBX; those with `monitored` are visible to the client.
    pub extensions: Vec<ExtensionSpec>,
    /// Whether the client has "3CX Call Control API access" (else 403).
    pub call_control_enabled: bool,
    /// Whether the client has "3CX Configuration API access" (else 403 on `/xapi`).
    pub xapi_enabled: bool,
    /// How long an access token is valid.
    pub token_lifetime: Duration,
    /// Unit of `expires_in` in the token response.
    pub expires_in_unit: ExpiresInUnit,
    /// Whether access tokens are JWTs (clients may read `exp − iat`) or opaque strings
    /// (clients must trust `expires_in`).
    pub token_format: TokenFormat,
    /// Whether issuing a token revokes the client's previous one (§2.4, §11.13).
    pub revoke_previous_token: bool,
    /// Whether revoking a token also closes the WebSockets and audio streams opened with it.
    pub revoke_closes_streams: bool,
    /// How inbound calls to the route point appear (§6.5, §11.1).
    pub inbound: InboundMode,
    /// How long a route-point call left `Ringing` (see [`InboundMode::Ringing`]) rings
    /// before the caller gives up: the participant is removed and the call ends with
    /// `CallEnd::NoAnswer`. `None` rings forever.
    pub inbound_ring_timeout: Option<Duration>,
    /// Whether every Upsert event is sent twice (3CX "routinely" does).
    pub duplicate_upserts: bool,
    /// When set, every participant's Upsert is sent again at this period although
    /// nothing changed (PD-CODE saw repeats about every 750 ms, §4.2).
    pub repeat_upserts_every: Option<Duration>,
    /// Whether device (un)registrations emit `/callcontrol/{dn}/devices/{id}` Upsert and
    /// Remove events (§4.2 calls them plausible; §11.11 unconfirmed).
    pub device_events: bool,
    /// Whether device (un)registrations also emit a DN-level Upsert (`/callcontrol/{dn}`),
    /// as TC handles defensively (§4.2, §11.11).
    pub dn_events: bool,
    /// Whether outbound calls also emit Upserts for the far leg's participant id, on
    /// which GET, actions and streams answer 403 (as PD-CODE observed).
    pub far_leg_events: bool,
    /// Whether DTMF arrives as one event per digit (`true`) or one event per
    /// [`crate::Caller::press`] call carrying all its digits.
    pub dtmf_per_digit: bool,
    /// Whether the WebSocket `sequence` restarts at 1 for every connection (`false`:
    /// one counter for the whole PBX, reset only by a restart).
    pub sequence_per_connection: bool,
    /// Whether `party_did` carries the DID dialled (real captures show it empty).
    pub fill_party_did: bool,
    /// DN reported as `party_dn` for external parties (the trunk).
    pub trunk_dn: Dn,
    /// Audio stream behaviour.
    pub audio: AudioConfig,
    /// What external destinations do when called (makecall, routeto, transferto, divert).
    pub far_ends: FarEnds,
    /// How long `routeto`/`transferto` wait for the destination when the request has no `timeout`.
    pub route_timeout: Duration,
    /// HTTP status of a `routeto`/`transferto` whose destination failed (the body is
    /// a failed `CallControlResult` either way). 3CX's answer is unconfirmed
    /// (reference §11.18); the default, 422, follows the only evidence: 3CX's own
    /// sample (CCE) treats a 2xx `routeto` answer as success and replays its prompt
    /// only on a non-2xx one, so a PBX that answered failures with 200 would make
    /// 3CX's sample drop callers who are still waiting. 422 is the code the
    /// reference associates with refused Call Control parameters (§3.4). Set 200 to
    /// test a client against `200` + `finalstatus: Failed`.
    pub route_failure_status: u16,
    /// HTTP status of a `makecall` the PBX refuses (an unreachable destination). 3CX's
    /// samples read `result` first and `reasontext` when it is missing (§3.3.2), so
    /// the default answers 200 with `result: null`.
    pub makecall_failure_status: u16,
    /// What happens to the participant that `routeto`/`transferto` handed on.
    pub after_route: AfterRoute,
    /// `X-3CX-Version` header value sent on every response.
    pub version: String,
    /// Which id counters a [`crate::Faults::restart`] starts again. The reference does
    /// not say whether a PBX keeps its call numbering over a restart; a participant id
    /// reused by a new caller is possible either way.
    pub restart_ids: RestartIds,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            client_id: "800".to_owned(),
            client_secret: "sim-secret".to_owned(),
            route_point: None,
            route_point_devices: Vec::new(),
            extensions: vec![ExtensionSpec::new("101")],
            call_control_enabled: true,
            xapi_enabled: true,
            token_lifetime: Duration::from_secs(3600),
            expires_in_unit: ExpiresInUnit::Seconds,
            token_format: TokenFormat::Jwt,
            revoke_previous_token: false,
            revoke_closes_streams: true,
            inbound: InboundMode::Connected,
            inbound_ring_timeout: Some(Duration::from_secs(60)),
            duplicate_upserts: false,
            repeat_upserts_every: None,
            device_events: true,
            dn_events: false,
            far_leg_events: false,
            dtmf_per_digit: true,
            sequence_per_connection: false,
            fill_party_did: false,
            trunk_dn: Dn::new("10000"),
            audio: AudioConfig::default(),
            far_ends: FarEnds::default(),
            route_timeout: Duration::from_secs(30),
            route_failure_status: 422,
            makecall_failure_status: 200,
            after_route: AfterRoute::default(),
            version: "20.0.10.999".to_owned(),
            restart_ids: RestartIds::All,
        }
    }
}

impl SimConfig {
    /// The route point's DN.
    pub fn route_point_dn(&self) -> Dn {
        self.route_point
            .clone()
            .unwrap_or_else(|| Dn::new(self.client_id.clone()))
    }

    /// The route point's devices, with the default one when none are configured.
    pub fn route_point_device_ids(&self) -> Vec<DeviceId> {
        match self.route_point_devices.is_empty() {
            true => vec![DeviceId::new(format!(
                "sip:{}@127.0.0.1:5488",
                self.route_point_dn()
            ))],
            false => self.route_point_devices.clone(),
        }
    }
}

/// Unit of `expires_in` (§2.2): minutes up to 20.0.8, seconds from 20.0.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiresInUnit {
    /// OAuth seconds (3CX 20.0.9 and later).
    #[default]
    Seconds,
    /// Minutes (3CX 20.0.8 and earlier).
    Minutes,
}

/// What an access token looks like (§2.2: real captures show JWTs; a client must not
/// rely on that).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenFormat {
    /// A JWT whose `exp − iat` is the lifetime.
    #[default]
    Jwt,
    /// Random text with no structure: only `expires_in` tells the lifetime.
    Opaque,
}

/// How an inbound route-point call appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InboundMode {
    /// Already `Connected` when first seen (what 3CX's IVR sample relies on).
    #[default]
    Connected,
    /// `Ringing` until the client sends `answer`.
    Ringing,
}

/// Which id counters start again at 1 when the PBX restarts ([`crate::Faults::restart`]).
///
/// Participant ids are small integers counted by the running PBX (reference §6.6), so
/// a restart hands the ids of calls it lost to new callers. Whether `callid` and
/// `legid` start again too is not documented (§6.6 only shows small values), so it
/// is a setting: with [`RestartIds::All`] a new call can repeat a lost call's
/// participant id *and* callid, and nothing in the participant tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartIds {
    /// Participant ids, callids and legids all start again (the counters live in the
    /// PBX process).
    #[default]
    All,
    /// Participant ids start again; callids and legids go on from where they were (as
    /// if the call numbering were kept on disk).
    ParticipantIds,
    /// No counter starts again: ids are never reused.
    Keep,
}

/// What becomes of the participant a successful `routeto`/`transferto` handed on.
///
/// Unconfirmed for 3CX (reference §11.19). The default follows the evidence: 3CX's
/// own IVR sample (CCE `CustomIVRApp.service.ts`) stops its streams and sends `drop`
/// on its own participant *after* a successful `routeto`, so it expects the
/// participant to be there still; PD-DOC reads the official page as "the participant
/// stays until delivery succeeds" and is then replaced. So the participant lingers a
/// short while (answering a `drop` with 200) and is then removed by the PBX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRoute {
    /// Removed (a Remove event) before the action's answer is sent: a follow-up
    /// `drop` gets 404.
    Removed,
    /// Stays listed, its media ended, until the client drops it or this long has
    /// passed.
    Lingers(Duration),
}

impl Default for AfterRoute {
    fn default() -> Self {
        Self::Lingers(Duration::from_secs(1))
    }
}

/// An extension of the simulated PBX.
#[derive(Debug, Clone)]
pub struct ExtensionSpec {
    /// Its number.
    pub dn: Dn,
    /// Registered devices; empty means one, `sip:{dn}@127.0.0.1:5062`.
    pub devices: Vec<DeviceId>,
    /// Whether its devices support remote control (`answer` works).
    pub direct_control: bool,
    /// Whether the API client monitors it (it is visible and controllable).
    pub monitored: bool,
    /// What the user does when it rings: by default nobody picks up for 30 s.
    pub on_ring: FarEnd,
}

impl ExtensionSpec {
    /// A monitored extension with one direct-control device whose user does not pick up.
    pub fn new(dn: impl Into<Dn>) -> Self {
        Self {
            dn: dn.into(),
            devices: Vec::new(),
            direct_control: true,
            monitored: true,
            on_ring: FarEnd::NoAnswer {
                after: Duration::from_secs(30),
            },
        }
    }

    /// An extension whose user does what `on_ring` says.
    #[must_use]
    pub fn answering(mut self, on_ring: FarEnd) -> Self {
        self.on_ring = on_ring;
        self
    }

    /// Parses `DN` or `DN=BEHAVIOUR` (`100=answer:2s,hangup:30s`, see [`FarEnd`]);
    /// a bare DN gets `bare`. Relative script and audio paths are read from `base`.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse_in(text: &str, bare: &FarEnd, base: &std::path::Path) -> Result<Self, String> {
        let (dn, behaviour) = match text.split_once('=') {
            Some((dn, behaviour)) => (dn.trim(), Some(behaviour)),
            None => (text.trim(), None),
        };
        if dn.is_empty() || !dn.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "{text:?}: expected DN or DN=BEHAVIOUR, e.g. 100=answer:2s"
            ));
        }
        let on_ring = match behaviour {
            Some(behaviour) => FarEnd::parse_in(behaviour, base)
                .map_err(|error| format!("extension {dn}: {error}"))?,
            None => bare.clone(),
        };
        Ok(Self::new(dn).answering(on_ring))
    }

    /// The devices, with the default one when none are configured.
    pub fn device_ids(&self) -> Vec<DeviceId> {
        match self.devices.is_empty() {
            true => vec![DeviceId::new(format!("sip:{}@127.0.0.1:5062", self.dn))],
            false => self.devices.clone(),
        }
    }
}

/// How GET-stream audio is cut and timed (§5.2, §11.8).
#[derive(Debug, Clone)]
pub struct AudioConfig {
    /// Bytes per chunk written to a GET stream (any size, odd ones included).
    pub chunk_bytes: usize,
    /// Each 20 ms frame is held back by a random delay up to this (order is kept).
    pub jitter: Duration,
    /// Periodic stalls followed by a burst.
    pub bursts: Option<Bursts>,
    /// What the GET stream carries.
    pub get_stream: GetStreamContent,
    /// Status of a GET/POST stream on a participant that is not connected yet.
    pub not_connected_status: u16,
    /// Whether extension (non route point) participants have audio streams (ISS3 says no: 424).
    pub extension_streams: bool,
}

impl Default for AudioConfig {
    fn default() -> Self {
        Self {
            chunk_bytes: 320,
            jitter: Duration::ZERO,
            bursts: None,
            get_stream: GetStreamContent::CallerOnly,
            not_connected_status: 424,
            extension_streams: false,
        }
    }
}

/// Stall-then-burst delivery: audio captured during the first `hold` of every
/// `every` is delivered at once when the hold ends.
#[derive(Debug, Clone, Copy)]
pub struct Bursts {
    /// Period.
    pub every: Duration,
    /// Stall at the start of each period.
    pub hold: Duration,
}

/// What the GET stream contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GetStreamContent {
    /// Only the caller's audio.
    #[default]
    CallerOnly,
    /// The caller's audio mixed with what the PBX plays to the caller.
    Mixed,
}

/// Far-end behaviour per destination, with a default.
#[derive(Debug, Clone, PartialEq)]
pub struct FarEnds {
    /// For destinations not listed.
    pub default: FarEnd,
    /// Per destination number.
    pub by_destination: HashMap<String, FarEnd>,
}

impl Default for FarEnds {
    fn default() -> Self {
        Self {
            default: FarEnd::answer_after(Duration::from_secs(1)),
            by_destination: HashMap::new(),
        }
    }
}

impl FarEnds {
    /// What `destination` does.
    pub fn get(&self, destination: &str) -> &FarEnd {
        self.by_destination
            .get(destination)
            .unwrap_or(&self.default)
    }

    /// Sets what `destination` does.
    #[must_use]
    pub fn with(mut self, destination: impl Into<String>, far_end: FarEnd) -> Self {
        self.by_destination.insert(destination.into(), far_end);
        self
    }
}
