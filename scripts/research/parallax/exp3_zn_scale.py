"""Exp 3: which normalisation scale separates implants from the zero-displacement noise? (no parallax)
for each implant: fraction of its box whose cost exceeds the image's 99.5th percentile.  python3 exp3_zn_scale.py"""
from region import *
res={}
for c in CASES[::2]:
    R=ref(c); W=warped(c); cov=cv2.cvtColor(W,cv2.COLOR_BGR2GRAY)>0; T=truth(c)['changes']
    for sig in [4,8,12,16,24]:
        for fl in [3,6,12]:
            c0=cv2.blur(np.abs(zn(R,sig,fl)-zn(W,sig,fl)),(7,7)); th=np.percentile(c0[cov],99.5)
            fr=[]
            for tc in T:
                x,y,w,h=tc['bbox']; fr.append(round(float((c0[y:y+h,x:x+w]>th).mean()),2))
            res.setdefault((sig,fl),[]).extend(fr)
    print(c,flush=True)
for k,v in res.items(): print('sigma',k[0],'floor',k[1],'implant frac>p99.5:',v,'min',min(v),'mean',round(np.mean(v),2))
