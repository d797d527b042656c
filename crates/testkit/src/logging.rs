//! Logs of the engine and the simulator in test output.

/// Shows voicebot's logs in test output, filtered by `RUST_LOG` (e.g.
/// `RUST_LOG=voicebot_engine=debug cargo test`; errors only when it is unset). Captured
/// per test by the test harness. Safe to call any number of times; [`TestPbx`]
/// calls it when it starts.
///
/// [`TestPbx`]: crate::TestPbx
pub fn init_logging() {
    // `try_init`: another test (or the author) may have installed a subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
