//! The PocketSphinx 5prealpha C API (Debian's `libpocketsphinx-dev`), the only unsafe code in
//! the workspace, behind a safe [`Decoder`].
//!
//! Only the calls we need are declared, with types copied from `pocketsphinx.h`,
//! `ps_search.h`, `cmd_ln.h`, `logmath.h` and `err.h` (`int32` is `c_int`, `int16` is `i16`).
//! A [`Decoder`] owns one `ps_decoder_t` and its `cmd_ln_t`; PocketSphinx decoders are not
//! thread-safe, so `Decoder` is neither `Send` nor `Sync` (raw pointers) and lives on the
//! session's own thread.
#![allow(unsafe_code)]

use std::{
    ffi::{CStr, CString, c_char, c_int, c_void},
    ptr::NonNull,
    sync::Once,
};

#[repr(C)]
struct PsDecoder {
    _private: [u8; 0],
}
#[repr(C)]
struct CmdLn {
    _private: [u8; 0],
}
#[repr(C)]
struct ArgDef {
    _private: [u8; 0],
}
#[repr(C)]
struct Seg {
    _private: [u8; 0],
}
#[repr(C)]
struct LogMath {
    _private: [u8; 0],
}

#[link(name = "pocketsphinx")]
unsafe extern "C" {
    fn ps_args() -> *const ArgDef;
    fn ps_init(config: *mut CmdLn) -> *mut PsDecoder;
    fn ps_free(ps: *mut PsDecoder) -> c_int;
    fn ps_set_jsgf_string(ps: *mut PsDecoder, name: *const c_char, jsgf: *const c_char) -> c_int;
    fn ps_set_lm_file(ps: *mut PsDecoder, name: *const c_char, path: *const c_char) -> c_int;
    fn ps_set_search(ps: *mut PsDecoder, name: *const c_char) -> c_int;
    fn ps_start_utt(ps: *mut PsDecoder) -> c_int;
    fn ps_process_raw(
        ps: *mut PsDecoder,
        data: *const i16,
        n_samples: usize,
        no_search: c_int,
        full_utt: c_int,
    ) -> c_int;
    fn ps_end_utt(ps: *mut PsDecoder) -> c_int;
    fn ps_get_hyp(ps: *mut PsDecoder, out_best_score: *mut c_int) -> *const c_char;
    fn ps_get_prob(ps: *mut PsDecoder) -> c_int;
    fn ps_get_logmath(ps: *mut PsDecoder) -> *mut LogMath;
    fn ps_seg_iter(ps: *mut PsDecoder) -> *mut Seg;
    fn ps_seg_next(seg: *mut Seg) -> *mut Seg;
    fn ps_seg_word(seg: *mut Seg) -> *const c_char;
    fn ps_seg_frames(seg: *mut Seg, out_sf: *mut c_int, out_ef: *mut c_int);
    fn ps_seg_prob(
        seg: *mut Seg,
        out_ascr: *mut c_int,
        out_lscr: *mut c_int,
        out_lback: *mut c_int,
    ) -> c_int;
}

#[link(name = "sphinxbase")]
unsafe extern "C" {
    fn cmd_ln_parse_r(
        inout: *mut CmdLn,
        defn: *const ArgDef,
        argc: c_int,
        argv: *mut *mut c_char,
        strict: c_int,
    ) -> *mut CmdLn;
    fn cmd_ln_free_r(config: *mut CmdLn) -> c_int;
    fn logmath_exp(lmath: *mut LogMath, logb_p: c_int) -> f64;
    fn err_set_logfp(stream: *mut c_void);
}

/// A word of a decoded utterance, with times in 10 ms decoder frames from the utterance start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub(crate) word: String,
    pub(crate) start_frame: u32,
    pub(crate) end_frame: u32,
    /// Posterior probability, 0..=1 (1.0 when the search does not compute posteriors).
    pub(crate) probability: f64,
}

/// A failing PocketSphinx call, named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallFailed(pub(crate) &'static str);

/// One PocketSphinx decoder.
#[derive(Debug)]
pub(crate) struct Decoder {
    ps: NonNull<PsDecoder>,
    config: NonNull<CmdLn>,
}

