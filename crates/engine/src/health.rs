//! The observability listener: `GET /metrics` (Prometheus text) and `GET /health`
//! (JSON [`Health`](crate::Health)) on the engine's `metrics_addr`.
//!
//! The Prometheus recorder is process-wide (the `metrics` facade has one global
//! recorder), so it is installed once; later engines in the same process share it.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::engine::Shared;
use crate::error::EngineError;

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

/// Binds `addr` and serves until the engine's root token is cancelled.
pub(crate) async fn serve(shared: &Arc<Shared>, addr: SocketAddr) -> Result<(), EngineError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EngineError::MetricsListener {
            addr,
            source: Arc::new(source),
        })?;
    let bound = listener.local_addr().unwrap_or(addr);
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
