/* synthboard: the changes planted for a photo (an implant, a removed passive). */
#include "synthboard.h"

Box
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

void
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

gboolean
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
