#!/usr/bin/python3
"""For each utterance where filler config F names a choice, decode the menu words' span (plus pad) with
the plain grammar; writes records cfg='span:F:P:pad'."""
import sys, os, json, time
sys.path.insert(0, '/tmp/study')
from study import *
from score import clean, choice
dump, outp = sys.argv[1], sys.argv[2]
fcfgs = sys.argv[3].split(','); pads = [int(p) for p in sys.argv[4].split(',')]; plains = sys.argv[5].split(',')
prev = {}
for line in open(sys.argv[6]):
    r = json.loads(line)
    if r['cfg'] in fcfgs: prev[(r['utt'], r['cfg'])] = r
decs = {p: make(CONFIGS[p]) for p in plains}
t0 = time.process_time()
with open(outp, 'a') as out:
    for (utt, F), r in sorted(prev.items()):
        c = choice(clean(r['hyp']))
        recs = []
        data = open(os.path.join(dump, utt), 'rb').read()
        if c:
            words = [s for s in r['segs'] if not (s[0].startswith('<') or s[0].startswith('[') or s[0].startswith('++') or s[0] == '(NULL)')]
            sf, ef = words[0][1], words[-1][2]
            for P in plains:
                for pad in pads:
                    a = max(0, sf - pad) * 320; b = min(len(data), (ef + 1 + pad) * 320)
                    d = decs[P]
                    d.start_utt(); d.process_raw(data[a:b], False, True); d.end_utt()
                    h = d.hyp()
                    out.write(json.dumps(dict(cfg=f'span:{F}:{P}:{pad}', utt=utt, set=r['set'], start=r['start'], end=r['end'],
                                              hyp=(c if h and choice(clean(h.hypstr)) == c else ''), plainhyp=h.hypstr if h else '', segs=[])) + '\n')
        else:
            for P in plains:
                for pad in pads:
                    out.write(json.dumps(dict(cfg=f'span:{F}:{P}:{pad}', utt=utt, set=r['set'], start=r['start'], end=r['end'], hyp='', segs=[])) + '\n')
print('span cpu', time.process_time() - t0, file=sys.stderr)
