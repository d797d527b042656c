import sys; sys.path.insert(0,'.')
from score import *
dump=sys.argv[1]; files=sys.argv[2:]
sets=load_sets(dump)
by=collections.defaultdict(dict)
for f in files:
    for line in open(f):
        r=json.loads(line); by[r['utt']][r['cfg']]=r
cfgs=sorted({c for r in by.values() for c in r})
def ch(recs,c): return choice(clean(recs[c]['hyp'])) if c in recs else None
def nfill(recs,c): return sum(1 for s in recs[c]['segs'] if s[0].startswith('++'))
rules={}
for c in cfgs:
    rules[c]=single(c)
fills=[c for c in cfgs if c.startswith('fill')]
for f in fills:
    for P in ['plain','plainwide']:
        if P not in cfgs: continue
        rules[f'A {f}>{P}']=lambda r,f=f,P=P: (ch(r,P) or '') if ch(r,f) else None
        rules[f"A' {f}>{P}"]=lambda r,f=f,P=P: ((ch(r,P) or '') if nfill(r,f)==0 else ch(r,f)) if ch(r,f) else None
        rules[f'agree {f}={P}']=lambda r,f=f,P=P: ch(r,f) if ch(r,f) and ch(r,f)==ch(r,P) else None
        rules[f'agree-or-fillers {f}={P}']=lambda r,f=f,P=P: ch(r,f) if ch(r,f) and (ch(r,f)==ch(r,P) or nfill(r,f)>0) else None
for a in fills:
    for b in fills:
        if a==b: continue
        for P in ['plain']:
            rules[f'{a} else ({b}=={P})']=lambda r,a=a,b=b,P=P: ch(r,a) or (ch(r,b) if ch(r,b) and ch(r,b)==ch(r,P) else None)
res=[]
for name,rule in rules.items():
    c=evaluate(sets,by,rule)
    res.append((name,c))
for name,c in res:
    print(f"{name:50s} {fmt(c)}")
