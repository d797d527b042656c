//! Client of the 3CX V20 Configuration API (XAPI, `/xapi/v1`).
//!
//! This crate owns provisioning: users, departments (groups) and shared parking,
//! the `X-3CX-Version` reachability check, and a typed OData query builder
//! ([`odata::Query`]) whose string literals are always escaped. It depends on
//! `voicebot-callcontrol` only for the token provider, so one bearer token (3CX keeps
//! one per API client) serves both APIs; it must not depend on `engine`, `bot` or
//! `sim` (the simulator is a dev-dependency for tests over real sockets).
//!
//! Errors carry the PBX's OData error body; 400, 401, 403 and 404 are distinct
//! variants of [`Error`]. A 401 is retried once with a fresh token. Collections are
//! paged with `$top`/`$skip` by the client because XAPI sends no `@odata.nextLink`.
//!
//! ```no_run
//! # async fn demo(client: voicebot_xapi::XapiClient) -> voicebot_xapi::Result<()> {
//! use futures::TryStreamExt;
//! use voicebot_xapi::odata::{prop, Query};
//! use voicebot_xapi::UserFields;
//!
//! let version = client.ping().await?;
//! println!("PBX {version}");
//! let query = Query::new().filter(prop("Number").ge("100").and(prop("Number").lt("200")));
//! let users: Vec<_> = client.users().list(query).try_collect().await?;
//! let created = client.users().create(&UserFields {
//!     number: Some("211".to_owned()),
//!     first_name: Some("John".to_owned()),
//!     email_address: Some("john@example.com".to_owned()),
//!     ..UserFields::default()
//! }).await?;
//! # let _ = (users, created);
//! # Ok(()) }
//! ```

mod auth;
mod client;
mod defs;
mod departments;
mod error;
mod ids;
mod keys;
mod members;
pub mod odata;
mod paging;
mod parkings;
mod users;

pub use auth::{BearerToken, TokenSource, TokenSourceError};
pub use client::{DEFAULT_PAGE_SIZE, XapiClient, XapiClientBuilder};
pub use defs::{ParseVersionError, PbxVersion, VERSION_HEADER};
pub use departments::{Department, DepartmentFields, DepartmentProps, Departments};
pub use error::{BuildError, Error, ODataError, ODataErrorBody, ODataErrorDetail, Result};
pub use ids::{GroupId, ParkingId, UserId};
pub use keys::NumberLookup;
pub use members::{GroupMember, Rights, roles};
pub use paging::Page;
pub use parkings::{Parking, Parkings};
pub use users::{User, UserDeleteError, UserFields, Users, VoicemailEmailOptions};
