/* synthboard: the board's layout, stage by stage. Each stage draws from the one scene stream in a
 * fixed order, so the scene stays a pure function of the seed and the board size. */
#include "synthboard.h"

static Scene *
scene_new(double wmm, double hmm)
{
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
    return sc;
}

/* Colours and the mask's mottling. */
static void
scene_colours(Scene *sc, Rng *rng)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
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
}

/* Mounting holes and fiducials. */
static void
scene_holes(Scene *sc)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
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
}

/* The BMC: a 14 x 14 mm QFP at (bx, by), with its fiducials. */
static void
scene_bmc(Scene *sc, Rng *rng, double bx, double by)
{
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
}

/* The spare-footprint column on the BMC's right: six-pad footprints that fit the implant, an
 * 0402 and an 0603. Returns the column's keep-out box. */
static Box
scene_spares(Scene *sc, double bx, double by)
{
    const double sx = bx + 11.2; /* spare column */
    Box keep = box(bx + 8.6, by - 6.5, bx + 14.3, by + 6.5);
    sc->zone_bmc = box(bx - 10.5, by - 10.5, bx + 14.45, by + 10.5);
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
    return keep;
}

/* The SPI flash right of the spare column, with its two passives. */
static void
scene_flash(Scene *sc, Rng *rng, double bx, double by, Box keep)
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

/* Decoupling around the BMC, and traces from its leads to vias. */
static void
scene_bmc_decoupling(Scene *sc, Rng *rng, double bx, double by)
{
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
}

/* Connectors along the edges: the main header J1 and the UART header J5. */
static void
scene_headers(Scene *sc, Rng *rng, double bx, double by)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
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
}

/* The fan connector and the serial-number sticker. */
static void
scene_fan_sticker(Scene *sc, Rng *rng)
{
    const double wmm = sc->width_mm;
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
        int idx = place_part(sc, st, rng_range(rng, 20, wmm * 0.5), rng_range(rng, 8, 14), 0, 0.5);
        if (idx >= 0) {
            sc->sticker = part_extent(scene_part(sc, idx));
            break;
        }
    }
}

/* The VRM around the big BGA at (ux, uy): inductors and polymer capacitors. */
static void
scene_vrm(Scene *sc, Rng *rng, double ux, double uy)
{
    for (int k = 0; k < 9; k++) {
        gboolean cap = k % 3 != 0;
        Part q = cap ? pk_simple(PK_POLYCAP, 5.3, 5.3, 5.8) : pk_simple(PK_INDUCTOR, 7.0, 6.6, 4.0);
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
}

/* A big lidded BGA with its VRM on one side. */
static void
scene_bga(Scene *sc, Rng *rng, GArray *ics)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
    Part bga = pk_simple(PK_BGA, 23, 23, 2.4);
    bga.style = 1;
    for (int t = 0; t < 300; t++) {
        int idx = place_ic(sc, rng, bga, rng_range(rng, wmm * 0.62, wmm - 16),
                           rng_range(rng, 16, hmm - 16), 0, NULL, NULL);
        if (idx >= 0) {
            g_array_append_val(ics, idx);
            const Part *u = scene_part(sc, idx);
            scene_vrm(sc, rng, u->x, u->y);
            break;
        }
    }
}

/* A moulded BGA, QFNs, a TSSOP and an SOIC-14. */
static void
scene_big_ics(Scene *sc, Rng *rng, GArray *ics)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
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
}

/* Crystal number @n like @proto at (x, y), with its designator; its index or -1. */
static int
place_crystal(Scene *sc, Rng *rng, const Part *proto, double x, double y, int n)
{
    Part q = *proto;
    q.metal = rgb(182, 182, 176);
    g_snprintf(q.mark[0], sizeof q.mark[0], "%s", rng_uniform(rng) < 0.5 ? "25.000" : "32.768");
    int idx = place_part(sc, q, x, y, rng_int(rng, 4), 0.5);
    if (idx >= 0) {
        Part *pp = scene_part(sc, idx);
        g_snprintf(pp->ref, sizeof pp->ref, "Y%d", n + 1);
        add_label(sc, part_extent(pp), pp->ref, 0.9, FALSE);
    }
    return idx;
}

/* SOICs, an MSOP, SOTs, DFNs and crystals, half of them near the bigger ICs. */
static void
scene_small_ics(Scene *sc, Rng *rng, const GArray *ics)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
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
                int idx = mids[k].p->kind == PK_CRYSTAL
                              ? place_crystal(sc, rng, mids[k].p, x, y, n)
                              : place_ic(sc, rng, *mids[k].p, x, y, rng_int(rng, 4), NULL, NULL);
                if (idx >= 0)
                    break;
            }
}

/* Sometimes, a stub from one pad of passive @idx to a via. */
static void
passive_stub(Scene *sc, Rng *rng, int idx)
{
    if (rng_uniform(rng) >= 0.45)
        return;
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

/* Passives: most of them around the ICs. */
static void
scene_passives(Scene *sc, Rng *rng, const GArray *ics)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm, area = wmm * hmm;
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
            int idx = place_passive(sc, rng, x, y, rng_int(rng, 4), size, size == 0 ? 0.25 : 0.6);
            if (idx >= 0) {
                passive_stub(sc, rng, idx);
                break;
            }
        }
    }
}

/* Copper pours, buses and loose traces (under the mask), loose vias. */
static void
scene_copper(Scene *sc, Rng *rng)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm, area = wmm * hmm;
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
}

/* The board marking. */
static void
scene_title(Scene *sc, Rng *rng)
{
    const double wmm = sc->width_mm, hmm = sc->height_mm;
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

/* The scene of board @seed, @wmm x @hmm mm: a pure function of its arguments. */
Scene *
scene_build(guint64 seed, double wmm, double hmm)
{
    Rng r, *rng = &r;
    rng_init(rng, seed, STREAM_SCENE);
    Scene *sc = scene_new(wmm, hmm);
    scene_colours(sc, rng);
    scene_holes(sc);
    /* the BMC with its fiducials, a spare-footprint column on its right, then the SPI flash and
     * the BMC's decoupling */
    const double bx = round(0.36 * wmm), by = round(0.5 * hmm);
    scene_bmc(sc, rng, bx, by);
    Box keep = scene_spares(sc, bx, by);
    scene_flash(sc, rng, bx, by, keep);
    scene_bmc_decoupling(sc, rng, bx, by);
    scene_headers(sc, rng, bx, by);
    scene_fan_sticker(sc, rng);
    GArray *ics = g_array_new(FALSE, FALSE, sizeof(int));
    scene_bga(sc, rng, ics);
    scene_big_ics(sc, rng, ics);
    scene_small_ics(sc, rng, ics);
    scene_passives(sc, rng, ics);
    g_array_unref(ics);
    scene_copper(sc, rng);
    scene_title(sc, rng);
    return sc;
}
