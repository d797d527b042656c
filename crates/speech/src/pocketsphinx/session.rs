//! The decoder thread of one PocketSphinx session: upsampling, endpointing, partial and final
//! results.

use std::{collections::VecDeque, time::Duration};

use tokio::sync::oneshot;
use voicebot_media::{Frame, Upsampler8To16, VoiceDetector, VoiceEvent};

use super::{
    Settings,
    dither::Dither,
    ffi::{CallFailed, Decoder, Segment},
    fillers,
};
use crate::{
    error::{ConfigError, Result, SpeechError},
    grammar::Grammar,
    recognition::{Recognition, Word, normalize},
    worker::WorkerIo,
};

/// PocketSphinx's feature frame: 10 ms (`-frate 100`).
const DECODER_FRAME: Duration = Duration::from_millis(10);

impl From<CallFailed> for SpeechError {
    fn from(CallFailed(operation): CallFailed) -> Self {
        Self::Decoder { operation }
    }
}

/// Builds the decoder, reports readiness on `ready`, then decodes until the queue closes.
pub(super) fn run(
    settings: &Settings,
    grammar: Option<&Grammar>,
    partials: bool,
    io: WorkerIo,
    ready: oneshot::Sender<Result<()>>,
) -> Result<()> {
    let decoder = match build(settings, grammar) {
        Ok(decoder) => {
            let _ = ready.send(Ok(()));
            decoder
        }
        Err(error) => {
            let _ = ready.send(Err(error.clone()));
            return Err(error);
        }
    };
    let posteriors = grammar.is_none();
    let menu = grammar.and_then(Grammar::choice_phrases).is_some();
    let mut endpointer = Endpointer::new(settings, decoder, partials, posteriors)?;
    endpointer.menu = menu;
    let WorkerIo {
        mut frames,
        results,
        ..
    } = io;
    while let Some(timed) = frames.blocking_recv() {
        for result in endpointer.push(&timed.frame, timed.start)? {
            if !results.blocking_send(result) {
                return Ok(());
            }
        }
    }
    if let Some(result) = endpointer.end()? {
        results.blocking_send(result);
    }
    Ok(())
}

/// Word insertion penalty of grammar searches (`-wip`).
const GRAMMAR_WORD_INSERTION_PENALTY: &str = "1e-3";

fn build(settings: &Settings, grammar: Option<&Grammar>) -> Result<Decoder> {
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let (hmm, dict) = (path(&settings.acoustic_model), path(&settings.dictionary));
    let mut args: Vec<(&str, String)> = vec![
        ("-hmm", hmm),
        ("-dict", dict),
        ("-samprate", "16000".into()),
        // Our voice detector does the endpointing, so PocketSphinx's own silence removal is off.
        ("-remove_silence", "no".into()),
        // Digital silence is dithered before it is fed (see `dither`): PocketSphinx's own
        // dither shares one generator between all decoders of the process.
        ("-dither", "no".into()),
    ];
    let menu = grammar.and_then(Grammar::choice_phrases);
    match (grammar, menu) {
        (Some(_), Some(phrases)) => {
            // Menus reject what is not on them: common words as fillers (see `fillers`).
            let fillers = fillers::filler_dictionary(&settings.dictionary, phrases)?;
            args.push(("-fdict", path(&fillers)));
            args.push(("-fillprob", fillers::FILLER_PROBABILITY.into()));
            args.push(("-wip", fillers::MENU_WORD_INSERTION_PENALTY.into()));
            args.extend(fillers::MENU_BEAMS.map(|(flag, value)| (flag, value.to_owned())));
        }
        // The default insertion penalty (0.65) let grammars of repeatable words (digit strings)
        // insert words into pauses and releases: "one two three four oh". 1e-3 measured best.
        (Some(_), None) => args.push(("-wip", GRAMMAR_WORD_INSERTION_PENALTY.into())),
        (None, _) => {}
    }
    if let Some(adaptation) = &settings.adaptation {
        args.extend(adaptation.decoder_args());
    }
    let borrowed: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut decoder = Decoder::new(&borrowed)?;
    let search = match grammar {
        Some(grammar) => {
            let jsgf = match menu {
                Some(phrases) => fillers::optional_jsgf(phrases),
                None => grammar.to_jsgf(),
            };
            decoder.set_jsgf("grammar", &jsgf).map(|()| "grammar")
        }
        None => decoder
            .set_lm_file("lm", &path(&settings.language_model))
            .map(|()| "lm"),
    };
    let rejected = |reason: &str| ConfigError::GrammarRejected {
        reason: reason.to_owned(),
    };
    let search = search.map_err(|_| match grammar {
        Some(_) => rejected("PocketSphinx rejected the JSGF (syntax error or unknown word)"),
        None => rejected("PocketSphinx could not load the language model"),
    })?;
    decoder.set_search(search)?;
    Ok(decoder)
}

