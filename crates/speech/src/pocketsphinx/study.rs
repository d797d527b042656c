//! Rejection study: which PocketSphinx mechanism tells menu answers from off-menu speech.
#![allow(missing_docs, unreachable_pub, clippy::print_stdout)]

use std::path::{Path, PathBuf};

use voicebot_media::{Frame, Upsampler8To16};

use super::ffi::Decoder;
use super::telephone::Adaptation;

const MODEL: &str = "/usr/share/pocketsphinx/model/en-us";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(rel: &str) -> Vec<i16> {
    let path = fixtures().join(format!("{rel}.wav"));
    let bytes = std::fs::read(&path).unwrap();
    // 44-byte canonical header from sox.
    bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
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

pub fn lines(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(fixtures().join(file))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

fn decoder(extra: &[(&str, &str)]) -> Decoder {
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
    for (k, v) in adaptation.decoder_args() {
        args.push((k.to_owned(), v));
    }
    for (k, v) in extra {
        args.retain(|(a, _)| a != k);
        args.push(((*k).to_owned(), (*v).to_owned()));
    }
    let borrowed: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Decoder::new(&borrowed).unwrap()
}

pub const MENU: [&str; 10] = [
    "sales", "support", "billing", "operator", "speak to an agent", "yes", "no", "john smith",
    "mary johnson", "david miller",
];

pub const PHONES: [&str; 39] = [
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH",
];

pub const GARBAGE_WORDS: &[&str] = &[
    "the", "a", "i", "to", "and", "of", "you", "it", "is", "in", "that", "what", "me", "my",
    "we", "for", "this", "on", "have", "be", "do", "can", "with", "but", "not", "are", "at",
    "like", "want", "would", "need", "please", "hello", "hi", "um", "uh", "thank", "thanks",
    "okay", "well", "there", "where", "when", "how", "much", "time", "hours", "open", "close",
    "account", "order", "help", "good", "morning", "bye", "card", "pay", "bill", "call", "phone",
    "number", "talk", "someone", "person", "about", "get", "just", "know", "see", "question",
    "problem", "change", "cancel", "check", "new", "old", "day", "today", "again", "one",
    "home", "internet", "down", "right", "sure", "think", "so", "some", "all", "from", "here",
    "address", "password", "store", "weather", "book", "money", "back", "up", "out", "let",
    "make", "go", "mister", "ma'am", "sir", "oh", "hmm", "an", "or", "if", "your", "our",
    "they", "she", "he", "them", "was", "were", "will", "could", "should", "does", "did",
];

pub struct Outcome {
    pub text: String,
    pub score: i32,
    pub frames: u32,
}

pub fn run_one(decoder: &mut Decoder, audio: &[i16]) -> Outcome {
    decoder.start_utt().unwrap();
    decoder.process(audio, true).unwrap();
    decoder.end_utt().unwrap();
    let (text, score) = decoder.scored_hypothesis().unwrap_or_default();
    Outcome { text, score, frames: decoder.frames() }
}

/// Which menu phrase a hypothesis names (longest contained phrase), if any.
pub fn named(text: &str) -> Option<&'static str> {
    let heard = format!(" {} ", text.split_whitespace().map(|w| w.split('(').next().unwrap()).collect::<Vec<_>>().join(" "));
    MENU.iter().copied().filter(|p| heard.contains(&format!(" {p} "))).max_by_key(|p| p.len())
}

pub struct Sets {
    pub ingrammar: Vec<(String, Vec<i16>)>,
    pub offmenu: Vec<Vec<i16>>,
    pub sentences: Vec<(String, Vec<i16>)>,
}

pub fn sets() -> Sets {
    let ingrammar = lines("phrases.txt")
        .into_iter()
        .filter(|l| l[1] != "digits")
        .map(|l| (l[2].clone(), wide(&load(&l[0]))))
        .collect();
    let offmenu = lines("offmenu.txt").into_iter().map(|l| wide(&load(&format!("offmenu/{}", l[0])))).collect();
    let sentences = lines("sentences.txt")
        .into_iter()
        .map(|l| (l[3].clone(), wide(&load(&format!("sentences/{}", l[0])))))
        .collect();
    Sets { ingrammar, offmenu, sentences }
}

pub fn report(name: &str, sets: &Sets, decoder: &mut Decoder, verbose: bool) {
    let mut right = 0;
    for (want, audio) in &sets.ingrammar {
        let o = run_one(decoder, audio);
        if named(&o.text) == Some(want.as_str()) { right += 1 } else if verbose { println!("  in: {want} -> {}", o.text) }
    }
    let mut fa = 0;
    for audio in &sets.offmenu {
        let o = run_one(decoder, audio);
        if named(&o.text).is_some() { fa += 1; if verbose { println!("  off -> {}", o.text) } }
    }
    let mut found = 0;
    for (want, audio) in &sets.sentences {
        let o = run_one(decoder, audio);
        if named(&o.text) == Some(want.as_str()) { found += 1 } else if verbose { println!("  sent: {want} -> {}", o.text) }
    }
    println!(
        "| {name} | {right}/{} | {fa}/{} | {found}/{} |",
        sets.ingrammar.len(), sets.offmenu.len(), sets.sentences.len()
    );
}

pub fn menu_jsgf() -> String {
    let alts: Vec<String> = MENU.iter().map(|p| format!("( {p} )")).collect();
    format!("#JSGF V1.0;\ngrammar g;\npublic <choice> = {};\n", alts.join(" | "))
}

pub fn garbage_jsgf(fillers: &[String], garbage_weight: f64) -> String {
    let alts: Vec<String> = MENU.iter().map(|p| format!("( {p} )")).collect();
    format!(
        "#JSGF V1.0;\ngrammar g;\npublic <utt> = /1/ ( <g>* ( {} ) <g>* ) | /{garbage_weight}/ ( <g>+ );\n<g> = {};\n",
        alts.join(" | "),
        fillers.join(" | ")
    )
}

pub fn item_jsgf(fillers: &[String], garbage_weight: f64) -> String {
    let alts: Vec<String> = MENU.iter().map(|p| format!("( {p} )")).collect();
    format!(
        "#JSGF V1.0;\ngrammar g;\npublic <utt> = <item>+;\n<item> = /1/ ( {} ) | /{garbage_weight}/ <g>;\n<g> = {};\n",
        alts.join(" | "),
        fillers.join(" | ")
    )
}

pub fn optional_jsgf() -> String {
    let alts: Vec<String> = MENU.iter().map(|p| format!("( {p} )")).collect();
    format!("#JSGF V1.0;\ngrammar g;\npublic <utt> = [ {} ];\n", alts.join(" | "))
}

pub fn filler_dict(words: bool, noise: bool) -> PathBuf {
    let dict = std::fs::read_to_string(format!("{MODEL}/cmudict-en-us.dict")).unwrap();
    let mut text = String::from("<s> SIL\n</s> SIL\n<sil> SIL\n");
    if noise {
        text.push_str("[NOISE] +NSN+\n[SPEECH] +SPN+\n");
    }
    let corpus: Vec<String> = match std::env::var_os("VOICEBOT_STUDY_CORPUS") {
        Some(_) => {
            let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("model/telephone/sentences.txt")).unwrap();
            let words: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase().trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_owned()).filter(|w| !w.is_empty()).collect();
            let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for w in &words { *counts.entry(w.clone()).or_default() += 1; }
            let mut all: Vec<(String, usize)> = counts.into_iter().collect();
            all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let top: usize = std::env::var("VOICEBOT_STUDY_TOP").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
            let mut all: Vec<String> = all.into_iter().map(|(w, _)| w).take(top).collect();
            all.retain(|w| !MENU.iter().any(|m| m.split(' ').any(|mw| mw == w)) && w != "know");
            all
        }
        None => GARBAGE_WORDS.iter().map(|w| (*w).to_owned()).collect(),
    };
    for word in corpus.iter().filter(|_| words) {
        let word = &word.as_str();
        let min_phones: usize = std::env::var("VOICEBOT_STUDY_MINPHONES").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        if let Some(line) = dict.lines().find(|l| l.split(' ').next() == Some(word)).filter(|l| l.split(' ').count() - 1 >= min_phones) {
            text.push_str(&format!("++{}++ {}\n", word.replace('\'', ""), line.split_once(' ').unwrap().1));
        }
    }
    if std::env::var_os("VOICEBOT_STUDY_PHONEFILL").is_some() {
        for p in PHONES {
            text.push_str(&format!("++ph{p}++ {p}\n"));
        }
    }
    let path = std::env::temp_dir().join(format!("voicebot-study-fillers-{words}-{noise}-{}.dict", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

pub fn kws_file(k: f64) -> PathBuf {
    let path = std::env::temp_dir().join(format!("voicebot-kws-{k}.txt"));
    let dict = std::fs::read_to_string(format!("{MODEL}/cmudict-en-us.dict")).unwrap();
    let mut text = String::new();
    for phrase in MENU {
        let phones: usize = phrase
            .split(' ')
            .map(|w| dict.lines().find(|l| l.split(' ').next() == Some(w)).unwrap().split(' ').count() - 1)
            .sum();
        text.push_str(&format!("{phrase} /1e{}/\n", -(k * phones as f64).round() as i64));
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn study() {
    if std::env::var_os("VOICEBOT_STUDY").is_none() { return; }
    let sets = sets();
    let verbose = std::env::var_os("VOICEBOT_STUDY_VERBOSE").is_some();
    println!("| mechanism | in-grammar right | off-menu accepted | in sentences found |");
    let which = std::env::var("VOICEBOT_STUDY").unwrap();
    if which.contains("plain") {
        let mut d = decoder(&[]);
        d.set_jsgf("g", &menu_jsgf()).unwrap();
        d.set_search("g").unwrap();
        report("plain grammar", &sets, &mut d, verbose);
    }
    if which.contains("items") {
        for weight in [1e-1, 1e-2, 1e-4] {
            let fillers: Vec<String> = GARBAGE_WORDS.iter().map(|w| (*w).to_owned()).collect();
            let mut d = decoder(&[]);
            d.set_jsgf("g", &item_jsgf(&fillers, weight)).unwrap();
            d.set_search("g").unwrap();
            report(&format!("word fillers as items, weight {weight}"), &sets, &mut d, verbose);
        }
    }
    if which.contains("fillers") {
        let words = !which.contains("nowords");
        let noise = which.contains("noise");
        let fdict = filler_dict(words, noise);
        let probs = std::env::var("VOICEBOT_STUDY_PROBS").unwrap_or_else(|_| "1e-2,1e-4".into());
        let wips = std::env::var("VOICEBOT_STUDY_WIPS").unwrap_or_else(|_| "1e-3".into());
        for (prob, wip) in probs.split(',').flat_map(|p| wips.split(',').map(move |w| (p, w))) {
            let mut d = decoder(&[("-fdict", fdict.to_str().unwrap()), ("-fillprob", prob), ("-wip", wip)]);
            d.set_jsgf("g", &optional_jsgf()).unwrap();
            d.set_search("g").unwrap();
            report(&format!("fillers (words {words}, noise {noise}), fillprob {prob}, wip {wip}"), &sets, &mut d, verbose);
        }
    }
    if which.contains("words") {
        for weight in [1.0] {
            let fillers: Vec<String> = GARBAGE_WORDS.iter().map(|w| (*w).to_owned()).collect();
            let mut d = decoder(&[]);
            d.set_jsgf("g", &garbage_jsgf(&fillers, weight)).unwrap();
            d.set_search("g").unwrap();
            report(&format!("word filler loop, weight {weight}"), &sets, &mut d, verbose);
        }
    }
    if which.contains("phones") {
        for wip in ["1e-3", "5e-2"] {
            let mut d = decoder(&[("-wip", wip)]);
            let fillers: Vec<String> = PHONES.iter().map(|p| format!("ph_{}", p.to_lowercase())).collect();
            for (i, p) in PHONES.iter().enumerate() {
                d.add_word(&format!("ph_{}", p.to_lowercase()), p, i + 1 == PHONES.len()).unwrap();
            }
            d.set_jsgf("g", &garbage_jsgf(&fillers, 1.0)).unwrap();
            d.set_search("g").unwrap();
            report(&format!("phone filler loop, wip {wip}"), &sets, &mut d, verbose);
        }
    }
    if which.contains("kws") {
        for k in [8.0, 12.0] {
            let mut d = decoder(&[]);
            d.set_kws("k", kws_file(k).to_str().unwrap()).unwrap();
            d.set_search("k").unwrap();
            report(&format!("kws, threshold 1e-{k}/phone"), &sets, &mut d, verbose);
        }
    }
    if which.contains("ratio") {
        let mut d = decoder(&[]);
        d.set_jsgf("g", &menu_jsgf()).unwrap();
        d.set_allphone_file("ph", &format!("{MODEL}/en-us-phone.lm.bin")).unwrap();
        let mut score = |audio: &[i16]| {
            d.set_search("g").unwrap();
            let g = run_one(&mut d, audio);
            d.set_search("ph").unwrap();
            let p = run_one(&mut d, audio);
            (g.text, (g.score - p.score) as f64 / g.frames.max(1) as f64)
        };
        let ins: Vec<(bool, f64)> = sets.ingrammar.iter().map(|(w, a)| { let (t, s) = score(a); (named(&t) == Some(w.as_str()), s) }).collect();
        let offs: Vec<f64> = sets.offmenu.iter().map(|a| score(a).1).collect();
        let sents: Vec<(bool, f64)> = sets.sentences.iter().map(|(w, a)| { let (t, s) = score(a); (named(&t) == Some(w.as_str()), s) }).collect();
        println!("in: {ins:?}\noff: {offs:?}\nsent: {sents:?}");
    }
}
