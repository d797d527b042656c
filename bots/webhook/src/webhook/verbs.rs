//! Carrying out one verb on the call.

use std::time::Duration;

use voicebot_bot::{BotError, CallError, Grammar, PromptSource};

use super::run::{Ending, Run};
use crate::error::WebhookError;
use crate::request::{Event, GatherResult, RecordResult, Status, StreamResult, millis};
use crate::stream::{self, AfterStream, StreamSettings};
use crate::verb::{self, Gather, Record, StreamVerb, Verb};

/// What follows a verb.
pub(super) enum Step {
    /// The next verb of the answer.
    Next,
    /// New verbs from the server (a verb's `action`, a `redirect`).
    Fetch {
        /// What to report.
        event: Event,
        /// Where to ask.
        url: String,
    },
    /// The call has left the bot.
    Ended(Ending),
}

pub(super) async fn run_verb(
    run: &mut Run<'_>,
    verb: Verb,
    source: &str,
    index: usize,
) -> Result<Step, BotError> {
    let name = verb.name();
    // Settings the Call API refuses are the server's mistake: name the verb.
    let bad_verb = |error: CallError| -> BotError {
        match error {
            CallError::InvalidRequest(what) => WebhookError::BadVerb {
                url: source.to_owned(),
                index,
                verb: name,
                what,
            }
            .into(),
            other => other.into(),
        }
    };
    let call = run.call.clone();
    match verb {
        Verb::Say(say) => {
            let text = voicebot_bot::SpeechText {
                text: say.text,
                voice: say.voice,
            };
            call.say(text).await.map_err(bad_verb)?;
            Ok(Step::Next)
        }
        Verb::Play(play) => {
            let mut builder = call.play(run.shared.prompt(&play.prompt));
            if let Some(loops) = play.loops {
                builder = builder.loops(loops);
            }
            if let Some(barge_in) = play.barge_in {
                builder = builder.barge_in(barge_in.into());
            }
            builder.await.map_err(bad_verb)?;
            Ok(Step::Next)
        }
        Verb::Gather(gather) => {
            let action = gather.action.clone();
            let digits = gather_builder(run, *gather)
                .map_err(|what| WebhookError::BadVerb {
                    url: source.to_owned(),
                    index,
                    verb: name,
                    what,
                })?
                .await
                .map_err(bad_verb)?;
            Ok(match action {
                Some(url) => Step::Fetch {
                    event: Event::Gather {
                        gather: GatherResult::from(&digits),
                    },
                    url,
                },
                None => Step::Next,
            })
        }
        Verb::Record(record) => {
            let action = record.action.clone();
            let recording = record_builder(run, record).await.map_err(bad_verb)?;
            Ok(match action {
                Some(url) => Step::Fetch {
                    event: Event::Record {
                        record: RecordResult::from(&recording),
                    },
                    url,
                },
                None => Step::Next,
            })
        }
        Verb::Transfer(transfer) => {
            routed(run, &transfer.to, call.transfer(transfer.to.as_str()).await).await
        }
        Verb::RouteTo(route) => {
            let mut builder = call.route_to(route.to.as_str());
            if let Some(prompt) = &route.prompt {
                builder = builder.prompt(run.shared.prompt(prompt));
            }
            if let Some(timeout) = route.timeout {
                builder = builder.timeout(timeout);
            }
            routed(run, &route.to, builder.await).await
        }
        Verb::Divert(divert) => {
            let reason = verb::reason(&divert);
            routed(
                run,
                &divert.to,
                call.divert(divert.to.as_str(), reason).await,
            )
            .await
        }
        Verb::Hangup => match call.hangup().await {
            Ok(()) | Err(CallError::Ended) => Ok(Step::Ended(Ending::Completed)),
            Err(other) => Err(other.into()),
        },
        Verb::Pause(pause) => {
            call.play(PromptSource::Silence(pause.length))
                .not_interruptible()
                .await
                .map_err(bad_verb)?;
            Ok(Step::Next)
        }
        Verb::AttachData(attach) => {
            call.attach_data(attach.data.clone())
                .await
                .map_err(bad_verb)?;
            run.details.attached_data.extend(attach.data);
            Ok(Step::Next)
        }
        Verb::Redirect(redirect) => Ok(Step::Fetch {
            event: Event::Redirect,
            url: redirect.url,
        }),
        Verb::Stream(stream) => run_stream(run, *stream).await,
    }
}

/// A transfer, route or divert: on success the call has left the bot; when the PBX
/// refuses or the destination does not take the call, the caller is still here and
/// the next verb runs (it can say sorry, or try elsewhere).
async fn routed(
    run: &mut Run<'_>,
    destination: &str,
    outcome: Result<(), CallError>,
) -> Result<Step, BotError> {
    match outcome {
        Ok(()) => {
            run.status(Status {
                destination: Some(destination.to_owned()),
                ..Status::plain("transferred")
            })
            .await;
            Ok(Step::Ended(Ending::Transferred))
        }
        Err(CallError::Rejected { status, reason }) => {
            tracing::info!(
                call_id = run.details.call_id,
                destination,
                status,
                reason,
                "the destination did not take the call; next verb"
            );
            Ok(Step::Next)
        }
        Err(other) => Err(other.into()),
    }
}