/// The utterance being decoded.
#[derive(Debug)]
struct Utterance {
    /// Its 16 kHz audio so far, decoded again as a whole at the end.
    audio: Vec<i16>,
    start: Duration,
    end: Duration,
    frames_since_partial: u32,
    last_partial: String,
}

/// Splits the frame stream into utterances and decodes them.
#[derive(Debug)]
struct Endpointer {
    decoder: Decoder,
    vad: VoiceDetector,
    upsampler: Upsampler8To16,
    /// Upsampled frames from before speech onset, with their call times.
    pre_roll: VecDeque<([i16; Upsampler8To16::OUTPUT_SAMPLES], Duration)>,
    pre_roll_frames: usize,
    partial_frames: u32,
    partials: bool,
    /// Whether the search computes real posteriors. The language-model search does (from its
    /// word lattice); the grammar (FSG) search of this PocketSphinx reports 1.0 for every
    /// hypothesis and every word, right or wrong, so grammar results carry no confidence.
    posteriors: bool,
    max_utterance: Duration,
    utterance: Option<Utterance>,
    /// The current utterance's dither, restarted at each utterance.
    dither: Dither,
    /// Whether this is a menu grammar with fillers: utterances of fillers only end in an empty
    /// final result (a no-match).
    menu: bool,
}

fn frames_in(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis() / Frame::DURATION.as_millis()).unwrap_or(u32::MAX)
}

impl Endpointer {
    fn new(
        settings: &Settings,
        decoder: Decoder,
        partials: bool,
        posteriors: bool,
    ) -> Result<Self> {
        let config = |_| SpeechError::Decoder {
            operation: "voice detector or upsampler setup",
        };
        let pre_roll_frames = frames_in(settings.pre_roll) as usize;
        Ok(Self {
            decoder,
            vad: VoiceDetector::new(settings.vad).map_err(config)?,
            upsampler: Upsampler8To16::new().map_err(config)?,
            pre_roll: VecDeque::with_capacity(pre_roll_frames + 1),
            pre_roll_frames,
            partial_frames: frames_in(settings.partial_interval).max(1),
            partials,
            posteriors,
            max_utterance: settings.max_utterance,
            utterance: None,
            dither: Dither::new(),
            menu: false,
        })
    }

    /// Takes the frame starting at `start`; returns the results it completes.
    fn push(&mut self, frame: &Frame, start: Duration) -> Result<Vec<Recognition>> {
        let mut wide = [0i16; Upsampler8To16::OUTPUT_SAMPLES];
        self.upsampler
            .process(frame, &mut wide)
            .map_err(|_| SpeechError::Decoder {
                operation: "Upsampler8To16::process",
            })?;
        let event = self.vad.process(frame, start);
        let end = start + Frame::DURATION;
        let mut out = Vec::new();
        match self.utterance.as_mut() {
            None => {
                self.pre_roll.push_back((wide, start));
                while self.pre_roll.len() > self.pre_roll_frames.max(1) {
                    self.pre_roll.pop_front();
                }
                if let Some(VoiceEvent::SpeechStarted { .. }) = event {
                    self.begin(end)?;
                }
            }
            Some(utterance) => {
                self.dither.apply(&mut wide);
                utterance.audio.extend_from_slice(&wide);
                if self.partials {
                    self.decoder.process(&wide, false)?;
                }
                utterance.end = end;
                utterance.frames_since_partial += 1;
                let too_long = end.saturating_sub(utterance.start) >= self.max_utterance;
                if matches!(event, Some(VoiceEvent::SpeechStopped { .. })) || too_long {
                    out.extend(self.end()?);
                } else if utterance.frames_since_partial >= self.partial_frames {
                    utterance.frames_since_partial = 0;
                    out.extend(self.partial());
                }
            }
        }
        Ok(out)
    }

