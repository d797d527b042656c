import sys; sys.path.insert(0,'.')
from score import *
sets=load_sets('/tmp/dump0'); by=load(sys.argv[1] if len(sys.argv)>1 else 'out0.jsonl')
FC=sys.argv[2] if len(sys.argv)>2 else 'fill'
utts=sorted(by)
def tot(r, k):
    return sum(s[3] + (s[4] if k else 0) for s in r['segs'])
for si in range(6):
    vals=[]
    for it in sets[si]:
        rs=[by[u] for u in utts if by[u][FC]['set']==si and by[u][FC]['start']<it['end'] and by[u][FC]['end']>it['start']]
        for r in rs:
            f,p=r[FC],r['plain']
            nf = max(1, (f['end']-f['start'])//10)
            pc=choice(clean(p['hyp'])); fc=choice(clean(f['hyp']))
            da=(tot(f,0)-tot(p,0))/nf; dt=(tot(f,1)-tot(p,1))/nf
            vals.append((round(da),round(dt),str(it['want'])[:8],str(pc)[:8],str(fc)[:8]))
    print(SHORT[si], sorted(vals))
