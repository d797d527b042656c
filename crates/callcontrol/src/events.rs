//! The event task and [`EventStream`].
//!
//! One task per client owns the event socket. For each connection it:
//!
//! 1. opens `/callcontrol/ws` and starts reading it (a reader task buffers events),
//! 2. reads the snapshot (`GET /callcontrol`) and diffs it against the cache, emitting
//!    `resync: true` removals and updates, so calls that started or ended while the
//!    socket was down are reported; then emits [`PbxEvent::Connected`],
//! 3. resolves buffered and live events in order (Upsert → GET, 404 → removal,
//!    unchanged → nothing),
//! 4. when the `sequence` numbers of one connection jump (the PBX lost events without
//!    closing the socket), logs the gap and runs the same snapshot resync as after a
//!    reconnect before resolving the event that revealed it,
//! 5. when the socket dies (closed, error, or silent for `dead_after_pings` ping
//!    intervals), emits [`PbxEvent::Disconnected`] and reconnects at once (within a
//!    100 ms jitter), then after a capped, jittered exponential delay while attempts
//!    fail (each one a [`PbxEvent::ConnectFailed`]), for as long as the client runs.
//!
//! Listening starts before the snapshot is read, as 3CX's own client does, so an
//! event that happens during the read is not lost.

mod cache;
mod resolve;
mod resync;
mod sequence;
mod socket;

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use voicebot_model::PbxEvent;

pub use cache::{DnState, StateCache};
pub(crate) use cache::{Freshness, SharedState};

use crate::client::{Client, Core};
use crate::error::Result;
use crate::events::sequence::SequenceTracker;
use crate::retry::Backoff;

/// Resolved PBX events, in order. Ends when the client shuts down. Created by
/// [`Client::events`].
pub struct EventStream {
    receiver: mpsc::Receiver<PbxEvent>,
    // Keeps the event task alive while the stream is used without a client handle.
    _client: Client,
}

impl EventStream {
    pub(crate) fn new(receiver: mpsc::Receiver<PbxEvent>, client: Client) -> Self {
        Self {
            receiver,
            _client: client,
        }
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("buffered", &self.receiver.len())
            .finish()
    }
}

impl Stream for EventStream {
    type Item = PbxEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<PbxEvent>> {
        self.receiver.poll_recv(cx)
    }
}

type Subscribers = Arc<Mutex<Vec<mpsc::Sender<PbxEvent>>>>;

/// The running event task and its subscribers.
pub(crate) struct EventsRuntime {
    subscribers: Subscribers,
    _task: JoinHandle<()>,
}

impl EventsRuntime {
    /// Starts the event task with its first subscriber (a stream of `capacity` events)
    /// already registered: it hears the task's first event (`Connected`, or why not)
    /// however soon the socket opens. Subscribing after the start could miss it when
    /// the task connects first, which a loaded machine makes happen.
    pub(crate) fn start(
        core: Arc<Core>,
        state: Arc<SharedState>,
        cancel: CancellationToken,
        capacity: usize,
    ) -> (Self, mpsc::Receiver<PbxEvent>) {
        let subscribers = Subscribers::default();
        let (sender, receiver) = mpsc::channel(capacity);
        lock(&subscribers).push(sender);
        // Until the first snapshot, the cache cannot say which call an id belongs to.
        state.set_freshness(Freshness::Stale);
        let task = tokio::spawn(run(core, state, subscribers.clone(), cancel));
        let runtime = Self {
            subscribers,
            _task: task,
        };
        (runtime, receiver)
    }

    pub(crate) fn subscribe(&self, capacity: usize) -> mpsc::Receiver<PbxEvent> {
        let (sender, receiver) = mpsc::channel(capacity);
        lock(&self.subscribers).push(sender);
        receiver
    }
}

