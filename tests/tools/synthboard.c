/* synthboard: seeded synthetic server boards, and re-photographs of them, for pcbdiff's tests,
 * samples and benchmarks.
 *
 *   synthboard board --out golden.png [--width-mm 150 --height-mm 100 --px-per-mm 8 --seed N]
 *                    [--profile board.ini]
 *   synthboard photo --golden golden.png --out photo.jpg --seed N [--board-seed B] [--px-per-mm 8]
 *                    [--scale 1.4 --rotate-deg 17 --tilt-deg 2 --k1 0.01 --light 0.15 --noise 2
 *                     --blur 0.6 --quality 90] [--implant] [--remove] [--truth truth.json]
 *   synthboard pair --out DIR --megapixels 24 --seed N [--implant] [--remove]
 *
 * The board is a scene in millimetres (parts, pads, traces, vias, silkscreen) that depends on the
 * seed and the board size only. It is drawn at any px/mm with analytic anti-aliasing, so a photo
 * at 1.4x the golden's resolution is drawn at 1.4x with real detail, not upscaled.
 *
 * A photo: the scene (with an implant and/or a removed passive, if asked) is drawn at
 * px/mm x scale, then seen through a camera: a homography (rotation, scale, tilt), radial lens
 * distortion, a table around the board, gain / gamma / white balance, a light gradient or a
 * vignette, Gaussian blur, Gaussian sensor noise, JPEG. Pixel coordinates are those of pixel
 * centres (pixel (i, j) is the point (i, j)), as in OpenCV.
 *
 * Lens model (the bench's): photo pixel p -> ideal u = c + (p - c) (1 + k1 |p - c|^2 / r^2), with
 * c the photo centre and r its half-diagonal; reference = inverse(H_reference_to_photo) u.
 * homography_photo_to_reference in the truth is exact when k1 = 0, otherwise the least-squares
 * best fit (geometric error in reference pixels) over a 30 x 30 grid of board points.
 *
 * Random numbers: our own xorshift64* streams seeded through splitmix64, never rand(), so the
 * output is the same on every machine given the same compiler maths.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "pcbdiff/error.h"
#include "pcbdiff/image.h"

#define EXIT_USAGE 2

/* ------------------------------------------------------------------------------------ random */

typedef struct {
    guint64 s;
} Rng;

enum {
    STREAM_SCENE = 1,
    STREAM_CAMERA = 2,
    STREAM_NOISE = 3,
    STREAM_CHANGES = 4,
    STREAM_TABLE = 5,
};

