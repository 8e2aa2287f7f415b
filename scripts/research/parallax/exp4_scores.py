"""Exp 4: score distribution (largest unexplained component, mm^2 before erosion-correction) for FPs vs implants.
python3 exp4_scores.py SIG FLOOR KTAU [variant-kwargs-json]"""
import sys,time
from region import *
sig=float(sys.argv[1]); fl=float(sys.argv[2]); kt=float(sys.argv[3]); kw=json.loads(sys.argv[4]) if len(sys.argv)>4 else {}
WIN=int(kw.pop('win',7))
rows=[]
for c in CASES:
    pr=Pair(c,sig=sig,floor=fl,win=WIN); T=truth(c)['changes']
    for i,f in enumerate(old(c)):
        r=pr.analyse(f['bbox'],k_tau=kt,**kw)
        hits=[j for j,tc in enumerate(T) if matches(f['bbox'],tc['bbox'])]
        rows.append(dict(case=c,i=i,bbox=f['bbox'],big=r['big'],bandfrac=r['bandfrac'],hits=hits,S=r['S'],tau=r['tau']))
    # also score the truth boxes themselves (implants missed by old.json too)
    for j,tc in enumerate(T):
        r=pr.analyse(tc['bbox'],k_tau=kt,**kw); rows.append(dict(case=c,i=-1-j,bbox=tc['bbox'],big=r['big'],bandfrac=r['bandfrac'],hits=[j],truthbox=True,S=r['S']))
fp=np.array([r['big'] for r in rows if not r['hits']]); imp=[(r['case'],r['i'],r['big']) for r in rows if r['hits']]
print('FP big percentiles 50/90/95/98/100:',np.percentile(fp,[50,90,95,98,100]).round(0),'n',len(fp))
for x in imp: print('implant',x)
name=f'exp4_{sig}_{fl}_{kt}_'+('_'.join(f'{k}{v}' for k,v in kw.items()))+(f'_win{WIN}' if WIN!=7 else '')
json.dump(rows,open(name+'.json','w'))