fn lock(subscribers: &Subscribers) -> std::sync::MutexGuard<'_, Vec<mpsc::Sender<PbxEvent>>> {
    subscribers.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Hands `event` to every live subscriber, waiting for room (control events are never
/// dropped); forgets subscribers whose stream was dropped.
async fn emit(subscribers: &Subscribers, event: PbxEvent) {
    let senders = lock(subscribers).clone();
    let mut closed = false;
    for sender in senders {
        closed |= sender.send(event.clone()).await.is_err();
    }
    if closed {
        lock(subscribers).retain(|sender| !sender.is_closed());
    }
}

/// Aborts a spawned task when dropped, so no reader outlives its connection.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The event task: connect, resync, resolve, reconnect, until cancelled.
async fn run(
    core: Arc<Core>,
    state: Arc<SharedState>,
    subscribers: Subscribers,
    cancel: CancellationToken,
) {
    let settings = &core.settings;
    let mut backoff = Backoff::new(settings.reconnect_initial, settings.reconnect_max);
    let mut connections = 0u64;
    let liveness = socket::Liveness {
        ping_interval: settings.ping_interval,
        dead_after_pings: settings.dead_after_pings,
        pbx_label: Arc::clone(&settings.pbx_label),
    };
    let work = async {
        loop {
            let socket = match socket::connect(&core).await {
                Ok(socket) => socket,
                Err(error) => {
                    let attempt = backoff.attempts() + 1;
                    // Reported as `ConnectFailed`: the subscriber decides how loudly.
                    tracing::debug!(%error, attempt, "event socket connect failed");
                    let reason = error.to_string();
                    emit(&subscribers, PbxEvent::ConnectFailed { attempt, reason }).await;
                    pause(&mut backoff).await;
                    continue;
                }
            };
            let (sender, mut receiver) = mpsc::channel(settings.event_buffer);
            let mut reader = AbortOnDrop(tokio::spawn(socket::read_loop(
                socket,
                sender,
                liveness.clone(),
                cancel.child_token(),
            )));
            let changes = match resync_from_snapshot(&core, &state).await {
                Ok(changes) => changes,
                Err(error) => {
                    let attempt = backoff.attempts() + 1;
                    tracing::debug!(%error, attempt, "snapshot after connect failed; reconnecting");
                    let reason = format!("reading the snapshot after connecting: {error}");
                    emit(&subscribers, PbxEvent::ConnectFailed { attempt, reason }).await;
                    drop(reader);
                    pause(&mut backoff).await;
                    continue;
                }
            };
            connections += 1;
            tracing::info!(
                connection = connections,
                resynced = changes.len(),
                "event socket connected"
            );
            for event in changes {
                emit(&subscribers, event).await;
            }
            emit(
                &subscribers,
                PbxEvent::Connected {
                    connection: connections,
                },
            )
            .await;
            let connected_at = tokio::time::Instant::now();
            let mut sequence = SequenceTracker::default();
            while let Some(envelope) = receiver.recv().await {
                if let Some(missed) = sequence.observe(envelope.sequence) {
                    // Resync before the revealing event, so that e.g. a DTMF of a
                    // call whose start was lost comes after that call's update.
                    for event in resync_after_gap(&core, &state, envelope.sequence, missed).await {
                        emit(&subscribers, event).await;
                    }
                }
                for event in resolve::resolve(&core, &state, envelope).await {
                    emit(&subscribers, event).await;
                }
            }
            // From here until the next snapshot, the PBX may change unseen (a restart
            // hands participant ids to new callers): call requests wait for the resync.
            state.set_freshness(Freshness::Stale);
            let reason = match (&mut reader.0).await {
                Ok(reason) => reason,
                Err(error) => format!("reader task failed: {error}"),
            };
            if cancel.is_cancelled() {
                // A deliberate `Client::shutdown` closed it: nothing was lost.
                tracing::debug!(%reason, "event socket closed");
                return;
            }
            tracing::warn!(%reason, "event socket lost; reconnecting");
            metrics::counter!("voicebot_pbx_ws_reconnects_total", "pbx" => Arc::clone(&settings.pbx_label))
                .increment(1);
            emit(&subscribers, PbxEvent::Disconnected { reason }).await;
            // A connection that stayed up is tried again at once (after a jitter of
            // up to 100 ms): every moment without the socket loses events, DTMF among
            // them, that no snapshot brings back. One that closed soon after opening
            // is not healthy: the backoff keeps growing, so a PBX that accepts and
            // drops the socket is not hammered in a loop.
            match is_healthy(connected_at.elapsed(), settings.healthy_after) {
                true => {
                    backoff.reset();
                    let jitter = rand::random_range(0..=100);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                false => pause(&mut backoff).await,
            }
        }
    };
    // Cancellation drops `work` wherever it waits: a connect, a GET, a full subscriber.
    let _: Option<()> = cancel.run_until_cancelled(work).await;
    // Nothing keeps the cache current any more; requests go out unchecked, as they
    // did before the event task started.
    state.set_freshness(Freshness::Untracked);
    // Dropping the senders ends every EventStream.
    lock(&subscribers).clear();
    tracing::debug!("event task stopped");
}

/// Reads the snapshot, replaces the cache with it (which makes the cache current) and
/// returns the difference as `resync: true` events.
async fn resync_from_snapshot(core: &Core, state: &SharedState) -> Result<Vec<PbxEvent>> {
    let fresh = StateCache::from_snapshot(core.snapshot().await?);
    let changes = state.update(|cache| {
        let changes = resync::diff(cache, &fresh, true);
        *cache = fresh;
        changes
    });
    state.set_freshness(Freshness::Current);
    Ok(changes)
}

/// The resync after `missed` events were lost before `sequence`. A failed snapshot is
/// only logged: the next gap or reconnect repairs the cache.
async fn resync_after_gap(
    core: &Core,
    state: &SharedState,
    sequence: u64,
    missed: u64,
) -> Vec<PbxEvent> {
    tracing::warn!(
        sequence,
        missed,
        "event sequence gap; resyncing from the snapshot"
    );
    metrics::counter!(
        "voicebot_pbx_ws_sequence_gaps_total",
        "pbx" => Arc::clone(&core.settings.pbx_label)
    )
    .increment(1);
    // Lost events may have been a restart's: call requests wait for the snapshot.
    state.set_freshness(Freshness::Stale);
    match resync_from_snapshot(core, state).await {
        Ok(changes) => {
            tracing::info!(resynced = changes.len(), "resynced after a sequence gap");
            changes
        }
        Err(error) => {
            tracing::warn!(%error, "snapshot after a sequence gap failed; cache left as is");
            // The socket is up: its later events keep the cache as current as before.
            state.set_freshness(Freshness::Current);
            Vec::new()
        }
    }
}

/// Whether a connection that lasted `lasted` proved healthy, so its loss starts the
/// reconnect backoff again from the initial delay.
fn is_healthy(lasted: Duration, healthy_after: Duration) -> bool {
    lasted >= healthy_after
}

async fn pause(backoff: &mut Backoff) {
    let delay: Duration = backoff.next_delay();
    tracing::debug!(?delay, "event socket reconnect delay");
    tokio::time::sleep(delay).await;
}

#[cfg(test)]
mod tests {
    //! Log levels of the event task, captured by a minimal subscriber (this crate has
    //! no `tracing-subscriber`); the runtime is single-threaded so the thread-local
    //! default subscriber sees the spawned tasks too.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use futures::StreamExt;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};
    use voicebot_model::PbxEvent;

    use crate::{Client, Secret};

    type Lines = Arc<Mutex<Vec<(Level, String)>>>;

    /// Keeps this crate's events as `(level, message)`.
    struct Capture(Lines);

    struct Message<'a>(&'a mut String);

    impl Visit for Message<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                *self.0 = format!("{value:?}");
            }
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            if !event
                .metadata()
                .target()
                .starts_with("voicebot_callcontrol")
            {
                return;
            }
            let mut message = String::new();
            event.record(&mut Message(&mut message));
            let level = *event.metadata().level();
            self.0.lock().unwrap().push((level, message));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn warnings(lines: &Lines) -> Vec<String> {
        let lines = lines.lock().unwrap();
        lines
            .iter()
            .filter(|(level, _)| *level <= Level::WARN)
            .map(|(_, message)| message.clone())
            .collect()
    }

    async fn next_connected(events: &mut crate::EventStream) {
        while let Some(event) = events.next().await {
            if matches!(event, PbxEvent::Connected { .. }) {
                return;
            }
        }
        panic!("the event stream ended before connecting");
    }

    #[tokio::test]
    async fn a_lost_socket_warns_but_a_deliberate_shutdown_does_not() {
        let lines = Lines::default();
        let _guard = tracing::subscriber::set_default(Capture(Arc::clone(&lines)));
        let test = async {
            let sim = voicebot_sim::Sim::start().await.unwrap();
            let client = Client::builder(sim.base_url())
                .credentials(sim.client_id(), Secret::new(sim.client_secret()))
                .ping_interval(Duration::from_millis(100))
                .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(100))
                .build()
                .unwrap();
            let mut events = client.events();
            next_connected(&mut events).await;

            sim.faults().drop_websockets();
            next_connected(&mut events).await;
            let lost = warnings(&lines);
            assert!(
                lost.iter().any(|line| line.contains("event socket lost")),
                "{lost:?}"
            );

            lines.lock().unwrap().clear();
            client.shutdown();
            while events.next().await.is_some() {}
            assert_eq!(warnings(&lines), Vec::<String>::new());
            let all = lines.lock().unwrap().clone();
            assert!(
                all.iter()
                    .any(|(_, line)| line.contains("event task stopped")),
                "{all:?}"
            );
        };
        tokio::time::timeout(Duration::from_secs(20), test)
            .await
            .expect("the test finished within its timeout");
    }
}