static guint64
splitmix64(guint64 *x)
{
    guint64 z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void
rng_init(Rng *r, guint64 seed, guint64 stream)
{
    guint64 x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    splitmix64(&x);
    r->s = splitmix64(&x);
    if (r->s == 0)
        r->s = 0x2545F4914F6CDD1Dull;
}

static inline guint64
rng_next(Rng *r)
{
    guint64 x = r->s; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static double
rng_uniform(Rng *r)
{
    return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

static double
rng_range(Rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

static int
rng_int(Rng *r, int n)
{
    return (int) ((rng_next(r) >> 33) % (guint64) n);
}

static double
rng_normal(Rng *r)
{
    double u = 1.0 - rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * G_PI * v);
}

/* ------------------------------------------------------------------------------------ colour */

typedef struct {
    float r, g, b;
} Rgb;

static Rgb
rgb(double r, double g, double b)
{
    Rgb c = { (float) r, (float) g, (float) b };
    return c;
}

static Rgb
rgb_mul(Rgb c, double k)
{
    return rgb(c.r * k, c.g * k, c.b * k);
}

static Rgb
rgb_add(Rgb c, double d)
{
    return rgb(c.r + d, c.g + d, c.b + d);
}

static inline guint8
clamp_u8(float v)
{
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) (v + 0.5f);
}

/* A small, fast per-pixel hash in [-1, 1]: texture (grain) on bodies, silkscreen, metal. */
static inline float
hash_noise(guint32 x, guint32 y)
{
    guint32 h = x * 0x8DA6B343u ^ y * 0xD8163841u ^ 0x9E3779B9u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return (float) (h & 0xFFFF) * (2.0f / 65535.0f) - 1.0f;
}

/* ------------------------------------------------------------------------------------ canvas */

typedef struct {
    guint8 *data;
    size_t stride;
    int width, height;
    double ppm; /* pixels per millimetre; pixel (i, j) covers [i, i+1] x [j, j+1] / ppm mm */
} Canvas;

typedef struct {
    double x0, y0, x1, y1;
} Box;

enum { PROF_FLAT, PROF_LINEAR, PROF_CYL, PROF_LEAD, PROF_RADIAL };
enum { BLEND_OVER, BLEND_ADD, BLEND_MUL };

/* How a shape is filled: a colour (or c0 -> c1 along a profile), a blend mode, an opacity, an
 * edge softness in pixels (1: anti-aliased; more: soft shadows) and a per-pixel grain. */
typedef struct {
    Rgb c0, c1;
    guint8 profile, axis, flip, blend; /* axis 0: profile along board x, 1: along y */
    float alpha, soft, grain;
} Paint;

static Paint
paint_flat(Rgb c)
{
    Paint p = {
        .c0 = c, .c1 = c, .profile = PROF_FLAT, .blend = BLEND_OVER, .alpha = 1.0f, .soft = 1.0f
    };
    return p;
}

static Paint
paint_prof(Rgb c0, Rgb c1, int profile, int axis, int flip)
{
    Paint p = paint_flat(c0);
    p.c1 = c1;
    p.profile = (guint8) profile;
    p.axis = (guint8) axis;
    p.flip = (guint8) flip;
    return p;
}

static Paint
paint_blend(Rgb c, int blend, double alpha)
{
    Paint p = paint_flat(c);
    p.blend = (guint8) blend;
    p.alpha = (float) alpha;
    return p;
}

/* Gull-wing lead seen from above, from the body (0) to the tip (1): the shoulder, the dark
 * bend, the bright foot on the pad. */
static float
lead_profile(float s)
{
    static const float xs[] = { 0.0f, 0.22f, 0.38f, 0.55f, 0.78f, 1.0f };
    static const float ys[] = { 0.85f, 0.75f, 0.25f, 0.7f, 1.0f, 0.8f };
    if (s <= 0.0f)
        return ys[0];
    for (int i = 1; i < 6; i++)
        if (s <= xs[i])
            return ys[i - 1] + (ys[i] - ys[i - 1]) * (s - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return ys[5];
}

static inline Rgb
paint_colour(const Paint *p, float u, float v, int ix, int iy)
{
    Rgb c = p->c0;
    if (p->profile != PROF_FLAT) {
        float s = (p->profile == PROF_RADIAL || p->axis == 0) ? u : v, t;
        if (p->flip)
            s = 1.0f - s;
        switch (p->profile) {
        case PROF_CYL:
            t = 1.0f - (2.0f * s - 1.0f) * (2.0f * s - 1.0f);
            break;
        case PROF_LEAD:
            t = lead_profile(s);
            break;
        default:
            t = s;
            break;
        }
        c.r += (p->c1.r - p->c0.r) * t;
        c.g += (p->c1.g - p->c0.g) * t;
        c.b += (p->c1.b - p->c0.b) * t;
    }
    if (p->grain > 0.0f) {
        float g = p->grain * hash_noise((guint32) ix, (guint32) iy);
        c.r += g;
        c.g += g;
        c.b += g;
    }
    return c;
}

static inline void
blend_pixel(guint8 *px, const Paint *p, float a, Rgb c)
{
    const float v[3] = { c.r, c.g, c.b };
    for (int k = 0; k < 3; k++) {
        float o = px[k], n;
        switch (p->blend) {
        case BLEND_ADD:
            n = o + v[k] * a;
            break;
        case BLEND_MUL:
            n = o * (1.0f - a * (1.0f - v[k]));
            break;
        default:
            n = o + (v[k] - o) * a;
            break;
        }
        px[k] = clamp_u8(n);
    }
}

static inline guint8 *
canvas_px(const Canvas *cv, int i, int j)
{
    return cv->data + (size_t) j * cv->stride + (size_t) i * 3;
}

/* Pixel index range [*a, *b) touched by [lo, hi] px, clamped to [0, n). */
static void
span(double lo, double hi, int n, int *a, int *b)
{
    double fa = floor(lo), fb = ceil(hi);
    *a = fa < 0 ? 0 : fa > n ? n : (int) fa;
    *b = fb < 0 ? 0 : fb > n ? n : (int) fb;
}

/* A rounded rectangle, corners in mm. The coverage is the signed distance through a one-pixel
 * ramp (times the paint's softness), scaled down for shapes thinner than a pixel. */
static void
draw_rrect(const Canvas *cv, double x0, double y0, double x1, double y1, double r, const Paint *p)
{
    const double s = cv->ppm;
    const double ax = x0 * s, ay = y0 * s, bx = x1 * s, by = y1 * s;
    if (bx <= ax || by <= ay)
        return;
    const double cx = 0.5 * (ax + bx), cy = 0.5 * (ay + by);
    const double hx = 0.5 * (bx - ax), hy = 0.5 * (by - ay);
    const double rad = MIN(r * s, MIN(hx, hy));
    const double soft = MAX(1.0, p->soft);
    const double thin = MIN(1.0, 2.0 * hx) * MIN(1.0, 2.0 * hy) * p->alpha;
    int ia, ib, ja, jb;
    span(ax - soft, bx + soft, cv->width, &ia, &ib);
    span(ay - soft, by + soft, cv->height, &ja, &jb);
    for (int j = ja; j < jb; j++) {
        const double py = j + 0.5, qy = fabs(py - cy) - hy + rad;
        const float v = (float) CLAMP((py - ay) / (by - ay), 0.0, 1.0);
        for (int i = ia; i < ib; i++) {
            const double px = i + 0.5, qx = fabs(px - cx) - hx + rad;
            double d;
            if (qx <= 0.0 && qy <= 0.0) {
                d = MAX(qx, qy) - rad;
            }
            else {
                double ox = MAX(qx, 0.0), oy = MAX(qy, 0.0);
                d = sqrt(ox * ox + oy * oy) + MIN(MAX(qx, qy), 0.0) - rad;
            }
            double a = 0.5 - d / soft;
            if (a <= 0.0)
                continue;
            a = MIN(a, 1.0) * thin;
            const float u = (float) CLAMP((px - ax) / (bx - ax), 0.0, 1.0);
            blend_pixel(canvas_px(cv, i, j), p, (float) a, paint_colour(p, u, v, i, j));
        }
    }
}

static void
draw_box(const Canvas *cv, Box b, double r, const Paint *p)
{
    draw_rrect(cv, b.x0, b.y0, b.x1, b.y1, r, p);
}

/* A disc or a ring (r_in > 0), in mm; PROF_RADIAL runs from the centre (0) to r (1). An optional
 * clip box (mm) keeps only the part of the disc inside it. */
static void
draw_disc_clip(const Canvas *cv, double x, double y, double r, double r_in, const Box *clip,
               const Paint *p)
{
    const double s = cv->ppm, cx = x * s, cy = y * s, rr = r * s, ri = r_in * s;
    const double soft = MAX(1.0, p->soft);
    const double thin = MIN(1.0, 2.0 * (rr - ri)) * p->alpha;
    int ia, ib, ja, jb;
    span(cx - rr - soft, cx + rr + soft, cv->width, &ia, &ib);
    span(cy - rr - soft, cy + rr + soft, cv->height, &ja, &jb);
    for (int j = ja; j < jb; j++) {
        const double py = j + 0.5, dy = py - cy;
        for (int i = ia; i < ib; i++) {
            const double px = i + 0.5, dx = px - cx, dist = sqrt(dx * dx + dy * dy);
            double d = dist - rr;
            if (ri > 0.0)
                d = MAX(d, ri - dist);
            if (clip != NULL) {
                double qx = MAX(clip->x0 * s - px, px - clip->x1 * s);
                double qy = MAX(clip->y0 * s - py, py - clip->y1 * s);
                d = MAX(d, MAX(qx, qy));
            }
            double a = 0.5 - d / soft;
            if (a <= 0.0)
                continue;
            a = MIN(a, 1.0) * thin;
            const float u = (float) MIN(1.0, dist / rr);
            blend_pixel(canvas_px(cv, i, j), p, (float) a, paint_colour(p, u, u, i, j));
        }
    }
}

static void
draw_disc(const Canvas *cv, double x, double y, double r, double r_in, const Paint *p)
{
    draw_disc_clip(cv, x, y, r, r_in, NULL, p);
}

/* A capsule: the segment (x0, y0) - (x1, y1), w mm wide with round ends. Each row only visits
 * the columns of the band around the segment's line, so long diagonals stay cheap. */
static void
draw_seg(const Canvas *cv, double x0, double y0, double x1, double y1, double w, const Paint *p)
{
    const double s = cv->ppm, ax = x0 * s, ay = y0 * s, bx = x1 * s, by = y1 * s;
    const double R = 0.5 * w * s, soft = MAX(1.0, p->soft), reach = R + soft;
    const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    const double len = sqrt(len2);
    const double nx = len > 0 ? -dy / len : 0.0, ny = len > 0 ? dx / len : 1.0;
    const double thin = MIN(1.0, 2.0 * R) * p->alpha;
    int ia, ib, ja, jb;
    span(MIN(ax, bx) - reach, MAX(ax, bx) + reach, cv->width, &ia, &ib);
    span(MIN(ay, by) - reach, MAX(ay, by) + reach, cv->height, &ja, &jb);
    for (int j = ja; j < jb; j++) {
        const double py = j + 0.5;
        int ra = ia, rb = ib;
        if (fabs(nx) > 1e-9) { /* |n . (p - a)| <= reach on this row */
            double c = ny * (py - ay) - nx * ax;
            double lo = (-reach - c) / nx, hi = (reach - c) / nx;
            if (lo > hi) {
                double t = lo;
                lo = hi;
                hi = t;
            }
            int la, lb;
            span(lo - 1.0, hi + 1.0, cv->width, &la, &lb);
            ra = MAX(ra, la);
            rb = MIN(rb, lb);
        }
        for (int i = ra; i < rb; i++) {
            const double px = i + 0.5;
            double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0;
            t = CLAMP(t, 0.0, 1.0);
            const double ex = px - (ax + t * dx), ey = py - (ay + t * dy);
            double a = 0.5 - (sqrt(ex * ex + ey * ey) - R) / soft;
            if (a <= 0.0)
                continue;
            a = MIN(a, 1.0) * thin;
            blend_pixel(canvas_px(cv, i, j), p, (float) a, paint_colour(p, (float) t, 0, i, j));
        }
    }
}

/* A convex polygon (mm), either winding. */
static void
draw_poly(const Canvas *cv, const double *xs, const double *ys, int n, const Paint *p)
{
    const double s = cv->ppm;
    double nxs[8], nys[8], cs[8], mx = 0, my = 0, lo_x = G_MAXDOUBLE, hi_x = -G_MAXDOUBLE,
                                  lo_y = G_MAXDOUBLE, hi_y = -G_MAXDOUBLE;
    g_assert(n >= 3 && n <= 8);
    for (int k = 0; k < n; k++) {
        mx += xs[k] * s / n;
        my += ys[k] * s / n;
        lo_x = MIN(lo_x, xs[k] * s);
        hi_x = MAX(hi_x, xs[k] * s);
        lo_y = MIN(lo_y, ys[k] * s);
        hi_y = MAX(hi_y, ys[k] * s);
    }
    for (int k = 0; k < n; k++) {
        double ax = xs[k] * s, ay = ys[k] * s, bx = xs[(k + 1) % n] * s, by = ys[(k + 1) % n] * s;
        double ex = bx - ax, ey = by - ay, l = sqrt(ex * ex + ey * ey);
        double nx = ey / l, ny = -ex / l;
        if (nx * (mx - ax) + ny * (my - ay) > 0) { /* make the normal point outwards */
            nx = -nx;
            ny = -ny;
        }
        nxs[k] = nx;
        nys[k] = ny;
        cs[k] = nx * ax + ny * ay;
    }
    const double soft = MAX(1.0, p->soft);
    int ia, ib, ja, jb;
    span(lo_x - soft, hi_x + soft, cv->width, &ia, &ib);
    span(lo_y - soft, hi_y + soft, cv->height, &ja, &jb);
    for (int j = ja; j < jb; j++) {
        const double py = j + 0.5;
        for (int i = ia; i < ib; i++) {
            const double px = i + 0.5;
            double d = -G_MAXDOUBLE;
            for (int k = 0; k < n; k++)
                d = MAX(d, nxs[k] * px + nys[k] * py - cs[k]);
            double a = 0.5 - d / soft;
            if (a <= 0.0)
                continue;
            a = MIN(a, 1.0) * p->alpha;
            blend_pixel(canvas_px(cv, i, j), p, (float) a, paint_colour(p, 0, 0, i, j));
        }
    }
}

/* ------------------------------------------------------------------------------------ text */

/* A 5 x 7 font: seven rows per glyph, bit 4 is the left column. */
static const guint8 *
glyph(char ch)
{
    static const guint8 digits[10][7] = {
        { 0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E }, { 0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E },
        { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F }, { 0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E },
        { 0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02 }, { 0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E },
        { 0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E }, { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 },
        { 0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E }, { 0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C },
    };
    static const guint8 letters[26][7] = {
        { 0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11 }, { 0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E },
        { 0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E }, { 0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C },
        { 0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F }, { 0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10 },
        { 0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F }, { 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11 },
        { 0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E }, { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C },
        { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 }, { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F },
        { 0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11 }, { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 },
        { 0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E }, { 0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10 },
        { 0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D }, { 0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11 },
        { 0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E }, { 0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 },
        { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E }, { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04 },
        { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A }, { 0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11 },
        { 0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04 }, { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F },
    };
    static const guint8 dash[7] = { 0, 0, 0, 0x1F, 0, 0, 0 };
    static const guint8 dot[7] = { 0, 0, 0, 0, 0, 0x0C, 0x0C };
    static const guint8 slash[7] = { 0, 0x01, 0x02, 0x04, 0x08, 0x10, 0 };
    static const guint8 plus[7] = { 0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0 };
    static const guint8 colon[7] = { 0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0 };
    if (ch >= '0' && ch <= '9')
        return digits[ch - '0'];
    if (ch >= 'A' && ch <= 'Z')
        return letters[ch - 'A'];
    if (ch >= 'a' && ch <= 'z')
        return letters[ch - 'a'];
    switch (ch) {
    case '-':
        return dash;
    case '.':
        return dot;
    case '/':
        return slash;
    case '+':
        return plus;
    case ':':
        return colon;
    default:
        return NULL;
    }
}

static double
text_width(const char *text, double height)
{
    size_t n = strlen(text);
    return n == 0 ? 0.0 : (6.0 * (double) n - 1.0) * height / 7.0;
}

/* Adds the area of the rectangle [x0, x1] x [y0, y1] (pixels, buffer frame) to each pixel. */
static void
cov_add_rect(float *buf, int bw, int bh, double x0, double y0, double x1, double y1)
{
    int ia, ib, ja, jb;
    span(x0, x1, bw, &ia, &ib);
    span(y0, y1, bh, &ja, &jb);
    for (int j = ja; j < jb; j++) {
        double oy = MIN(y1, j + 1.0) - MAX(y0, (double) j);
        if (oy <= 0)
            continue;
        for (int i = ia; i < ib; i++) {
            double ox = MIN(x1, i + 1.0) - MAX(x0, (double) i);
            if (ox > 0)
                buf[(size_t) j * (size_t) bw + (size_t) i] += (float) (ox * oy);
        }
    }
}

/* Text centred on (cx, cy) mm, glyphs @height mm tall, turned by @rot quarter turns (1: reads
 * bottom to top, 2: upside down, 3: top to bottom). Coverage is the exact area of the font's
 * cells in each pixel, so small text greys out instead of breaking up. */
static void
draw_text(const Canvas *cv, double cx, double cy, double height, int rot, const char *text,
          const Paint *p)
{
    const double s = cv->ppm, cell = height / 7.0 * s;
    const double tw = text_width(text, height) * s, th = height * s;
    const double wpx = (rot & 1) ? th : tw, hpx = (rot & 1) ? tw : th;
    const double X0 = cx * s - 0.5 * wpx, Y0 = cy * s - 0.5 * hpx;
    const int ox = (int) floor(X0) - 1, oy = (int) floor(Y0) - 1;
    const int bw = (int) ceil(wpx) + 3, bh = (int) ceil(hpx) + 3;
    if (tw <= 0 || ox >= cv->width || oy >= cv->height || ox + bw <= 0 || oy + bh <= 0)
        return;
    float *buf = g_new0(float, (size_t) bw *(size_t) bh);
    const double bx = X0 - ox, by = Y0 - oy;
    for (size_t k = 0; text[k] != '\0'; k++) {
        const guint8 *g = glyph(text[k]);
        if (g == NULL)
            continue;
        for (int row = 0; row < 7; row++)
            for (int col = 0; col < 5; col++) {
                if (!(g[row] & (0x10 >> col)))
                    continue;
                double u0 = (6.0 * (double) k + col) * cell, u1 = u0 + cell;
                double v0 = row * cell, v1 = v0 + cell;
                switch (rot & 3) {
                case 0:
                    cov_add_rect(buf, bw, bh, bx + u0, by + v0, bx + u1, by + v1);
                    break;
                case 1:
                    cov_add_rect(buf, bw, bh, bx + v0, by + hpx - u1, bx + v1, by + hpx - u0);
                    break;
                case 2:
                    cov_add_rect(buf, bw, bh, bx + wpx - u1, by + hpx - v1, bx + wpx - u0,
                                 by + hpx - v0);
                    break;
                default:
                    cov_add_rect(buf, bw, bh, bx + wpx - v1, by + u0, bx + wpx - v0, by + u1);
                    break;
                }
            }
    }
    for (int j = MAX(0, -oy); j < bh && oy + j < cv->height; j++)
        for (int i = MAX(0, -ox); i < bw && ox + i < cv->width; i++) {
            float a = buf[(size_t) j * (size_t) bw + (size_t) i];
            if (a <= 0.0f)
                continue;
            a = MIN(a, 1.0f) * p->alpha;
            blend_pixel(canvas_px(cv, ox + i, oy + j), p, a, paint_colour(p, 0, 0, ox + i, oy + j));
        }
    g_free(buf);
}

/* ------------------------------------------------------------------------------------ scene */

typedef enum {
    PK_CHIP,     /* two-terminal passive: resistor, capacitor */
    PK_GULL,     /* gull-wing leads: SOIC, TSSOP, QFP, SOT-23 */
    PK_FLAT,     /* QFN / DFN: the pads end at the body's edge */
    PK_BGA,      /* substrate with a mould cap (style 0) or a metal lid (style 1) */
    PK_POLYCAP,  /* polymer aluminium capacitor: a can on a square base */
    PK_INDUCTOR, /* moulded power inductor */
    PK_CRYSTAL,  /* metal-lid crystal */
    PK_HEADER,   /* 2.54 mm shrouded pin header */
    PK_FANCONN,  /* white 4-pin fan connector */
    PK_STICKER,  /* serial-number label */
} PkKind;

enum { CHIP_CAP, CHIP_RES };
enum { SIDE_N, SIDE_S, SIDE_E, SIDE_W };

typedef struct {
    PkKind kind;
    double x, y;     /* centre on the board, mm */
    int rot;         /* quarter turns: local +x points to board +x, +y, -x, -y */
    double L, W;     /* body along local x and y, mm */
    double lw, lp;   /* lead width, lead length beyond the body (QFN: fillet length) */
    double pitch[4]; /* per side: n (local -y), s (+y), e (+x), w (-x) */
    int pins[4];
    int style;
    double height; /* mm above the board: the shadow's length */
    Rgb body, metal;
    char ref[8];        /* designator */
    char mark[2][16];   /* marking, two lines */
    guint64 aux;        /* sticker: barcode bits */
    gboolean populated; /* FALSE: a spare footprint, pads only */
    gboolean removed;   /* TRUE: taken off for a photo, pads left */
    gboolean implant;
} Part;

typedef struct {
    double x0, y0, x1, y1, w;
} Seg;

typedef struct {
    double x, y, r, hole;
    gboolean tented;
} Via;

typedef struct {
    double x[8], y[8];
    int n;
} Poly;

typedef struct {
    double x, y, h;
    int rot;
    char text[24];
} Label;

#define MOTTLE_MM  4.0
#define MOTTLE2_MM 1.3

typedef struct {
    double width_mm, height_mm;
    Rgb mask, trace_add, pour_add, silk_col, tin, laminate;
    int mot_nx, mot_ny, mot2_nx, mot2_ny;
    float *mottle, *mottle2; /* lattices of 3-channel offsets */
    double grad[3];          /* linear shading: levels per board width (x), height (y); hue */
    GArray *pours;           /* Poly: copper pours under the mask */
    GArray *segs;            /* Seg: traces under the mask */
    GArray *vias;            /* Via */
    GArray *silk;            /* Seg: silkscreen lines */
    GArray *labels;          /* Label: silkscreen text */
    GArray *parts;           /* Part */
    GArray *occ;             /* Box: board area taken by parts and labels (layout only) */
    GArray *holes;           /* Via: mounting holes */
    GArray *fids;            /* Via: fiducials */
    int bmc, flash;
    int spare[4], n_spare;
    int six_pad[2]; /* the spares an implant fits */
    Box zone_bmc, zone_flash, sticker;
    int next_r, next_c, next_u;
} Scene;

static void
scene_free(Scene *sc)
{
    if (sc == NULL)
        return;
    g_free(sc->mottle);
    g_free(sc->mottle2);
    g_array_unref(sc->pours);
    g_array_unref(sc->segs);
    g_array_unref(sc->vias);
    g_array_unref(sc->silk);
    g_array_unref(sc->labels);
    g_array_unref(sc->parts);
    g_array_unref(sc->occ);
    g_array_unref(sc->holes);
    g_array_unref(sc->fids);
    g_free(sc);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scene, scene_free)

static Box
box(double x0, double y0, double x1, double y1)
{
    Box b = { MIN(x0, x1), MIN(y0, y1), MAX(x0, x1), MAX(y0, y1) };
    return b;
}

static Box
box_grow(Box b, double m)
{
    return box(b.x0 - m, b.y0 - m, b.x1 + m, b.y1 + m);
}

static gboolean
box_overlap(Box a, Box b)
{
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/* A rectangle in the part's frame -> the board. */
static Box
part_box(const Part *p, double lx0, double ly0, double lx1, double ly1)
{
    switch (p->rot & 3) {
    case 0:
        return box(p->x + lx0, p->y + ly0, p->x + lx1, p->y + ly1);
    case 1:
        return box(p->x - ly0, p->y + lx0, p->x - ly1, p->y + lx1);
    case 2:
        return box(p->x - lx0, p->y - ly0, p->x - lx1, p->y - ly1);
    default:
        return box(p->x + ly0, p->y - lx0, p->x + ly1, p->y - lx1);
    }
}

static void
part_point(const Part *p, double lx, double ly, double *x, double *y)
{
    Box b = part_box(p, lx, ly, lx, ly);
    *x = b.x0;
    *y = b.y0;
}

/* A profile running along the part's local direction (dx, dy) (one of the axes). */
static void
part_axis(const Part *p, int dx, int dy, Paint *paint)
{
    for (int k = 0; k < (p->rot & 3); k++) {
        int t = dx;
        dx = -dy;
        dy = t;
    }
    paint->axis = dx != 0 ? 0 : 1;
    paint->flip = (dx < 0 || dy < 0) ? 1 : 0;
}

/* The rectangle of a lead (or pad) on @side: @c along the edge, half-width @a, from @d0 to @d1
 * away from the centre. */
static Box
side_box(const Part *p, int side, double c, double a, double d0, double d1)
{
    switch (side) {
    case SIDE_N:
        return part_box(p, c - a, -d1, c + a, -d0);
    case SIDE_S:
        return part_box(p, c - a, d0, c + a, d1);
    case SIDE_E:
        return part_box(p, d0, c - a, d1, c + a);
    default:
        return part_box(p, -d1, c - a, -d0, c + a);
    }
}

static void
side_dir(int side, int *dx, int *dy)
{
    static const int dxs[] = { 0, 0, 1, -1 }, dys[] = { -1, 1, 0, 0 };
    *dx = dxs[side];
    *dy = dys[side];
}

static double
side_half(const Part *p, int side)
{
    return side <= SIDE_S ? 0.5 * p->W : 0.5 * p->L;
}

static double
pin_pos(const Part *p, int side, int i)
{
    return (i - 0.5 * (p->pins[side] - 1)) * p->pitch[side];
}

/* The chip passive's pads (local x extent from the centre). */
static void
chip_pad(const Part *p, double *inner, double *outer, double *half_h)
{
    double term = 0.22 * p->L;
    *inner = 0.5 * p->L - 0.8 * term;
    *outer = 0.5 * p->L + 0.1 + 0.15 * p->W;
    *half_h = 0.58 * p->W;
}

/* The whole footprint, pads included. */
static Box
part_extent(const Part *p)
{
    double hx = 0.5 * p->L, hy = 0.5 * p->W, in, out, hh;
    switch (p->kind) {
    case PK_CHIP:
        chip_pad(p, &in, &out, &hh);
        hx = out;
        hy = hh;
        break;
    case PK_GULL:
    case PK_FLAT:
        if (p->pins[SIDE_E] || p->pins[SIDE_W])
            hx += p->lp + 0.2;
        if (p->pins[SIDE_N] || p->pins[SIDE_S])
            hy += p->lp + 0.2;
        break;
    case PK_POLYCAP:
    case PK_INDUCTOR:
    case PK_CRYSTAL:
        hx += 0.5;
        break;
    default:
        break;
    }
    return part_box(p, -hx, -hy, hx, hy);
}

/* The part itself as it sits on the board: body and leads, no pads. */
static Box
part_outline(const Part *p)
{
    double hx = 0.5 * p->L, hy = 0.5 * p->W;
    if (p->kind == PK_GULL) {
        if (p->pins[SIDE_E] || p->pins[SIDE_W])
            hx += p->lp;
        if (p->pins[SIDE_N] || p->pins[SIDE_S])
            hy += p->lp;
    }
    return part_box(p, -hx, -hy, hx, hy);
}

static Part
pk_chip(double L, double W, int style)
{
    Part p = { 0 };
    p.kind = PK_CHIP;
    p.L = L;
    p.W = W;
    p.style = style;
    p.height = 0.35 * W + 0.15;
    p.populated = TRUE;
    return p;
}

static Part
pk_leads(PkKind kind, double L, double W, double lw, double lp, double pitch, int n, int s, int e,
         int w)
{
    Part p = { 0 };
    p.kind = kind;
    p.L = L;
    p.W = W;
    p.lw = lw;
    p.lp = lp;
    p.pins[SIDE_N] = n;
    p.pins[SIDE_S] = s;
    p.pins[SIDE_E] = e;
    p.pins[SIDE_W] = w;
    for (int k = 0; k < 4; k++)
        p.pitch[k] = pitch;
    p.height = kind == PK_FLAT ? 0.8 : MIN(1.6, 0.3 + 0.12 * MIN(L, W));
    p.populated = TRUE;
    return p;
}

static Part
pk_simple(PkKind kind, double L, double W, double height)
{
    Part p = { 0 };
    p.kind = kind;
    p.L = L;
    p.W = W;
    p.height = height;
    p.populated = TRUE;
    return p;
}

/* The implant: a six-pin chip about 1 x 2 mm overall (body 1.9 x 0.62 mm, three gull-wing
 * leads a side at 0.6 mm pitch), in a dark epoxy that passes for a passive at a glance. */
static Part
pk_implant(void)
{
    Part p = pk_leads(PK_GULL, 1.9, 0.62, 0.2, 0.19, 0.6, 3, 3, 0, 0);
    p.height = 0.5;
    p.body = rgb(58, 53, 48);
    p.metal = rgb(196, 196, 188);
    return p;
}

static gboolean
scene_free_at(const Scene *sc, Box b, double clear)
{
    if (b.x0 < 2.0 || b.y0 < 2.0 || b.x1 > sc->width_mm - 2.0 || b.y1 > sc->height_mm - 2.0)
        return FALSE;
    Box g = box_grow(b, clear);
    for (guint k = 0; k < sc->occ->len; k++)
        if (box_overlap(g, g_array_index(sc->occ, Box, k)))
            return FALSE;
    return TRUE;
}

static void
add_silk_rect(Scene *sc, Box b, double w)
{
    Seg s[4] = { { b.x0, b.y0, b.x1, b.y0, w },
                 { b.x1, b.y0, b.x1, b.y1, w },
                 { b.x1, b.y1, b.x0, b.y1, w },
                 { b.x0, b.y1, b.x0, b.y0, w } };
    g_array_append_vals(sc->silk, s, 4);
}

/* Places a designator beside @fp (tries above, below, right, left); FALSE when nothing fits. */
static gboolean
add_label(Scene *sc, Box fp, const char *text, double h, gboolean vertical)
{
    double tw = text_width(text, h), gap = 0.25;
    double wx = vertical ? h : tw, wy = vertical ? tw : h;
    double cx = 0.5 * (fp.x0 + fp.x1), cy = 0.5 * (fp.y0 + fp.y1);
    const double cand[4][2] = {
        { cx, fp.y0 - gap - 0.5 * wy },
        { cx, fp.y1 + gap + 0.5 * wy },
        { fp.x1 + gap + 0.5 * wx, cy },
        { fp.x0 - gap - 0.5 * wx, cy },
    };
    for (int k = 0; k < 4; k++) {
        Box b = box(cand[k][0] - 0.5 * wx, cand[k][1] - 0.5 * wy, cand[k][0] + 0.5 * wx,
                    cand[k][1] + 0.5 * wy);
        if (!scene_free_at(sc, b, 0.1))
            continue;
        Label l = { .x = cand[k][0], .y = cand[k][1], .h = h, .rot = vertical ? 1 : 0 };
        g_strlcpy(l.text, text, sizeof l.text);
        g_array_append_val(sc->labels, l);
        g_array_append_val(sc->occ, b);
        return TRUE;
    }
    return FALSE;
}

/* Adds @p at (x, y) if its footprint is free; returns its index or -1. */
static int
place_part(Scene *sc, Part p, double x, double y, int rot, double clear)
{
    p.x = x;
    p.y = y;
    p.rot = rot;
    Box fp = part_extent(&p);
    if (!scene_free_at(sc, fp, clear))
        return -1;
    g_array_append_val(sc->parts, p);
    g_array_append_val(sc->occ, fp);
    return (int) sc->parts->len - 1;
}

static Part *
scene_part(const Scene *sc, int i)
{
    return &g_array_index(sc->parts, Part, i);
}

static void
random_mark(Rng *rng, char *out, size_t n, int len)
{
    static const char set[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    size_t k = 0;
    for (; k + 1 < n && (int) k < len; k++)
        out[k] = set[rng_int(rng, (int) sizeof set - 1)];
    out[k] = '\0';
}

static Rgb
ic_body(Rng *rng)
{
    double v = rng_range(rng, 26, 40);
    return rgb(v, v * rng_range(rng, 0.97, 1.03), v * rng_range(rng, 0.98, 1.08));
}

static Rgb
tin_colour(Rng *rng)
{
    double v = rng_range(rng, 185, 205);
    return rgb(v, v, v * 0.96);
}

/* An IC with outline, pin-1 mark and designator. */
static int
place_ic(Scene *sc, Rng *rng, Part p, double x, double y, int rot, const char *m0, const char *m1)
{
    p.body = ic_body(rng);
    p.metal = tin_colour(rng);
    if (m0 != NULL)
        g_strlcpy(p.mark[0], m0, sizeof p.mark[0]);
    else
        random_mark(rng, p.mark[0], sizeof p.mark[0], 4 + rng_int(rng, 4));
    if (m1 != NULL)
        g_strlcpy(p.mark[1], m1, sizeof p.mark[1]);
    else if (MIN(p.L, p.W) >= 3.0)
        random_mark(rng, p.mark[1], sizeof p.mark[1], 3 + rng_int(rng, 3));
    g_snprintf(p.ref, sizeof p.ref, "U%d", sc->next_u++);
    int idx = place_part(sc, p, x, y, rot, 0.6);
    if (idx < 0) {
        sc->next_u--;
        return -1;
    }
    Part *q = scene_part(sc, idx);
    Box fp = part_extent(q);
    Box ol = box_grow(fp, 0.25);
    if (q->kind != PK_BGA || rng_uniform(rng) < 0.5) {
        add_silk_rect(sc, ol, 0.15);
    }
    else { /* corner marks only */
        double c = 0.2 * MIN(ol.x1 - ol.x0, ol.y1 - ol.y0);
        Seg s[8] = {
            { ol.x0, ol.y0, ol.x0 + c, ol.y0, 0.15 }, { ol.x0, ol.y0, ol.x0, ol.y0 + c, 0.15 },
            { ol.x1, ol.y0, ol.x1 - c, ol.y0, 0.15 }, { ol.x1, ol.y0, ol.x1, ol.y0 + c, 0.15 },
            { ol.x0, ol.y1, ol.x0 + c, ol.y1, 0.15 }, { ol.x0, ol.y1, ol.x0, ol.y1 - c, 0.15 },
            { ol.x1, ol.y1, ol.x1 - c, ol.y1, 0.15 }, { ol.x1, ol.y1, ol.x1, ol.y1 - c, 0.15 },
        };
        g_array_append_vals(sc->silk, s, 8);
    }
    Box g = box_grow(ol, 0.1);
    g_array_append_val(sc->occ, g);
    double h = CLAMP(0.12 * MIN(q->L, q->W) + 0.6, 0.8, 1.6);
    add_label(sc, g, q->ref, h, FALSE);
    return idx;
}

static int
place_passive(Scene *sc, Rng *rng, double x, double y, int rot, int size, double label_p)
{
    static const double dims[3][2] = { { 1.0, 0.5 }, { 1.6, 0.8 }, { 2.0, 1.25 } };
    int style = rng_uniform(rng) < 0.55 ? CHIP_CAP : CHIP_RES;
    Part p = pk_chip(dims[size][0], dims[size][1], style);
    if (style == CHIP_CAP) {
        double k = rng_range(rng, 0.75, 1.1);
        p.body = rgb(158 * k, 128 * k, 92 * k * rng_range(rng, 0.85, 1.1));
    }
    else {
        p.body = rgb(30, 30, 32);
        g_snprintf(p.mark[0], sizeof p.mark[0], "%d%d%d", rng_int(rng, 10), rng_int(rng, 10),
                   rng_int(rng, 6));
    }
    p.metal = tin_colour(rng);
    int idx = place_part(sc, p, x, y, rot, 0.2);
    if (idx < 0)
        return -1;
    Part *q = scene_part(sc, idx);
    if (style == CHIP_CAP)
        g_snprintf(q->ref, sizeof q->ref, "C%d", sc->next_c++);
    else
        g_snprintf(q->ref, sizeof q->ref, "R%d", sc->next_r++);
    if (rng_uniform(rng) < label_p)
        add_label(sc, part_extent(q), q->ref, size == 0 ? 0.7 : 0.85, rng_uniform(rng) < 0.3);
    return idx;
}

/* A group of parallel traces along a 45/90-degree path. */
static void
add_bus(Scene *sc, Rng *rng, double x, double y, int dir, int nseg, int ntr, double w, double gap)
{
    double px[8], py[8];
    int dirs[8];
    int n = MIN(nseg, 6);
    px[0] = x;
    py[0] = y;
    for (int k = 0; k < n; k++) {
        dirs[k] = dir;
        double a = dir * G_PI / 4, len = rng_range(rng, 3, 22);
        px[k + 1] = px[k] + len * cos(a);
        py[k + 1] = py[k] + len * sin(a);
        int turn = rng_uniform(rng) < 0.75 ? 1 : 2;
        dir = (dir + (rng_uniform(rng) < 0.5 ? turn : 8 - turn)) % 8;
    }
    for (int t = 0; t < ntr; t++) {
        double o = (t - 0.5 * (ntr - 1)) * gap, qx[8], qy[8];
        for (int k = 0; k <= n; k++) {
            int da = dirs[k > 0 ? k - 1 : 0], db = dirs[k < n ? k : n - 1];
            double ax = -sin(da * G_PI / 4), ay = cos(da * G_PI / 4);
            double bx = -sin(db * G_PI / 4), by = cos(db * G_PI / 4);
            double dot = ax * bx + ay * by; /* miter: o (na + nb) / (1 + na . nb) */
            qx[k] = px[k] + o * (ax + bx) / (1 + dot);
            qy[k] = py[k] + o * (ay + by) / (1 + dot);
        }
        for (int k = 0; k < n; k++) {
            Seg s = { qx[k], qy[k], qx[k + 1], qy[k + 1], w };
            g_array_append_val(sc->segs, s);
        }
    }
}

static gboolean
via_ok(const Scene *sc, double x, double y, double r)
{
    Box b = box(x - r, y - r, x + r, y + r);
    if (b.x0 < 1 || b.y0 < 1 || b.x1 > sc->width_mm - 1 || b.y1 > sc->height_mm - 1)
        return FALSE;
    for (guint k = 0; k < sc->occ->len; k++)
        if (box_overlap(b, g_array_index(sc->occ, Box, k)))
            return FALSE;
    return TRUE;
}

static void
add_via(Scene *sc, Rng *rng, double x, double y)
{
    Via v = { x, y, rng_range(rng, 0.24, 0.32), 0.14, rng_uniform(rng) < 0.7 };
    g_array_append_val(sc->vias, v);
}

/* Traces from every other lead of one side of the BMC, out and then diagonally, to vias. */
static void
bmc_fanout(Scene *sc, Rng *rng, const Part *p, int side)
{
    int dx, dy;
    side_dir(side, &dx, &dy);
    double half = side_half(p, side) + p->lp + 0.15;
    for (int i = 0; i < p->pins[side]; i += 2) {
        if (rng_uniform(rng) < 0.2)
            continue;
        double c = pin_pos(p, side, i), d1 = half + 0.9 + 0.6 * (i % 4 == 0);
        double sgn = c < 0 ? -1 : 1, diag = 0.8 + 0.2 * fabs(c);
        double ax, ay, bx, by, ex, ey;
        /* local frame of this side: along (t) and out (d) */
        double tx = side <= SIDE_S ? 1 : 0, ty = side <= SIDE_S ? 0 : 1;
        ax = tx * c + dx * half;
        ay = ty * c + dy * half;
        bx = tx * c + dx * d1;
        by = ty * c + dy * d1;
        ex = bx + (tx * sgn + dx) * diag * M_SQRT1_2;
        ey = by + (ty * sgn + dy) * diag * M_SQRT1_2;
        double gx[3], gy[3];
        part_point(p, ax, ay, &gx[0], &gy[0]);
        part_point(p, bx, by, &gx[1], &gy[1]);
        part_point(p, ex, ey, &gx[2], &gy[2]);
        Seg s0 = { gx[0], gy[0], gx[1], gy[1], 0.12 }, s1 = { gx[1], gy[1], gx[2], gy[2], 0.12 };
        g_array_append_val(sc->segs, s0);
        g_array_append_val(sc->segs, s1);
        if (via_ok(sc, gx[2], gy[2], 0.3))
            add_via(sc, rng, gx[2], gy[2]);
    }
}

/* The scene of board @seed, @wmm x @hmm mm: a pure function of its arguments. */
static Scene *
scene_build(guint64 seed, double wmm, double hmm)
{
    Rng r, *rng = &r;
    rng_init(rng, seed, STREAM_SCENE);
    Scene *sc = g_new0(Scene, 1);
    sc->width_mm = wmm;
    sc->height_mm = hmm;
    sc->pours = g_array_new(FALSE, FALSE, sizeof(Poly));
    sc->segs = g_array_new(FALSE, FALSE, sizeof(Seg));
    sc->vias = g_array_new(FALSE, FALSE, sizeof(Via));
    sc->silk = g_array_new(FALSE, FALSE, sizeof(Seg));
    sc->labels = g_array_new(FALSE, FALSE, sizeof(Label));
    sc->parts = g_array_new(FALSE, FALSE, sizeof(Part));
    sc->occ = g_array_new(FALSE, FALSE, sizeof(Box));
    sc->holes = g_array_new(FALSE, FALSE, sizeof(Via));
    sc->fids = g_array_new(FALSE, FALSE, sizeof(Via));
    sc->next_r = sc->next_c = sc->next_u = 1;
    const double area = wmm * hmm;

    /* colours and the mask's mottling */
    sc->mask = rgb(34 * rng_range(rng, 0.85, 1.15), 96 * rng_range(rng, 0.92, 1.08),
                   50 * rng_range(rng, 0.85, 1.15));
    sc->trace_add = rgb(9, 21, 6);
    sc->pour_add = rgb(4, 9, 2);
    sc->silk_col = rgb(228, 230, 222);
    sc->tin = tin_colour(rng);
    sc->laminate = rgb(150, 146, 98);
    sc->grad[0] = rng_range(rng, -6, 6);
    sc->grad[1] = rng_range(rng, -6, 6);
    sc->grad[2] = rng_range(rng, -2, 2);
    sc->mot_nx = (int) ceil(wmm / MOTTLE_MM) + 3;
    sc->mot_ny = (int) ceil(hmm / MOTTLE_MM) + 3;
    sc->mot2_nx = (int) ceil(wmm / MOTTLE2_MM) + 3;
    sc->mot2_ny = (int) ceil(hmm / MOTTLE2_MM) + 3;
    sc->mottle = g_new(float, (size_t) sc->mot_nx *(size_t) sc->mot_ny * 3);
    sc->mottle2 = g_new(float, (size_t) sc->mot2_nx *(size_t) sc->mot2_ny * 3);
    for (int k = 0; k < sc->mot_nx * sc->mot_ny; k++) {
        double l = 2.6 * rng_normal(rng), h = 1.2 * rng_normal(rng);
        sc->mottle[3 * k] = (float) (0.6 * l + 0.5 * h);
        sc->mottle[3 * k + 1] = (float) l;
        sc->mottle[3 * k + 2] = (float) (0.7 * l - 0.6 * h);
    }
    for (int k = 0; k < sc->mot2_nx * sc->mot2_ny; k++) {
        double l = 1.0 * rng_normal(rng);
        sc->mottle2[3 * k] = (float) (0.6 * l);
        sc->mottle2[3 * k + 1] = (float) l;
        sc->mottle2[3 * k + 2] = (float) (0.7 * l);
    }

    /* mounting holes and fiducials */
    const double hc[4][2] = { { 5, 5 }, { wmm - 5, 5 }, { 5, hmm - 5 }, { wmm - 5, hmm - 5 } };
    for (int k = 0; k < 4; k++) {
        Via v = { hc[k][0], hc[k][1], 3.0, 1.6, FALSE };
        g_array_append_val(sc->holes, v);
        Box b = box(v.x - 3.6, v.y - 3.6, v.x + 3.6, v.y + 3.6);
        g_array_append_val(sc->occ, b);
    }
    const double fc[3][2] = { { 11, 4.5 }, { wmm - 4.5, hmm - 11 }, { 4.5, hmm - 11 } };
    for (int k = 0; k < 3; k++) {
        Via v = { fc[k][0], fc[k][1], 1.5, 0.5, FALSE };
        g_array_append_val(sc->fids, v);
        Box b = box(v.x - 1.6, v.y - 1.6, v.x + 1.6, v.y + 1.6);
        g_array_append_val(sc->occ, b);
    }

    /* the BMC: a 14 x 14 mm QFP, with its fiducials, decoupling and a spare-footprint column on
     * its right, then the SPI flash */
    const double bx = round(0.36 * wmm), by = round(0.5 * hmm);
    Part bmc = pk_leads(PK_GULL, 14, 14, 0.22, 1.0, 0.5, 25, 25, 25, 25);
    bmc.height = 1.6;
    sc->bmc = place_ic(sc, rng, bmc, bx, by, 0, "BMC2600", "A3 1926");
    g_assert(sc->bmc >= 0);
    {
        Via f1 = { bx - 9.6, by - 9.6, 1.0, 0.4, FALSE },
            f2 = { bx + 9.6, by + 9.6, 1.0, 0.4, FALSE };
        g_array_append_val(sc->fids, f1);
        g_array_append_val(sc->fids, f2);
        Box b1 = box(f1.x - 1.1, f1.y - 1.1, f1.x + 1.1, f1.y + 1.1);
        Box b2 = box(f2.x - 1.1, f2.y - 1.1, f2.x + 1.1, f2.y + 1.1);
        g_array_append_val(sc->occ, b1);
        g_array_append_val(sc->occ, b2);
    }
    const double sx = bx + 11.2; /* spare column */
    Box keep = box(bx + 8.6, by - 6.5, bx + 14.3, by + 6.5);
    sc->zone_bmc = box(bx - 10.5, by - 10.5, bx + 14.45, by + 10.5);
    {
        /* six-pad footprints that fit the implant, an 0402 and an 0603 */
        Part six = pk_implant(), r0402 = pk_chip(1.0, 0.5, CHIP_RES),
             c0603 = pk_chip(1.6, 0.8, CHIP_CAP);
        six.populated = r0402.populated = c0603.populated = FALSE;
        const struct {
            Part *p;
            double y;
            int rot;
        } spares[4] = { { &six, by - 3.4, 1 },
                        { &r0402, by - 0.9, 0 },
                        { &six, by + 1.4, 1 },
                        { &c0603, by + 4.2, 0 } };
        for (int k = 0; k < 4; k++) {
            Part q = *spares[k].p;
            q.x = sx;
            q.y = spares[k].y;
            q.rot = spares[k].rot;
            q.body = rgb(40, 40, 40);
            g_snprintf(q.ref, sizeof q.ref, "%c%d",
                       q.kind == PK_GULL ? 'U'
                       : k == 1          ? 'R'
                                         : 'C',
                       90 + k);
            g_array_append_val(sc->parts, q);
            sc->spare[sc->n_spare++] = (int) sc->parts->len - 1;
            Box fp = part_extent(&q);
            add_silk_rect(sc, box_grow(fp, 0.2), 0.12);
            double h = 0.7, tw = text_width(q.ref, h);
            Label l = { .x = fp.x1 + 0.55 + 0.5 * tw, .y = q.y, .h = h, .rot = 0 };
            g_strlcpy(l.text, q.ref, sizeof l.text);
            g_array_append_val(sc->labels, l);
        }
        sc->six_pad[0] = sc->spare[0];
        sc->six_pad[1] = sc->spare[2];
        g_array_append_val(sc->occ, keep);
    }
    {
        Part fl = pk_leads(PK_GULL, 4.9, 3.9, 0.41, 1.05, 1.27, 4, 4, 0, 0);
        fl.height = 1.5;
        sc->flash = place_ic(sc, rng, fl, bx + 18.6, by - 0.8, 1, "25Q256", "JVEQ");
        g_assert(sc->flash >= 0);
        Box f = part_extent(scene_part(sc, sc->flash));
        sc->zone_flash = box(keep.x1 + 0.25, f.y0 - 3.2, f.x1 + 2.5, f.y1 + 3.2);
        place_passive(sc, rng, bx + 18.6, f.y0 - 1.3, 0, 0, 0.0);
        place_passive(sc, rng, bx + 18.6, f.y1 + 1.3, 0, 0, 0.0);
    }
    /* decoupling around the BMC */
    for (int side = 0; side < 4; side++)
        for (double c = -6.0; c <= 6.01; c += 2.0) {
            if (rng_uniform(rng) < 0.3)
                continue;
            double d = 9.35;
            double x = side <= SIDE_S ? bx + c : bx + (side == SIDE_E ? d : -d);
            double y = side <= SIDE_S ? by + (side == SIDE_S ? d : -d) : by + c;
            place_passive(sc, rng, x, y, side <= SIDE_S ? 0 : 1, 0, 0.0);
        }
    bmc_fanout(sc, rng, scene_part(sc, sc->bmc), SIDE_N);
    bmc_fanout(sc, rng, scene_part(sc, sc->bmc), SIDE_S);
    bmc_fanout(sc, rng, scene_part(sc, sc->bmc), SIDE_W);

    /* connectors and the serial-number sticker along the edges */
    {
        Part hd = pk_simple(PK_HEADER, 20.3 + 1.0, 5.08 + 1.0, 8.5);
        hd.pins[0] = 8;
        for (int t = 0; t < 100; t++) {
            double x = rng_range(rng, 15, wmm - 25);
            int idx = place_part(sc, hd, x, hmm - 6.5, 0, 0.5);
            if (idx >= 0) {
                g_snprintf(scene_part(sc, idx)->ref, 8, "J1");
                add_label(sc, part_extent(scene_part(sc, idx)), "J1", 1.4, FALSE);
                break;
            }
        }
        Part uart = pk_simple(PK_HEADER, 10.16 + 1.0, 2.54 + 1.0, 8.5);
        uart.pins[0] = 4;
        uart.style = 1; /* single row */
        for (int t = 0; t < 200; t++) {
            double x = rng_range(rng, bx + 4, bx + 30), y = rng_range(rng, by - 22, by - 13);
            int idx = place_part(sc, uart, x, y, 0, 0.5);
            if (idx >= 0) {
                g_snprintf(scene_part(sc, idx)->ref, 8, "J5");
                add_label(sc, part_extent(scene_part(sc, idx)), "J5 UART", 1.1, FALSE);
                break;
            }
        }
        Part fan = pk_simple(PK_FANCONN, 10.0, 6.0, 6.0);
        for (int t = 0; t < 100; t++) {
            int idx = place_part(sc, fan, rng_range(rng, wmm * 0.55, wmm - 15), 6.5, 0, 0.5);
            if (idx >= 0) {
                g_snprintf(scene_part(sc, idx)->ref, 8, "J3");
                add_label(sc, part_extent(scene_part(sc, idx)), "FAN1", 1.2, FALSE);
                break;
            }
        }
        Part st = pk_simple(PK_STICKER, 24, 7, 0.1);
        st.aux = rng_next(rng);
        g_snprintf(st.mark[0], sizeof st.mark[0], "SN %c%c%06d", 'A' + rng_int(rng, 26),
                   'A' + rng_int(rng, 26), rng_int(rng, 1000000));
        for (int t = 0; t < 100; t++) {
            int idx
                = place_part(sc, st, rng_range(rng, 20, wmm * 0.5), rng_range(rng, 8, 14), 0, 0.5);
            if (idx >= 0) {
                sc->sticker = part_extent(scene_part(sc, idx));
                break;
            }
        }
    }

    /* other ICs: a big lidded BGA with its VRM, a moulded BGA, QFNs, TSSOP, SOICs, SOTs */
    GArray *ics = g_array_new(FALSE, FALSE, sizeof(int));
    {
        Part bga = pk_simple(PK_BGA, 23, 23, 2.4);
        bga.style = 1;
        for (int t = 0; t < 300; t++) {
            int idx = place_ic(sc, rng, bga, rng_range(rng, wmm * 0.62, wmm - 16),
                               rng_range(rng, 16, hmm - 16), 0, NULL, NULL);
            if (idx >= 0) {
                g_array_append_val(ics, idx);
                /* VRM: inductors and polymer capacitors on one side */
                const Part *u = scene_part(sc, idx);
                double ux = u->x, uy = u->y;
                for (int k = 0; k < 9; k++) {
                    gboolean cap = k % 3 != 0;
                    Part q = cap ? pk_simple(PK_POLYCAP, 5.3, 5.3, 5.8)
                                 : pk_simple(PK_INDUCTOR, 7.0, 6.6, 4.0);
                    if (cap) {
                        q.metal = rgb(178, 180, 182);
                        q.body = rgb(35, 33, 36);
                        g_snprintf(q.mark[0], sizeof q.mark[0], "%d", 330 + 60 * rng_int(rng, 5));
                    }
                    else {
                        q.body = rgb(62, 62, 64);
                        g_snprintf(q.mark[0], sizeof q.mark[0], "R%d", 15 + 7 * rng_int(rng, 8));
                    }
                    q.metal = cap ? q.metal : tin_colour(rng);
                    for (int tt = 0; tt < 80; tt++) {
                        double x = ux + rng_range(rng, -24, 24), y = uy + rng_range(rng, -24, 24);
                        int pi = place_part(sc, q, x, y, rng_int(rng, 4), 0.7);
                        if (pi >= 0) {
                            Part *pp = scene_part(sc, pi);
                            g_snprintf(pp->ref, sizeof pp->ref, "%c%d", cap ? 'C' : 'L',
                                       cap ? 200 + k : 10 + k);
                            add_label(sc, part_extent(pp), pp->ref, 1.1, FALSE);
                            break;
                        }
                    }
                }
                break;
            }
        }
        Part mold = pk_simple(PK_BGA, 12, 12, 1.6);
        Part qfn7 = pk_leads(PK_FLAT, 7, 7, 0.25, 0.12, 0.5, 12, 12, 12, 12);
        Part qfn5 = pk_leads(PK_FLAT, 5, 5, 0.25, 0.12, 0.5, 8, 8, 8, 8);
        Part tssop = pk_leads(PK_GULL, 6.5, 4.4, 0.25, 1.0, 0.65, 10, 10, 0, 0);
        Part soic14 = pk_leads(PK_GULL, 8.65, 3.9, 0.41, 1.05, 1.27, 7, 7, 0, 0);
        Part *big[] = { &mold, &qfn7, &qfn5, &tssop, &soic14, &qfn5 };
        for (size_t k = 0; k < G_N_ELEMENTS(big); k++)
            for (int t = 0; t < 300; t++) {
                int idx = place_ic(sc, rng, *big[k], rng_range(rng, 12, wmm - 12),
                                   rng_range(rng, 12, hmm - 12), rng_int(rng, 4), NULL, NULL);
                if (idx >= 0) {
                    g_array_append_val(ics, idx);
                    break;
                }
            }
        Part soic8 = pk_leads(PK_GULL, 4.9, 3.9, 0.41, 1.05, 1.27, 4, 4, 0, 0);
        Part msop = pk_leads(PK_GULL, 3.0, 3.0, 0.3, 0.95, 0.65, 4, 4, 0, 0);
        Part sot23 = pk_leads(PK_GULL, 2.9, 1.3, 0.4, 0.55, 0.95, 1, 2, 0, 0);
        sot23.pitch[SIDE_N] = 0;
        sot23.pitch[SIDE_S] = 1.9;
        Part sot5 = pk_leads(PK_GULL, 2.9, 1.6, 0.4, 0.6, 0.95, 3, 2, 0, 0);
        sot5.pitch[SIDE_S] = 1.9;
        Part sot6 = pk_leads(PK_GULL, 2.9, 1.6, 0.4, 0.6, 0.95, 3, 3, 0, 0);
        Part dfn = pk_leads(PK_FLAT, 2.0, 2.0, 0.3, 0.12, 0.65, 0, 0, 3, 3);
        Part xtal = pk_simple(PK_CRYSTAL, 3.2, 2.5, 0.8);
        struct {
            Part *p;
            int n;
        } mids[] = { { &soic8, 2 }, { &msop, 3 }, { &sot23, 7 }, { &sot5, 3 },
                     { &sot6, 2 },  { &dfn, 3 },  { &xtal, 2 } };
        for (size_t k = 0; k < G_N_ELEMENTS(mids); k++)
            for (int n = 0; n < mids[k].n; n++)
                for (int t = 0; t < 200; t++) {
                    double x = rng_range(rng, 8, wmm - 8), y = rng_range(rng, 8, hmm - 8);
                    if (ics->len > 0 && rng_uniform(rng) < 0.5) {
                        const Part *u
                            = scene_part(sc, g_array_index(ics, int, rng_int(rng, (int) ics->len)));
                        x = u->x + rng_range(rng, -1.3, 1.3) * u->L;
                        y = u->y + rng_range(rng, -1.3, 1.3) * u->W;
                    }
                    int idx;
                    if (mids[k].p->kind == PK_CRYSTAL) {
                        Part q = *mids[k].p;
                        q.metal = rgb(182, 182, 176);
                        g_snprintf(q.mark[0], sizeof q.mark[0], "%s",
                                   rng_uniform(rng) < 0.5 ? "25.000" : "32.768");
                        idx = place_part(sc, q, x, y, rng_int(rng, 4), 0.5);
                        if (idx >= 0) {
                            Part *pp = scene_part(sc, idx);
                            g_snprintf(pp->ref, sizeof pp->ref, "Y%d", n + 1);
                            add_label(sc, part_extent(pp), pp->ref, 0.9, FALSE);
                        }
                    }
                    else {
                        idx = place_ic(sc, rng, *mids[k].p, x, y, rng_int(rng, 4), NULL, NULL);
                    }
                    if (idx >= 0)
                        break;
                }
    }

    /* passives: most of them around the ICs */
    {
        int n = (int) (area / 50.0);
        for (int k = 0; k < n; k++) {
            int size = rng_uniform(rng) < 0.58 ? 0 : rng_uniform(rng) < 0.75 ? 1 : 2;
            for (int t = 0; t < 60; t++) {
                double x, y;
                if (ics->len > 0 && rng_uniform(rng) < 0.65) {
                    int which = rng_uniform(rng) < 0.25
                                    ? sc->bmc
                                    : g_array_index(ics, int, rng_int(rng, (int) ics->len));
                    const Part *u = scene_part(sc, which);
                    double s = 0.5 * MAX(u->L, u->W) + 3.0;
                    x = u->x + rng_normal(rng) * s;
                    y = u->y + rng_normal(rng) * s;
                }
                else {
                    x = rng_range(rng, 4, wmm - 4);
                    y = rng_range(rng, 4, hmm - 4);
                }
                int idx
                    = place_passive(sc, rng, x, y, rng_int(rng, 4), size, size == 0 ? 0.25 : 0.6);
                if (idx >= 0) {
                    if (rng_uniform(rng) < 0.45) { /* a stub to a via from one pad */
                        Part *q = scene_part(sc, idx);
                        double in, out, hh, sg = rng_uniform(rng) < 0.5 ? -1 : 1;
                        chip_pad(q, &in, &out, &hh);
                        double ex, ey, fx, fy;
                        part_point(q, sg * out, 0, &ex, &ey);
                        part_point(q, sg * (out + rng_range(rng, 0.5, 1.2)), 0, &fx, &fy);
                        if (via_ok(sc, fx, fy, 0.3)) {
                            Seg s = { ex, ey, fx, fy, 0.15 };
                            g_array_append_val(sc->segs, s);
                            add_via(sc, rng, fx, fy);
                        }
                    }
                    break;
                }
            }
        }
    }
    g_array_unref(ics);

    /* copper pours, buses and loose traces (under the mask), loose vias */
    for (int k = 0; k < (int) (area / 2500) + 2; k++) {
        double w = rng_range(rng, 12, 40), h = rng_range(rng, 10, 30), c = rng_range(rng, 2, 6);
        double x = rng_range(rng, -5, wmm - w + 5), y = rng_range(rng, -5, hmm - h + 5);
        Poly p = { .n = 8 };
        const double px[8] = { x + c, x + w - c, x + w, x + w, x + w - c, x + c, x, x };
        const double py[8] = { y, y, y + c, y + h - c, y + h, y + h, y + h - c, y + c };
        memcpy(p.x, px, sizeof px);
        memcpy(p.y, py, sizeof py);
        g_array_append_val(sc->pours, p);
    }
    for (int k = 0; k < (int) (area / 260); k++) {
        int ntr = 1 + rng_int(rng, 6);
        add_bus(sc, rng, rng_range(rng, 0, wmm), rng_range(rng, 0, hmm), rng_int(rng, 8),
                2 + rng_int(rng, 4), ntr, rng_range(rng, 0.1, 0.22), rng_range(rng, 0.35, 0.55));
    }
    for (int k = 0; k < (int) (area / 45); k++) {
        double x = rng_range(rng, 2, wmm - 2), y = rng_range(rng, 2, hmm - 2);
        if (via_ok(sc, x, y, 0.45))
            add_via(sc, rng, x, y);
    }

    /* board marking */
    {
        const char *title = "SRV-MB X12  REV 1.03";
        double h = 2.0, tw = text_width(title, h);
        for (int t = 0; t < 200; t++) {
            double x = rng_range(rng, 10 + tw / 2, wmm - 10 - tw / 2),
                   y = rng_range(rng, hmm * 0.6, hmm - 6);
            Box b = box(x - tw / 2, y - h / 2, x + tw / 2, y + h / 2);
            if (scene_free_at(sc, box_grow(b, 0.5), 0.2)) {
                Label l = { .x = x, .y = y, .h = h, .rot = 0 };
                g_strlcpy(l.text, title, sizeof l.text);
                g_array_append_val(sc->labels, l);
                g_array_append_val(sc->occ, b);
                break;
            }
        }
    }
    return sc;
}

/* ------------------------------------------------------------------------------------ drawing */

static void
render_background(const Scene *sc, const Canvas *cv)
{
    const double s = cv->ppm;
    const int W = cv->width;
    int *ix = g_new(int, (size_t) W * 2);
    float *fx = g_new(float, (size_t) W * 2);
    for (int i = 0; i < W; i++) {
        double x = (i + 0.5) / s / MOTTLE_MM + 1.0, x2 = (i + 0.5) / s / MOTTLE2_MM + 1.0;
        ix[i] = CLAMP((int) floor(x), 0, sc->mot_nx - 2);
        ix[W + i] = CLAMP((int) floor(x2), 0, sc->mot2_nx - 2);
        double t = x - ix[i], t2 = x2 - ix[W + i];
        fx[i] = (float) (t * t * (3 - 2 * t));
        fx[W + i] = (float) (t2 * t2 * (3 - 2 * t2));
    }
    for (int j = 0; j < cv->height; j++) {
        double y = (j + 0.5) / s / MOTTLE_MM + 1.0, y2 = (j + 0.5) / s / MOTTLE2_MM + 1.0;
        int iy = CLAMP((int) floor(y), 0, sc->mot_ny - 2);
        int iy2 = CLAMP((int) floor(y2), 0, sc->mot2_ny - 2);
        float ty = (float) (y - iy), ty2 = (float) (y2 - iy2);
        ty = ty * ty * (3 - 2 * ty);
        ty2 = ty2 * ty2 * (3 - 2 * ty2);
        const float *ra = sc->mottle + (size_t) iy * sc->mot_nx * 3;
        const float *rb = ra + (size_t) sc->mot_nx * 3;
        const float *qa = sc->mottle2 + (size_t) iy2 * sc->mot2_nx * 3;
        const float *qb = qa + (size_t) sc->mot2_nx * 3;
        const double gy = sc->grad[1] * ((j + 0.5) / cv->height - 0.5);
        guint8 *row = cv->data + (size_t) j * cv->stride;
        for (int i = 0; i < W; i++) {
            const int a = ix[i] * 3, b = ix[W + i] * 3;
            const float t = fx[i], t2 = fx[W + i];
            const float g = (float) (gy + sc->grad[0] * ((i + 0.5) / W - 0.5));
            const float base[3] = { sc->mask.r + g + (float) sc->grad[2], sc->mask.g + g,
                                    sc->mask.b + g - (float) sc->grad[2] };
            for (int k = 0; k < 3; k++) {
                float m0 = ra[a + k] + (ra[a + 3 + k] - ra[a + k]) * t;
                float m1 = rb[a + k] + (rb[a + 3 + k] - rb[a + k]) * t;
                float n0 = qa[b + k] + (qa[b + 3 + k] - qa[b + k]) * t2;
                float n1 = qb[b + k] + (qb[b + 3 + k] - qb[b + k]) * t2;
                row[3 * i + k] = clamp_u8(base[k] + m0 + (m1 - m0) * ty + n0 + (n1 - n0) * ty2);
            }
        }
    }
    g_free(ix);
    g_free(fx);
}

static void
draw_pads(const Part *p, const Canvas *cv, Rgb tin)
{
    Paint pad = paint_prof(rgb_mul(tin, 0.9), rgb_mul(tin, 1.0), PROF_LINEAR, 1, 0);
    pad.grain = 5.0f;
    switch (p->kind) {
    case PK_CHIP: {
        double in, out, hh;
        chip_pad(p, &in, &out, &hh);
        draw_box(cv, part_box(p, in, -hh, out, hh), 0.04, &pad);
        draw_box(cv, part_box(p, -out, -hh, -in, hh), 0.04, &pad);
        break;
    }
    case PK_GULL:
    case PK_FLAT:
        for (int side = 0; side < 4; side++)
            for (int i = 0; i < p->pins[side]; i++) {
                double half = side_half(p, side), c = pin_pos(p, side, i);
                double a = 0.5 * MIN(p->lw * 1.45, p->pitch[side] > 0 ? p->pitch[side] * 0.62 : 9);
                Box b = p->kind == PK_GULL
                            ? side_box(p, side, c, a, half + 0.3 * p->lp, half + p->lp + 0.2)
                            : side_box(p, side, c, 0.6 * p->lw, half - 0.3, half + p->lp + 0.15);
                draw_box(cv, b, 0.03, &pad);
            }
        break;
    case PK_POLYCAP:
    case PK_INDUCTOR:
    case PK_CRYSTAL: {
        double hw = p->kind == PK_CRYSTAL ? 0.3 * p->W : 0.32 * p->W;
        double in = 0.5 * p->L - (p->kind == PK_CRYSTAL ? 0.8 : 1.4);
        draw_box(cv, part_box(p, in, -hw, 0.5 * p->L + 0.5, hw), 0.05, &pad);
        draw_box(cv, part_box(p, -0.5 * p->L - 0.5, -hw, -in, hw), 0.05, &pad);
        break;
    }
    default:
        break;
    }
}

static void
draw_marking(const Part *p, const Canvas *cv, Rgb colour, double alpha, double h)
{
    Paint ink = paint_flat(colour);
    ink.alpha = (float) alpha;
    int rot = (4 - p->rot) & 3, lines = p->mark[1][0] != '\0' ? 2 : 1;
    for (int k = 0; k < lines; k++) {
        double off = lines == 1 ? 0.0 : (k == 0 ? -0.75 : 0.75) * h;
        double x, y;
        part_point(p, 0, off, &x, &y);
        draw_text(cv, x, y, h, rot, p->mark[k], &ink);
    }
}

/* An IC body: a slightly lighter moulded rim, a shaded top with grain, the pin-1 dimple and the
 * faint laser marking. */
static void
draw_ic_top(const Part *p, const Canvas *cv, double L, double W, double rim)
{
    Paint edge = paint_flat(rgb_mul(p->body, 1.35));
    draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), MIN(0.15, 0.05 * MIN(L, W)),
             &edge);
    Paint top = paint_prof(rgb_mul(p->body, 1.1), rgb_mul(p->body, 0.9), PROF_LINEAR, 0, 0);
    part_axis(p, 1, 0, &top);
    top.grain = 2.5f;
    draw_box(cv, part_box(p, -0.5 * L + rim, -0.5 * W + rim, 0.5 * L - rim, 0.5 * W - rim), 0.05,
             &top);
    double m = MIN(L, W);
    if (m >= 1.4) {
        double r = CLAMP(0.07 * m, 0.12, 0.55), off = MAX(0.17 * m, r + 0.25);
        double x, y;
        part_point(p, -0.5 * L + off, -0.5 * W + off, &x, &y);
        Paint dot = paint_prof(rgb_mul(p->body, 0.55), rgb_mul(p->body, 0.95), PROF_RADIAL, 0, 0);
        draw_disc(cv, x, y, r, 0, &dot);
    }
    if (m >= 1.2 && p->mark[0][0] != '\0') {
        double h = CLAMP(0.11 * m, 0.28, 1.2);
        double fit = 0.8 * L / MAX(text_width(p->mark[0], 1.0), text_width(p->mark[1], 1.0));
        draw_marking(p, cv, rgb_add(p->body, 55), 0.75, MIN(h, fit));
    }
}

static void
draw_part(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
    switch (p->kind) {
    case PK_CHIP: {
        double t = 0.22 * L;
        Paint term = paint_prof(rgb_mul(p->metal, 0.68), rgb_mul(p->metal, 1.08), PROF_CYL, 0, 0);
        part_axis(p, 0, 1, &term);
        term.grain = 4.0f;
        draw_box(cv, part_box(p, 0.5 * L - t, -0.5 * W, 0.5 * L, 0.5 * W), 0.04 * W, &term);
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, -0.5 * L + t, 0.5 * W), 0.04 * W, &term);
        Paint mid = paint_prof(rgb_mul(p->body, 0.82), rgb_mul(p->body, 1.08), PROF_CYL, 0, 0);
        part_axis(p, 0, 1, &mid);
        mid.grain = 3.0f;
        draw_box(cv, part_box(p, -0.5 * L + t, -0.5 * W, 0.5 * L - t, 0.5 * W), 0, &mid);
        if (p->style == CHIP_RES && L >= 1.5)
            draw_marking(p, cv, rgb(175, 175, 170), 0.8, 0.42 * W);
        break;
    }
    case PK_GULL:
    case PK_FLAT: {
        for (int side = 0; side < 4; side++) {
            int dx, dy;
            side_dir(side, &dx, &dy);
            Paint lead = paint_prof(rgb_mul(p->metal, 0.45), rgb_mul(p->metal, 1.05),
                                    p->kind == PK_GULL ? PROF_LEAD : PROF_LINEAR, 0, 0);
            part_axis(p, dx, dy, &lead);
            lead.grain = 3.0f;
            for (int i = 0; i < p->pins[side]; i++) {
                double half = side_half(p, side), c = pin_pos(p, side, i);
                Box b = p->kind == PK_GULL
                            ? side_box(p, side, c, 0.5 * p->lw, half - 0.02, half + p->lp)
                            : side_box(p, side, c, 0.5 * p->lw, half - 0.05, half + 0.06);
                draw_box(cv, b, 0.02, &lead);
            }
        }
        draw_ic_top(p, cv, L, W, MIN(0.12, 0.08 * MIN(L, W)));
        break;
    }
    case PK_BGA: {
        Paint sub = paint_flat(rgb(62, 74, 46));
        sub.grain = 3.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.2, &sub);
        if (p->style == 1) { /* lid with small capacitors around it */
            Paint cap = paint_flat(rgb(150, 122, 86));
            for (int k = 0; k < 10; k++) {
                double c = (k % 5 - 2) * 0.17 * L, e = 0.5 * L - 0.75;
                Box b = k < 5 ? part_box(p, c - 0.3, -e - 0.17, c + 0.3, -e + 0.17)
                              : part_box(p, e - 0.17, c - 0.3, e + 0.17, c + 0.3);
                draw_box(cv, b, 0.03, &cap);
            }
            Paint lid = paint_prof(rgb(168, 170, 168), rgb(136, 138, 138), PROF_LINEAR, 0, 0);
            part_axis(p, 1, 1, &lid);
            lid.grain = 6.0f;
            double e = 0.5 * L - 1.6;
            draw_box(cv, part_box(p, -e, -e, e, e), 0.8, &lid);
            draw_marking(p, cv, rgb(60, 60, 62), 0.8, 1.3);
        }
        else {
            Part q = *p;
            draw_ic_top(&q, cv, L - 1.0, W - 1.0, 0.15);
        }
        double x, y;
        part_point(p, -0.5 * L + 0.5, -0.5 * W + 0.5, &x, &y);
        Paint gold = paint_flat(rgb(200, 170, 90));
        draw_disc(cv, x, y, 0.25, 0, &gold);
        break;
    }
    case PK_POLYCAP: {
        Paint base = paint_flat(p->body);
        base.grain = 3.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.3, &base);
        double r = 0.46 * L;
        Paint can = paint_prof(rgb_mul(p->metal, 1.12), rgb_mul(p->metal, 0.7), PROF_RADIAL, 0, 0);
        can.grain = 4.0f;
        draw_disc(cv, p->x, p->y, r, 0, &can);
        Paint rim = paint_flat(rgb_mul(p->metal, 0.62));
        draw_disc(cv, p->x, p->y, r * 0.93, r * 0.86, &rim);
        Box band = part_box(p, -r, -r, -0.45 * r, r);
        Paint mark = paint_flat(rgb(58, 44, 78));
        draw_disc_clip(cv, p->x, p->y, r * 0.85, 0, &band, &mark);
        Paint vent = paint_flat(rgb_mul(p->metal, 0.6));
        double ax, ay, bx2, by2;
        part_point(p, -0.3 * r, 0, &ax, &ay);
        part_point(p, 0.55 * r, 0, &bx2, &by2);
        draw_seg(cv, ax, ay, bx2, by2, 0.12, &vent);
        part_point(p, 0.12 * r, -0.42 * r, &ax, &ay);
        part_point(p, 0.12 * r, 0.42 * r, &bx2, &by2);
        draw_seg(cv, ax, ay, bx2, by2, 0.12, &vent);
        break;
    }
    case PK_INDUCTOR: {
        Paint body = paint_prof(rgb_mul(p->body, 1.1), rgb_mul(p->body, 0.9), PROF_LINEAR, 0, 0);
        body.grain = 7.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.35, &body);
        draw_marking(p, cv, rgb(200, 200, 195), 0.75, 1.1);
        break;
    }
    case PK_CRYSTAL: {
        Paint lid = paint_prof(rgb_mul(p->metal, 1.05), rgb_mul(p->metal, 0.85), PROF_LINEAR, 0, 0);
        lid.grain = 5.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.25, &lid);
        Paint seam = paint_flat(rgb_mul(p->metal, 0.75));
        seam.alpha = 0.7f;
        draw_box(cv, part_box(p, -0.5 * L + 0.2, -0.5 * W + 0.2, 0.5 * L - 0.2, 0.5 * W - 0.2), 0.2,
                 &seam);
        draw_box(cv, part_box(p, -0.5 * L + 0.3, -0.5 * W + 0.3, 0.5 * L - 0.3, 0.5 * W - 0.3),
                 0.15, &lid);
        draw_marking(p, cv, rgb(70, 70, 70), 0.75, 0.45);
        break;
    }
    case PK_HEADER: {
        Paint shroud = paint_flat(rgb(30, 30, 33));
        shroud.grain = 2.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.2, &shroud);
        Paint inner = paint_flat(rgb(16, 16, 18));
        draw_box(cv, part_box(p, -0.5 * L + 0.5, -0.5 * W + 0.5, 0.5 * L - 0.5, 0.5 * W - 0.5), 0.1,
                 &inner);
        int rows = p->style == 1 ? 1 : 2;
        Paint pin = paint_prof(rgb(150, 120, 50), rgb(230, 200, 110), PROF_CYL, 0, 0);
        pin.grain = 4.0f;
        for (int k = 0; k < p->pins[0]; k++)
            for (int rr = 0; rr < rows; rr++) {
                double c = (k - 0.5 * (p->pins[0] - 1)) * 2.54, d = (rr - 0.5 * (rows - 1)) * 2.54;
                draw_box(cv, part_box(p, c - 0.32, d - 0.32, c + 0.32, d + 0.32), 0.04, &pin);
            }
        break;
    }
    case PK_FANCONN: {
        Paint body = paint_prof(rgb(236, 232, 214), rgb(206, 200, 180), PROF_LINEAR, 1, 0);
        body.grain = 3.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.3, &body);
        Paint ramp = paint_flat(rgb(196, 190, 170));
        draw_box(cv, part_box(p, -0.3 * L, -0.5 * W + 0.3, 0.3 * L, -0.5 * W + 1.1), 0.1, &ramp);
        Paint hole = paint_flat(rgb(48, 46, 42)), pin = paint_flat(rgb(205, 190, 140));
        for (int k = 0; k < 4; k++) {
            double c = (k - 1.5) * 2.54;
            draw_box(cv, part_box(p, c - 0.85, -0.4, c + 0.85, 1.9), 0.15, &hole);
            draw_box(cv, part_box(p, c - 0.3, 0.45, c + 0.3, 1.05), 0.05, &pin);
        }
        break;
    }
    case PK_STICKER: {
        Paint paper = paint_flat(rgb(236, 236, 228));
        paper.grain = 3.0f;
        draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.5, &paper);
        Paint ink = paint_flat(rgb(30, 30, 32));
        double x = -0.5 * L + 1.2;
        for (int k = 0; k < 40 && x < 0.5 * L - 1.2; k++) {
            double w = ((p->aux >> (k % 60)) & 1) ? 0.35 : 0.18;
            if (k % 2 == 0)
                draw_box(cv, part_box(p, x, -0.5 * W + 0.8, x + w, 0.5 * W - 2.6), 0, &ink);
            x += w + 0.05 + 0.15 * ((p->aux >> ((k + 7) % 60)) & 1);
        }
        double tx, ty;
        part_point(p, 0, 0.5 * W - 1.4, &tx, &ty);
        draw_text(cv, tx, ty, 1.4, 0, p->mark[0], &ink);
        break;
    }
    }
}

