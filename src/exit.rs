//! Exit codes: every command returns `anyhow::Result`, and [`code_of`] reads the error
//! chain to pick the documented code, so a failure deep in the client still exits with
//! "PBX unreachable" or "auth failure" without each command mapping it by hand.

use std::process::ExitCode;

use voicebot_callcontrol::CallControlError;

use crate::config::ConfigError;

/// The exit codes of `voicebot`, as documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 1: something failed while running.
    Runtime,
    /// 2: bad usage or a bad configuration file.
    Usage,
    /// 3: the PBX could not be reached (DNS, TCP, TLS, timeout).
    Unreachable,
    /// 4: the PBX refused the credentials or the API access (401/403).
    Auth,
    /// 5: a `doctor` step failed.
    DoctorStep,
}

impl Exit {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Runtime => 1,
            Self::Usage => 2,
            Self::Unreachable => 3,
            Self::Auth => 4,
            Self::DoctorStep => 5,
        }
    }

    /// Wraps a message into an error that exits with this code.
    pub(crate) fn error(self, message: impl Into<String>) -> anyhow::Error {
        ExitError {
            exit: self,
            message: message.into(),
        }
        .into()
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// An error that carries its exit code explicitly.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ExitError {
    exit: Exit,
    message: String,
}

/// The exit code for `error`: an explicit [`ExitError`] wins, then a configuration
/// error (2), then what the PBX client says (4 for refused credentials or access,
/// 3 for a transport failure or timeout); anything else is 1.
pub(crate) fn code_of(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if let Some(explicit) = cause.downcast_ref::<ExitError>() {
            return explicit.exit;
        }
    }
    for cause in error.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return Exit::Usage;
        }
        if let Some(pbx) = cause.downcast_ref::<CallControlError>() {
            return of_callcontrol(pbx);
        }
    }
    Exit::Runtime
}

/// The exit code a client error deserves.
pub(crate) fn of_callcontrol(error: &CallControlError) -> Exit {
    match error {
        CallControlError::Auth { .. }
        | CallControlError::Unauthorized(_)
        | CallControlError::Forbidden(_) => Exit::Auth,
        CallControlError::Transport { .. } | CallControlError::Timeout { .. } => Exit::Unreachable,
        _ => Exit::Runtime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_codes_win_over_the_chain() {
        let error = Exit::Auth.error("refused");
        assert_eq!(code_of(&error), Exit::Auth);
        let wrapped = anyhow::Error::from(CallControlError::Timeout {
            what: "token".into(),
            after: None,
        })
        .context("fetching a token");
        assert_eq!(code_of(&wrapped), Exit::Unreachable);
        assert_eq!(code_of(&anyhow::anyhow!("other")), Exit::Runtime);
    }
}
