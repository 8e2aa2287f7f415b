"""Parallax model: truth field from cameras, estimate from image pair (DIS flow + epipole fit),
and focal/pose from the homography (assumes golden camera looks straight down)."""
from common import *

def cams(c):
    t=truth(c)['capture']['cameras']
    g=t['golden']; i=t['inspection']
    f=lambda d:(np.array(d['K'],float),np.array(d['R'],float),np.array(d['t'],float))
    return f(g),f(i)

def proj(cam,X):
    K,R,t=cam; Y=(R@X.T).T+t; p=(K@Y.T).T; return p[:,:2]/p[:,2:3]

def board_z(c):
    (K,R,t),_=cams(c); return t[2]-K[0,0]/truth(c)['px_per_mm']  # golden cam at z=t[2] above origin

def ref_to_world(c,pts,z=None):
    (K,R,t),_=cams(c); z0=board_z(c) if z is None else z
    # golden: R=diag(1,-1,-1), centre at (0,0,tz)
    C=-R.T@t; rays=(R.T@np.linalg.inv(K)@np.c_[pts,np.ones(len(pts))].T).T
    s=(z0-C[2])/rays[:,2]; return C+rays*s[:,None]

def truth_field(c,pts,h=1.0):
    """parallax (ref px) of a point h mm above the board at ref pixel pts: warped pos - ref pos"""
    g,i=cams(c); H=np.array(truth(c)['homography_photo_to_reference']).reshape(3,3)
    X=ref_to_world(c,pts); Xt=X+np.array([0,0,h])
    pr=proj(g,Xt); pi=proj(i,Xt)
    pw=cv2.perspectiveTransform(pi[None].astype(np.float64),H)[0]
    # subtract the h=0 transfer (truth H and camera data disagree by ~1 px constant)
    p0=cv2.perspectiveTransform(proj(i,X)[None].astype(np.float64),H)[0]-proj(g,X)
    return pw-pr-p0

def check_cam(c):
    t=truth(c); cp=np.array(t['check_points'])
    X=ref_to_world(c,cp[:,:2]); _,i=cams(c); p=proj(i,X)
    return np.abs(p-cp[:,2:]).max()

def norm_gray(img,s=8.0):
    g=cv2.cvtColor(img,cv2.COLOR_BGR2GRAY).astype(np.float32)
    m=cv2.GaussianBlur(g,(0,0),s); v=cv2.GaussianBlur((g-m)**2,(0,0),s)
    n=(g-m)/np.sqrt(v+25.0)
    return np.clip(n*40+128,0,255).astype(np.uint8)

def dis_flow(a,b):
    d=cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return d.calc(a,b,None)

def flow_pair(c,r=None,w=None):
    r=ref(c) if r is None else r; w=warped(c) if w is None else w
    a=norm_gray(r); b=norm_gray(w)
    F=dis_flow(a,b); B=dis_flow(b,a)
    valid=(cv2.cvtColor(w,cv2.COLOR_BGR2GRAY)>0)
    valid=cv2.erode(valid.astype(np.uint8),np.ones((31,31),np.uint8))>0
    H,W=F.shape[:2]; yy,xx=np.mgrid[0:H,0:W].astype(np.float32)
    Bw=cv2.remap(B,xx+F[...,0],yy+F[...,1],cv2.INTER_LINEAR)
    fb=np.hypot(*(F+Bw).transpose(2,0,1))
    return F,fb,valid

