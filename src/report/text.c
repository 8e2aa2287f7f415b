/* The human summary: one verdict line, then one line per finding, each under 100 columns. */
#include <math.h>
#include <string.h>
#include "pcbdiff/pcbdiff.h"
#include "report/report_internal.h"

/* @s (UTF-8, or anything) cut to at most @max characters, with "..." when cut. */
static char *
ellipsize(const char *s, glong max)
{
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    if (g_utf8_strlen(valid, -1) <= max)
        return g_steal_pointer(&valid);
    g_autofree char *head = g_utf8_substring(valid, 0, max - 3);
    return g_strconcat(head, "...", NULL);
}

/* A double as a rounded int, safe for any value. */
static long
to_long(double v)
{
    if (!isfinite(v))
        return 0;
    return lround(CLAMP(v, -1e9, 1e9));
}

/* Appends @s and spaces up to @width columns (characters, not bytes), then one space. */
static void
append_col(GString *line, const char *s, glong width)
{
    g_string_append(line, s);
    for (glong n = g_utf8_strlen(s, -1); n < width; n++)
        g_string_append_c(line, ' ');
    g_string_append_c(line, ' ');
}

static void
print_finding(FILE *out, guint n, const PcbFinding *f)
{
    char num[16], pos[48], size[48], area[48];
    g_snprintf(num, sizeof num, "%3u ", n);
    g_snprintf(pos, sizeof pos, "x=%ld y=%ld", to_long(f->bbox.x), to_long(f->bbox.y));
    g_snprintf(size, sizeof size, "%ldx%ld px", to_long(f->bbox.w), to_long(f->bbox.h));
    if (f->area_mm2 >= 0 && isfinite(f->area_mm2))
        g_snprintf(area, sizeof area, "%.1f mm\xc2\xb2", CLAMP(f->area_mm2, 0, 1e9));
    else
        g_snprintf(area, sizeof area, "%ld px\xc2\xb2", to_long(f->area_px));
    g_autofree char *zone = f->zone != NULL ? ellipsize(f->zone, 14) : NULL;
    g_autofree char *zone_col = g_strdup_printf("zone %s", zone != NULL ? zone : "");

    /* 5 + 9 + 18 + 16 + 14 + 20 + 10 = 92 columns while the box is under 100000 px, the area
       under 10^7 mm^2 and there are fewer than 1000 findings. */
    g_autoptr(GString) line = g_string_new(NULL);
    append_col(line, num, 4);
    append_col(line, pcb_kind_name(f->kind), 8);
    append_col(line, pos, 17);
    append_col(line, size, 15);
    append_col(line, area, 13);
    append_col(line, zone != NULL ? zone_col : "", 19);
    g_string_append_printf(line, "score %.2f", f->score);
    fprintf(out, "%s\n", line->str);
}

/* "(photo vs board; registration)" with the names cut so the whole line fits @width. */
static char *
context(const PcbInspection *insp, glong width)
{
    char reg[96];
    if (insp->registered)
        g_snprintf(reg, sizeof reg, "registered: %d inliers, rms %.2f px, coverage %.0f%%",
                   insp->reg.inliers,
                   isfinite(insp->reg.rms_px) ? CLAMP(insp->reg.rms_px, 0, 9999) : 0,
                   isfinite(insp->reg.coverage) ? 100.0 * CLAMP(insp->reg.coverage, 0, 1) : 0);
    else if (insp->reg.coarse_matches > 0)
        g_snprintf(reg, sizeof reg, "not registered: %d inliers of %d matches",
                   insp->reg.coarse_inliers, insp->reg.coarse_matches);
    else
        g_snprintf(reg, sizeof reg, "not registered");

    g_autofree char *photo_base
        = insp->photo_path != NULL ? g_path_get_basename(insp->photo_path) : g_strdup("photo");
    g_autofree char *ref_base = insp->board_name != NULL ? g_strdup(insp->board_name)
                                : insp->reference_path != NULL
                                    ? g_path_get_basename(insp->reference_path)
                                    : g_strdup("reference");
    glong room = width - (glong) strlen(reg) - 8; /* "(", " vs ", "; ", ")" */
    /* the board name keeps what it needs up to a third of the room; the photo gets the rest */
    g_autofree char *ref_valid = g_utf8_make_valid(ref_base, -1);
    glong ref_room = MIN(g_utf8_strlen(ref_valid, -1), MAX(6, room / 3));
    glong photo_room = MAX(6, room - ref_room);
    g_autofree char *photo = ellipsize(photo_base, photo_room);
    g_autofree char *ref = ellipsize(ref_valid, ref_room);
    return g_strdup_printf("(%s vs %s; %s)", photo, ref, reg);
}

