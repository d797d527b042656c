//! [`Campaign`]: dials the outbound list with a concurrency limit and retries.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;
use voicebot_bot::{BotConfigError, BotContext, DialRequest, Dialer, Dn};

use crate::announce::{Addressed, Announcement};
use crate::config::{Config, Outbound, Recipient, RetryOn, invalid};
use crate::report::{CampaignReport, NumberResult, Outcome};

/// An outbound campaign: every number of `outbound.numbers` is called from the
/// route point `outbound.from`; answered calls hear the announcement.
///
/// At most `concurrency` calls are in progress at once. A number whose attempt
/// ends with an outcome in `retry_on` is tried again after `retry_delay`, up to
/// `retries` more times; while it waits it holds no call slot, so other numbers
/// go ahead.
///
/// ```no_run
/// # async fn example(context: voicebot_bot::BotContext) -> Result<(), Box<dyn std::error::Error>> {
/// use voicebot_announcement::{Campaign, Config};
///
/// let config: Config = toml::from_str(include_str!("example.toml"))?;
/// let campaign = Campaign::new(config, &context)?;
/// let report = campaign.run().await;
/// campaign.write_report(&report).await?;
/// # Ok(()) }
/// ```
pub struct Campaign {
    outbound: Outbound,
    dialer: Arc<dyn Dialer>,
    bot: Arc<Announcement>,
}

impl Campaign {
    /// A campaign from `config` (which must have an `outbound` table), dialling
    /// through the context's dialer.
    ///
    /// # Errors
    /// [`BotConfigError`] as [`Announcement::new`], or naming `outbound` when the
    /// table or the dialer is missing.
    pub fn new(config: Config, context: &BotContext) -> Result<Self, BotConfigError> {
        let Some(dialer) = context.dialer() else {
            return Err(invalid(
                "outbound",
                "outbound mode needs the engine's dialer, and this context has none",
            ));
        };
        Self::with_dialer(config, Arc::clone(dialer))
    }

    /// A campaign from `config`, dialling through `dialer`.
    ///
    /// # Errors
    /// As [`Campaign::new`].
    pub fn with_dialer(config: Config, dialer: Arc<dyn Dialer>) -> Result<Self, BotConfigError> {
        let Some(outbound) = config.outbound.clone() else {
            return Err(invalid("outbound", "no `outbound` table: nothing to dial"));
        };
        let bot = Arc::new(Announcement::new(config)?);
        Ok(Self {
            outbound,
            dialer,
            bot,
        })
    }

    /// Dials every number and returns the results in list order. Resolves when
    /// every number has a final outcome.
    ///
    /// # Cancellation
    /// Dropping the future stops dialling; calls already answered are dropped by
    /// the engine as their futures are.
    pub async fn run(&self) -> CampaignReport {
        let slots = Semaphore::new(self.outbound.concurrency);
        let calls = self
            .outbound
            .numbers
            .iter()
            .map(|recipient| self.call(recipient, &slots));
        // All numbers on this one task: the semaphore, not task count, bounds the
        // calls, and each number's retry sleep costs nothing.
        let results = futures::future::join_all(calls).await;
        CampaignReport { results }
    }

    /// Writes this run's results into `outbound.results_dir` (see
    /// [`CampaignReport::write_to`]): timestamped files, copied to `results.csv` and
    /// `results.json`.
    ///
    /// # Errors
    /// The I/O error when a file cannot be written.
    pub async fn write_report(&self, report: &CampaignReport) -> io::Result<[PathBuf; 2]> {
        report.write_to(&self.outbound.results_dir).await
    }

    /// One number: attempts until a final outcome.
    async fn call(&self, recipient: &Recipient, slots: &Semaphore) -> NumberResult {
        let number = recipient.number.trim();
        let bot = Arc::new(Addressed {
            bot: Arc::clone(&self.bot),
            recipient: recipient.clone(),
        });
        let mut attempts = 0;
        loop {
            attempts += 1;
            let attempt = {
                // The slot is held for the call only, never across the retry delay.
                let _slot = slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let mut request = DialRequest::new(
                    Dn::new(self.outbound.from.as_str()),
                    number,
                    Arc::clone(&bot) as _,
                );
                request.ring_timeout = self.outbound.ring_timeout;
                self.dialer.dial(request).await
            };
            let (outcome, reason, talk_time_ms) = match &attempt {
                Ok(outcome) => Outcome::of(outcome),
                Err(error) => (Outcome::Failed, error.to_string(), 0),
            };
            tracing::info!(%number, attempts, ?outcome, %reason, "campaign attempt");
            if !should_retry(&self.outbound, outcome, attempts) {
                return NumberResult {
                    number: number.to_owned(),
                    outcome,
                    attempts,
                    reason,
                    talk_time_ms,
                };
            }
            tokio::time::sleep(self.outbound.retry_delay).await;
        }
    }
}

/// Whether a number whose attempt number `attempts` ended with `outcome` gets
/// another attempt.
fn should_retry(outbound: &Outbound, outcome: Outcome, attempts: u32) -> bool {
    let kind = match outcome {
        Outcome::Answered => return false,
        Outcome::Busy => RetryOn::Busy,
        Outcome::NoAnswer => RetryOn::NoAnswer,
        Outcome::Failed => RetryOn::Failed,
    };
    // `retries` counts attempts after the first.
    outbound.retry_on.contains(&kind) && attempts <= outbound.retries
}

impl fmt::Debug for Campaign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Campaign")
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
