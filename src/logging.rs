//! Logging for every command: the filter (`RUST_LOG` or the command's default, with
//! the dependency targets that print secrets held below trace), colour only for a
//! terminal, and the line format: text for people, JSON for log shippers.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

mod json;

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One line of text per event; colour only when stderr is a terminal and
    /// `NO_COLOR` is unset.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`, the
    /// event's fields and the fields of its spans (`call_id`, `dn`, ...) at the top
    /// level.
    Json,
}

/// Targets whose trace output carries secrets: tungstenite traces the WebSocket
/// handshake request as raw bytes, `Authorization: Bearer …` included, so a
/// sensitive header value cannot hide it. These are capped at debug. Our own code
/// never logs a header, a body with a token, or the secret at any level, and
/// `reqwest`/`hyper` print header values marked sensitive as `Sensitive`.
const SECRET_BEARING_TARGETS: [&str; 1] = ["tungstenite::handshake::client"];

/// Installs the global subscriber: `RUST_LOG` when set, else `default`.
pub(crate) fn init(format: LogFormat, default: &str) {
    let filter = without_secrets(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init`: a second subscriber (tests running commands in one process) is
    // not an error worth stopping for.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(colour_wanted(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR"),
            ))
            .try_init(),
        LogFormat::Json => builder
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(json::JsonLines)
            .try_init(),
    };
}

/// Colour codes belong on a terminal only, and never when `NO_COLOR` is set to
/// anything non-empty (<https://no-color.org>).
fn colour_wanted(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

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

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some("".into())));
        assert!(!colour_wanted(true, Some("1".into())));
        assert!(!colour_wanted(false, None));
    }
}
