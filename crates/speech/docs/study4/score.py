#!/usr/bin/python3
"""Score study output: score.py DUMPDIR OUT.jsonl [rule...]"""
import json, os, sys, collections

MENU = ["sales", "support", "billing", "operator", "speak to an agent", "yes", "no",
        "john smith", "mary johnson", "david miller"]
if os.environ.get("SUBMENU"):
    MENU = os.environ["SUBMENU"].split(",")
SETS = ["tuning: menu phrases alone (1 voice)", "tuning: off-menu (6 voices)",
        "tuning: menu phrase in a sentence (6 voices)", "held out: menu phrases alone (8 voices, 3 speeds)",
        "held out: off-menu (8 voices, 3 speeds)", "held out: menu phrase in a sentence (8 voices, 3 speeds)"]
SHORT = ["T menu", "T off", "T sent", "H menu", "H off", "H sent"]


def clean(hyp):
    words = [w.split("(")[0] for w in hyp.split() if not (w.startswith("<") or w.startswith("[") or w.startswith("++"))]
    return " ".join(words)


def choice(text):
    heard = f" {text} "
    if text.strip() in MENU:
        return text.strip()
    c = [p for p in MENU if f" {p} " in heard]
    return max(c, key=len) if c else None


def load_sets(dump):
    sets = []
    for name in SETS:
        fn = "set-" + "".join("_" if ch in " :()," else ch for ch in name) + ".txt"
        items = []
        for line in open(os.path.join(dump, fn)):
            a, b, fx, want, label = line.rstrip("\n").split("|")
            items.append(dict(start=int(a), end=int(b), fixture=fx, want=(want if want in MENU else None) if want else None, label=label))
        sets.append(items)
    return sets


def load(outp):
    by = collections.defaultdict(dict)  # utt -> cfg -> rec
    for line in open(outp):
        r = json.loads(line)
        by[r["utt"]][r["cfg"]] = r
    return by


def evaluate(sets, by, rule, detail=False):
    """rule(recs_by_cfg) -> text or None (None: no result)"""
    utts = sorted(by.keys())
    per_set = collections.defaultdict(list)
    for u in utts:
        any_rec = next(iter(by[u].values()))
        per_set[any_rec["set"]].append(any_rec)
    counts = []
    for si, items in enumerate(sets):
        right = 0
        for it in items:
            ch = None
            for r in per_set[si]:
                if r["start"] < it["end"] and r["end"] > it["start"]:
                    t = rule(by[r["utt"]])
                    if t:
                        ch = choice(t)
                        if ch:
                            break
            ok = (ch == it["want"]) if it["want"] else ch is None
            right += ok
            if detail:
                print(f"  {SHORT[si]} {it['fixture']} want {it['want']} -> {ch} {'ok' if ok else 'WRONG'}")
        n = len([it for it in items if it['want'] or si in (1, 4)])
        counts.append((n - right if si in (1, 4) else right, n))
    return counts


def fmt(counts):
    t = ", ".join(f"{a}/{b}" for a, b in counts[:3])
    h = ", ".join(f"{a}/{b}" for a, b in counts[3:])
    return f"{t} | {h}"


def single(cfg):
    return lambda recs: clean(recs[cfg]["hyp"]) if cfg in recs else None


if __name__ == "__main__":
    dump, outp = sys.argv[1], sys.argv[2]
    sets = load_sets(dump)
    by = load(outp)
    cfgs = sorted({c for r in by.values() for c in r})
    for c in cfgs:
        print(f"{c:24s} {fmt(evaluate(sets, by, single(c)))}")
