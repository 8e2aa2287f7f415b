"""Region test: explain a finding by plane+parallax (1-D one-sided two-way matching along the epipolar
direction, swept band excused) and by light (local normalisation).  Library used by exp2_*.py."""
from pmodel import *

PPM=12.655

def zn(img,sig=4.0,floor=6.0):
    """locally normalised luminance: (g-mean)/sqrt(var+floor^2); floor ~ 2-3x the noise sigma so flat
    board stays ~0 instead of amplified noise; kills smooth shading (shadows, light level)."""
    g=img.astype(np.float32) if img.ndim==2 else cv2.cvtColor(img,cv2.COLOR_BGR2GRAY).astype(np.float32)
    m=cv2.GaussianBlur(g,(0,0),sig); v=cv2.GaussianBlur((g-m)**2,(0,0),sig)
    return (g-m)/np.sqrt(v+floor*floor)

def load_model(c):
    p=f'cache/{c}.model.json'
    if os.path.exists(p): return json.load(open(p))
    F=np.load(f'cache/{c}.flow.npy').astype(np.float32); fb=np.load(f'cache/{c}.fb.npy').astype(np.float32)
    w=warped(c); valid=cv2.erode((cv2.cvtColor(w,cv2.COLOR_BGR2GRAY)>0).astype(np.uint8),np.ones((31,31),np.uint8))>0
    m,inl,P,R=estimate(c,F,fb,valid)
    u=dirfield(m,P); s=(R*u).sum(1); g=np.hypot(m[0]*P[:,0]+m[1],m[0]*P[:,1]+m[2])
    ratio=s/g   # observed parallax / |a x+b|  ~ height * scale
    q=float(np.percentile(ratio,99.5))
    d=dict(m=m.tolist(),inl=float(inl),q995=q)
    json.dump(d,open(p,'w')); return d

def smax_at(model,x,y,margin=1.25,slack=2.0):
    m=model['m']; g=np.hypot(m[0]*x+m[1],m[0]*y+m[2]); return model['q995']*g*margin+slack

def udir(model,x,y):
    m=model['m']; v=np.array([m[0]*x+m[1],m[0]*y+m[2]]); return v/np.linalg.norm(v)

def shift(img,dx,dy):
    M=np.float32([[1,0,dx],[0,1,dy]])  # out(x)=img(x-d)
    return cv2.warpAffine(img,M,(img.shape[1],img.shape[0]),flags=cv2.INTER_LINEAR,borderMode=cv2.BORDER_REPLICATE)

def sample(img,dx,dy):
    """out(x)=img(x+d)"""
    return shift(img,-dx,-dy)

