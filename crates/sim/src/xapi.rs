//! Configuration API (XAPI, `/xapi/v1`): users, departments (groups), shared parking
//! and `Defs`, with the OData query subset 3CX supports evaluated for real.
//!
//! The store lives beside the call-control model (its own mutex, never held across an
//! `.await`). The API client's own role is a department membership of its number
//! (the route point): it starts as `system_owners`; a client demoted through
//! `PATCH /Groups({id})` `Members` gets 403 on every write, as a real PBX does for a
//! client without the system-owner role.
//!
//! A PBX restart ([`crate::Faults::restart`]) loses what was configured through the
//! API: the store remembers the PBX epoch it was built in and is rebuilt from the
//! configuration the first time it is used in a newer one.

mod error;
mod odata;
mod path;
mod query;
mod routes;
mod schema;
mod store;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;

use crate::auth::{self, Api};
use crate::state::Shared;
use store::Store;

/// State of the XAPI routes.
#[derive(Debug)]
pub(crate) struct XapiState {
    shared: Arc<Shared>,
    store: Mutex<EpochStore>,
}

/// The store and the PBX epoch (see [`crate::state::Pbx::epoch`]) it belongs to.
#[derive(Debug)]
pub(crate) struct EpochStore {
    epoch: u64,
    pub(crate) store: Store,
}

impl XapiState {
    /// The store, rebuilt first if the PBX restarted since it was last used.
    fn store(&self) -> MutexGuard<'_, EpochStore> {
        // Read before taking the store lock: the PBX lock is never taken inside it.
        let epoch = self.shared.pbx().epoch;
        // A poisoned lock only means a panic elsewhere; the data is still consistent
        // because every store method validates before it mutates.
        let mut guard = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if guard.epoch != epoch {
            tracing::debug!(epoch, "XAPI store reset by a PBX restart");
            *guard = EpochStore {
                epoch,
                store: initial_store(&self.shared),
            };
        }
        guard
    }
}

/// The store as the configuration describes it, before any API change.
fn initial_store(shared: &Shared) -> Store {
    let extensions: Vec<String> = shared
        .config
        .extensions
        .iter()
        .map(|e| e.dn.as_str().to_owned())
        .collect();
    Store::new(&shared.config.client_id, &extensions)
}

/// Routes under `/xapi/v1`.
pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let store = EpochStore {
        epoch: shared.pbx().epoch,
        store: initial_store(&shared),
    };
    let state = Arc::new(XapiState {
        shared,
        store: Mutex::new(store),
    });
    let inner = Router::new()
        .route("/", any(routes::dispatch))
        .route("/{*rest}", any(routes::dispatch))
        .with_state(state);
    Router::new().nest("/xapi/v1", inner)
}

/// The bearer check for XAPI routes: 401 without a valid token, 403 when the API
/// client lacks "3CX Configuration API access".
pub(crate) fn check_xapi_bearer(shared: &Shared, headers: &HeaderMap) -> Result<(), StatusCode> {
    auth::check_bearer(shared, headers, Api::Xapi)
        .map(drop)
        .map_err(|refusal| refusal.status())
}
