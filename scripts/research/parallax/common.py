import json, os, cv2, numpy as np
# a render-dev style suite, with each case's pcbdiff report as old.json
RD = os.environ.get('RENDER_DEV', '../shared/render-dev')
# caseNNN.warped.png: the photos warped by `pcbdiff register --out`
PR = os.environ.get('PROTO_DIR', '/tmp/parallax-proto')
CASES=['case%03d'%i for i in range(16)]
def truth(c): return json.load(open(f'{RD}/{c}/truth.json'))
def old(c): return json.load(open(f'{RD}/{c}/old.json'))['findings']
def ref(c): return cv2.imread(f'{RD}/{c}/reference.png')
def warped(c):
    p=f'{PR}/{c}.warped.png'
    if os.path.exists(p): return cv2.imread(p)
    t=truth(c); H=np.array(t['homography_photo_to_reference']).reshape(3,3)
    ph=cv2.imread(f'{RD}/{c}/photo.jpg')
    return cv2.warpPerspective(ph,H,(2400,1600),flags=cv2.INTER_LINEAR)
def iou_parts(f,t):
    ix=max(0.0,min(f[0]+f[2],t[0]+t[2])-max(f[0],t[0])); iy=max(0.0,min(f[1]+f[3],t[1]+t[3])-max(f[1],t[1]))
    inter,af,at=ix*iy,f[2]*f[3],t[2]*t[3]; return inter/(af+at-inter),inter,af,at
def matches(f,t):
    iou,inter,af,at=iou_parts(f,t); return iou>=0.1 or (inter>=0.5*at and af<=25*at)
def light(c): return 'same' if int(c[4:])%8<4 else 'other'