fn gather_builder(run: &Run<'_>, gather: Gather) -> Result<voicebot_bot::GatherBuilder, String> {
    let mut builder = run.call.gather();
    if let Some(prompt) = &gather.prompt {
        builder = builder.prompt(run.shared.prompt(prompt));
    }
    if let Some(prompt) = &gather.invalid_prompt {
        builder = builder.invalid_prompt(run.shared.prompt(prompt));
    }
    if let Some(count) = gather.min_digits {
        builder = builder.min_digits(count);
    }
    if let Some(count) = gather.max_digits {
        builder = builder.max_digits(count);
    }
    if let Some(count) = gather.digits {
        builder = builder.digits(count);
    }
    if let Some(timeout) = gather.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(timeout) = gather.inter_digit_timeout {
        builder = builder.inter_digit_timeout(timeout);
    }
    if let Some(keys) = gather.finish_on {
        builder = builder.finish_on(keys);
    }
    if let Some(required) = gather.terminator_required {
        builder = builder.terminator_required(required);
    }
    if let Some(tries) = gather.tries {
        builder = builder.tries(tries);
    }
    if let Some(barge_in) = gather.barge_in {
        builder = builder.barge_in(barge_in.into());
    }
    if let Some(pattern) = gather.pattern {
        // Checked when the answer was parsed.
        let pattern = regex::Regex::new(&pattern).map_err(|error| format!("pattern: {error}"))?;
        builder = builder.validate_regex(pattern);
    }
    if let Some(speech) = gather.speech {
        let grammar = match speech.digits {
            Some([min, max]) => Grammar::digits(min, max),
            None => Grammar::choices(speech.choices),
        }
        .map_err(|error| format!("speech: {error}"))?;
        builder = builder.speech(grammar);
        if let Some(timeout) = gather.speech_timeout {
            builder = builder.speech_timeout(timeout);
        }
    }
    Ok(builder)
}

async fn record_builder(
    run: &Run<'_>,
    record: Record,
) -> Result<voicebot_bot::Recording, CallError> {
    let path = run
        .shared
        .recordings_dir
        .join(&run.shared.config.record_path);
    let mut builder = run
        .call
        .record()
        .path_template(path.to_string_lossy().into_owned());
    if let Some(length) = record.max_length {
        builder = builder.max_length(length);
    }
    match record.silence_timeout {
        Some(Duration::ZERO) => builder = builder.no_silence_timeout(),
        Some(timeout) => builder = builder.silence_timeout(timeout),
        None => {}
    }
    if let Some(keys) = record.finish_on {
        builder = builder.finish_on(keys);
    }
    if let Some(beep) = record.beep {
        builder = builder.beep(beep);
    }
    if let Some(channels) = record.channels {
        builder = builder.channels(channels.into());
    }
    if let Some(trim) = record.trim_silence {
        builder = builder.trim_silence(trim);
    }
    builder.await
}

async fn run_stream(run: &mut Run<'_>, verb: StreamVerb) -> Result<Step, BotError> {
    let defaults = &run.shared.config.stream;
    let call = run.call.clone();
    let settings = StreamSettings {
        url: verb.url,
        protocol: verb.protocol.unwrap_or_default(),
        parameters: verb
            .parameters
            .iter()
            .map(|(name, value)| (name.clone(), stream::expand(value, &call)))
            .collect(),
        connect_timeout: defaults.connect_timeout,
        silence_timeout: Some(verb.silence_timeout.unwrap_or(defaults.silence_timeout))
            .filter(|timeout| !timeout.is_zero()),
        max_duration: verb.max_duration,
        signer: Some(run.shared.signer.clone()),
        on_disconnect: verb.on_disconnect.unwrap_or(crate::config::hangup()),
        on_connect_failure: verb.on_connect_failure.unwrap_or(crate::config::fallback()),
        on_silence: verb.on_silence.unwrap_or(crate::config::hangup()),
    };
    let started = tokio::time::Instant::now();
    let end = stream::bridge(&call, &run.details, &settings).await?;
    match stream::finish(&call, &end, end.action(&settings)).await? {
        AfterStream::Ended => Ok(Step::Ended(Ending::Completed)),
        AfterStream::Continue => Ok(match verb.action {
            Some(url) => Step::Fetch {
                event: Event::Stream {
                    stream: StreamResult {
                        ended_by: end.name(),
                        error: end.error().map(str::to_owned),
                        duration_ms: millis(started.elapsed()),
                    },
                },
                url,
            },
            None => Step::Next,
        }),
    }
}
