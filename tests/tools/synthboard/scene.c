/* synthboard: boxes, the geometry of a part (pads, leads, outline) and the package constructors. */
#include "synthboard.h"

void
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

Box
box(double x0, double y0, double x1, double y1)
{
    Box b = { MIN(x0, x1), MIN(y0, y1), MAX(x0, x1), MAX(y0, y1) };
    return b;
}

Box
box_grow(Box b, double m)
{
    return box(b.x0 - m, b.y0 - m, b.x1 + m, b.y1 + m);
}

gboolean
box_overlap(Box a, Box b)
{
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/* A rectangle in the part's frame -> the board. */
Box
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

void
part_point(const Part *p, double lx, double ly, double *x, double *y)
{
    Box b = part_box(p, lx, ly, lx, ly);
    *x = b.x0;
    *y = b.y0;
}

/* A profile running along the part's local direction (dx, dy) (one of the axes). */
void
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
Box
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

void
side_dir(int side, int *dx, int *dy)
{
    static const int dxs[] = { 0, 0, 1, -1 }, dys[] = { -1, 1, 0, 0 };
    *dx = dxs[side];
    *dy = dys[side];
}

double
side_half(const Part *p, int side)
{
    return side <= SIDE_S ? 0.5 * p->W : 0.5 * p->L;
}

double
pin_pos(const Part *p, int side, int i)
{
    return (i - 0.5 * (p->pins[side] - 1)) * p->pitch[side];
}

/* The chip passive's pads (local x extent from the centre). */
void
chip_pad(const Part *p, double *inner, double *outer, double *half_h)
{
    double term = 0.22 * p->L;
    *inner = 0.5 * p->L - 0.8 * term;
    *outer = 0.5 * p->L + 0.1 + 0.15 * p->W;
    *half_h = 0.58 * p->W;
}

/* The whole footprint, pads included. */
Box
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
Box
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

Part
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

Part
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

Part
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
Part
pk_implant(void)
{
    Part p = pk_leads(PK_GULL, 1.9, 0.62, 0.2, 0.19, 0.6, 3, 3, 0, 0);
    p.height = 0.5;
    p.body = rgb(58, 53, 48);
    p.metal = rgb(196, 196, 188);
    return p;
}