char *
pcb_report_light_warning(const PcbInspection *insp)
{
    if (!insp->light_differs || insp->light_why != NULL) /* else it is said as not judged */
        return NULL;
    return g_strdup_printf("the light differs from the golden's (%.1fx the images' own noise): "
                           "only parts put on or taken off were judged; for markings and parts "
                           "changed in place, photograph under the golden's light",
                           insp->light_change);
}

char *
pcb_report_not_judged(const PcbInspection *insp)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; insp->zones != NULL && i < insp->zones->len; i++) {
        const PcbZoneJudgement *z = &g_array_index(insp->zones, PcbZoneJudgement, i);
        if (!z->judged)
            g_string_append_printf(s, "%szone %s (%s)", s->len ? "; " : "", z->name,
                                   z->why != NULL ? z->why : "?");
    }
    const char *board[] = { insp->pose_why, insp->light_why };
    for (size_t i = 0; i < G_N_ELEMENTS(board); i++)
        if (board[i] != NULL)
            g_string_append_printf(s, "%sthe board (%s)", s->len ? "; " : "", board[i]);
    if (s->len == 0) {
        g_string_free(s, TRUE);
        return NULL;
    }
    g_string_prepend(s, "not judged from the photo: ");
    return g_string_free(s, FALSE);
}

void
pcb_report_print_text(const PcbInspection *insp, FILE *out)
{
    g_return_if_fail(insp != NULL && out != NULL);
    guint n = insp->findings != NULL ? insp->findings->len : 0;
    char verdict[48];
    if (n == 0 && strcmp(pcb_inspection_verdict(insp), "incomplete") == 0)
        g_snprintf(verdict, sizeof verdict, "INCOMPLETE  no findings  ");
    else if (n == 0)
        g_snprintf(verdict, sizeof verdict, "PASS  no findings  ");
    else
        g_snprintf(verdict, sizeof verdict, "FAIL  %u finding%s  ", n, n == 1 ? "" : "s");
    g_autofree char *ctx = context(insp, 99 - (glong) strlen(verdict));
    fprintf(out, "%s%s\n", verdict, ctx);
    for (guint i = 0; i < n; i++)
        print_finding(out, i + 1, &g_array_index(insp->findings, PcbFinding, i));
    for (guint i = 0; insp->zones != NULL && i < insp->zones->len; i++) {
        const PcbZoneJudgement *z = &g_array_index(insp->zones, PcbZoneJudgement, i);
        if (!z->judged)
            fprintf(out, "NOT JUDGED  zone %s: %s (%d finding%s withheld); take another photo\n",
                    z->name, z->why, z->withheld, z->withheld == 1 ? "" : "s");
    }
    const char *board[] = { insp->pose_why, insp->light_why };
    for (size_t i = 0; i < G_N_ELEMENTS(board); i++)
        if (board[i] != NULL)
            fprintf(out, "NOT JUDGED  the board: %s\n", board[i]);
    g_autofree char *light = pcb_report_light_warning(insp);
    if (light != NULL)
        fprintf(out, "NOTE  %s\n", light);
}
