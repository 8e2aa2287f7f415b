"""Exp 1b: epipole-fit variants on cached DIS flows (run exp1_parallax.py first). python3 exp1b_fitvariants.py"""
from pmodel import *
def fit_w(P,R,wts,iters=500,thr_deg=5.0,seed=0):
    rng=np.random.default_rng(seed); sc=1000.0; x=P/sc
    Rn=R/np.linalg.norm(R,axis=1,keepdims=True)
    A=np.c_[Rn[:,0]*x[:,1]-Rn[:,1]*x[:,0], -Rn[:,1], Rn[:,0]]
    def ang(m):
        v=np.c_[m[0]*x[:,0]+m[1],m[0]*x[:,1]+m[2]]; v/=np.linalg.norm(v,axis=1,keepdims=True)+1e-12
        return np.degrees(np.arccos(np.clip((v*Rn).sum(1),-1,1)))
    best=None;bs=-1
    for _ in range(iters):
        idx=rng.choice(len(P),2,replace=False,p=wts/wts.sum())
        _,_,Vt=np.linalg.svd(A[idx]); m=Vt[-1]
        for s in (1,-1):
            sc_=wts[ang(s*m)<thr_deg].sum()
            if sc_>bs: bs,best=sc_,s*m
    m=best
    for _ in range(4):
        inl=ang(m)<thr_deg
        _,_,Vt=np.linalg.svd(A[inl]*np.sqrt(wts[inl])[:,None]); m2=Vt[-1]
        m=m2 if wts[ang(m2)<thr_deg].sum()>=wts[ang(-m2)<thr_deg].sum() else -m2
    m=m/np.linalg.norm(m); return np.array([m[0],m[1]*sc,m[2]*sc])/np.hypot(m[1]*sc,m[2]*sc)
if __name__=='__main__':
    variants={'base(>2px,10deg,count)':dict(minmag=2,thr=10,wpow=0),'>3px,5deg,w=|r|':dict(minmag=3,thr=5,wpow=1),
              '>3px,5deg,w=|r|^2':dict(minmag=3,thr=5,wpow=2),'>4px,3deg,w=|r|^2':dict(minmag=4,thr=3,wpow=2)}
    res={}
    for c in CASES:
        F=np.load(f'cache/{c}.flow.npy').astype(np.float32); fb=np.load(f'cache/{c}.fb.npy').astype(np.float32)
        w=warped(c); valid=cv2.erode((cv2.cvtColor(w,cv2.COLOR_BGR2GRAY)>0).astype(np.uint8),np.ones((31,31),np.uint8))>0
        yy,xx=np.mgrid[100:1500:50,100:2300:50]; G=np.c_[xx.ravel(),yy.ravel()].astype(float)
        G=G[valid[G[:,1].astype(int),G[:,0].astype(int)]]
        dt=truth_field(c,G,1.0); k=np.linalg.norm(dt,axis=1); ut=dt/k[:,None]
        out=[]
        for name,v in variants.items():
            step=4; f=F[::step,::step]; mag=np.hypot(f[...,0],f[...,1]); yy2,xx2=np.mgrid[0:1600:step,0:2400:step]
            ok=valid[::step,::step]&(fb[::step,::step]<0.5)&(mag>v['minmag'])&(mag<40)
            P=np.c_[xx2[ok],yy2[ok]].astype(float); R=f[ok].astype(float)
            m=fit_w(P,R,np.linalg.norm(R,axis=1)**v['wpow'],thr_deg=v['thr'])
            ue=dirfield(m,G); ang=np.degrees(np.arccos(np.clip((ut*ue).sum(1),-1,1)))
            perp=12.6*k*np.sin(np.radians(ang))
            out.append(f"{np.median(ang[k>0.2]):6.1f}/{np.percentile(perp,95):4.1f}")
            res.setdefault(name,[]).append((float(np.median(ang[k>0.2])),float(np.percentile(perp,95))))
        print(c,' | '.join(out),flush=True)
    for n,v in res.items():
        a=np.array(v); print(n,'median ang over cases',np.median(a[:,0]).round(2),'sign errors',(a[:,0]>90).sum(),'worst perp12 p95',a[a[:,0]<90,1].max().round(2))
