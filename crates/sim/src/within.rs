//! [`within`]: the one hard deadline of the tests that drive the simulator.

use std::future::Future;
use std::time::Duration;

/// Runs `body`, panicking with the limit in the message if it takes longer than
/// `limit`: a hung test fails, naming how long it was given, instead of hanging the
/// suite. The tests of the simulator, the client, the test kit and the root package
/// all use this one helper, each with the limit its kind of test needs.
///
/// # Panics
/// When `body` does not finish within `limit`.
pub async fn within<F>(limit: Duration, body: F) -> F::Output
where
    F: Future,
{
    match tokio::time::timeout(limit, body).await {
        Ok(output) => output,
        Err(_) => panic!("the test did not finish within {limit:?}"),
    }
}
