/* Capture guidance: whether each zone of the board could be judged from this photo.
 *
 * A zone is not judged when too little of it is in the photo, when the photo resolves it too
 * coarsely (in the direction it is seen most foreshortened) for the smallest implant, or when
 * tall parts around it can hide much of it (their parallax there is large against the zone).
 * Its findings are then withheld rather than reported (a verdict there would be a guess),
 * except when it is only partly in the photo: what is in it was compared as anywhere else. */
#include <math.h>
#include <string.h>
#include "pcbdiff/inspect.h"
#include "core/imgops.h"
#include "register/homography.h"

/* clang-format off */
#define ZONE_MIN_COVERED  0.9  /* at least 90% of a zone must be in the photo */
#define ZONE_MIN_PX_MM    4.0  /* photo px per mm, worst direction: a 1 mm wide part spans 4 */
#define ZONE_MIN_ASPECT   0.5  /* no scale: foreshortened to less than half (seen beyond 60°) */
#define ZONE_HIDE_SHARE   0.5  /* the tallest part's parallax over half the zone's smaller side */
/* clang-format on */

void
pcb_zone_judgement_clear(PcbZoneJudgement *z)
{
    g_free(z->name);
    g_free(z->why);
}

/* The share of @r that @valid (reference size, 255: covered) covers. */
static double
covered(const PcbImage *valid, const PcbRect *r)
{
    int x0 = CLAMP((int) floor(r->x), 0, valid->width);
    int x1 = CLAMP((int) ceil(r->x + r->w), 0, valid->width);
    int y0 = CLAMP((int) floor(r->y), 0, valid->height);
    int y1 = CLAMP((int) ceil(r->y + r->h), 0, valid->height);
    double area = MAX(1.0, ceil(r->w) * ceil(r->h));
    gint64 n = 0;
    for (int y = y0; y < y1; y++) {
        const guint8 *v = pcb_image_row(valid, y);
        for (int x = x0; x < x1; x++)
            n += v[x] != 0;
    }
    return n / area;
}

/* The judgement of zone @zone; why (owned) is NULL when it is judged. */
static PcbZoneJudgement
judge(const PcbZone *zone, const PcbRegistration *reg, const PcbImage *valid, double px_per_mm,
      gboolean *unreliable)
{
    PcbZoneJudgement j = { g_strdup(zone->name), TRUE, 1, 0, 0, 0, NULL, 0 };
    const PcbRect *r = &zone->rect;
    const double cx = r->x + r->w / 2, cy = r->y + r->h / 2;
    double least, most, ux, uy;
    pcb_h_photo_scales(reg->h, cx, cy, &least, &most);
    j.covered = valid != NULL ? covered(valid, r) : 1;
    j.photo_px_per_mm = px_per_mm > 0 ? least * px_per_mm : 0;
    j.foreshortening = most > 0 ? least / most : 0;
    if (reg->parallax.valid && reg->parallax.seen)
        pcb_parallax_at(&reg->parallax, cx, cy, &ux, &uy, &j.parallax_px);
    if (j.covered < ZONE_MIN_COVERED)
        j.why = g_strdup_printf("only %.0f%% of it is in the photo", 100 * j.covered);
    else if (px_per_mm > 0 && j.photo_px_per_mm < ZONE_MIN_PX_MM)
        j.why = g_strdup_printf("seen at %.1f photo px per mm (at least %.0f needed)",
                                j.photo_px_per_mm, ZONE_MIN_PX_MM);
    else if (px_per_mm <= 0 && j.foreshortening < ZONE_MIN_ASPECT)
        j.why = g_strdup_printf("seen too obliquely (foreshortened to %.0f%%)",
                                100 * j.foreshortening);
    else if (j.parallax_px > ZONE_HIDE_SHARE * MIN(r->w, r->h))
        j.why = g_strdup_printf("tall parts may hide it: their parallax there reaches %.0f px, "
                                "the zone is %.0f x %.0f px",
                                j.parallax_px, r->w, r->h);
    j.judged = j.why == NULL;
    *unreliable = !j.judged && j.covered >= ZONE_MIN_COVERED;
    return j;
}

/* TRUE when the centre of @f's box lies in @r. */
static gboolean
centre_in(const PcbFinding *f, const PcbRect *r)
{
    double x = f->bbox.x + f->bbox.w / 2, y = f->bbox.y + f->bbox.h / 2;
    return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

const char *
pcb_inspection_verdict(const PcbInspection *insp)
{
    if (insp->findings != NULL && insp->findings->len > 0)
        return "fail";
    for (guint i = 0; insp->zones != NULL && i < insp->zones->len; i++)
        if (!g_array_index(insp->zones, PcbZoneJudgement, i).judged)
            return "incomplete";
    return insp->pose_why != NULL || insp->light_why != NULL ? "incomplete" : "pass";
}

void
pcb_light_judge(PcbInspection *insp, gboolean judge_other_light)
{
    g_clear_pointer(&insp->light_why, g_free);
    insp->light_judged = !insp->light_differs || judge_other_light;
    if (!insp->light_judged)
        insp->light_why = g_strdup_printf(
            "the light differs from the golden's (%.1fx the images' own noise): only parts put "
            "on or taken off were judged, and implants in the photo's shade or beside tall parts, "
            "and parts put on that are plain and as large as a module, may be missed; photograph "
            "under the golden's light",
            insp->light_change);
}

void
pcb_pose_judge(PcbInspection *insp, double max_tilt_deg)
{
    const PcbParallax *p = &insp->reg.parallax;
    insp->tilt_deg = insp->registered && p->valid && p->pose_valid ? p->tilt_deg : NAN;
    insp->max_tilt_deg = max_tilt_deg;
    g_clear_pointer(&insp->pose_why, g_free);
    insp->pose_judged = !(max_tilt_deg > 0 && insp->tilt_deg > max_tilt_deg);
    if (!insp->pose_judged)
        insp->pose_why
            = g_strdup_printf("the photo is seen %.1f degrees from the golden's view (limit %g): "
                              "tall parts hide other parts of the board and show other sides, "
                              "so implants may be missed and false findings appear beside them; "
                              "photograph square to the board, as the golden",
                              insp->tilt_deg, max_tilt_deg);
}

GArray *
pcb_zones_judge(const PcbBoard *board, const PcbRegistration *reg, const PcbImage *valid,
                double px_per_mm, GArray *findings)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(PcbZoneJudgement));
    g_array_set_clear_func(out, (GDestroyNotify) pcb_zone_judgement_clear);
    for (guint i = 0; board != NULL && board->zones != NULL && i < board->zones->len; i++) {
        const PcbZone *zone = &g_array_index(board->zones, PcbZone, i);
        gboolean unreliable = FALSE; /* findings there would be guesses (not so when a part of
                                        the zone is merely outside the photo) */
        PcbZoneJudgement j = judge(zone, reg, valid, px_per_mm, &unreliable);
        for (guint k = findings != NULL ? findings->len : 0; unreliable && k-- > 0;)
            if (centre_in(&g_array_index(findings, PcbFinding, k), &zone->rect)) {
                g_array_remove_index(findings, k);
                j.withheld++;
            }
        if (!j.judged)
            g_debug("zone %s not judged: %s (%d findings withheld)", j.name, j.why, j.withheld);
        g_array_append_val(out, j);
    }
    return out;
}
