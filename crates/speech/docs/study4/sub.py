import sys, os, json, collections
sys.path.insert(0,'.')
import score
from score import *
sets = load_sets('/tmp/dump0')
for f in sys.argv[1:]:
    by = load(f)
    for c in sorted({c for r in by.values() for c in r}):
        utts = sorted(by)
        per = collections.defaultdict(list)
        for u in utts: per[by[u][c]['set']].append(by[u][c])
        out = []
        for si, items in enumerate(sets):
            ok_in = n_in = acc_off = n_off = 0
            for it in items:
                ch = None
                for r in per[si]:
                    if r['start'] < it['end'] and r['end'] > it['start']:
                        ch = choice(clean(r['hyp']))
                        if ch: break
                if it['want']:
                    n_in += 1; ok_in += ch == it['want']
                else:
                    n_off += 1; acc_off += ch is not None
            out.append(f"{ok_in}/{n_in} in, {acc_off}/{n_off} off")
        print(c, ' | '.join(out))
