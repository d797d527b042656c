//! Audio streams: `GET …/stream` serves the caller's audio at real time, `POST
//! …/stream` feeds the PBX playout buffer.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use voicebot_model::{Dn, DnType, ParticipantStatus};

use super::{authorize, cc_error, participant_id, visible_dn};
use crate::journal::StreamDirection;
use crate::state::{CallCore, Shared};
use crate::wire::stream::Ticket;
use crate::wire::ticket::{Cut, StreamGuard};

/// Which side of a call's media a stream is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The participant the call's media belongs to (the route point's, usually):
    /// GET hears the caller, POST plays to the caller.
    Own,
    /// The calling leg of a call from a DN of this PBX to the route point: GET hears
    /// what the route point's client plays, POST speaks to it.
    Bridged,
}

/// Finds the call behind a stream request, applying 401/403/404/424.
fn stream_target(
    shared: &Shared,
    headers: &axum::http::HeaderMap,
    dn: &Dn,
    id: &str,
) -> Result<(Arc<CallCore>, Side, Vec<CancellationToken>), Response> {
    let authorized = authorize(shared, headers)?;
    let id = participant_id(id)?;
    let pbx = shared.pbx();
    let state = visible_dn(&pbx, dn)?;
    if state.foreign.contains_key(&id) {
        return Err(cc_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "This leg is not controlled by this DN.",
        ));
    }
    let Some(leg) = state.participants.get(&id) else {
        return Err(cc_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Participant {id} not found on DN {dn}."),
        ));
    };
    let audio = &shared.config.audio;
    let failed_dependency =
        |text: &str| cc_error(StatusCode::FAILED_DEPENDENCY, "FailedDependency", text);
    let bridged = pbx
        .calls
        .get(&leg.callid)
        .filter(|call| {
            call.bridged
                .as_ref()
                .is_some_and(|(d, i)| d == dn && *i == id)
        })
        .map(|call| call.core.clone());
    if state.dn_type != DnType::RoutePoint && !audio.extension_streams && bridged.is_none() {
        return Err(failed_dependency(
            "Audio streams are available for the application's own calls only.",
        ));
    }
    if leg.participant.status != ParticipantStatus::Connected {
        let status = StatusCode::from_u16(audio.not_connected_status)
            .unwrap_or(StatusCode::FAILED_DEPENDENCY);
        return Err(cc_error(
            status,
            "FailedDependency",
            "The participant is not connected.",
        ));
    }
    let own = pbx
        .calls
        .get(&leg.callid)
        .map(|call| call.core.clone())
        .filter(|core| core.dn == *dn && core.participant_id.0 == id && !leg.handed_on);
    let (core, side) = match (own, bridged) {
        (Some(core), _) => (core, Side::Own),
        (None, Some(core)) => (core, Side::Bridged),
        (None, None) => return Err(failed_dependency("No media for this participant.")),
    };
    let tokens = vec![
        shared.shutdown.clone(),
        shared.faults.stream_cut(),
        authorized.revoked,
        core.media_ended.clone(),
    ];
    Ok((core, side, tokens))
}

/// A stream's cut as a future the answer body waits on.
type CutFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Marks a request read by the simulator's own stream server ([`crate::serve`]): its
/// handler hands the stream over ([`TakeOver`]) instead of answering with a body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnSocket;

/// A stream its handler accepted, for the stream server to serve on its own socket.
#[derive(Debug)]
pub(crate) struct TakeOver {
    /// The call whose media the stream carries.
    pub(crate) core: Arc<CallCore>,
    /// Whether it is a bridged caller's leg.
    pub(crate) bridged: bool,
    /// Its journal entry and cut.
    pub(crate) ticket: Ticket,
}

/// Carries a [`TakeOver`] out through the answer's extensions (which must be `Clone`).
#[derive(Debug, Clone)]
pub(crate) struct TakeOverSlot(Arc<Mutex<Option<TakeOver>>>);