static void
draw_shadow(const Part *p, const Canvas *cv)
{
    if (p->kind == PK_STICKER)
        return;
    Box b = part_box(p, -0.5 * p->L, -0.5 * p->W, 0.5 * p->L, 0.5 * p->W);
    double h = p->height, ox = 0.22 * h, oy = 0.3 * h;
    Paint sh = paint_blend(rgb(0.45, 0.47, 0.5), BLEND_MUL, h > 3 ? 0.7 : 0.85);
    sh.soft = (float) MAX(1.0, (0.08 + 0.22 * h) * cv->ppm);
    draw_rrect(cv, b.x0 + ox, b.y0 + oy, b.x1 + ox, b.y1 + oy, 0.1 + 0.1 * h, &sh);
}

/* Draws the scene at cv->ppm: the canvas covers the board from (0, 0) mm. */
static void
render_scene(const Scene *sc, const Canvas *cv)
{
    render_background(sc, cv);
    Paint pour = paint_blend(sc->pour_add, BLEND_ADD, 1.0);
    for (guint k = 0; k < sc->pours->len; k++) {
        const Poly *p = &g_array_index(sc->pours, Poly, k);
        draw_poly(cv, p->x, p->y, p->n, &pour);
    }
    Paint trace = paint_blend(sc->trace_add, BLEND_ADD, 1.0);
    for (guint k = 0; k < sc->segs->len; k++) {
        const Seg *s = &g_array_index(sc->segs, Seg, k);
        draw_seg(cv, s->x0, s->y0, s->x1, s->y1, s->w, &trace);
    }
    Paint tented = paint_blend(rgb(14, 26, 9), BLEND_ADD, 1.0);
    Paint plug = paint_flat(rgb_mul(sc->mask, 0.45));
    Paint ring = paint_prof(rgb_mul(sc->tin, 1.0), rgb_mul(sc->tin, 0.8), PROF_RADIAL, 0, 0);
    Paint hole = paint_flat(rgb(22, 24, 22));
    for (guint k = 0; k < sc->vias->len; k++) {
        const Via *v = &g_array_index(sc->vias, Via, k);
        if (v->tented) {
            draw_disc(cv, v->x, v->y, v->r, 0, &tented);
            draw_disc(cv, v->x, v->y, v->hole, 0, &plug);
        }
        else {
            draw_disc(cv, v->x, v->y, v->r, 0, &ring);
            draw_disc(cv, v->x, v->y, v->hole, 0, &hole);
        }
    }
    Paint silk = paint_flat(sc->silk_col);
    silk.alpha = 0.93f;
    silk.grain = 6.0f;
    for (guint k = 0; k < sc->silk->len; k++) {
        const Seg *s = &g_array_index(sc->silk, Seg, k);
        draw_seg(cv, s->x0, s->y0, s->x1, s->y1, s->w, &silk);
    }
    for (guint k = 0; k < sc->labels->len; k++) {
        const Label *l = &g_array_index(sc->labels, Label, k);
        draw_text(cv, l->x, l->y, l->h, l->rot, l->text, &silk);
    }
    for (guint k = 0; k < sc->parts->len; k++)
        draw_pads(&g_array_index(sc->parts, Part, k), cv, sc->tin);
    Paint lam = paint_flat(sc->laminate);
    Paint fid = paint_prof(rgb_mul(sc->tin, 1.05), rgb_mul(sc->tin, 0.85), PROF_RADIAL, 0, 0);
    for (guint k = 0; k < sc->fids->len; k++) {
        const Via *v = &g_array_index(sc->fids, Via, k);
        draw_disc(cv, v->x, v->y, v->r, 0, &lam);
        draw_disc(cv, v->x, v->y, v->hole, 0, &fid);
    }
    Paint mring = paint_prof(rgb_mul(sc->tin, 0.95), rgb_mul(sc->tin, 0.8), PROF_RADIAL, 0, 0);
    mring.grain = 5.0f;
    Paint mhole = paint_flat(rgb(18, 18, 18));
    for (guint k = 0; k < sc->holes->len; k++) {
        const Via *v = &g_array_index(sc->holes, Via, k);
        draw_disc(cv, v->x, v->y, v->r, 0, &mring);
        draw_disc(cv, v->x, v->y, v->hole, 0, &mhole);
        for (int a = 0; a < 8; a++) { /* stitching vias around the hole */
            double t = a * G_PI / 4;
            draw_disc(cv, v->x + 2.35 * cos(t), v->y + 2.35 * sin(t), 0.22, 0, &hole);
        }
    }
    for (guint k = 0; k < sc->parts->len; k++) {
        const Part *p = &g_array_index(sc->parts, Part, k);
        if (p->populated && !p->removed)
            draw_shadow(p, cv);
    }
    for (guint k = 0; k < sc->parts->len; k++) {
        const Part *p = &g_array_index(sc->parts, Part, k);
        if (p->populated && !p->removed)
            draw_part(p, cv);
    }
}

