"""Per-case table of the final variant.  python3 final_table.py [json] [amin]"""
import sys,json
from common import CASES,light,truth
f=sys.argv[1] if len(sys.argv)>1 else 'exp4_12.0_20.0_3.0_coherent0.2_bandsrcraised+match.json'
th=float(sys.argv[2]) if len(sys.argv)>2 else 60
rows=json.load(open(f))
print('| case | light | pose | FP old | FP new | implants found by old -> kept | truth boxes judged real |'); print('|---|---|---|---|---|---|---|')
for c in CASES:
    R=[r for r in rows if r['case']==c]; fin=[r for r in R if r['i']>=0]
    fo=sum(1 for r in fin if not r['hits']); fn=sum(1 for r in fin if not r['hits'] and r['big']>=th)
    old={j for r in fin for j in r['hits']}; kept={j for r in fin if r['big']>=th for j in r['hits']}
    tb=[r for r in R if r['i']<0]; tr=sum(1 for r in tb if r['big']>=th)
    print(f"| {c} | {light(c)} | {truth(c)['capture']['pose']} | {fo} | {fn} | {len(old)} -> {len(kept)} | {tr}/{len(tb)} |")
