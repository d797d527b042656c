//! [`DispatchHandle`]: changes what the dispatcher watches while it runs.

use tokio::sync::mpsc;
use voicebot_model::{Dn, ParticipantId};

use crate::error::DispatcherGone;

#[derive(Debug)]
pub(crate) enum Command {
    Watch(Dn),
    Unwatch(Dn),
    ExpectOutbound(Dn, ParticipantId),
}

/// A cloneable remote control of a running [`Dispatcher`](crate::Dispatcher).
/// Commands are applied in order, before events still waiting in the dispatcher.
#[derive(Debug, Clone)]
pub struct DispatchHandle {
    commands: mpsc::Sender<Command>,
}

impl DispatchHandle {
    pub(crate) fn new(commands: mpsc::Sender<Command>) -> Self {
        Self { commands }
    }

    /// See [`Dispatcher::watch`](crate::Dispatcher::watch).
    ///
    /// # Errors
    /// [`DispatcherGone`] when the dispatcher has stopped.
    pub async fn watch(&self, dn: Dn) -> Result<(), DispatcherGone> {
        self.send(Command::Watch(dn)).await
    }

    /// See [`Dispatcher::unwatch`](crate::Dispatcher::unwatch).
    ///
    /// # Errors
    /// [`DispatcherGone`] when the dispatcher has stopped.
    pub async fn unwatch(&self, dn: Dn) -> Result<(), DispatcherGone> {
        self.send(Command::Unwatch(dn)).await
    }

    /// See [`Dispatcher::expect_outbound`](crate::Dispatcher::expect_outbound).
    ///
    /// # Errors
    /// [`DispatcherGone`] when the dispatcher has stopped.
    pub async fn expect_outbound(&self, dn: Dn, id: ParticipantId) -> Result<(), DispatcherGone> {
        self.send(Command::ExpectOutbound(dn, id)).await
    }

    async fn send(&self, command: Command) -> Result<(), DispatcherGone> {
        self.commands
            .send(command)
            .await
            .map_err(|_| DispatcherGone)
    }
}