static PcbImage *
render_board(const Scene *sc, double ppm, int width, int height, GError **error)
{
    PcbImage *img = pcb_image_new(width, height, PCB_FORMAT_RGB8, error);
    if (img == NULL)
        return NULL;
    Canvas cv = { img->data, img->stride, width, height, ppm };
    render_scene(sc, &cv);
    return img;
}

/* ------------------------------------------------------------------------------------ changes */

typedef struct {
    const char *kind; /* "added" | "removed" */
    const char *op;   /* "implant" | "remove" */
    char package[40];
    char where[48];
    Box mm; /* the changed part, mm */
} Change;

static Box
mm_to_px_box(Box b, double ppm, int bbox[4])
{
    int x0 = (int) floor(b.x0 * ppm + 1e-9), y0 = (int) floor(b.y0 * ppm + 1e-9);
    int x1 = (int) ceil(b.x1 * ppm - 1e-9), y1 = (int) ceil(b.y1 * ppm - 1e-9);
    bbox[0] = x0;
    bbox[1] = y0;
    bbox[2] = x1 - x0;
    bbox[3] = y1 - y0;
    return box(x0, y0, x1, y1);
}

static void
apply_implant(Scene *sc, Rng *rng, Change *ch)
{
    const Part *spare = scene_part(sc, sc->six_pad[rng_int(rng, 2)]);
    Part p = pk_implant();
    p.x = spare->x;
    p.y = spare->y;
    p.rot = spare->rot + 2 * rng_int(rng, 2);
    p.implant = TRUE;
    g_strlcpy(p.ref, spare->ref, sizeof p.ref);
    g_array_append_val(sc->parts, p);
    ch->kind = "added";
    ch->op = "implant";
    g_strlcpy(ch->package, "six-pin chip 1.0x1.9 mm", sizeof ch->package);
    g_snprintf(ch->where, sizeof ch->where, "on spare footprint %s next to the BMC", spare->ref);
    ch->mm = part_outline(&p);
}

