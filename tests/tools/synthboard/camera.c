/* synthboard: the camera model (pinhole, tilt, framing, light) and 3 x 3 matrix helpers. */
#include "synthboard.h"

void
mat3_mul(const double *a, const double *b, double *out)
{
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    memcpy(out, t, sizeof t);
}

void
mat3_inv(const double *m, double *out)
{
    double t[9];
    t[0] = m[4] * m[8] - m[5] * m[7];
    t[1] = m[2] * m[7] - m[1] * m[8];
    t[2] = m[1] * m[5] - m[2] * m[4];
    t[3] = m[5] * m[6] - m[3] * m[8];
    t[4] = m[0] * m[8] - m[2] * m[6];
    t[5] = m[2] * m[3] - m[0] * m[5];
    t[6] = m[3] * m[7] - m[4] * m[6];
    t[7] = m[1] * m[6] - m[0] * m[7];
    t[8] = m[0] * m[4] - m[1] * m[3];
    double det = m[0] * t[0] + m[1] * t[3] + m[2] * t[6];
    for (int k = 0; k < 9; k++)
        out[k] = t[k] / det;
}

void
mat3_normalise(double *m)
{
    double s = m[8];
    for (int k = 0; k < 9; k++)
        m[k] /= s;
}

void
mat3_apply(const double *h, double x, double y, double *ox, double *oy)
{
    double w = h[6] * x + h[7] * y + h[8];
    *ox = (h[0] * x + h[1] * y + h[2]) / w;
    *oy = (h[3] * x + h[4] * y + h[5]) / w;
}

/* The camera model: a pinhole at distance f / scale from the board, turned by rotate_deg in the
 * image plane and tilted by tilt_deg about an axis in a seeded direction; the photo frames the
 * board with a seeded 6-13 % margin, the board kept off the edges. target_mp > 0: the scale that
 * makes the photo that size. */
void
camera_init(Camera *cam, int w, int h, const PhotoOpts *o, guint64 seed, double target_mp)
{
    Rng r, *rng = &r;
    rng_init(rng, seed, STREAM_CAMERA);
    memset(cam, 0, sizeof *cam);
    cam->o = *o;
    double s = o->scale, rot = o->rotate_deg * G_PI / 180, phi = rng_range(rng, 0, 2 * G_PI);
    double tx = o->tilt_deg * G_PI / 180 * cos(phi), ty = o->tilt_deg * G_PI / 180 * sin(phi);
    cam->tilt_x = tx * 180 / G_PI;
    cam->tilt_y = ty * 180 / G_PI;
    double f = 1.2 * MAX(w, h) * s;
    const double Rz[9] = { cos(rot), -sin(rot), 0, sin(rot), cos(rot), 0, 0, 0, 1 };
    const double Rx[9] = { 1, 0, 0, 0, cos(tx), -sin(tx), 0, sin(tx), cos(tx) };
    const double Ry[9] = { cos(ty), 0, sin(ty), 0, 1, 0, -sin(ty), 0, cos(ty) };
    double R[9], M[9], H[9];
    mat3_mul(Rx, Ry, R);
    mat3_mul(R, Rz, R);
    const double K[9] = { f, 0, 0, 0, f, 0, 0, 0, 1 };
    const double T[9] = { 1, 0, -0.5 * (w - 1), 0, 1, -0.5 * (h - 1), 0, 0, 1 };
    const double C[9] = { R[0], R[1], 0, R[3], R[4], 0, R[6], R[7], f / s };
    mat3_mul(K, C, M);
    mat3_mul(M, T, H);
    double lo[2] = { G_MAXDOUBLE, G_MAXDOUBLE }, hi[2] = { -G_MAXDOUBLE, -G_MAXDOUBLE };
    const double corners[4][2]
        = { { -0.5, -0.5 }, { w - 0.5, -0.5 }, { w - 0.5, h - 0.5 }, { -0.5, h - 0.5 } };
    for (int k = 0; k < 4; k++) {
        double x, y;
        mat3_apply(H, corners[k][0], corners[k][1], &x, &y);
        lo[0] = MIN(lo[0], x);
        lo[1] = MIN(lo[1], y);
        hi[0] = MAX(hi[0], x);
        hi[1] = MAX(hi[1], y);
    }
    double span[2] = { hi[0] - lo[0], hi[1] - lo[1] };
    double m[2] = { rng_range(rng, 1.06, 1.13), rng_range(rng, 1.06, 1.13) };
    if (target_mp > 0) { /* the projection scales linearly with s: H(s) = diag(s, s, 1) H(1) */
        double k = sqrt(target_mp * 1e6 / (span[0] * m[0] * span[1] * m[1]));
        const double D[9] = { k, 0, 0, 0, k, 0, 0, 0, 1 };
        mat3_mul(D, H, H);
        for (int i = 0; i < 2; i++) {
            lo[i] *= k;
            span[i] *= k;
        }
        s *= k;
    }
    cam->width = (int) lround(span[0] * m[0]);
    cam->height = (int) lround(span[1] * m[1]);
    double off[2] = { -lo[0] + rng_range(rng, 0.25, 0.75) * (cam->width - span[0]),
                      -lo[1] + rng_range(rng, 0.25, 0.75) * (cam->height - span[1]) };
    const double Tr[9] = { 1, 0, off[0], 0, 1, off[1], 0, 0, 1 };
    mat3_mul(Tr, H, cam->H_rp);
    mat3_normalise(cam->H_rp);
    mat3_inv(cam->H_rp, cam->H_pr);
    mat3_normalise(cam->H_pr);
    cam->scale = s;
    cam->cx = 0.5 * cam->width;
    cam->cy = 0.5 * cam->height;
    cam->rnorm = 0.5 * hypot(cam->width, cam->height);
    cam->gain = 1 + o->light * rng_range(rng, -0.8, 0.8);
    cam->gamma = 1 + o->light * rng_range(rng, -0.6, 0.6);
    for (int c = 0; c < 3; c++)
        cam->wb[c] = 1 + o->light * 0.4 * rng_range(rng, -1, 1);
    cam->vignette = rng_uniform(rng) < 0.5;
    cam->illum_amp = o->light * rng_range(rng, 0.7, 1.0);
    cam->illum_dir = rng_range(rng, 0, 2 * G_PI);
    static const float tables[4][3]
        = { { 78, 86, 98 }, { 56, 56, 60 }, { 122, 98, 72 }, { 92, 104, 96 } };
    const float *t = tables[rng_int(rng, 4)];
    double k = rng_range(rng, 0.85, 1.15);
    cam->table = rgb(t[0] * k, t[1] * k, t[2] * k);
}

void
ref_to_photo(const Camera *cam, double rx, double ry, double *px, double *py)
{
    double ux, uy;
    mat3_apply(cam->H_rp, rx, ry, &ux, &uy);
    double x = ux, y = uy;
    for (int it = 0; it < 60; it++) { /* fixed point of u = c + (p - c) (1 + k1 |p - c|^2 / r^2) */
        double dx = x - cam->cx, dy = y - cam->cy;
        double f = 1 + cam->o.k1 * (dx * dx + dy * dy) / (cam->rnorm * cam->rnorm);
        x = cam->cx + (ux - cam->cx) / f;
        y = cam->cy + (uy - cam->cy) / f;
    }
    *px = x;
    *py = y;
}
