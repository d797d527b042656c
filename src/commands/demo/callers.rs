//! The demo's scripted callers. Each presses keys at moments chosen from what it has
//! heard so far (not from wall-clock time), so the scripts hold on a slow machine.

use std::path::PathBuf;
use std::time::Duration;

use voicebot_sim::{Caller, Sim, SimError};

use super::report::{CallerReport, Progress};

/// Durations of the prompts the scripts wait for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// The welcome prompt.
    pub(crate) welcome: Duration,
    /// The voicemail greeting plus the beep.
    pub(crate) greeting_and_beep: Duration,
}

/// What every script gets.
#[derive(Debug, Clone)]
pub(crate) struct Stage<'a> {
    pub(crate) sim: &'a Sim,
    pub(crate) progress: Progress,
    pub(crate) timing: Timing,
    pub(crate) voice: PathBuf,
}

/// One caller: dials, runs `script`, and reports what happened.
struct Run<'a> {
    stage: &'a Stage<'a>,
    report: CallerReport,
}

impl Run<'_> {
    fn say(&mut self, what: String) {
        self.stage.progress.line(self.report.name, &what);
        self.report.actions.push(what);
    }

    async fn press(&mut self, caller: &Caller, digits: &str, why: &str) -> Result<(), SimError> {
        let heard = caller.heard().audio_duration();
        caller.press(digits).await?;
        self.say(format!(
            "pressed {digits} ({why}) after {:.1} s of prompts",
            heard.as_secs_f64()
        ));
        Ok(())
    }

    /// Waits until `more` audio was heard beyond what has been heard so far.
    async fn listen(caller: &Caller, more: Duration) -> Result<(), SimError> {
        let heard = caller.heard().audio_duration();
        caller.wait_heard(heard + more).await
    }
}

/// Runs one scenario end to end; never fails, the report says what went wrong.
pub(crate) async fn call(
    stage: &Stage<'_>,
    name: &'static str,
    scenario: &'static str,
    from: &str,
) -> CallerReport {
    let mut run = Run {
        stage,
        report: CallerReport::new(name, scenario, from),
    };
    let caller = match stage.sim.call_in(from).await {
        Ok(caller) => caller,
        Err(error) => {
            run.report.error = Some(format!("dialling: {error}"));
            return run.report;
        }
    };
    stage.progress.name_call(caller.callid(), name);
    stage
        .progress
        .line(name, format!("dials the route point: {scenario}"));
    let script = async {
        caller.wait_connected().await?;
        match scenario {
            MENU => menu(&mut run, &caller).await,
            VOICEMAIL => voicemail(&mut run, &caller).await,
            BARGE_IN => barge_in(&mut run, &caller).await,
            _ => transfer(&mut run, &caller).await,
        }
    };
    let outcome = tokio::time::timeout(Duration::from_secs(40), script).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => run.report.error = Some(error.to_string()),
        Err(_) => run.report.error = Some("timed out after 40 s".to_owned()),
    }
    let end = match tokio::time::timeout(Duration::from_secs(10), caller.wait_ended()).await {
        Ok(end) => Some(end),
        Err(_) => {
            let _ = caller.hang_up().await;
            run.report
                .error
                .get_or_insert_with(|| "the call did not end".to_owned());
            None
        }
    };
    run.report.heard = caller.heard().audio_duration();
    if let Some(end) = &end {
        stage.progress.line(
            name,
            format!("call over: {}", super::report::describe_end(Some(end))),
        );
    }
    run.report.end = end;
    run.report
}

/// Scenario names.
pub(crate) const MENU: &str = "menu navigation (sub-menu, back, hang-up option)";
pub(crate) const VOICEMAIL: &str = "voicemail (leaves a message)";
pub(crate) const BARGE_IN: &str = "barge-in (presses during the welcome)";
pub(crate) const TRANSFER: &str = "transfer (listens to the whole menu, picks support)";

/// 1 → sales menu, * → back, 1 → sales again, 2 → goodbye and hang-up.
async fn menu(run: &mut Run<'_>, caller: &Caller) -> Result<(), SimError> {
    caller.wait_heard(Duration::from_millis(1500)).await?;
    run.press(caller, "1", "sales").await?;
    Run::listen(caller, Duration::from_millis(1500)).await?;
    run.press(caller, "*", "back to the main menu").await?;
    Run::listen(caller, Duration::from_millis(1200)).await?;
    run.press(caller, "1", "sales again").await?;
    Run::listen(caller, Duration::from_millis(1200)).await?;
    run.press(caller, "2", "the hang-up option").await?;
    Ok(())
}

/// 3 → greeting and beep, says something, # → "saved", the bot hangs up.
async fn voicemail(run: &mut Run<'_>, caller: &Caller) -> Result<(), SimError> {
    caller.wait_heard(Duration::from_millis(1000)).await?;
    run.press(caller, "3", "leave a message").await?;
    // The greeting and beep, less what a barge-in leaves queued; then the silence
    // of the recorder listening.
    let greeting = run.stage.timing.greeting_and_beep;
    Run::listen(caller, greeting.saturating_sub(Duration::from_millis(300))).await?;
    caller.wait_silence(Duration::from_millis(200)).await?;
    caller.send_wav(&run.stage.voice).await?;
    caller.wait_sent().await;
    run.say("spoke a 2.5 s message".to_owned());
    run.press(caller, "#", "done").await?;
    Ok(())
}

/// Presses 0 (operator) 0.6 s into the welcome: the prompt stops at once.
async fn barge_in(run: &mut Run<'_>, caller: &Caller) -> Result<(), SimError> {
    caller.wait_heard(Duration::from_millis(600)).await?;
    let welcome = run.stage.timing.welcome.as_secs_f64();
    run.press(
        caller,
        "0",
        &format!("operator, barging into the {welcome:.1} s welcome"),
    )
    .await?;
    Ok(())
}

/// Hears the whole welcome, then presses 2 (support).
async fn transfer(run: &mut Run<'_>, caller: &Caller) -> Result<(), SimError> {
    let whole = run
        .stage
        .timing
        .welcome
        .saturating_sub(Duration::from_millis(100));
    caller.wait_heard(whole).await?;
    run.press(caller, "2", "support").await?;
    Ok(())
}