class Pair:
    def __init__(self,c,win=7,sig=12.0,floor=20.0):
        import model as MD
        self.MD=MD
        self.c=c; self.R=ref(c); self.W=warped(c); self.model=json.load(open(f'cache/{c}.model2.json')); self.win=win
        self.zr=zn(self.R,sig,floor); self.zw=zn(self.W,sig,floor)
        self.cov=cv2.cvtColor(self.W,cv2.COLOR_BGR2GRAY)>0
        # noise level of the s=0 cost on the whole image (robust): tau = med + 6*1.4826*MAD
        c0=cv2.blur(np.abs(self.zr-self.zw),(win,win))[self.cov]
        med=np.median(c0); mad=np.median(np.abs(c0-med))*1.4826
        self.c0med,self.c0mad=float(med),float(mad)
    def raised(self,close=7,hole_mm2=4.0):
        """pixels on parts that stand above the board: dense flow along the epipolar direction >= 2 px,
        perpendicular part small, forward-backward consistent; closed and hole-filled (a part top whose
        highlight changed keeps its outline in the flow).  returns mask and displacement (px)."""
        if hasattr(self,'_raised'): return self._raised
        F=np.load(f'cache/{self.c}.flow.npy').astype(np.float32); fb=np.load(f'cache/{self.c}.fb.npy').astype(np.float32)
        m=self.model['m']; H,W=F.shape[:2]; yy,xx=np.mgrid[0:H,0:W].astype(np.float32)
        ux=m[0]*xx+m[1]; uy=m[0]*yy+m[2]; n=np.sqrt(ux*ux+uy*uy); ux/=n; uy/=n
        s=F[...,0]*ux+F[...,1]*uy; p=np.abs(F[...,0]*uy-F[...,1]*ux)
        mB=self.model['mB']; Smax=1.2*self.MD.HMAX_MM*np.hypot(mB[0]*xx+mB[1],mB[0]*yy+mB[2])+2
        M=(s>=2)&(s<=Smax)&(p<1.0+0.2*s)&(fb<1.0)&self.cov
        M=cv2.morphologyEx(M.astype(np.uint8),cv2.MORPH_OPEN,np.ones((3,3),np.uint8))
        M=cv2.morphologyEx(M,cv2.MORPH_CLOSE,np.ones((close,close),np.uint8))
        # fill holes smaller than hole_mm2
        inv=(1-M).astype(np.uint8); n_,lab,st,_=cv2.connectedComponentsWithStats(inv,connectivity=4)
        small=np.zeros(n_,bool); small[1:]=st[1:,cv2.CC_STAT_AREA]<hole_mm2*PPM*PPM
        M=(M>0)|small[lab]
        sv=cv2.dilate(np.where(M,np.clip(s,0,None),0).astype(np.float32),np.ones((5,5),np.uint8))
        sv=np.where(M,sv,0).astype(np.float32)
        self._raised=(M,sv); return self._raised
    def analyse(self,bbox,k_tau=3.0,onesided=True,twoway=True,band=True,smax_override=None,
                tex=0.25,min_area_mm2=0.3,erode_px=2,cone_deg=0.0,lrcheck=True,lr_delta=1.5,bandsrc='match',coherent=0.0,iso_px=0,band_dil=True):
        x,y,w,h=[int(round(v)) for v in bbox]
        cx,cy=x+w/2,y+h/2
        S=self.MD.smax(self.model,cx,cy) if smax_override is None else smax_override
        u=udir(self.model,cx,cy); pad=int(np.ceil(S))+self.win+4
        x0,y0=max(0,x-pad),max(0,y-pad); x1,y1=min(2400,x+w+pad),min(1600,y+h+pad)
        zr=self.zr[y0:y1,x0:x1]; zw=self.zw[y0:y1,x0:x1]; cov=self.cov[y0:y1,x0:x1]
        tau=self.c0med+k_tau*self.c0mad
        ss=np.arange(0,int(np.ceil(S))+1) if onesided else np.arange(-int(np.ceil(S)),int(np.ceil(S))+1)
        bw=lambda a: cv2.blur(a,(self.win,self.win))
        INF=1e9
        sf=np.full(zr.shape,INF,np.float32); sr=np.full(zr.shape,INF,np.float32)   # smallest |s| explaining
        cf=np.full(zr.shape,INF,np.float32); crr=np.full(zr.shape,INF,np.float32)  # min cost
        nperp=np.array([-u[1],u[0]])
        ss=sorted(ss,key=abs)
        EF=[];ER=[]
        for s in ss:
            P=int(np.floor(abs(s)*np.tan(np.radians(cone_deg))+0.5)) if cone_deg>0 else 0
            ef=np.full(zr.shape,INF,np.float32); er=np.full(zr.shape,INF,np.float32)
            for p in range(-P,P+1):
                dx,dy=s*u+p*nperp
                ef=np.minimum(ef,bw(np.abs(zr-sample(zw,dx,dy))))      # ref point x seen in photo at x+su
                er=np.minimum(er,bw(np.abs(zw-sample(zr,-dx,-dy))))    # photo point y seen in ref at y-su
            EF.append(ef); ER.append(er)
            sf=np.where((sf>=INF)&(ef<tau),abs(s),sf); sr=np.where((sr>=INF)&(er<tau),abs(s),sr)
        # uniqueness / left-right consistency: a match at displacement s is valid only if the partner
        # pixel is not explained at a smaller displacement (a board-level point cannot also be a raised one)
        fexp=np.zeros(zr.shape,bool); rexp=np.zeros(zr.shape,bool)
        Mf=np.zeros(zr.shape,bool); Mr=np.zeros(zr.shape,bool); sfv=np.zeros(zr.shape,np.float32); srv=np.zeros(zr.shape,np.float32)
        texr=bw(np.abs(zr))>tex; texw=bw(np.abs(zw))>tex
        for s,ef,er in zip(ss,EF,ER):
            dx,dy=s*u
            if lrcheck and s!=0:
                vf=(ef<tau)&(sample(sr,dx,dy)>=abs(s)-lr_delta)
                vr=(er<tau)&(sample(sf,-dx,-dy)>=abs(s)-lr_delta)
            else:
                vf=ef<tau; vr=er<tau
            newf=vf&~fexp; newr=vr&~rexp
            sfv[newf]=abs(s); srv[newr]=abs(s)
            fexp|=vf; rexp|=vr
        ffail=~fexp; rfail=~rexp
        if not twoway: ffail=ffail&rfail; rfail=ffail
        B=np.zeros(zr.shape,bool)
        if band:
            Mf=fexp&(sfv>=2)&texr; Mr=rexp&(srv>=2)&texw
            if coherent>0:
                def coh(M,sv):
                    keep=np.zeros_like(M)
                    for v in np.unique(sv[M]):
                        near=(M&(np.abs(sv-v)<=1)).astype(np.float32)
                        keep|=M&(sv==v)&(cv2.blur(near,(9,9))>=coherent)
                    return keep
                Mf=coh(Mf,sfv); Mr=coh(Mr,srv)
            if bandsrc in ('raised','raised+match'):
                Rm,Sv=self.raised()
                rm=Rm[y0:y1,x0:x1]; sv=Sv[y0:y1,x0:x1]
                if bandsrc=='raised': Mf=rm; sfv=sv; Mr=np.zeros_like(rm)
                else: Mf=Mf|rm; sfv=np.maximum(sfv,sv)
            if bandsrc=='flow':
                if not hasattr(self,'F'):
                    self.F=np.load(f'cache/{self.c}.flow.npy').astype(np.float32); self.fb=np.load(f'cache/{self.c}.fb.npy').astype(np.float32)
                Fc=self.F[y0:y1,x0:x1]; fbc=self.fb[y0:y1,x0:x1]
                sfl=Fc[...,0]*u[0]+Fc[...,1]*u[1]; pfl=np.abs(Fc[...,0]*u[1]-Fc[...,1]*u[0])
                Mf=(sfl>=2)&(sfl<=S)&(pfl<1.0+0.2*sfl)&(fbc<1.0)&texr
                sfv=np.where(Mf,sfl,0).astype(np.float32); Mr=np.zeros_like(Mf)
            for t in range(0,int(np.ceil(S))+1):
                if t==0: B|=Mf|Mr; continue
                a_=(Mf&(sfv>=t)).astype(np.uint8); b_=(Mr&(srv>=t)).astype(np.uint8)
                if a_.any(): B|=shift(a_,t*u[0],t*u[1])>0
                if b_.any(): B|=shift(b_,-t*u[0],-t*u[1])>0
            if band_dil: B=cv2.dilate(B.astype(np.uint8),np.ones((3,3),np.uint8))>0
            if iso_px>0: B=cv2.dilate(B.astype(np.uint8),cv2.getStructuringElement(cv2.MORPH_ELLIPSE,(2*iso_px+1,2*iso_px+1)))>0
        U=(ffail|rfail)&~B&cov
        # restrict to the finding box
        m=np.zeros_like(U); m[y-y0:y-y0+h,x-x0:x-x0+w]=True; U=U&m
        if erode_px>0: U=cv2.erode(U.astype(np.uint8),np.ones((2*erode_px+1,2*erode_px+1),np.uint8))>0
        n,lab,st,_=cv2.connectedComponentsWithStats(U.astype(np.uint8),connectivity=8)
        big=int(st[1:,cv2.CC_STAT_AREA].max()) if n>1 else 0
        # eroded area -> compare with eroded minimal implant area
        amin=max(4.0,min_area_mm2*PPM*PPM*0.35)
        bf=float(B[y-y0:y-y0+h,x-x0:x-x0+w].mean()) if B.size else 0.0
        return dict(bandfrac=bf,real=big>=amin,big=big,amin=amin,S=float(S),u=u.tolist(),tau=float(tau))
