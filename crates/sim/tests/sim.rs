//! Tests of the simulator over real sockets, with plain HTTP and WebSocket clients.

mod sim {
    pub(crate) mod util;

    mod audio;
    mod auth;
    mod calls;
    mod control;
    mod devices;
    mod events;
    mod faults;
    mod fuzz_scripts;
    mod internal;
    mod routing;
    mod scripts;
    mod timeouts;
    mod tls;
}
