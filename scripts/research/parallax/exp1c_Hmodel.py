"""Exp 1c: parallax field from the homography alone (pose with golden camera assumed straight down):
focal estimated from H vs known focal; pcbdiff H vs truth H.  python3 exp1c_Hmodel.py"""
from pmodel import *
print('case  | f_est(pcbH) angmed perp95 kratio | f=3333(pcbH) angmed perp95 kratio | f_est(truthH) angmed perp95 kratio')
rows=[]
for c in CASES:
    t=truth(c); Ht=np.array(t['homography_photo_to_reference']).reshape(3,3)
    Hp=np.array(json.load(open(f'{PR}/{c}.reg.json'))['registration']['homography_photo_to_reference']).reshape(3,3) if os.path.exists(f'{PR}/{c}.warped.png') else Ht
    w=warped(c); valid=(cv2.cvtColor(w,cv2.COLOR_BGR2GRAY)>0)
    yy,xx=np.mgrid[100:1500:50,100:2300:50]; G=np.c_[xx.ravel(),yy.ravel()].astype(float)
    G=G[valid[G[:,1].astype(int),G[:,0].astype(int)]]
    dt=truth_field(c,G,1.0); k=np.linalg.norm(dt,axis=1); ut=dt/k[:,None]
    out=[c]; row=dict(case=c)
    for name,H,f in [('pcbH_fest',Hp,None),('pcbH_f3333',Hp,3333.33),('truthH_fest',Ht,None)]:
        f=focal_from_H(H) if f is None else f
        d=field_from_H(H,f,t['px_per_mm'],G,1.0); kh=np.linalg.norm(d,axis=1)
        ang=np.degrees(np.arccos(np.clip((ut*d/kh[:,None]).sum(1),-1,1)))
        perp=12.6*k*np.sin(np.radians(ang))
        r=[round(float(f)),round(float(np.median(ang[k>0.2])),1),round(float(np.percentile(perp,95)),1),round(float(np.median(kh/k)),2)]
        row[name]=r; out.append(str(r))
    rows.append(row); print(' | '.join(out),flush=True)
json.dump(rows,open('exp1c.json','w'))
