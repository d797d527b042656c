#!/usr/bin/python3
"""Decode the session's dumped utterances with several decoder configurations.

usage: study.py DUMPDIR OUT.jsonl CONFIG...   (configs by name, see CONFIGS)
Each line of OUT: {"cfg", "utt", "set", "hyp", "score", "segs": [[word, sf, ef, ascore, lscore]]}
"""
import json, os, sys, glob, time, re
from pocketsphinx.pocketsphinx import Decoder

MODEL = "/usr/share/pocketsphinx/model/en-us"
TEL = os.environ.get("TEL", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../model/telephone"))
MENU = ["sales", "support", "billing", "operator", "speak to an agent", "yes", "no",
        "john smith", "mary johnson", "david miller"]
if os.environ.get("SUBMENU"):
    MENU = os.environ["SUBMENU"].split(",")


def fdict():
    env = os.environ.get("FDICT")
    if env:
        return env
    return sorted(glob.glob("/tmp/voicebot-fillers-*.dict"), key=os.path.getmtime)[-1]


def jsgf(optional):
    alts = " | ".join(f"( {p} )" for p in MENU)
    body = f"[ {alts} ]" if optional else f"( {alts} )"
    return f"#JSGF V1.0;\ngrammar choices;\npublic <choice> = {body};\n"


BEAMS = [("-beam", "1e-80"), ("-pbeam", "1e-80"), ("-wbeam", "1e-60")]


def cfg_fillers(fillprob="1e-2", wip="1e-3", beams=BEAMS, extra=(), fd=None):
    return dict(args=[("-fdict", fd or "FDICT"), ("-fillprob", fillprob), ("-wip", wip)] + list(beams) + list(extra),
                optional=True)


def cfg_plain(wip="1e-3", beams=(), extra=()):
    return dict(args=[("-wip", wip)] + list(beams) + list(extra), optional=False)


CONFIGS = {
    "fill": cfg_fillers(),
    "plain": cfg_plain(),
    "plainwide": cfg_plain(beams=BEAMS),
}
for fp in ["3e-3", "1e-3", "3e-2", "1e-1", "3e-1"]:
    CONFIGS[f"fill_fp{fp}"] = cfg_fillers(fillprob=fp)
for wip in ["1e-2", "1e-4", "1e-1", "1e-5"]:
    CONFIGS[f"fill_wip{wip}"] = cfg_fillers(wip=wip)
for lw in ["4", "6", "8", "10", "13", "16"]:
    CONFIGS[f"fill_lw{lw}"] = cfg_fillers(extra=[("-lw", lw)])
for sp in ["1e-1", "1e-2", "0.5"]:
    CONFIGS[f"fill_sil{sp}"] = cfg_fillers(extra=[("-silprob", sp)])
for pip in ["0.1", "0.01"]:
    CONFIGS[f"fill_pip{pip}"] = cfg_fillers(extra=[("-pip", pip)])
CONFIGS["fill_nonoise"] = cfg_fillers(extra=[("-remove_noise", "no")])
CONFIGS["plainwide_nonoise"] = cfg_plain(beams=BEAMS, extra=[("-remove_noise", "no")])
CONFIGS["fill_topn8"] = cfg_fillers(extra=[("-topn", "8")])
CONFIGS["fill_noaltpron"] = cfg_fillers(extra=[("-fsgusealtpron", "no")])
CONFIGS["fill_cmnlive"] = cfg_fillers(extra=[("-cmn", "live")])
CONFIGS["plainwide_cmnlive"] = cfg_plain(beams=BEAMS, extra=[("-cmn", "live")])
CONFIGS["fill_cmnprior"] = cfg_fillers(extra=[("-cmn", "prior")])
CONFIGS["fill_bp"] = cfg_fillers(extra=[("-bestpath", "yes")])
CONFIGS["fill_default_beams"] = cfg_fillers(beams=[])


def make(cfg):
    c = Decoder.default_config()
    base = [("-hmm", os.environ.get("HMM", MODEL + "/en-us")), ("-dict", MODEL + "/cmudict-en-us.dict"), ("-samprate", "16000"),
            ("-remove_silence", "no"), ("-dither", "no"), ("-logfn", "/dev/null"),
            ("-mean", TEL + "/means"), ("-var", TEL + "/variances"), ("-sendump", TEL + "/sendump"),
            ("-tmat", TEL + "/transition_matrices")]
    for k, v in base + cfg["args"]:
        if v == "FDICT":
            v = fdict()
        if k in ("-samprate", "-fillprob", "-wip", "-beam", "-pbeam", "-wbeam", "-lw", "-silprob", "-pip"):
            c.set_float(k, float(v))
        elif k in ("-topn", "-maxhmmpf", "-maxwpf", "-ds"):
            c.set_int(k, int(v))
        elif k in ("-fsgusealtpron", "-bestpath", "-dither", "-remove_silence", "-remove_noise", "-compallsen", "-fwdflat"):
            c.set_boolean(k, v == "yes")
        else:
            c.set_string(k, v)
    d = Decoder(c)
    d.set_jsgf_string("g", jsgf(cfg["optional"]))
    d.set_search("g")
    return d


def utterances(dump):
    files = sorted(f for f in os.listdir(dump) if f.endswith(".raw"))
    out, s, last = [], 0, None
    for f in files:
        n, start, end = f[:-4].split("-")
        start, end = int(start), int(end)
        if last is not None and start < last:
            s += 1
        last = start
        out.append(dict(utt=f, set=s, start=start, end=end))
    return out


def main():
    dump, outp, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    utts = utterances(dump)
    with open(outp, "a") as out:
        for name in names:
            cfg = CONFIGS[name]
            d = make(cfg)
            t0 = time.process_time()
            for u in utts:
                data = open(os.path.join(dump, u["utt"]), "rb").read()
                lead = int(os.environ.get("TRIM_LEAD_MS", "0")) * 32
                tail = int(os.environ.get("TRIM_TAIL_MS", "0")) * 32
                if len(data) > lead + tail + 32 * 200:
                    data = data[lead:len(data) - tail]
                d.start_utt()
                d.process_raw(data, False, True)
                d.end_utt()
                h = d.hyp()
                segs = [[s.word, s.start_frame, s.end_frame, s.ascore, s.lscore] for s in d.seg()]
                out.write(json.dumps(dict(cfg=name, utt=u["utt"], set=u["set"], start=u["start"], end=u["end"],
                                          hyp=h.hypstr if h else "", score=h.best_score if h else None,
                                          segs=segs)) + "\n")
            print(name, f"{time.process_time() - t0:.1f} cpu-s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