impl TakeOverSlot {
    /// Takes the stream out (once).
    pub(crate) fn take(&self) -> Option<TakeOver> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The answer that hands a stream to the stream server: `response`'s status and headers
/// are those of the stream's answer.
fn take_over(mut response: Response, take: TakeOver) -> Response {
    response
        .extensions_mut()
        .insert(TakeOverSlot(Arc::new(Mutex::new(Some(take)))));
    response
}

/// `GET /callcontrol/{dn}/participants/{id}/stream`
pub(crate) async fn get_stream(
    State(shared): State<Arc<Shared>>,
    Path((dn, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let dn = Dn::new(dn);
    let (core, side, tokens) = match stream_target(&shared, request.headers(), &dn, &id) {
        Ok(target) => target,
        Err(response) => return response,
    };
    if request.extensions().get::<OwnSocket>().is_some() {
        if core.media().is_stopped() {
            return cc_error(StatusCode::NOT_FOUND, "NotFound", "The call has ended.");
        }
        let ticket = Ticket {
            guard: StreamGuard::open(&shared, &dn, &id, StreamDirection::FromCall),
            cut: Cut::new(tokens),
        };
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        let bridged = side == Side::Bridged;
        return take_over(
            response,
            TakeOver {
                core,
                bridged,
                ticket,
            },
        );
    }
    let listening = match side {
        Side::Own => core.media().listen(),
        Side::Bridged => core.media().listen_far(),
    };
    let Some(rx) = listening else {
        return cc_error(StatusCode::NOT_FOUND, "NotFound", "The call has ended.");
    };
    let guard = StreamGuard::open(&shared, &dn, &id, StreamDirection::FromCall);
    let stalled = shared.faults.audio_stalled();
    // Made once per stream, not per chunk.
    let cut = Cut::new(tokens);
    let cut_future: CutFuture = Box::pin(cut.token().clone().cancelled_owned());
    let body = futures::stream::unfold(
        (rx, cut_future, (guard, cut), stalled),
        |(mut rx, mut cut_future, (mut guard, cut), stalled): (
            mpsc::Receiver<Bytes>,
            CutFuture,
            (StreamGuard, Cut),
            watch::Receiver<bool>,
        )| async move {
            loop {
                tokio::select! {
                    chunk = rx.recv() => match chunk {
                        // A stalled stream stays open but its audio is lost.
                        Some(_) if *stalled.borrow() => continue,
                        Some(chunk) => {
                            guard.bytes += chunk.len() as u64;
                            return Some((
                                Ok::<_, std::io::Error>(chunk),
                                (rx, cut_future, (guard, cut), stalled),
                            ));
                        }
                        None => {
                            guard.reason = "call media ended".to_owned();
                            drop(guard);
                            return None;
                        }
                    },
                    () = &mut cut_future => {
                        guard.reason = "stream cut".to_owned();
                        drop(guard);
                        return None;
                    }
                }
            }
        },
    );
    let mut response = Body::from_stream(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// `POST /callcontrol/{dn}/participants/{id}/stream`
pub(crate) async fn post_stream(
    State(shared): State<Arc<Shared>>,
    Path((dn, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let dn = Dn::new(dn);
    let (core, side, tokens) = match stream_target(&shared, request.headers(), &dn, &id) {
        Ok(target) => target,
        Err(response) => return response,
    };
    if request.extensions().get::<OwnSocket>().is_some() {
        let ticket = Ticket {
            guard: StreamGuard::open(&shared, &dn, &id, StreamDirection::IntoCall),
            cut: Cut::new(tokens),
        };
        let bridged = side == Side::Bridged;
        return take_over(
            StatusCode::OK.into_response(),
            TakeOver {
                core,
                bridged,
                ticket,
            },
        );
    }
    let mut guard = StreamGuard::open(&shared, &dn, &id, StreamDirection::IntoCall);
    let mut body = request.into_body().into_data_stream();
    // Made once per stream, not per chunk.
    let stream_cut = Cut::new(tokens);
    let cut = stream_cut.token().clone().cancelled_owned();
    tokio::pin!(cut);
    loop {
        tokio::select! {
            () = &mut cut => {
                guard.reason = "stream cut".to_owned();
                break;
            }
            chunk = body.next() => match chunk {
                Some(Ok(bytes)) => {
                    guard.bytes += bytes.len() as u64;
                    let taken = match side {
                        // 3CX plays continuously: what fell due before this chunk came
                        // is played already, whenever the simulator's clock last ran.
                        Side::Own => {
                            let mut media = core.media();
                            let stalled = shared.faults.audio_is_stalled();
                            media.tick(tokio::time::Instant::now(), &shared.config.audio, stalled);
                            media.play(&bytes)
                        }
                        Side::Bridged => core.media().speak(&bytes),
                    };
                    if !taken {
                        guard.reason = "call media ended".to_owned();
                        break;
                    }
                }
                Some(Err(error)) => {
                    // A body that is not valid chunked framing: what arrived before the
                    // bad frame was played; the rest is discarded.
                    guard.reason = format!("invalid body: {error}");
                    break;
                }
                None => {
                    guard.reason = match guard.bytes {
                        0 => "empty body".to_owned(),
                        _ => "end of body".to_owned(),
                    };
                    break;
                }
            }
        }
    }
    core.media().end_of_post();
    drop(guard);
    StatusCode::OK.into_response()
}