fn c_string(value: &str, call: &'static str) -> Result<CString, CallFailed> {
    CString::new(value).map_err(|_| CallFailed(call))
}

fn check(status: c_int, call: &'static str) -> Result<(), CallFailed> {
    match status >= 0 {
        true => Ok(()),
        false => Err(CallFailed(call)),
    }
}

impl Decoder {
    /// Builds a decoder from command-line style settings (`("-hmm", path)`, ...).
    pub(crate) fn new(settings: &[(&str, &str)]) -> Result<Self, CallFailed> {
        static SILENCE_LOG: Once = Once::new();
        // SAFETY: a null stream turns PocketSphinx's global logging off; it is set once, before
        // any decoder exists, so no other thread is logging through the old stream.
        SILENCE_LOG.call_once(|| unsafe { err_set_logfp(std::ptr::null_mut()) });
        // cmd_ln_parse_r skips argv[0] like a C main's argv.
        let mut owned = vec![c_string("voicebot", "cmd_ln_parse_r")?];
        for (name, value) in settings {
            owned.push(c_string(name, "cmd_ln_parse_r")?);
            owned.push(c_string(value, "cmd_ln_parse_r")?);
        }
        let mut argv: Vec<*mut c_char> = owned.iter().map(|s| s.as_ptr().cast_mut()).collect();
        let argc = c_int::try_from(argv.len()).map_err(|_| CallFailed("cmd_ln_parse_r"))?;
        // SAFETY: `argv` holds `argc` pointers to NUL-terminated strings that outlive the call
        // (cmd_ln copies what it keeps and does not write through argv); ps_args() is a static
        // table. A null `inout` asks for a new cmd_ln_t, which we own (freed in Drop).
        let config =
            unsafe { cmd_ln_parse_r(std::ptr::null_mut(), ps_args(), argc, argv.as_mut_ptr(), 1) };
        let config = NonNull::new(config).ok_or(CallFailed("cmd_ln_parse_r"))?;
        // SAFETY: `config` is a valid cmd_ln_t; ps_init retains its own reference to it.
        let ps = unsafe { ps_init(config.as_ptr()) };
        match NonNull::new(ps) {
            Some(ps) => Ok(Self { ps, config }),
            None => {
                // SAFETY: we own `config` and nothing else refers to it after ps_init failed.
                unsafe { cmd_ln_free_r(config.as_ptr()) };
                Err(CallFailed("ps_init"))
            }
        }
    }

    /// Adds a JSGF grammar search called `name`.
    pub(crate) fn set_jsgf(&mut self, name: &str, jsgf: &str) -> Result<(), CallFailed> {
        let (name, jsgf) = (
            c_string(name, "ps_set_jsgf_string")?,
            c_string(jsgf, "ps_set_jsgf_string")?,
        );
        // SAFETY: `self.ps` is valid; both strings are NUL-terminated and outlive the call
        // (PocketSphinx copies them).
        check(
            unsafe { ps_set_jsgf_string(self.ps.as_ptr(), name.as_ptr(), jsgf.as_ptr()) },
            "ps_set_jsgf_string",
        )
    }

    /// Adds a language-model search called `name` from an `.lm.bin` file.
    pub(crate) fn set_lm_file(&mut self, name: &str, path: &str) -> Result<(), CallFailed> {
        let (name, path) = (
            c_string(name, "ps_set_lm_file")?,
            c_string(path, "ps_set_lm_file")?,
        );
        // SAFETY: as in `set_jsgf`.
        check(
            unsafe { ps_set_lm_file(self.ps.as_ptr(), name.as_ptr(), path.as_ptr()) },
            "ps_set_lm_file",
        )
    }

    /// Makes the search called `name` the active one.
    pub(crate) fn set_search(&mut self, name: &str) -> Result<(), CallFailed> {
        let name = c_string(name, "ps_set_search")?;
        // SAFETY: `self.ps` is valid; `name` is NUL-terminated and outlives the call.
        check(
            unsafe { ps_set_search(self.ps.as_ptr(), name.as_ptr()) },
            "ps_set_search",
        )
    }

