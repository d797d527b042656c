import sys, itertools, collections, json
sys.path.insert(0,'.')
from score import *
dump='/tmp/dump0'
sets=load_sets(dump)
by=collections.defaultdict(dict)
import glob
for f in ['out0.jsonl','out1.jsonl','out2.jsonl']+glob.glob('fd-*.jsonl')+glob.glob('fd2-*.jsonl'):
    for line in open(f):
        r=json.loads(line); by[r['utt']][r['cfg']]=r
pool=sys.argv[1].split(',')
# precompute item->utts
utts=sorted(by)
per_set=collections.defaultdict(list)
for u in utts:
    r=by[u]['fill']; per_set[r['set']].append((u,r['start'],r['end']))
item_utts=[[ [u for (u,s,e) in per_set[si] if s<it['end'] and e>it['start']] for it in items] for si,items in enumerate(sets)]
pick={u:{c:choice(clean(by[u][c]['hyp'])) if c in by[u] else None for c in pool} for u in utts}
def ev(rule):
    counts=[]
    for si,items in enumerate(sets):
        right=0
        for it,us in zip(items,item_utts[si]):
            ch=None
            for u in us:
                ch=rule(u)
                if ch: break
            ok=(ch==it['want']) if it['want'] else ch is None
            right+=ok
        n=len(items); counts.append((n-right if si in (1,4) else right,n))
    return counts
def vote(S,k):
    def rule(u):
        v=collections.Counter(pick[u][c] for c in S if pick[u][c])
        if not v: return None
        c,n=v.most_common(1)[0]
        return c if n>=k else None
    return rule
def obj(c):
    (m,mn),(o,on),(s,sn)=c[:3]
    return m/mn + s/sn - 2*o/on
res=[]
for n in (1,2,3,4):
    for S in itertools.combinations(pool,n):
        for k in range(1,n+1):
            c=ev(vote(S,k)); res.append((obj(c),S,k,c))
res.sort(key=lambda x:-x[0])
for o,S,k,c in res[:25]:
    print(f"{o:.3f} k={k} {'+'.join(S):90s} {fmt(c)}")
