//! The observability listener: `GET /metrics` (Prometheus text) and `GET /health`
//! (JSON [`Health`](crate::Health)) on the engine's `metrics_addr`.
//!
//! The Prometheus recorder is process-wide (the `metrics` facade has one global
//! recorder), so it is installed once; later engines in the same process share it.
//! A process running one engine per PBX serves them all on one address with
//! [`serve_engines`]: `/metrics` carries every engine's series (each labelled `pbx`)
//! and `/health` reports each PBX ([`ProcessHealth`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::engine::{EngineHandle, Shared};
use crate::error::EngineError;
use crate::stats::Health;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use. `None` when
/// another recorder was installed first (metrics then go there).
fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets_for_metric(
                Matcher::Suffix("_seconds".to_owned()),
                &crate::metrics::SECONDS_BUCKETS,
            );
            let installed = builder.and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    // Described now that a recorder takes the descriptions.
                    crate::metrics::describe();
                    Some(handle)
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot install the Prometheus recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the process's Prometheus recorder now (it is otherwise installed when
/// the engine starts serving `/metrics`), so metrics that other parts of the program
/// describe before the engine runs keep their `# HELP` text. Returns whether the
/// recorder is ours (false when another recorder was installed first).
pub fn install_metrics_recorder() -> bool {
    prometheus().is_some()
}

/// The listener on `addr` and the address it got (port 0 picks one).
async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), EngineError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EngineError::MetricsListener {
            addr,
            source: Arc::new(source),
        })?;
    let bound = listener.local_addr().unwrap_or(addr);
    Ok((listener, bound))
}

/// Binds `addr` and serves until the engine's root token is cancelled.
pub(crate) async fn serve(shared: &Arc<Shared>, addr: SocketAddr) -> Result<(), EngineError> {
    let (listener, bound) = bind(addr).await?;
    let _ = shared.metrics_bound.set(bound);
    let handle = prometheus();
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(move || render(handle)))
        .with_state(Arc::clone(shared));
    let stop = shared.root.clone();
    tracing::info!(addr = %bound, "serving /metrics and /health");
    shared.tracker.spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(error) = server.await {
            tracing::warn!(%error, "metrics listener failed");
        }
    });
    Ok(())
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let health = shared.counters.health();
    let status = match health.status {
        "ok" => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(health)).into_response()
}

async fn render(handle: Option<&'static PrometheusHandle>) -> Response {
    match handle {
        Some(handle) => (
            [("content-type", "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no Prometheus recorder").into_response(),
    }
}

/// The body of `GET /health` when one process serves several PBXs ([`serve_engines`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessHealth {
    /// `ok` (every PBX ok), `partial` (some PBX is not: the others still take calls,
    /// so the process answers 200 and a supervisor must not restart it),
    /// `shutting_down`, or, when no PBX is ok, the first PBX's status (503).
    pub status: &'static str,
    /// Each PBX's engine, by name.
    pub pbxs: BTreeMap<String, Health>,
    /// The engine's version.
    pub version: &'static str,
}

impl ProcessHealth {
    /// The health of `engines`, one per PBX.
    pub fn of(engines: &[EngineHandle]) -> Self {
        let pbxs: BTreeMap<String, Health> = engines
            .iter()
            .map(|engine| (engine.pbx_name().to_owned(), engine.health()))
            .collect();
        let statuses: Vec<&'static str> = pbxs.values().map(|health| health.status).collect();
        let status = if statuses.contains(&"shutting_down") {
            "shutting_down"
        } else if statuses.iter().all(|status| *status == "ok") {
            "ok"
        } else if statuses.contains(&"ok") {
            "partial"
        } else {
            statuses.first().copied().unwrap_or("connecting")
        };
        Self {
            status,
            pbxs,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// Whether a supervisor should see the process as up (200).
    pub fn is_serving(&self) -> bool {
        matches!(self.status, "ok" | "partial")
    }
}

/// Serves `/metrics` and `/health` ([`ProcessHealth`]) for several engines of this
/// process, one per PBX, on `addr` until `stop` is cancelled. Give those engines no
/// `metrics_addr` of their own. Returns the bound address (port 0 picks one).
///
/// # Errors
/// [`EngineError::MetricsListener`] when `addr` cannot be bound.
pub async fn serve_engines(
    addr: SocketAddr,
    engines: Vec<EngineHandle>,
    stop: CancellationToken,
) -> Result<SocketAddr, EngineError> {
    let (listener, bound) = bind(addr).await?;
    let handle = prometheus();
    let engines = Arc::new(engines);
    let app = Router::new()
        .route(
            "/health",
            get(move || {
                let health = ProcessHealth::of(&engines);
                let status = match health.is_serving() {
                    true => StatusCode::OK,
                    false => StatusCode::SERVICE_UNAVAILABLE,
                };
                std::future::ready((status, Json(health)).into_response())
            }),
        )
        .route("/metrics", get(move || render(handle)));
    tracing::info!(addr = %bound, "serving /metrics and /health for every PBX");
    tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(error) = server.await {
            tracing::warn!(%error, "metrics listener failed");
        }
    });
    Ok(bound)
}
