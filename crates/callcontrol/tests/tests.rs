//! Integration tests of the Call Control client against the simulator, over real
//! sockets. Areas: token handling, REST endpoints and errors, the event stream
//! through reconnects, and audio in both directions.

mod audio;
mod auth;
mod devices;
mod events;
mod gaps;
mod hostile;
mod identity;
mod idle;
mod repeats;
mod rest;
mod support;
mod tls;
mod wire;