static gboolean
apply_removal(Scene *sc, Rng *rng, Change *ch)
{
    GArray *cand = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint k = 0; k < sc->parts->len; k++) {
        const Part *p = scene_part(sc, (int) k);
        Box b = part_extent(p);
        if (p->kind == PK_CHIP && p->populated && p->L >= 1.5 && b.x0 > 12 && b.y0 > 12
            && b.x1 < sc->width_mm - 12 && b.y1 < sc->height_mm - 12)
            g_array_append_val(cand, k);
    }
    gboolean ok = cand->len > 0;
    if (ok) {
        Part *p = scene_part(sc, g_array_index(cand, int, rng_int(rng, (int) cand->len)));
        p->removed = TRUE;
        ch->kind = "removed";
        ch->op = "remove";
        g_snprintf(ch->package, sizeof ch->package, "%s %s", p->L >= 1.9 ? "0805" : "0603",
                   p->style == CHIP_CAP ? "capacitor" : "resistor");
        g_strlcpy(ch->where, p->ref, sizeof ch->where);
        ch->mm = part_box(p, -0.5 * p->L, -0.5 * p->W, 0.5 * p->L, 0.5 * p->W);
    }
    g_array_unref(cand);
    return ok;
}

/* ------------------------------------------------------------------------------------ camera */

