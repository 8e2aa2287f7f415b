"""Exp 3b: representation sweep: implant-box p75 cost at s=0 divided by the image noise (median cost); clean 'ratio'.
python3 exp3b_repr.py"""
from region import *
def zn3(img,sig,fl):
    return np.dstack([zn(img[...,k],sig,fl) for k in range(3)])
res={}
for c in CASES[::2]:
    R=ref(c); W=warped(c); cov=cv2.cvtColor(W,cv2.COLOR_BGR2GRAY)>0; T=truth(c)['changes']
    for rep in ['gray','color']:
        for sig in [4,12,24]:
            for fl in [6,20,40]:
                if rep=='gray': d=np.abs(zn(R,sig,fl)-zn(W,sig,fl))
                else: d=np.abs(zn3(R,sig,fl)-zn3(W,sig,fl)).mean(2)
                c0=cv2.blur(d,(7,7)); med=np.median(c0[cov]); mad=1.4826*np.median(np.abs(c0[cov]-med))
                for tc in T:
                    x,y,w,h=tc['bbox']; v=np.percentile(c0[y:y+h,x:x+w],75)
                    res.setdefault((rep,sig,fl),[]).append(round(float((v-med)/mad),1))
    print(c,flush=True)
for k,v in res.items(): print(k,'implant (p75-med)/MAD:',v,'min',min(v),'median',np.median(v))
