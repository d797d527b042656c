//! [`Sim`]: a running simulated PBX.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use voicebot_model::{DeviceId, Dn, DnInfo};

use crate::journal::JournalEntry;
use crate::state::Shared;
use crate::{CallSpec, Caller, Faults, SimConfig, SimError, SimTls, calls};

/// A running simulator. Dropping it stops the server, its sockets and streams.
#[derive(Debug)]
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    faults: Faults,
    server: Option<JoinHandle<()>>,
    tls: Option<SimTls>,
}

impl Sim {
    /// Starts a simulator with [`SimConfig::default()`] on `127.0.0.1:0`.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start() -> Result<Self, SimError> {
        Self::start_with(SimConfig::default()).await
    }

    /// Starts a simulator with `config` on `127.0.0.1:0`.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start_with(config: SimConfig) -> Result<Self, SimError> {
        Self::bind(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts a simulator with `config` on `addr` (for `voicebot sim --listen`).
    ///
    /// # Errors
    /// When `addr` cannot be bound.
    pub async fn bind(config: SimConfig, addr: SocketAddr) -> Result<Self, SimError> {
        Self::bind_with(config, addr, None).await
    }

    /// Starts a simulator with `config` on `127.0.0.1:0` serving HTTPS and WSS with
    /// `tls` (see [`SimTls::self_signed`]).
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start_tls(config: SimConfig, tls: SimTls) -> Result<Self, SimError> {
        Self::bind_with(
            config,
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            Some(tls),
        )
        .await
    }

    /// Starts a simulator with `config` on `addr`, over TLS when `tls` is given.
    ///
    /// # Errors
    /// When `addr` cannot be bound.
    pub async fn bind_with(
        config: SimConfig,
        addr: SocketAddr,
        tls: Option<SimTls>,
    ) -> Result<Self, SimError> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let router = crate::routes::router(shared.clone());
        tokio::spawn(crate::audio::run_media_clock(shared.clone()));
        if let Some(every) = shared.config.repeat_upserts_every {
            tokio::spawn(crate::repeats::run(shared.clone(), every));
        }
        let shutdown = shared.shutdown.clone();
        let server = match tls.clone() {
            Some(tls) => tokio::spawn(crate::tls::serve(listener, tls, router, shutdown)),
            None => tokio::spawn(crate::serve::serve(listener, router, shared.clone())),
        };
        tracing::info!(%addr, tls = tls.is_some(), "sim listening");
        Ok(Self {
            faults: Faults::new(shared.clone()),
            shared,
            addr,
            server: Some(server),
            tls,
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` over TLS), without a trailing slash.
    pub fn base_url(&self) -> String {
        match self.tls {
            Some(_) => format!("https://{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// Its TLS identity, when it serves HTTPS.
    pub fn tls(&self) -> Option<&SimTls> {
        self.tls.as_ref()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API client's id.
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// The API client's secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    /// The route point's DN.
    pub fn route_point(&self) -> &Dn {
        &self.shared.route_point
    }

    /// The route point's first device.
    pub fn route_point_device(&self) -> DeviceId {
        self.shared
            .config
            .route_point_device_ids()
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// Every access token this simulator issued, in order, revoked ones included:
    /// for tests that check no output ever shows one.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared
            .issued_tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How the media clock kept time since the last call (or the start): ticks more than
    /// [`crate::LATE_READ`] after the previous one, and the longest pause. The audio the
    /// simulator reads and writes inherits its lateness.
    pub fn take_clock_stats(&self) -> crate::ClockStats {
        self.shared.clock.take()
    }

    /// Everything the PBX saw and did, in order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.shared.journal.entries()
    }

    /// Fault injection.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The DNs visible to the API client, as `GET /callcontrol` would return them.
    pub fn snapshot(&self) -> Vec<DnInfo> {
        self.shared.pbx().dn_infos()
    }

    /// A device registers on `dn` (or re-registers with another user agent): the
    /// snapshot lists it and, with [`SimConfig::device_events`], the client gets an
    /// Upsert for `/callcontrol/{dn}/devices/{percent-encoded id}`.
    ///
    /// # Errors
    /// [`SimError::UnknownDestination`] when `dn` is not a DN of the PBX.
    pub fn register_device(
        &self,
        dn: impl Into<Dn>,
        device_id: impl Into<DeviceId>,
        user_agent: impl Into<String>,
    ) -> Result<(), SimError> {
        crate::devices::register(
            &self.shared,
            &dn.into(),
            device_id.into(),
            user_agent.into(),
        )
    }

    /// A device leaves `dn`: the snapshot drops it, its GET answers 404 and, with
    /// [`SimConfig::device_events`], the client gets a Remove. Unknown devices are
    /// ignored.
    ///
    /// # Errors
    /// [`SimError::UnknownDestination`] when `dn` is not a DN of the PBX.
    pub fn unregister_device(
        &self,
        dn: impl Into<Dn>,
        device_id: impl Into<DeviceId>,
    ) -> Result<(), SimError> {
        crate::devices::unregister(&self.shared, &dn.into(), &device_id.into())
    }

    /// Issues an access token without HTTP (as `POST /connect/token` would).
    pub fn issue_token(&self) -> String {
        crate::auth::issue(&self.shared).access_token
    }

    /// External caller `from` dials the route point.
    ///
    /// # Errors
    /// Only if the route point is missing (it never is).
    pub async fn call_in(&self, from: &str) -> Result<Caller, SimError> {
        self.call(CallSpec::new(from)).await
    }

    /// A caller dials a DN of the PBX (the route point when `spec.to` is `None`).
    ///
    /// # Errors
    /// [`SimError::UnknownDestination`] when the DN does not exist.
    pub async fn call(&self, spec: CallSpec) -> Result<Caller, SimError> {
        self.call_now(spec)
    }

    /// Every call in progress ends as if its caller (or far end) hung up: the client
    /// sees the participants removed. Returns how many calls ended.
    pub fn hang_up_all(&self) -> usize {
        let mut pbx = self.shared.pbx();
        let callids: Vec<i64> = pbx.calls.keys().copied().collect();
        for callid in &callids {
            pbx.end_call(&self.shared, *callid, crate::CallEnd::HungUp);
        }
        callids.len()
    }

    /// Starts placing the calls of a callers plan; they run on their own tasks and
    /// a failing script is reported, never fatal.
    pub fn start_callers(&self, plan: crate::CallersPlan) -> crate::CallersRun {
        crate::CallersRun::start(&self.shared, plan)
    }

    /// Places a call from `spec` whose caller runs `script` on a task of its own; the
    /// control API lists it, and a failing script is journalled
    /// ([`crate::JournalKind::ScriptEnded`]) without stopping anything. Returns its
    /// scripted-call id.
    ///
    /// # Errors
    /// [`SimError::UnknownDestination`] when the DN does not exist.
    pub fn call_scripted(&self, spec: CallSpec, script: crate::Script) -> Result<u64, SimError> {
        let from = spec.from.clone();
        let caller = self.call_now(spec)?;
        Ok(crate::scripted::spawn(
            &self.shared,
            caller,
            script,
            "sim",
            from,
        ))
    }

    /// A scripted call's state, as the control API shows it.
    pub fn scripted_call(&self, id: u64) -> Option<crate::ScriptedCall> {
        self.shared.scripted.get(id)
    }

    /// Every scripted call so far, oldest first.
    pub fn scripted_calls(&self) -> Vec<crate::ScriptedCall> {
        self.shared.scripted.list()
    }

    fn call_now(&self, spec: CallSpec) -> Result<Caller, SimError> {
        let core = calls::start_inbound(&self.shared, spec)?;
        Ok(Caller::new(self.shared.clone(), core))
    }

    /// The far ends of every outbound call placed so far, oldest first.
    pub fn outbound_calls(&self) -> Vec<Caller> {
        self.shared
            .pbx()
            .outbound
            .iter()
            .map(|(_, core)| Caller::new(self.shared.clone(), core.clone()))
            .collect()
    }

    /// Waits for an outbound call to `destination` (the latest one if several) and
    /// returns its far end.
    ///
    /// # Errors
    /// [`SimError::Stopped`] when the simulator stops first.
    pub async fn wait_outbound(&self, destination: &str) -> Result<Caller, SimError> {
        loop {
            let placed = self.shared.outbound_placed.notified();
            tokio::pin!(placed);
            placed.as_mut().enable();
            {
                let pbx = self.shared.pbx();
                let found = pbx
                    .outbound
                    .iter()
                    .rev()
                    .find(|(to, _)| to == destination)
                    .map(|(_, core)| core.clone());
                if let Some(core) = found {
                    return Ok(Caller::new(self.shared.clone(), core));
                }
            }
            tokio::select! {
                _ = self.shared.shutdown.cancelled() => return Err(SimError::Stopped),
                _ = placed => {}
            }
        }
    }

    /// Stops the server and waits (up to 5 s) for it to finish.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Sends small writes at once, as a PBX's web server does (nginx's `tcp_nodelay`): with
/// Nagle's algorithm on, an event written while the one before is unacknowledged waits
/// for the client's delayed acknowledgement, up to 40 ms on Linux, and a key pressed
/// reaches the bot that much later.
pub(crate) fn no_delay(socket: &mut tokio::net::TcpStream) {
    if let Err(error) = socket.set_nodelay(true) {
        tracing::debug!(%error, "TCP_NODELAY not set");
    }
}