static void
mat3_mul(const double *a, const double *b, double *out)
{
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    memcpy(out, t, sizeof t);
}

static void
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

static void
mat3_normalise(double *m)
{
    double s = m[8];
    for (int k = 0; k < 9; k++)
        m[k] /= s;
}

static void
mat3_apply(const double *h, double x, double y, double *ox, double *oy)
{
    double w = h[6] * x + h[7] * y + h[8];
    *ox = (h[0] * x + h[1] * y + h[2]) / w;
    *oy = (h[3] * x + h[4] * y + h[5]) / w;
}

typedef struct {
    double scale, rotate_deg, tilt_deg, k1, light, noise, blur;
    int quality;
} PhotoOpts;

typedef struct {
    double H_rp[9], H_pr[9]; /* reference -> ideal photo, and back */
    int width, height;
    double scale; /* photo pixels per reference pixel at the board's centre */
    double tilt_x, tilt_y, cx, cy, rnorm;
    double gain, gamma, wb[3], illum_amp, illum_dir;
    gboolean vignette;
    Rgb table;
    PhotoOpts o;
} Camera;

/* The camera model: a pinhole at distance f / scale from the board, turned by rotate_deg in the
 * image plane and tilted by tilt_deg about an axis in a seeded direction; the photo frames the
 * board with a seeded 6-13 % margin, the board kept off the edges. target_mp > 0: the scale that
 * makes the photo that size. */
static void
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

static void
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

/* Solves the n x n system A x = b (A row-major, destroyed) by Gaussian elimination with partial
 * pivoting. */
static gboolean
solve(double *A, double *b, double *x, int n)
{
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[piv * n + c]))
                piv = r;
        if (fabs(A[piv * n + c]) < 1e-300)
            return FALSE;
        if (piv != c) {
            for (int k = 0; k < n; k++) {
                double t = A[c * n + k];
                A[c * n + k] = A[piv * n + k];
                A[piv * n + k] = t;
            }
            double t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (int r = c + 1; r < n; r++) {
            double f = A[r * n + c] / A[c * n + c];
            for (int k = c; k < n; k++)
                A[r * n + k] -= f * A[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int r = n - 1; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < n; k++)
            s -= A[r * n + k] * x[k];
        x[r] = s / A[r * n + r];
    }
    return TRUE;
}

static void
normaliser(const double *pts, int n, double T[9])
{
    double mx = 0, my = 0, d = 0;
    for (int i = 0; i < n; i++) {
        mx += pts[2 * i] / n;
        my += pts[2 * i + 1] / n;
    }
    for (int i = 0; i < n; i++)
        d += hypot(pts[2 * i] - mx, pts[2 * i + 1] - my) / n;
    double s = d > 0 ? M_SQRT2 / d : 1;
    const double t[9] = { s, 0, -s * mx, 0, s, -s * my, 0, 0, 1 };
    memcpy(T, t, sizeof t);
}

/* The homography src -> dst minimising the geometric error in dst: a normalised DLT, then
 * Levenberg-Marquardt. Returns the rms error; *max_err gets the largest. */
static double
fit_homography(const double *src, const double *dst, int n, double H[9], double *max_err)
{
    double Ts[9], Td[9], Tdi[9];
    normaliser(src, n, Ts);
    normaliser(dst, n, Td);
    mat3_inv(Td, Tdi);
    double *s = g_new(double, 2 * (size_t) n), *d = g_new(double, 2 * (size_t) n);
    for (int i = 0; i < n; i++) {
        mat3_apply(Ts, src[2 * i], src[2 * i + 1], &s[2 * i], &s[2 * i + 1]);
        mat3_apply(Td, dst[2 * i], dst[2 * i + 1], &d[2 * i], &d[2 * i + 1]);
    }
    double A[64] = { 0 }, b[8] = { 0 }, h[8] = { 1, 0, 0, 0, 1, 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        double x = s[2 * i], y = s[2 * i + 1], X = d[2 * i], Y = d[2 * i + 1];
        const double r1[8] = { x, y, 1, 0, 0, 0, -X * x, -X * y };
        const double r2[8] = { 0, 0, 0, x, y, 1, -Y * x, -Y * y };
        for (int a = 0; a < 8; a++) {
            for (int c = 0; c < 8; c++)
                A[a * 8 + c] += r1[a] * r1[c] + r2[a] * r2[c];
            b[a] += r1[a] * X + r2[a] * Y;
        }
    }
    double h0[8];
    if (solve(A, b, h0, 8))
        memcpy(h, h0, sizeof h);
    double lambda = 1e-6;
    for (int it = 0; it < 30; it++) {
        double JtJ[64] = { 0 }, Jte[8] = { 0 }, err = 0;
        for (int i = 0; i < n; i++) {
            double x = s[2 * i], y = s[2 * i + 1];
            double w = h[6] * x + h[7] * y + 1, u = (h[0] * x + h[1] * y + h[2]) / w,
                   v = (h[3] * x + h[4] * y + h[5]) / w;
            double eu = u - d[2 * i], ev = v - d[2 * i + 1];
            const double ju[8] = { x / w, y / w, 1 / w, 0, 0, 0, -u * x / w, -u * y / w };
            const double jv[8] = { 0, 0, 0, x / w, y / w, 1 / w, -v * x / w, -v * y / w };
            for (int a = 0; a < 8; a++) {
                for (int c = 0; c < 8; c++)
                    JtJ[a * 8 + c] += ju[a] * ju[c] + jv[a] * jv[c];
                Jte[a] -= ju[a] * eu + jv[a] * ev;
            }
            err += eu * eu + ev * ev;
        }
        for (int a = 0; a < 8; a++)
            JtJ[a * 9] *= 1 + lambda;
        double delta[8];
        if (!solve(JtJ, Jte, delta, 8))
            break;
        double hn[8], err2 = 0;
        for (int a = 0; a < 8; a++)
            hn[a] = h[a] + delta[a];
        for (int i = 0; i < n; i++) {
            double x = s[2 * i], y = s[2 * i + 1], w = hn[6] * x + hn[7] * y + 1;
            double eu = (hn[0] * x + hn[1] * y + hn[2]) / w - d[2 * i];
            double ev = (hn[3] * x + hn[4] * y + hn[5]) / w - d[2 * i + 1];
            err2 += eu * eu + ev * ev;
        }
        if (err2 < err) {
            memcpy(h, hn, sizeof h);
            lambda *= 0.3;
            if (err - err2 < 1e-16 * (1 + err))
                break;
        }
        else {
            lambda *= 10;
        }
    }
    const double Hn[9] = { h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1 };
    mat3_mul(Tdi, Hn, H);
    mat3_mul(H, Ts, H);
    mat3_normalise(H);
    double sum = 0, mx = 0;
    for (int i = 0; i < n; i++) {
        double x, y;
        mat3_apply(H, src[2 * i], src[2 * i + 1], &x, &y);
        double e = hypot(x - dst[2 * i], y - dst[2 * i + 1]);
        sum += e * e;
        mx = MAX(mx, e);
    }
    g_free(s);
    g_free(d);
    *max_err = mx;
    return sqrt(sum / n);
}

/* homography_photo_to_reference: exact without lens distortion, else the best fit over a 30 x 30
 * grid of board points (their exact photo positions -> reference). */
static void
truth_homography(const Camera *cam, int w, int h, double H[9], double *rms, double *max_err)
{
    const int g = 30;
    double *src = g_new(double, 2 * g * g), *dst = g_new(double, 2 * g * g);
    for (int j = 0; j < g; j++)
        for (int i = 0; i < g; i++) {
            int k = j * g + i;
            dst[2 * k] = (w - 1) * i / (double) (g - 1);
            dst[2 * k + 1] = (h - 1) * j / (double) (g - 1);
            ref_to_photo(cam, dst[2 * k], dst[2 * k + 1], &src[2 * k], &src[2 * k + 1]);
        }
    if (cam->o.k1 == 0.0) {
        memcpy(H, cam->H_pr, 9 * sizeof(double));
        double sum = 0, mx = 0;
        for (int k = 0; k < g * g; k++) {
            double x, y;
            mat3_apply(H, src[2 * k], src[2 * k + 1], &x, &y);
            double e = hypot(x - dst[2 * k], y - dst[2 * k + 1]);
            sum += e * e;
            mx = MAX(mx, e);
        }
        *rms = sqrt(sum / (g * g));
        *max_err = mx;
    }
    else {
        *rms = fit_homography(src, dst, g * g, H, max_err);
    }
    g_free(src);
    g_free(dst);
}

/* ------------------------------------------------------------------------------------ photo */

