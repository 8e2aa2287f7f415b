"""Summarise exp4_*.json: FP per case and implant recall vs the area threshold. python3 summarize.py FILE [amin...]"""
import sys,json,numpy as np
from common import CASES,light
rows=json.load(open(sys.argv[1])); ths=[float(a) for a in sys.argv[2:]] or [30,60,90,120,160,200]
fin=[r for r in rows if r['i']>=0]; tb=[r for r in rows if r['i']<0]
oldfound={(r['case'],j) for r in fin for j in r['hits']}
print('old: FP/case',round(sum(1 for r in fin if not r['hits'])/16,2),'implants found by old',len(oldfound),'/12')
for th in ths:
    out=[]
    for L in ['same','other','all']:
        cs=[c for c in CASES if L=='all' or light(c)==L]
        fp=sum(1 for r in fin if r['case'] in cs and not r['hits'] and r['big']>=th)
        fpc=sum(1 for r in fin if r['case'] in cs and int(r['case'][4:])%2 and r['big']>=th)
        kept={(r['case'],j) for r in fin if r['case'] in cs and r['big']>=th for j in r['hits']}
        old_=[k for k in oldfound if k[0] in cs]
        tbk=sum(1 for r in tb if r['case'] in cs and r['big']>=th); tbn=sum(1 for r in tb if r['case'] in cs)
        out.append(f"{L}: FP/case {fp/len(cs):.2f} FP/clean {fpc/(len(cs)/2):.2f} kept {len(kept)}/{len(old_)} truthbox {tbk}/{tbn}")
    print(f'amin={th:5.0f} | '+' | '.join(out))
