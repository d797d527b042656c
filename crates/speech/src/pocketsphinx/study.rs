//! Rejection study: dumps, for every spoken fixture of the rejection sets (tuning and held
//! out), what each PocketSphinx search makes of it, as JSON lines for offline analysis.
//! Runs only with `VOICEBOT_STUDY=<output file>`.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use serde_json::json;
use voicebot_media::{Frame, Upsampler8To16};

use super::{
    ffi::{Decoder, Segment},
    fillers,
    telephone::Adaptation,
};

const MODEL: &str = "/usr/share/pocketsphinx/model/en-us";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(rel: &str) -> Vec<i16> {
    let mut reader = hound::WavReader::open(fixtures().join(format!("{rel}.wav"))).unwrap();
    reader.samples::<i16>().map_while(Result::ok).collect()
}

fn wide(samples: &[i16]) -> Vec<i16> {
    let mut up = Upsampler8To16::new().unwrap();
    let mut all = vec![0i16; 2400];
    all.extend_from_slice(samples);
    all.extend(std::iter::repeat_n(0, 4800));
    let mut out = Vec::new();
    for chunk in all.chunks(Frame::SAMPLES) {
        let frame = Frame::from_slice_padded(chunk);
        let mut buf = [0i16; Upsampler8To16::OUTPUT_SAMPLES];
        up.process(&frame, &mut buf).unwrap();
        out.extend_from_slice(&buf);
    }
    out
}

fn lines(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(fixtures().join(file))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

fn decoder(extra: &[(&str, String)]) -> Decoder {
    let adaptation = Adaptation::for_model(&Path::new(MODEL).join("en-us")).unwrap();
    let mut args: Vec<(String, String)> = vec![
        ("-hmm".into(), format!("{MODEL}/en-us")),
        ("-dict".into(), format!("{MODEL}/cmudict-en-us.dict")),
        ("-samprate".into(), "16000".into()),
        ("-remove_silence".into(), "no".into()),
        ("-dither".into(), "yes".into()),
        ("-seed".into(), "1".into()),
        ("-wip".into(), "1e-3".into()),
    ];
    if let Ok(extra) = std::env::var("VOICEBOT_STUDY_ARGS") {
        let parts: Vec<&str> = extra.split_whitespace().collect();
        for pair in parts.chunks(2) {
            args.retain(|(a, _)| a != pair[0]);
            args.push((pair[0].to_owned(), pair[1].to_owned()));
        }
    }
    for (k, v) in adaptation.decoder_args() {
        args.push((k.to_owned(), v));
    }
    for (k, v) in extra {
        args.retain(|(a, _)| a != k);
        args.push(((*k).to_owned(), v.clone()));
    }
    let borrowed: Vec<(&str, &str)> = args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Decoder::new(&borrowed).unwrap()
}

const MENU: [&str; 10] = [
    "sales",
    "support",
    "billing",
    "operator",
    "speak to an agent",
    "yes",
    "no",
    "john smith",
    "mary johnson",
    "david miller",
];

fn segs(segments: &[Segment]) -> serde_json::Value {
    segments
        .iter()
        .map(|s| {
            json!([
                s.word,
                s.start_frame,
                s.end_frame,
                s.acoustic_score,
                s.log_probability
            ])
        })
        .collect()
}

fn decode(decoder: &mut Decoder, search: &str, audio: &[i16]) -> serde_json::Value {
    let began = std::time::Instant::now();
    let out = decode_inner(decoder, search, audio);
    println!("  {search}: {:?}", began.elapsed());
    out
}

fn decode_inner(decoder: &mut Decoder, search: &str, audio: &[i16]) -> serde_json::Value {
    decoder.set_search(search).unwrap();
    decoder.start_utt().unwrap();
    decoder.process(audio, true).unwrap();
    decoder.end_utt().unwrap();
    let (text, score) = decoder.scored_hypothesis().unwrap_or_default();
    json!({"text": text, "score": score, "frames": decoder.frames(), "segs": segs(&decoder.segments())})
}

#[test]
fn study() {
    let Some(out) = std::env::var_os("VOICEBOT_STUDY") else {
        return;
    };
    let phrases: Vec<String> = MENU.iter().map(|p| (*p).to_owned()).collect();
    let dict = PathBuf::from(format!("{MODEL}/cmudict-en-us.dict"));
    let fdict = fillers::filler_dictionary(&dict, &phrases).unwrap();
    let fill_probs: Vec<String> = std::env::var("VOICEBOT_STUDY_FILLPROB")
        .unwrap_or_else(|_| "1e-2".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut filled: Vec<(String, Decoder)> = fill_probs
        .iter()
        .map(|p| {
            let mut d = decoder(&[
                ("-fdict", fdict.to_string_lossy().into_owned()),
                ("-fillprob", p.clone()),
            ]);
            d.set_jsgf("g", &fillers::optional_jsgf(&phrases)).unwrap();
            (p.clone(), d)
        })
        .collect();
    let mut plain = decoder(&[("-allphone_ci", "yes".into())]);
    let alts: Vec<String> = MENU.iter().map(|p| format!("( {p} )")).collect();
    plain
        .set_jsgf(
            "plain",
            &format!(
                "#JSGF V1.0;\ngrammar g;\npublic <c> = {};\n",
                alts.join(" | ")
            ),
        )
        .unwrap();
    plain
        .set_allphone_file("allphone", &format!("{MODEL}/en-us-phone.lm.bin"))
        .unwrap();
    let kws_file = std::env::temp_dir().join("voicebot-study-kws.txt");
    let threshold = std::env::var("VOICEBOT_STUDY_KWS").unwrap_or_else(|_| "1e-60".into());
    let kws: String = MENU.iter().map(|p| format!("{p} /{threshold}/\n")).collect();
    std::fs::write(&kws_file, kws).unwrap();
    plain
        .set_kws("kws", kws_file.to_str().unwrap())
        .unwrap();

    let mut items: Vec<(String, String, String)> = Vec::new(); // set, name, want
    for l in lines("phrases.txt").into_iter().filter(|l| l[1] != "digits") {
        items.push(("menu".into(), l[0].clone(), l[2].clone()));
    }
    for l in lines("offmenu.txt") {
        items.push(("offmenu".into(), format!("offmenu/{}", l[0]), String::new()));
    }
    for l in lines("sentences.txt") {
        items.push(("sentences".into(), format!("sentences/{}", l[0]), l[3].clone()));
    }
    for l in lines("heldout-menu.txt") {
        items.push(("h-menu".into(), format!("heldout/menu/{}", l[0]), l[4].clone()));
    }
    for l in lines("heldout-offmenu.txt") {
        items.push(("h-offmenu".into(), format!("heldout/offmenu/{}", l[0]), String::new()));
    }
    for l in lines("heldout-sentences.txt") {
        items.push(("h-sentences".into(), format!("heldout/sentences/{}", l[0]), l[4].clone()));
    }
    let mut file = std::fs::File::create(out).unwrap();
    for (set, name, want) in items {
        let audio = wide(&load(&name));
        let mut record = json!({"set": set, "name": name, "want": want});
        for (p, d) in &mut filled {
            record[format!("fill{p}")] = decode(d, "g", &audio);
        }
        record["plain"] = decode(&mut plain, "plain", &audio);
        if std::env::var_os("VOICEBOT_STUDY_LEAN").is_none() {
            record["allphone"] = decode(&mut plain, "allphone", &audio);
            record["kws"] = decode(&mut plain, "kws", &audio);
        }
        writeln!(file, "{record}").unwrap();
        println!("{set} {name}");
    }
}