/* 65536 standard normal samples: the sensor noise draws from them with a 16-bit index. */
static float *
normal_table(Rng *rng)
{
    float *t = g_new(float, 65536);
    for (int k = 0; k < 65536; k += 2) {
        double u = 1.0 - rng_uniform(rng), v = rng_uniform(rng), r = sqrt(-2.0 * log(u));
        t[k] = (float) (r * cos(2 * G_PI * v));
        t[k + 1] = (float) (r * sin(2 * G_PI * v));
    }
    return t;
}

typedef struct {
    const Camera *cam;
    const PcbImage *board;
    double ratio;     /* board pixels per reference pixel */
    int ref_w, ref_h; /* the golden's size */
    double ref_ppm;
    float *gamma_lut; /* 1025 entries over 0 .. 256 */
    float *tex;       /* table texture lattice */
    int tex_nx, tex_ny;
} PhotoCtx;

#define TEX_CELL 40.0

/* One photo row before blur and noise: float RGB. */
static void
photo_row(const PhotoCtx *pc, int y, float *out)
{
    const Camera *cam = pc->cam;
    const PcbImage *bd = pc->board;
    const double *H = cam->H_pr;
    const double r2 = 1.0 / (cam->rnorm * cam->rnorm), k1 = cam->o.k1;
    const double dy = y - cam->cy, diag = 0.5 / cam->rnorm;
    const double sh_x = 0.8 * pc->ref_ppm, sh_y = 1.0 * pc->ref_ppm, sh_soft = 2.5 * pc->ref_ppm;
    const int bw = bd->width, bh = bd->height;
    const double ty = y / TEX_CELL;
    const int tyi = CLAMP((int) ty, 0, pc->tex_ny - 2);
    const float tyf = (float) (ty - tyi);
    const float *ta = pc->tex + (size_t) tyi * pc->tex_nx, *tb = ta + pc->tex_nx;
    const double Y = dy * diag * 2;
    for (int x = 0; x < cam->width; x++) {
        const double dx = x - cam->cx, f = 1 + k1 * (dx * dx + dy * dy) * r2;
        const double ux = cam->cx + dx * f, uy = cam->cy + dy * f;
        const double w = H[6] * ux + H[7] * uy + H[8];
        const double rx = (H[0] * ux + H[1] * uy + H[2]) / w,
                     ry = (H[3] * ux + H[4] * uy + H[5]) / w;
        const double din
            = MIN(MIN(rx + 0.5, pc->ref_w - 0.5 - rx), MIN(ry + 0.5, pc->ref_h - 0.5 - ry));
        const double cov = CLAMP(0.5 + din * cam->scale, 0.0, 1.0);
        float v[3] = { 0, 0, 0 };
        if (cov > 0) {
            double bxf = (rx + 0.5) * pc->ratio - 0.5, byf = (ry + 0.5) * pc->ratio - 0.5;
            bxf = CLAMP(bxf, 0.0, bw - 1.001);
            byf = CLAMP(byf, 0.0, bh - 1.001);
            const int ix = (int) bxf, iy = (int) byf;
            const float fx = (float) (bxf - ix), fy = (float) (byf - iy);
            const guint8 *p0 = bd->data + (size_t) iy * bd->stride + (size_t) ix * 3;
            const guint8 *p1 = p0 + bd->stride;
            for (int c = 0; c < 3; c++) {
                float a = p0[c] + (p0[3 + c] - p0[c]) * fx, b = p1[c] + (p1[3 + c] - p1[c]) * fx;
                v[c] = (float) cov * (a + (b - a) * fy);
            }
        }
        if (cov < 1) {
            const double tx = x / TEX_CELL;
            const int txi = CLAMP((int) tx, 0, pc->tex_nx - 2);
            const float txf = (float) (tx - txi);
            float t0 = ta[txi] + (ta[txi + 1] - ta[txi]) * txf,
                  t1 = tb[txi] + (tb[txi + 1] - tb[txi]) * txf;
            float tex = t0 + (t1 - t0) * tyf;
            /* the board's shadow on the table, cast towards +x +y */
            double sx = rx - sh_x, sy = ry - sh_y;
            double qx = MAX(-0.5 - sx, sx - (pc->ref_w - 0.5)),
                   qy = MAX(-0.5 - sy, sy - (pc->ref_h - 0.5));
            double sd = qx > 0 && qy > 0 ? hypot(qx, qy) : MAX(qx, qy);
            double sh = 1.0 - 0.55 * CLAMP(0.5 - sd / sh_soft, 0.0, 1.0);
            const float tc[3] = { cam->table.r, cam->table.g, cam->table.b };
            for (int c = 0; c < 3; c++)
                v[c] += (float) ((1 - cov) * sh) * (tc[c] + tex);
        }
        const double X = dx * diag * 2;
        double field
            = cam->vignette
                  ? 1 - cam->illum_amp * 0.5 * (X * X + Y * Y)
                  : 1 + cam->illum_amp * 0.5 * (X * cos(cam->illum_dir) + Y * sin(cam->illum_dir));
        for (int c = 0; c < 3; c++) {
            float q = v[c] * 4.0f;
            int qi = q <= 0 ? 0 : q >= 1023 ? 1023 : (int) q;
            float g = pc->gamma_lut[qi] + (pc->gamma_lut[qi + 1] - pc->gamma_lut[qi]) * (q - qi);
            out[3 * x + c] = (float) (g * cam->gain * cam->wb[c] * field);
        }
    }
}

/* Renders the photo of @sc seen by @cam: the board is drawn at ref_ppm x cam->scale, warped
 * (inverse mapping, bilinear), lit, blurred (separable Gaussian over a ring of rows), noised. */
static PcbImage *
render_photo(const Scene *sc, const Camera *cam, double ref_ppm, int ref_w, int ref_h, guint64 seed,
             GError **error)
{
    const double ppm_b = ref_ppm * cam->scale;
    const int bw = (int) ceil(sc->width_mm * ppm_b) + 1, bh = (int) ceil(sc->height_mm * ppm_b) + 1;
    g_autoptr(PcbImage) board = render_board(sc, ppm_b, bw, bh, error);
    if (board == NULL)
        return NULL;
    g_autoptr(PcbImage) photo = pcb_image_new(cam->width, cam->height, PCB_FORMAT_RGB8, error);
    if (photo == NULL)
        return NULL;
    Rng r;
    rng_init(&r, seed, STREAM_TABLE);
    PhotoCtx pc = { .cam = cam,
                    .board = board,
                    .ratio = ppm_b / ref_ppm,
                    .ref_w = ref_w,
                    .ref_h = ref_h,
                    .ref_ppm = ref_ppm };
    pc.tex_nx = (int) (cam->width / TEX_CELL) + 3;
    pc.tex_ny = (int) (cam->height / TEX_CELL) + 3;
    pc.tex = g_new(float, (size_t) pc.tex_nx *(size_t) pc.tex_ny);
    for (int k = 0; k < pc.tex_nx * pc.tex_ny; k++)
        pc.tex[k] = (float) (3.0 * rng_normal(&r));
    pc.gamma_lut = g_new(float, 1025);
    for (int k = 0; k <= 1024; k++)
        pc.gamma_lut[k] = (float) (255.0 * pow(MIN(k / 4.0, 255.0) / 255.0, cam->gamma));

    const int W = cam->width, Hh = cam->height;
    const double sigma = cam->o.blur;
    const int R = sigma > 0.05 ? (int) ceil(3 * sigma) : 0, ring = 2 * R + 1;
    float kern[64];
    {
        double sum = 0;
        for (int k = -R; k <= R; k++)
            sum += kern[k + R] = R > 0 ? (float) exp(-0.5 * k * k / (sigma * sigma)) : 1.0f;
        for (int k = 0; k < ring; k++)
            kern[k] = (float) (kern[k] / sum);
    }
    float *raw = g_new(float, (size_t) W * 3);
    float *rows = g_new(float, (size_t) W * 3 * (size_t) ring);
    float *acc = g_new(float, (size_t) W * 3);
    int made = 0; /* rows [0, made) are in the ring */
    Rng nr;
    rng_init(&nr, seed, STREAM_NOISE);
    float *gauss = normal_table(&nr);
    const float sd = (float) cam->o.noise;
    for (int y = 0; y < Hh; y++) {
        while (made < MIN(Hh, y + R + 1)) {
            photo_row(&pc, made, raw);
            float *dst = rows + (size_t) (made % ring) * W * 3;
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) {
                    float s = 0;
                    for (int k = -R; k <= R; k++) {
                        int xx = CLAMP(x + k, 0, W - 1);
                        s += kern[k + R] * raw[3 * xx + c];
                    }
                    dst[3 * x + c] = s;
                }
            made++;
        }
        memset(acc, 0, sizeof(float) * (size_t) W * 3);
        for (int k = -R; k <= R; k++) {
            int yy = CLAMP(y + k, 0, Hh - 1);
            const float *src = rows + (size_t) (yy % ring) * W * 3, kk = kern[k + R];
            for (int i = 0; i < W * 3; i++)
                acc[i] += kk * src[i];
        }
        guint8 *out = pcb_image_row(photo, y);
        guint64 bits = 0;
        for (int i = 0; i < W * 3; i++) {
            if (i % 4 == 0)
                bits = rng_next(&nr);
            float n = sd * gauss[(bits >> (16 * (i % 4))) & 0xFFFF];
            out[i] = clamp_u8(acc[i] + n);
        }
    }
    g_free(gauss);
    g_free(raw);
    g_free(rows);
    g_free(acc);
    g_free(pc.tex);
    g_free(pc.gamma_lut);
    return g_steal_pointer(&photo);
}

/* ------------------------------------------------------------------------------------ truth */

/* Dyadic rounding: the value prints exactly and short through json-glib's %.17g. */
static double
round_dy(double v, int bits)
{
    double s = ldexp(1.0, bits);
    return round(v * s) / s;
}

static void
json_doubles(JsonBuilder *b, const char *name, const double *v, int n, int bits)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++)
        json_builder_add_double_value(b, bits > 0 ? round_dy(v[i], bits) : v[i]);
    json_builder_end_array(b);
}

static void
json_ints(JsonBuilder *b, const char *name, const int *v, int n)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++)
        json_builder_add_int_value(b, v[i]);
    json_builder_end_array(b);
}

static void
json_double(JsonBuilder *b, const char *name, double v, int bits)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, round_dy(v, bits));
}

static gboolean
write_truth(const char *path, const Camera *cam, int ref_w, int ref_h, double ppm, guint64 seed,
            guint64 board_seed, const Change *changes, int n_changes, GError **error)
{
    double H[9], rms, mx;
    truth_homography(cam, ref_w, ref_h, H, &rms, &mx);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, 1);
    json_builder_set_member_name(b, "generator");
    json_builder_add_string_value(b, "synthboard (tests/tools/synthboard.c)");
    const int rs[2] = { ref_w, ref_h }, ps[2] = { cam->width, cam->height };
    json_ints(b, "reference_size", rs, 2);
    json_ints(b, "photo_size", ps, 2);
    json_double(b, "px_per_mm", ppm, 20);
    json_doubles(b, "homography_photo_to_reference", H, 9, 0);
    json_builder_set_member_name(b, "homography_fit");
    json_builder_add_string_value(b, cam->o.k1 == 0.0
                                         ? "exact (no lens distortion)"
                                         : "least-squares best fit (geometric error in reference "
                                           "pixels) over a 30x30 grid of board points");
    json_builder_set_member_name(b, "homography_fit_residual_px");
    json_builder_begin_object(b);
    json_double(b, "rms", rms, 10);
    json_double(b, "max", mx, 10);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "lens_distortion");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "applied");
    json_builder_add_boolean_value(b, cam->o.k1 != 0.0);
    json_builder_set_member_name(b, "k1");
    json_builder_add_double_value(b, cam->o.k1);
    const double c[2] = { cam->cx, cam->cy };
    json_doubles(b, "center", c, 2, 8);
    json_double(b, "radius_norm", cam->rnorm, 16);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, "photo p -> ideal u = c + (p - c) * (1 + k1 * (|p - c| / "
                                     "radius_norm)^2); reference = "
                                     "inverse(homography_reference_to_photo_ideal) * u");
    json_builder_end_object(b);
    json_doubles(b, "homography_reference_to_photo_ideal", cam->H_rp, 9, 0);
    json_builder_set_member_name(b, "check_points");
    json_builder_begin_array(b);
    for (int j = 0; j < 10; j++)
        for (int i = 0; i < 10; i++) {
            double p[4] = { (i + 0.5) * ref_w / 10.0, (j + 0.5) * ref_h / 10.0, 0, 0 };
            ref_to_photo(cam, p[0], p[1], &p[2], &p[3]);
            json_builder_begin_array(b);
            for (int k = 0; k < 4; k++)
                json_builder_add_double_value(b, round_dy(p[k], 7));
            json_builder_end_array(b);
        }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "changes");
    json_builder_begin_array(b);
    for (int k = 0; k < n_changes; k++) {
        int bbox[4];
        mm_to_px_box(changes[k].mm, ppm, bbox);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, changes[k].kind);
        json_builder_set_member_name(b, "op");
        json_builder_add_string_value(b, changes[k].op);
        json_builder_set_member_name(b, "package");
        json_builder_add_string_value(b, changes[k].package);
        json_builder_set_member_name(b, "where");
        json_builder_add_string_value(b, changes[k].where);
        json_ints(b, "bbox", bbox, 4);
        json_double(b, "area_mm2", bbox[2] * bbox[3] / (ppm * ppm), 10);
        const double mm[4]
            = { changes[k].mm.x0, changes[k].mm.y0, changes[k].mm.x1 - changes[k].mm.x0,
                changes[k].mm.y1 - changes[k].mm.y0 };
        json_doubles(b, "bbox_mm", mm, 4, 10);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "skipped");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "clean");
    json_builder_add_boolean_value(b, n_changes == 0);
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64) seed);
    json_builder_set_member_name(b, "board_seed");
    json_builder_add_int_value(b, (gint64) board_seed);
    json_builder_set_member_name(b, "difficulty");
    json_builder_add_string_value(b, "synthetic");
    json_builder_set_member_name(b, "capture");
    json_builder_begin_object(b);
    json_double(b, "scale", cam->scale, 16);
    json_double(b, "rotation_deg", cam->o.rotate_deg, 16);
    const double tilt[2] = { cam->tilt_x, cam->tilt_y };
    json_doubles(b, "tilt_deg", tilt, 2, 16);
    json_double(b, "gain", cam->gain, 16);
    json_double(b, "gamma", cam->gamma, 16);
    json_doubles(b, "wb", cam->wb, 3, 16);
    json_builder_set_member_name(b, "illum");
    json_builder_add_string_value(b, cam->vignette ? "vignette" : "gradient");
    json_double(b, "illum_amp", cam->illum_amp, 16);
    json_double(b, "noise", cam->o.noise, 16);
    json_double(b, "blur", cam->o.blur, 16);
    json_builder_set_member_name(b, "jpeg");
    json_builder_add_int_value(b, cam->o.quality);
    json_builder_end_object(b);
    json_builder_end_object(b);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 1);
    gsize len = 0;
    g_autofree char *text = json_generator_to_data(gen, &len);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    if (!g_file_set_contents(path, with_nl, -1, error))
        return FALSE;
    return TRUE;
}

/* ------------------------------------------------------------------------------------ modes */

