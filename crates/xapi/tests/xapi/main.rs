//! `voicebot-xapi` against the real simulator over real sockets: every operation,
//! paging, batch delete, OData evaluation and each error status with its body.

mod common;
mod departments;
mod errors;
mod parkings;
mod query;
mod redirects;
mod users;
