//! `voicebot run --check` for `[tts]`: when the file configures a synthesiser or a bot speaks
//! text, the synthesiser must work now, not at the first caller.

use anyhow::Context;

use crate::config::Config;
use crate::exit::Exit;

/// Synthesises one word with the configured engine when `[tts]` is present or any bot table
/// holds a text prompt (`{ text = "..." }`); does nothing otherwise, so a configuration that
/// never speaks text does not need espeak-ng installed.
///
/// # Errors
/// Exit 2 naming `tts` and what failed (the program is missing, the voice does not exist, the
/// server refused or cannot be reached).
pub(crate) async fn check(config: &Config) -> anyhow::Result<()> {
    let text_prompts = text_prompt_count(config);
    if !config.has_tts_section() && text_prompts == 0 {
        return Ok(());
    }
    let speaker = config.speaker()?;
    speaker
        .check()
        .await
        .map_err(|error| {
            Exit::Usage.error(format!(
                "{}: tts: the speech synthesiser ({}) does not work: {error}",
                config.file.display(),
                speaker.engine().identity()
            ))
        })
        .context("checking [tts]")?;
    println!(
        "{}: tts ok ({}; {text_prompts} text prompt{})",
        config.file.display(),
        speaker.engine().identity(),
        if text_prompts == 1 { "" } else { "s" }
    );
    Ok(())
}

/// How many text prompts the bots' tables hold: tables whose keys are `text` (a string) and
/// optionally `voice`, the form every bot reads a text prompt in.
pub(crate) fn text_prompt_count(config: &Config) -> usize {
    config
        .sites()
        .iter()
        .flat_map(|site| site.route_points.values())
        .filter_map(|route_point| route_point.config.as_ref())
        .map(|table| count_in(&toml::Value::Table(table.get_ref().clone())))
        .sum()
}

fn count_in(value: &toml::Value) -> usize {
    match value {
        toml::Value::Table(table) => {
            let is_prompt = table.get("text").is_some_and(toml::Value::is_str)
                && table.keys().all(|key| key == "text" || key == "voice");
            match is_prompt {
                true => 1,
                false => table.values().map(count_in).sum(),
            }
        }
        toml::Value::Array(items) => items.iter().map(count_in).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_prompts_are_found_at_any_depth() {
        let value: toml::Value = toml::from_str(
            r#"
            prompt = { text = "Hello." }
            invalid_prompt = "invalid.wav"
            [nodes.main]
            prompt = { text = "Press 1.", voice = "en-gb" }
            say = { "sales" = "1" }
            options = [{ prompt = { text = "Bye." } }]
            "#,
        )
        .unwrap();
        assert_eq!(count_in(&value), 3);
    }
}
