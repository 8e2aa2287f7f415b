"""Exp 2: classify every old.json finding as explained/real with the region test; count removed FPs and kept implants.
python3 exp2_region.py VARIANT [cases...]   (variants defined below)"""
import sys,time
from region import *
VARIANTS={
 'zn_only':dict(smax_override=0.0,band=False),                 # light normalisation only, no parallax
 'par_twoway_band':dict(),                                      # default: one-sided, two-way, band
 'par_twoway_band_cone15':dict(cone_deg=15.0),
 'par_any_band':dict(twoway=False),                             # either direction explains
 'par_twoway_noband':dict(band=False),
 'par_twosided_band':dict(onesided=False),
}
def run(var,cases):
    kw=VARIANTS[var]; out=[]
    for c in cases:
        t0=time.time(); pr=Pair(c); T=truth(c)['changes']
        for i,f in enumerate(old(c)):
            r=pr.analyse(f['bbox'],**kw)
            hits=[j for j,tc in enumerate(T) if matches(f['bbox'],tc['bbox'])]
            out.append(dict(case=c,i=i,bbox=f['bbox'],kind=f['kind'],real=bool(r['real']),big=r['big'],amin=r['amin'],S=round(r['S'],1),hits=hits))
        print(c,var,round(time.time()-t0,1),'s',flush=True)
    return out
def summarise(rows,cases):
    tot=dict(fp_old=0,fp_new=0,imp_old=0,imp_new=0,imp_all=0); per={}
    for c in cases:
        T=truth(c)['changes']; R=[r for r in rows if r['case']==c]
        fp_old=sum(1 for r in R if not r['hits']); fp_new=sum(1 for r in R if not r['hits'] and r['real'])
        imp_old=len({j for r in R for j in r['hits']}); imp_new=len({j for r in R if r['real'] for j in r['hits']})
        per[c]=dict(fp_old=fp_old,fp_new=fp_new,imp_all=len(T),imp_old=imp_old,imp_new=imp_new)
        for k in tot: tot[k]+=per[c][k]
    return per,tot
if __name__=='__main__':
    var=sys.argv[1]; cases=sys.argv[2:] or CASES
    rows=run(var,cases); json.dump(rows,open(f'exp2_{var}.json','w'))
    per,tot=summarise(rows,cases)
    for c,p in per.items(): print(c,light(c),p)
    cl=[c for c in cases if int(c[4:])%2]
    for L in ['same','other']:
        cc=[c for c in cases if light(c)==L]
        print(L,'FP/case old',round(sum(per[c]['fp_old'] for c in cc)/max(1,len(cc)),2),'new',round(sum(per[c]['fp_new'] for c in cc)/max(1,len(cc)),2),
              'implants kept',sum(per[c]['imp_new'] for c in cc),'/',sum(per[c]['imp_old'] for c in cc),'(truth',sum(per[c]['imp_all'] for c in cc),')')
    print('TOTAL',var,tot,'FP/clean case new',round(sum(per[c]['fp_new'] for c in cl)/max(1,len(cl)),2),'FP/case all new',round(tot['fp_new']/len(cases),2))
