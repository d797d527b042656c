//! The log filter every command uses: `RUST_LOG` (or the command's default), with
//! the dependency log targets that print secrets held below trace whatever the
//! filter says.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

/// Targets whose trace output carries secrets: tungstenite traces the WebSocket
/// handshake request as raw bytes, `Authorization: Bearer …` included, so a
/// sensitive header value cannot hide it. These are capped at debug. Our own code
/// never logs a header, a body with a token, or the secret at any level, and
/// `reqwest`/`hyper` print header values marked sensitive as `Sensitive`.
const SECRET_BEARING_TARGETS: [&str; 1] = ["tungstenite::handshake::client"];

/// `filter` with the secret-bearing targets capped at debug. A more specific target
/// wins in an `EnvFilter`, so `RUST_LOG=trace` or `RUST_LOG=tungstenite=trace` does
/// not lift the cap.
pub(crate) fn without_secrets(mut filter: EnvFilter) -> EnvFilter {
    for target in SECRET_BEARING_TARGETS {
        match format!("{target}=debug").parse::<Directive>() {
            Ok(directive) => filter = filter.add_directive(directive),
            // The directives are constants; a parse failure is a bug caught by the
            // unit test below, never a reason to stop logging.
            Err(_) => debug_assert!(false, "bad directive for {target}"),
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_everywhere_still_caps_the_handshake() {
        let filter = without_secrets(EnvFilter::new("trace,tungstenite=trace"));
        let text = filter.to_string();
        assert!(
            text.contains("tungstenite::handshake::client=debug"),
            "{text}"
        );
    }
}
