/* synthboard: colours, paints and the anti-aliased shapes drawn on a canvas in millimetres. */
#include "synthboard.h"

Rgb
rgb(double r, double g, double b)
{
    Rgb c = { (float) r, (float) g, (float) b };
    return c;
}

Rgb
rgb_mul(Rgb c, double k)
{
    return rgb(c.r * k, c.g * k, c.b * k);
}

Rgb
rgb_add(Rgb c, double d)
{
    return rgb(c.r + d, c.g + d, c.b + d);
}

Paint
paint_flat(Rgb c)
{
    Paint p = {
        .c0 = c, .c1 = c, .profile = PROF_FLAT, .blend = BLEND_OVER, .alpha = 1.0f, .soft = 1.0f
    };
    return p;
}

Paint
paint_prof(Rgb c0, Rgb c1, int profile, int axis, int flip)
{
    Paint p = paint_flat(c0);
    p.c1 = c1;
    p.profile = (guint8) profile;
    p.axis = (guint8) axis;
    p.flip = (guint8) flip;
    return p;
}

Paint
paint_blend(Rgb c, int blend, double alpha)
{
    Paint p = paint_flat(c);
    p.blend = (guint8) blend;
    p.alpha = (float) alpha;
    return p;
}

/* Gull-wing lead seen from above, from the body (0) to the tip (1): the shoulder, the dark
 * bend, the bright foot on the pad. */
float
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

/* Pixel index range [*a, *b) touched by [lo, hi] px, clamped to [0, n). */
void
span(double lo, double hi, int n, int *a, int *b)
{
    double fa = floor(lo), fb = ceil(hi);
    *a = fa < 0 ? 0 : fa > n ? n : (int) fa;
    *b = fb < 0 ? 0 : fb > n ? n : (int) fb;
}

/* A rounded rectangle, corners in mm. The coverage is the signed distance through a one-pixel
 * ramp (times the paint's softness), scaled down for shapes thinner than a pixel. */
void
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

void
draw_box(const Canvas *cv, Box b, double r, const Paint *p)
{
    draw_rrect(cv, b.x0, b.y0, b.x1, b.y1, r, p);
}

/* A disc or a ring (r_in > 0), in mm; PROF_RADIAL runs from the centre (0) to r (1). An optional
 * clip box (mm) keeps only the part of the disc inside it. */
void
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

void
draw_disc(const Canvas *cv, double x, double y, double r, double r_in, const Paint *p)
{
    draw_disc_clip(cv, x, y, r, r_in, NULL, p);
}

/* A capsule: the segment (x0, y0) - (x1, y1), w mm wide with round ends. Each row only visits
 * the columns of the band around the segment's line, so long diagonals stay cheap. */
void
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
void
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
