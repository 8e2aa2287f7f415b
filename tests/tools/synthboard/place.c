/* synthboard: placing parts, designators, traces and vias on the board without overlaps. */
#include "synthboard.h"

gboolean
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

void
add_silk_rect(Scene *sc, Box b, double w)
{
    Seg s[4] = { { b.x0, b.y0, b.x1, b.y0, w },
                 { b.x1, b.y0, b.x1, b.y1, w },
                 { b.x1, b.y1, b.x0, b.y1, w },
                 { b.x0, b.y1, b.x0, b.y0, w } };
    g_array_append_vals(sc->silk, s, 4);
}

/* Places a designator beside @fp (tries above, below, right, left); FALSE when nothing fits. */
gboolean
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
int
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

Part *
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

Rgb
tin_colour(Rng *rng)
{
    double v = rng_range(rng, 185, 205);
    return rgb(v, v, v * 0.96);
}

/* An IC with outline, pin-1 mark and designator. */
int
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

int
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
void
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

gboolean
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

void
add_via(Scene *sc, Rng *rng, double x, double y)
{
    Via v = { x, y, rng_range(rng, 0.24, 0.32), 0.14, rng_uniform(rng) < 0.7 };
    g_array_append_val(sc->vias, v);
}

/* Traces from every other lead of one side of the BMC, out and then diagonally, to vias. */
void
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