    /// Starts an utterance with the pre-roll (which holds the current frame).
    fn begin(&mut self, end: Duration) -> Result<()> {
        let start = self.pre_roll.front().map_or(end, |(_, at)| *at);
        let mut audio = Vec::with_capacity(16_000 * 4);
        for (wide, _) in self.pre_roll.drain(..) {
            audio.extend_from_slice(&wide);
        }
        self.dither = Dither::new();
        self.dither.apply(&mut audio);
        if self.partials {
            self.decoder.start_utt()?;
            self.decoder.process(&audio, false)?;
        }
        self.utterance = Some(Utterance {
            audio,
            start,
            end,
            frames_since_partial: 0,
            last_partial: String::new(),
        });
        Ok(())
    }

    /// The running hypothesis, if it changed.
    fn partial(&mut self) -> Option<Recognition> {
        let text = normalize(&self.decoder.hypothesis()?);
        let utterance = self.utterance.as_mut()?;
        if text.is_empty() || text == utterance.last_partial {
            return None;
        }
        utterance.last_partial.clone_from(&text);
        Some(Recognition {
            text,
            is_final: false,
            start: utterance.start,
            end: utterance.end,
            confidence: None,
            words: Vec::new(),
        })
    }

    /// Ends the current utterance (if any); its final result unless nothing was recognised.
    fn end(&mut self) -> Result<Option<Recognition>> {
        let Some(utterance) = self.utterance.take() else {
            return Ok(None);
        };
        // Partials come from a streaming decode, whose cepstral mean is only an estimate (live
        // CMN starts from the model's defaults, which made short first utterances come out
        // wrong: "sales" heard as "billing"). The final decodes the whole utterance again,
        // normalised over itself (batch CMN); it costs a second pass, but menu answers are short.
        if self.partials {
            self.decoder.end_utt()?;
        }
        self.decoder.start_utt()?;
        self.decoder.process(&utterance.audio, true)?;
        self.decoder.end_utt()?;
        let text = normalize(&self.decoder.hypothesis().unwrap_or_default());
        if text.is_empty() {
            // In a menu, speech that only fillers fit is a no-match, reported as such.
            return Ok(self.menu.then(|| Recognition {
                text,
                is_final: true,
                start: utterance.start,
                end: utterance.end,
                confidence: None,
                words: Vec::new(),
            }));
        }
        let mut words = words(&self.decoder.segments(), utterance.start);
        words.iter_mut().for_each(|w| w.confidence = None);
        // Grammar searches report a posterior of 1.0 for anything, so they give none.
        let confidence = self.posteriors.then(|| self.decoder.probability() as f32);
        Ok(Some(Recognition {
            text,
            is_final: true,
            start: words.first().map_or(utterance.start, |w| w.start),
            end: words.last().map_or(utterance.end, |w| w.end),
            confidence,
            words,
        }))
    }
}

/// Real words of a segmentation, timed in the call: fillers (`<s>`, `<sil>`, `[NOISE]`) go,
/// and alternate pronunciation marks (`two(2)`) are stripped.
fn words(segments: &[Segment], utterance_start: Duration) -> Vec<Word> {
    // Frames count from the first segment, which opens the utterance: after a streaming pass
    // and a whole-utterance pass in one decoder, PocketSphinx's frame numbers do not restart
    // at zero.
    let base = segments.first().map_or(0, |s| s.start_frame);
    let at = |frame: u32| utterance_start + DECODER_FRAME * frame.saturating_sub(base);
    segments
        .iter()
        .filter(|s| {
            !(s.word.starts_with('<')
                || s.word.starts_with('[')
                || s.word.starts_with('(')
                || s.word.starts_with("++"))
        })
        .map(|s| Word {
            text: normalize(s.word.split('(').next().unwrap_or_default()),
            start: at(s.start_frame),
            end: at(s.end_frame.saturating_add(1)),
            confidence: Some(s.probability as f32),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(word: &str, start_frame: u32, end_frame: u32) -> Segment {
        Segment {
            word: word.to_owned(),
            start_frame,
            end_frame,
            probability: 0.5,
        }
    }

    #[test]
    fn words_drop_fillers_and_alternate_marks() {
        let segments = [
            segment("<s>", 0, 9),
            segment("two(2)", 10, 39),
            segment("<sil>", 40, 49),
            segment("[NOISE]", 50, 59),
            segment("++the0++", 50, 59),
            segment("four", 60, 89),
            segment("</s>", 90, 99),
        ];
        let words = words(&segments, Duration::from_secs(2));
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["two", "four"]);
        assert_eq!(words[0].start, Duration::from_millis(2_100));
        assert_eq!(words[1].end, Duration::from_millis(2_900));
        assert_eq!(words[1].confidence, Some(0.5));
    }
}
