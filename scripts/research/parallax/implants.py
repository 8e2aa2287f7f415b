"""Per-implant table: old.json status and truth-box score (largest unexplained eroded area, px) per variant.
python3 implants.py"""
import json,glob,os
from common import CASES,truth,old,matches,light
files={'zn only (no parallax)':'exp4_12.0_20.0_3.0_smax_override0.0_bandFalse.json','match band':'exp4_12.0_20.0_3.0_.json',
       'match band coherent0.2':'exp4_12.0_20.0_3.0_coherent0.2.json','flow band':'exp4_12.0_20.0_3.0_bandsrcflow.json',
       'FINAL raised+coherent match':'exp4_12.0_20.0_3.0_coherent0.2_bandsrcraised+match.json',
       'FINAL no LR check':'exp4_12.0_20.0_3.0_coherent0.2_bandsrcraised+match_lrcheckFalse.json',
       'FINAL two-sided':'exp4_12.0_20.0_3.0_coherent0.2_bandsrcraised+match_onesidedFalse.json',
       'FINAL cone10':'exp4_12.0_20.0_3.0_coherent0.2_bandsrcraised+match_cone_deg10.0.json'}
D={k:json.load(open(v)) for k,v in files.items() if os.path.exists(v)}
print('| case | light | implant | old.json | '+' | '.join(D)+' |'); print('|'+'---|'*(4+len(D)))
for c in CASES[::2]:
    for j,tc in enumerate(truth(c)['changes']):
        of=[f for f in old(c) if matches(f['bbox'],tc['bbox'])]
        st='found' if of else 'MISSED'
        sc=[]
        for k,rows in D.items():
            tb=[r['big'] for r in rows if r['case']==c and r['i']==-1-j]
            fb=[r['big'] for r in rows if r['case']==c and r['i']>=0 and j in r['hits']]
            sc.append(f"{tb[0] if tb else '-'}"+(f" (finding {max(fb)})" if fb else ''))
        print(f"| {c} | {light(c)} | {tc['package']} {tc['bbox']} | {st} | "+' | '.join(sc)+' |')