    /// Starts an utterance.
    pub(crate) fn start_utt(&mut self) -> Result<(), CallFailed> {
        // SAFETY: `self.ps` is valid and used from this thread only.
        check(unsafe { ps_start_utt(self.ps.as_ptr()) }, "ps_start_utt")
    }

    /// Decodes 16 kHz samples of the current utterance; `whole` says they are the entire
    /// utterance (which lets PocketSphinx normalise the cepstra over it: batch CMN).
    pub(crate) fn process(&mut self, samples: &[i16], whole: bool) -> Result<(), CallFailed> {
        let full_utt = c_int::from(whole);
        // SAFETY: `samples` is a valid slice of `len` i16s, only read during the call.
        check(
            unsafe {
                ps_process_raw(
                    self.ps.as_ptr(),
                    samples.as_ptr(),
                    samples.len(),
                    0,
                    full_utt,
                )
            },
            "ps_process_raw",
        )
    }

    /// Ends the current utterance.
    pub(crate) fn end_utt(&mut self) -> Result<(), CallFailed> {
        // SAFETY: `self.ps` is valid and used from this thread only.
        check(unsafe { ps_end_utt(self.ps.as_ptr()) }, "ps_end_utt")
    }

    /// The best hypothesis so far (or of the last utterance), if any.
    pub(crate) fn hypothesis(&mut self) -> Option<String> {
        let mut score: c_int = 0;
        // SAFETY: `self.ps` is valid; the returned string is owned by the decoder and valid
        // until its next call, so it is copied at once.
        let text = unsafe { ps_get_hyp(self.ps.as_ptr(), &mut score) };
        // SAFETY: a non-null result is a NUL-terminated string (see above).
        (!text.is_null()).then(|| {
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        })
    }

    /// The posterior probability of the last utterance's hypothesis, 0..=1.
    pub(crate) fn probability(&mut self) -> f64 {
        // SAFETY: `self.ps` is valid; the logmath object belongs to the decoder.
        let value = unsafe {
            logmath_exp(
                ps_get_logmath(self.ps.as_ptr()),
                ps_get_prob(self.ps.as_ptr()),
            )
        };
        match value.is_finite() {
            true => value.clamp(0.0, 1.0),
            false => 0.0,
        }
    }

    /// The words of the last utterance with their frames.
    pub(crate) fn segments(&mut self) -> Vec<Segment> {
        let mut segments = Vec::new();
        // SAFETY: `self.ps` is valid; the iterator is walked to its end with ps_seg_next, which
        // frees it when it returns null, so nothing leaks and no freed iterator is touched.
        let logmath = unsafe { ps_get_logmath(self.ps.as_ptr()) };
        // SAFETY: as above.
        let mut seg = unsafe { ps_seg_iter(self.ps.as_ptr()) };
        while !seg.is_null() {
            let (mut start, mut end, mut ascr, mut lscr, mut lback) = (0, 0, 0, 0, 0);
            // SAFETY: `seg` is a live iterator; the word string is owned by the decoder and
            // copied at once; the out-pointers are valid locals.
            let (word, probability) = unsafe {
                ps_seg_frames(seg, &mut start, &mut end);
                let prob = ps_seg_prob(seg, &mut ascr, &mut lscr, &mut lback);
                let word = ps_seg_word(seg);
                let word = match word.is_null() {
                    true => String::new(),
                    false => CStr::from_ptr(word).to_string_lossy().into_owned(),
                };
                (word, logmath_exp(logmath, prob))
            };
            segments.push(Segment {
                word,
                start_frame: u32::try_from(start).unwrap_or(0),
                end_frame: u32::try_from(end).unwrap_or(0),
                probability: match probability.is_finite() {
                    true => probability.clamp(0.0, 1.0),
                    false => 0.0,
                },
            });
            // SAFETY: `seg` is live; it is not used again after this call.
            seg = unsafe { ps_seg_next(seg) };
        }
        segments
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: we own one reference to each; the decoder goes first since it holds its own
        // reference to the config.
        unsafe {
            ps_free(self.ps.as_ptr());
            cmd_ln_free_r(self.config.as_ptr());
        }
    }
}
