//! The simulator's own HTTP/1.1 for audio streams on plain TCP ([`crate::serve`]): a
//! stream request's head, the chunked body of a POST, sockets read with arrival times
//! and written without waiting, and the streams the media clock serves on them.

pub(crate) mod chunked;
pub(crate) mod head;
pub(crate) mod socket;
pub(crate) mod stream;
pub(crate) mod ticket;