def fit_epipole(P,R,iters=400,thr_deg=10.0,seed=0):
    """P: Nx2 positions, R: Nx2 residual vectors. Model r ~ lam*(a*x+b), lam>0. Returns (a,bx,by) normalised."""
    rng=np.random.default_rng(seed)
    sc=1000.0; x=P/sc
    Rn=R/np.linalg.norm(R,axis=1,keepdims=True)
    A=np.c_[Rn[:,0]*x[:,1]-Rn[:,1]*x[:,0], -Rn[:,1], Rn[:,0]]  # cross(r,(a x+b))=0 -> rx*(a y+by)-ry*(a x+bx)
    def ang(m):
        v=np.c_[m[0]*x[:,0]+m[1],m[0]*x[:,1]+m[2]]; v/=np.linalg.norm(v,axis=1,keepdims=True)+1e-12
        cs=(v*Rn).sum(1); return np.degrees(np.arccos(np.clip(cs,-1,1)))
    best=None;bs=-1
    for _ in range(iters):
        idx=rng.choice(len(P),2,replace=False)
        _,_,Vt=np.linalg.svd(A[idx]); m=Vt[-1]
        for s in (1,-1):
            e=ang(s*m); sc_=(e<thr_deg).sum()
            if sc_>bs: bs,best=sc_,s*m
    m=best
    for _ in range(3):
        inl=ang(m)<thr_deg
        _,_,Vt=np.linalg.svd(A[inl]); m2=Vt[-1]
        m=m2 if (ang(m2)<thr_deg).sum()>=(ang(-m2)<thr_deg).sum() else -m2
    m=m/np.linalg.norm(m)
    return np.array([m[0],m[1]*sc,m[2]*sc])/np.hypot(m[1]*sc,m[2]*sc), (ang(m)<thr_deg).mean()

def dirfield(m,pts):
    v=np.c_[m[0]*pts[:,0]+m[1],m[0]*pts[:,1]+m[2]]
    return v/np.linalg.norm(v,axis=1,keepdims=True)

def estimate(c,F=None,fb=None,valid=None,minmag=2.0,step=4):
    if F is None: F,fb,valid=flow_pair(c)
    H,W=F.shape[:2]; yy,xx=np.mgrid[0:H:step,0:W:step]
    f=F[::step,::step]; mag=np.hypot(f[...,0],f[...,1])
    ok=valid[::step,::step]&(fb[::step,::step]<1.0)&(mag>minmag)&(mag<40)
    P=np.c_[xx[ok],yy[ok]].astype(float); R=f[ok].astype(float)
    m,inl=fit_epipole(P,R)
    return m,inl,P,R

def focal_from_H(Hp2r,cx=1200,cy=800):
    Hr2p=np.linalg.inv(Hp2r)
    def cost(f):
        K=np.array([[f,0,cx],[0,f,cy],[0,0,1.]]); M=np.linalg.inv(K)@Hr2p@K
        a,b=M[:,0],M[:,1]; na,nb=np.linalg.norm(a),np.linalg.norm(b)
        return (a@b/(na*nb))**2+((na-nb)/(na+nb))**2
    fs=np.exp(np.linspace(np.log(500),np.log(50000),2000)); cs=[cost(f) for f in fs]
    return fs[int(np.argmin(cs))]

def field_from_H(Hp2r,f,ppm,pts,h=1.0,cx=1200,cy=800):
    """parallax per h mm from homography + focal, assuming golden camera fronto-parallel, same K."""
    K=np.array([[f,0,cx],[0,f,cy],[0,0,1.]]); Hr2p=np.linalg.inv(Hp2r)
    M=np.linalg.inv(K)@Hr2p@K; M=M/np.linalg.norm(M[:,0])
    if np.linalg.det(M)<0: M=-M
    r1=M[:,0]; r2=M[:,1]-(M[:,1]@r1)*r1; r2/=np.linalg.norm(r2); r3=np.cross(r1,r2)
    Zr=f/ppm; R=np.c_[r1,r2,r3]; t=Zr*(M[:,2]-r3)
    xn=(pts[:,0]-cx)/f; yn=(pts[:,1]-cy)/f
    Xc=np.c_[xn*(Zr-h),yn*(Zr-h),np.full(len(pts),Zr-h)]
    pr=(K@Xc.T).T; pr=pr[:,:2]/pr[:,2:]
    pp=(K@(R@Xc.T+t[:,None])).T; pp=pp[:,:2]/pp[:,2:]
    pw=cv2.perspectiveTransform(pp[None],Hp2r)[0]
    return pw-pr
