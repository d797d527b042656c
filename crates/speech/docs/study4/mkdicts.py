import glob, os, sys
src = sorted(glob.glob('/tmp/voicebot-fillers-*.dict'), key=os.path.getmtime)[-1]
lines = open(src).read().splitlines()
cmu = {}
for l in open('/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict'):
    w, p = l.split(' ', 1); cmu.setdefault(w.split('(')[0], []).append(p.split())
MENU = ["sales", "support", "billing", "operator", "speak to an agent", "yes", "no", "john smith", "mary johnson", "david miller"]
def prons(phrase):
    out = [[]]
    for w in phrase.split():
        out = [a + b for a in out for b in cmu[w]]
    return out
menu_prons = [p for ph in MENU for p in prons(ph)]
def ed(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            cur = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev = cur
    return d[len(b)]
def close(ph, k):
    n = len(ph)
    for mp in menu_prons:
        for L in range(max(1, n - 1), n + 2):
            for s in range(0, len(mp) - L + 1):
                if ed(ph, mp[s:s + L]) <= k:
                    return True
    return False
def write(name, keep, extra=()):
    out = [l for l in lines if keep(l)] + list(extra)
    open(f'/tmp/study/{name}.dict', 'w').write('\n'.join(out) + '\n')
    print(name, len(out), 'of', len(lines))
def isword(l): return l.startswith('++') and l.split()[0][2:-2][-1].isdigit()
def phones(l): return l.split()[1:]
# words of >=2 phones within edit distance k of a menu phrase's phone substring go
for k in (0, 1):
    write(f'close{k}', lambda l, k=k: not (isword(l) and len(phones(l)) >= 2 and close(phones(l), k)))
write('close2', lambda l: not (isword(l) and len(phones(l)) >= 3 and close(phones(l), 2)))
write('noise', lambda l: True, ['+SPN+ +SPN+', '+NSN+ +NSN+'])
write('nophones', lambda l: not (l.startswith('++') and not isword(l)))
write('nowords', lambda l: not isword(l))
for n in ('close0', 'close1', 'close2'):
    removed = [l.split()[0] for l in lines if l not in open(f'/tmp/study/{n}.dict').read().splitlines()]
    print(n, 'removed', removed)
