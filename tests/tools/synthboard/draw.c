/* synthboard: drawing a part (pads, body, leads, marking, shadow). */
#include "synthboard.h"

void
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
draw_chip(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

static void
draw_leaded(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

static void
draw_bga(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

static void
draw_polycap(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

static void
draw_inductor(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
    Paint body = paint_prof(rgb_mul(p->body, 1.1), rgb_mul(p->body, 0.9), PROF_LINEAR, 0, 0);
    body.grain = 7.0f;
    draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.35, &body);
    draw_marking(p, cv, rgb(200, 200, 195), 0.75, 1.1);
}

static void
draw_crystal(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
    Paint lid = paint_prof(rgb_mul(p->metal, 1.05), rgb_mul(p->metal, 0.85), PROF_LINEAR, 0, 0);
    lid.grain = 5.0f;
    draw_box(cv, part_box(p, -0.5 * L, -0.5 * W, 0.5 * L, 0.5 * W), 0.25, &lid);
    Paint seam = paint_flat(rgb_mul(p->metal, 0.75));
    seam.alpha = 0.7f;
    draw_box(cv, part_box(p, -0.5 * L + 0.2, -0.5 * W + 0.2, 0.5 * L - 0.2, 0.5 * W - 0.2), 0.2,
             &seam);
    draw_box(cv, part_box(p, -0.5 * L + 0.3, -0.5 * W + 0.3, 0.5 * L - 0.3, 0.5 * W - 0.3), 0.15,
             &lid);
    draw_marking(p, cv, rgb(70, 70, 70), 0.75, 0.45);
}

static void
draw_header(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

static void
draw_fanconn(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

static void
draw_sticker(const Part *p, const Canvas *cv)
{
    const double L = p->L, W = p->W;
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
}

void
draw_part(const Part *p, const Canvas *cv)
{
    switch (p->kind) {
    case PK_CHIP:
        draw_chip(p, cv);
        break;
    case PK_GULL:
    case PK_FLAT:
        draw_leaded(p, cv);
        break;
    case PK_BGA:
        draw_bga(p, cv);
        break;
    case PK_POLYCAP:
        draw_polycap(p, cv);
        break;
    case PK_INDUCTOR:
        draw_inductor(p, cv);
        break;
    case PK_CRYSTAL:
        draw_crystal(p, cv);
        break;
    case PK_HEADER:
        draw_header(p, cv);
        break;
    case PK_FANCONN:
        draw_fanconn(p, cv);
        break;
    case PK_STICKER:
        draw_sticker(p, cv);
        break;
    }
}

void
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