static gboolean
write_profile(const char *path, const char *golden, const Scene *sc, double ppm, guint64 seed,
              GError **error)
{
    int bmc[4], flash[4], sticker[4];
    mm_to_px_box(sc->zone_bmc, ppm, bmc);
    mm_to_px_box(sc->zone_flash, ppm, flash);
    mm_to_px_box(box_grow(sc->sticker, 0.5), ppm, sticker);
    g_autofree char *pdir = g_path_get_dirname(path), *gdir = g_path_get_dirname(golden);
    g_autofree char *gbase = g_path_get_basename(golden);
    g_autofree char *gabs = g_canonicalize_filename(golden, NULL);
    g_autofree char *pd = g_canonicalize_filename(pdir, NULL),
                    *gd = g_canonicalize_filename(gdir, NULL);
    const char *gname = g_strcmp0(pd, gd) == 0 ? gbase : gabs;
    char ppm_s[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(ppm_s, sizeof ppm_s, "%g", ppm);
    g_autoptr(GString) holes = g_string_new(NULL);
    for (guint k = 0; k < sc->holes->len; k++) {
        const Via *v = &g_array_index(sc->holes, Via, k);
        double m = v->r + 0.6; /* the ring and a margin */
        g_string_append_printf(holes, "; %d, %d, %d, %d", (int) floor((v->x - m) * ppm),
                               (int) floor((v->y - m) * ppm), (int) ceil(2 * m * ppm),
                               (int) ceil(2 * m * ppm));
    }
    g_autofree char *text = g_strdup_printf(
        "# Demo board drawn by synthboard (tests/tools/synthboard.c): seed %" G_GUINT64_FORMAT
        ", %g x %g mm.\n"
        "# Regenerate with scripts/make-samples.sh. Rectangles are x, y, w, h in golden pixels.\n"
        "[board]\n"
        "name = demo\n"
        "golden = %s\n"
        "px-per-mm = %s\n"
        "\n"
        "# The BMC (U1), its decoupling and the spare footprints U90, R91, U92, C93 between it\n"
        "# and the SPI flash: where an implant would go.\n"
        "[zone BMC]\n"
        "rect = %d, %d, %d, %d\n"
        "sensitivity = 1.5\n"
        "\n"
        "[zone SPI flash]\n"
        "rect = %d, %d, %d, %d\n"
        "sensitivity = 1.25\n"
        "\n"
        "# The serial-number sticker differs from board to board; the plated mounting rings\n"
        "# catch the light differently in every photo.\n"
        "[ignore]\n"
        "rects = %d, %d, %d, %d%s\n",
        seed, sc->width_mm, sc->height_mm, gname, ppm_s, bmc[0], bmc[1], bmc[2], bmc[3], flash[0],
        flash[1], flash[2], flash[3], sticker[0], sticker[1], sticker[2], sticker[3], holes->str);
    return g_file_set_contents(path, text, -1, error);
}

static int
fail(GError *error)
{
    g_printerr("synthboard: %s\n", error != NULL ? error->message : "failed");
    if (error != NULL)
        g_error_free(error);
    return EXIT_USAGE;
}

static gboolean
parse(GOptionEntry *entries, const char *summary, int *argc, char ***argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
    g_option_context_set_help_enabled(ctx, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "unexpected argument '%s'", (*argv)[1]);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_size(double wmm, double hmm, double ppm, GError **error)
{
    if (wmm < 60 || hmm < 45 || wmm > 2000 || hmm > 2000 || !(ppm > 0.5) || ppm > 400) {
        g_set_error(
            error, PCB_ERROR, PCB_ERROR_USAGE,
            "board must be at least 60 x 45 mm (got %g x %g) and px/mm in 0.5 .. 400 (got %g)", wmm,
            hmm, ppm);
        return FALSE;
    }
    return TRUE;
}

static int
mode_board(int argc, char **argv)
{
    g_autofree char *out = NULL, *profile = NULL;
    double wmm = 150, hmm = 100, ppm = 8;
    gint64 seed = 1;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "golden image to write (PNG)", "PATH" },
        { "width-mm", 0, 0, G_OPTION_ARG_DOUBLE, &wmm, "board width (150)", "MM" },
        { "height-mm", 0, 0, G_OPTION_ARG_DOUBLE, &hmm, "board height (100)", "MM" },
        { "px-per-mm", 0, 0, G_OPTION_ARG_DOUBLE, &ppm, "resolution (8)", "F" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "board seed (1)", "N" },
        { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile, "also write board.ini here", "PATH" },
        G_OPTION_ENTRY_NULL,
    };
    GError *error = NULL;
    if (!parse(entries, "- draw a golden board image", &argc, &argv, &error))
        return fail(error);
    if (out == NULL)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--out is required"));
    if (!check_size(wmm, hmm, ppm, &error))
        return fail(error);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(Scene) sc = scene_build((guint64) seed, wmm, hmm);
    int w = (int) lround(wmm * ppm), h = (int) lround(hmm * ppm);
    g_autoptr(PcbImage) img = render_board(sc, ppm, w, h, &error);
    if (img == NULL)
        return fail(error);
    gint64 t1 = g_get_monotonic_time();
    if (!pcb_image_save_png(img, out, &error))
        return fail(error);
    if (profile != NULL && !write_profile(profile, out, sc, ppm, (guint64) seed, &error))
        return fail(error);
    g_print("%s: %d x %d px (%g x %g mm at %g px/mm), %u parts; drawn in %.2f s, saved in %.2f s\n",
            out, w, h, wmm, hmm, ppm, sc->parts->len, (t1 - t0) / 1e6,
            (g_get_monotonic_time() - t1) / 1e6);
    return 0;
}

static void
print_changes(const Change *ch, int n, double ppm)
{
    if (n == 0)
        g_print("  changes: none\n");
    for (int k = 0; k < n; k++) {
        int bb[4];
        mm_to_px_box(ch[k].mm, ppm, bb);
        g_print("  change: %s %s %s, bbox [%d, %d, %d, %d]\n", ch[k].kind, ch[k].package,
                ch[k].where, bb[0], bb[1], bb[2], bb[3]);
    }
}

/* Renders, saves and (optionally) describes one photo of @sc. */
static gboolean
make_photo(Scene *sc, const PhotoOpts *o, guint64 seed, guint64 board_seed, double ppm, int ref_w,
           int ref_h, gboolean implant, gboolean remove, double target_mp, const char *out,
           const char *truth, GError **error)
{
    Change changes[2];
    int n = 0;
    Rng cr;
    rng_init(&cr, seed, STREAM_CHANGES);
    if (remove) {
        if (apply_removal(sc, &cr, &changes[n]))
            n++;
        else
            g_printerr("synthboard: warning: no passive to remove\n");
    }
    if (implant)
        apply_implant(sc, &cr, &changes[n++]);
    Camera cam;
    camera_init(&cam, ref_w, ref_h, o, seed, target_mp);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(PcbImage) photo = render_photo(sc, &cam, ppm, ref_w, ref_h, seed, error);
    if (photo == NULL)
        return FALSE;
    gint64 t1 = g_get_monotonic_time();
    if (!pcb_image_save_jpeg(photo, out, o->quality, error))
        return FALSE;
    gint64 t2 = g_get_monotonic_time();
    if (truth != NULL
        && !write_truth(truth, &cam, ref_w, ref_h, ppm, seed, board_seed, changes, n, error))
        return FALSE;
    g_print("%s: %d x %d px, board scale %.3f, rotation %g deg; drawn in %.2f s, saved in %.2f s\n",
            out, cam.width, cam.height, cam.scale, o->rotate_deg, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    print_changes(changes, n, ppm);
    return TRUE;
}

static GOptionEntry *
camera_entries(PhotoOpts *o, GOptionEntry *e)
{
    const GOptionEntry list[] = {
        { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &o->scale, "photo px per golden px (1.4)", "S" },
        { "rotate-deg", 0, 0, G_OPTION_ARG_DOUBLE, &o->rotate_deg, "in-plane rotation (17)",
          "DEG" },
        { "tilt-deg", 0, 0, G_OPTION_ARG_DOUBLE, &o->tilt_deg, "perspective tilt (2)", "DEG" },
        { "k1", 0, 0, G_OPTION_ARG_DOUBLE, &o->k1, "radial distortion at the half-diagonal (0.01)",
          "K" },
        { "light", 0, 0, G_OPTION_ARG_DOUBLE, &o->light,
          "lighting change: gain, gamma, white balance, gradient (0.15)", "A" },
        { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &o->noise, "sensor noise sigma, grey levels (2)",
          "SIGMA" },
        { "blur", 0, 0, G_OPTION_ARG_DOUBLE, &o->blur, "Gaussian blur sigma, px (0.6)", "SIGMA" },
        { "quality", 0, 0, G_OPTION_ARG_INT, &o->quality, "JPEG quality (90)", "Q" },
    };
    memcpy(e, list, sizeof list);
    return e + G_N_ELEMENTS(list);
}

static void
photo_opts_init(PhotoOpts *o)
{
    PhotoOpts d = { .scale = 1.4,
                    .rotate_deg = 17,
                    .tilt_deg = 2,
                    .k1 = 0.01,
                    .light = 0.15,
                    .noise = 2.0,
                    .blur = 0.6,
                    .quality = 90 };
    *o = d;
}

static gboolean
check_photo_opts(const PhotoOpts *o, GError **error)
{
    if (!(o->scale >= 0.1 && o->scale <= 8) || fabs(o->tilt_deg) > 20 || fabs(o->k1) > 0.2
        || o->light < 0 || o->light > 0.6 || o->noise < 0 || o->noise > 50 || o->blur < 0
        || o->blur > 10 || o->quality < 1 || o->quality > 100) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "camera options out of range (scale 0.1..8, |tilt| <= 20, |k1| <= 0.2, light "
                    "0..0.6, noise 0..50, blur 0..10, quality 1..100)");
        return FALSE;
    }
    return TRUE;
}

static int
mode_photo(int argc, char **argv)
{
    g_autofree char *golden = NULL, *out = NULL, *truth = NULL;
    double ppm = 8, wmm = 0, hmm = 0;
    gint64 seed = 1, board_seed = -1;
    gboolean implant = FALSE, remove = FALSE;
    PhotoOpts o;
    photo_opts_init(&o);
    GOptionEntry entries[32] = {
        { "golden", 'g', 0, G_OPTION_ARG_FILENAME, &golden, "golden drawn by 'synthboard board'",
          "PATH" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "photo to write (JPEG)", "PATH" },
        { "truth", 0, 0, G_OPTION_ARG_FILENAME, &truth, "ground truth to write (JSON)", "PATH" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "photo seed: camera, light, noise, changes (1)",
          "N" },
        { "board-seed", 0, 0, G_OPTION_ARG_INT64, &board_seed,
          "the golden's seed (default: --seed)", "N" },
        { "px-per-mm", 0, 0, G_OPTION_ARG_DOUBLE, &ppm, "the golden's px/mm (8)", "F" },
        { "width-mm", 0, 0, G_OPTION_ARG_DOUBLE, &wmm,
          "board width (default: golden width / px-per-mm)", "MM" },
        { "height-mm", 0, 0, G_OPTION_ARG_DOUBLE, &hmm, "board height (default: from the golden)",
          "MM" },
        { "implant", 0, 0, G_OPTION_ARG_NONE, &implant,
          "plant a 1 x 2 mm six-pin chip on a spare footprint by the BMC", NULL },
        { "remove", 0, 0, G_OPTION_ARG_NONE, &remove, "take one passive off (pads left)", NULL },
    };
    camera_entries(&o, entries + 10);
    GError *error = NULL;
    if (!parse(entries, "- re-photograph a synthetic board", &argc, &argv, &error))
        return fail(error);
    if (golden == NULL || out == NULL)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--golden and --out are required"));
    if (!check_photo_opts(&o, &error))
        return fail(error);
    if (board_seed < 0)
        board_seed = seed;
    g_autoptr(PcbImage) ref = pcb_image_load(golden, NULL, &error);
    if (ref == NULL)
        return fail(error);
    if (wmm <= 0)
        wmm = round(ref->width / ppm * 1000) / 1000;
    if (hmm <= 0)
        hmm = round(ref->height / ppm * 1000) / 1000;
    if (!check_size(wmm, hmm, ppm, &error))
        return fail(error);
    g_autoptr(Scene) sc = scene_build((guint64) board_seed, wmm, hmm);
    {
        /* the golden must be this scene: draw it again and compare */
        g_autoptr(PcbImage) again = render_board(sc, ppm, ref->width, ref->height, &error);
        if (again == NULL)
            return fail(error);
        double sum = 0;
        guint64 count = 0;
        for (int y = 0; y < ref->height; y += 3) {
            const guint8 *a = pcb_image_row(ref, y), *b = pcb_image_row(again, y);
            for (int i = 0; i < ref->width * 3; i += 7) {
                sum += abs(a[i] - b[i]);
                count++;
            }
        }
        if (sum / (double) count > 2.0)
            return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE,
                                    "%s is not the board of seed %" G_GINT64_FORMAT
                                    " at %g px/mm (mean difference %.1f): give --board-seed and "
                                    "--px-per-mm as for 'synthboard board'",
                                    golden, board_seed, ppm, sum / (double) count));
    }
    int ref_w = ref->width, ref_h = ref->height;
    g_clear_pointer(&ref, pcb_image_free);
    if (!make_photo(sc, &o, (guint64) seed, (guint64) board_seed, ppm, ref_w, ref_h, implant,
                    remove, 0, out, truth, &error))
        return fail(error);
    return 0;
}

static int
mode_pair(int argc, char **argv)
{
    g_autofree char *out = NULL;
    double mp = 24, wmm = 150, hmm = 100;
    gint64 seed = 1;
    gboolean implant = FALSE, remove = FALSE;
    PhotoOpts o;
    photo_opts_init(&o);
    GOptionEntry entries[32] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "folder for reference.png, photo.jpg, truth.json", "DIR" },
        { "megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &mp, "size of each image (24)", "MP" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "board and photo seed (1)", "N" },
        { "width-mm", 0, 0, G_OPTION_ARG_DOUBLE, &wmm, "board width (150)", "MM" },
        { "height-mm", 0, 0, G_OPTION_ARG_DOUBLE, &hmm, "board height (100)", "MM" },
        { "implant", 0, 0, G_OPTION_ARG_NONE, &implant, "plant the implant", NULL },
        { "remove", 0, 0, G_OPTION_ARG_NONE, &remove, "take one passive off", NULL },
    };
    camera_entries(&o, entries + 7);
    GError *error = NULL;
    if (!parse(entries, "- a reference and a photo of about MP megapixels each", &argc, &argv,
               &error))
        return fail(error);
    if (out == NULL)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--out is required"));
    if (!(mp >= 0.1 && mp <= 240))
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--megapixels must be 0.1 .. 240"));
    if (!check_photo_opts(&o, &error))
        return fail(error);
    double ppm = round(sqrt(mp * 1e6 / (wmm * hmm)) * 100) / 100;
    if (!check_size(wmm, hmm, ppm, &error))
        return fail(error);
    if (g_mkdir_with_parents(out, 0755) != 0)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_IO, "cannot create %s", out));
    g_autofree char *ref_path = g_build_filename(out, "reference.png", NULL);
    g_autofree char *photo_path = g_build_filename(out, "photo.jpg", NULL);
    g_autofree char *truth_path = g_build_filename(out, "truth.json", NULL);
    g_autoptr(Scene) sc = scene_build((guint64) seed, wmm, hmm);
    int w = (int) lround(wmm * ppm), h = (int) lround(hmm * ppm);
    gint64 t0 = g_get_monotonic_time();
    {
        g_autoptr(PcbImage) ref = render_board(sc, ppm, w, h, &error);
        if (ref == NULL)
            return fail(error);
        gint64 t1 = g_get_monotonic_time();
        if (!pcb_image_save_png(ref, ref_path, &error))
            return fail(error);
        g_print("%s: %d x %d px (%.1f MP, %g px/mm); drawn in %.2f s, saved in %.2f s\n", ref_path,
                w, h, w * (double) h / 1e6, ppm, (t1 - t0) / 1e6,
                (g_get_monotonic_time() - t1) / 1e6);
    }
    if (!make_photo(sc, &o, (guint64) seed, (guint64) seed, ppm, w, h, implant, remove, mp,
                    photo_path, truth_path, &error))
        return fail(error);
    g_print("total %.2f s\n", (g_get_monotonic_time() - t0) / 1e6);
    return 0;
}

static void
usage(void)
{
    g_printerr("usage: synthboard board --out golden.png [--width-mm 150 --height-mm 100 "
               "--px-per-mm 8 --seed N] [--profile board.ini]\n"
               "       synthboard photo --golden golden.png --out photo.jpg --seed N "
               "[--board-seed B] [--implant] [--remove] [--truth truth.json] [camera options]\n"
               "       synthboard pair --out DIR --megapixels 24 --seed N\n"
               "'synthboard MODE --help' lists the options of a mode.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    const char *mode = argv[1];
    g_autofree char *prg = g_strdup_printf("synthboard %s", mode);
    g_set_prgname(prg);
    if (strcmp(mode, "board") == 0)
        return mode_board(argc - 1, argv + 1);
    if (strcmp(mode, "photo") == 0)
        return mode_photo(argc - 1, argv + 1);
    if (strcmp(mode, "pair") == 0)
        return mode_pair(argc - 1, argv + 1);
    usage();
    return strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0 ? 0 : EXIT_USAGE;
}
