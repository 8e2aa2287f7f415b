/* The JSON report: ../shared/bench/REPORT_FORMAT.md version 1 plus our own fields, built
 * with json-glib and written atomically. */
#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include "pcbdiff/pcbdiff.h"
#include "core/util.h"
#include "report/report_internal.h"

/* @v rounded to @decimals places; the division by an exact power of ten gives the double
 * nearest to the decimal value, so it prints short. */
static double
round_dec(double v, int decimals)
{
    static const double p10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
    g_assert(decimals >= 0 && decimals < (int) G_N_ELEMENTS(p10));
    if (!isfinite(v) || fabs(v) >= 1e15)
        return v;
    return round(v * p10[decimals]) / p10[decimals];
}

/* JSON has no NaN or infinity: those become null. */
static void
add_number(JsonBuilder *b, double v)
{
    if (isfinite(v))
        json_builder_add_double_value(b, v);
    else
        json_builder_add_null_value(b);
}

static void
member_number(JsonBuilder *b, const char *name, double v)
{
    json_builder_set_member_name(b, name);
    add_number(b, v);
}

void
pcb_json_member_int(JsonBuilder *b, const char *name, gint64 v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

void
pcb_json_member_string(JsonBuilder *b, const char *name, const char *s)
{
    json_builder_set_member_name(b, name);
    if (s == NULL) {
        json_builder_add_null_value(b);
        return;
    }
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    json_builder_add_string_value(b, valid);
}

void
pcb_json_member_ints(JsonBuilder *b, const char *name, const int *v, int n)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++)
        json_builder_add_int_value(b, v[i]);
    json_builder_end_array(b);
}

/* Capture guidance: "judged", and "why" not (or null). */
static void
member_judged(JsonBuilder *b, gboolean judged, const char *why)
{
    json_builder_set_member_name(b, "judged");
    json_builder_add_boolean_value(b, judged);
    pcb_json_member_string(b, "why", why);
}

static void
add_input(JsonBuilder *b, const char *name, const char *path, const char *sha256, int width,
          int height)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    pcb_json_member_string(b, "path", path);
    pcb_json_member_string(b, "sha256", sha256);
    json_builder_set_member_name(b, "width");
    if (width > 0)
        json_builder_add_int_value(b, width);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "height");
    if (height > 0)
        json_builder_add_int_value(b, height);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
}

/* The scene off the board plane: the parallax field and the pose difference, or null. */
static void
add_parallax(JsonBuilder *b, const PcbParallax *p)
{
    json_builder_set_member_name(b, "parallax");
    if (!p->valid) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "field"); /* d = h (a x + b), reference px per unit of h */
    json_builder_begin_array(b);
    add_number(b, p->a);
    add_number(b, p->bx);
    add_number(b, p->by);
    json_builder_end_array(b);
    pcb_json_member_string(b, "height_unit", p->metric ? "mm" : "tiles");
    member_number(b, "max_height", round_dec(p->max_height, 3));
    json_builder_set_member_name(b, "epipole");
    if (isfinite(p->epipole_x) && isfinite(p->epipole_y)) {
        json_builder_begin_array(b);
        add_number(b, round_dec(p->epipole_x, 1));
        add_number(b, round_dec(p->epipole_y, 1));
        json_builder_end_array(b);
    }
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "epipole_inside");
    json_builder_add_boolean_value(b, p->epipole_inside);
    member_number(b, "max_px", round_dec(p->max_px, 2));
    pcb_json_member_int(b, "tiles", p->tiles);
    json_builder_set_member_name(b, "seen"); /* the differencing allowed for it */
    json_builder_add_boolean_value(b, p->seen);
    json_builder_set_member_name(b, "pose");
    if (p->pose_valid) {
        json_builder_begin_object(b);
        member_number(b, "focal_px", round_dec(p->focal_px, 1));
        member_number(b, "tilt_deg", round_dec(p->tilt_deg, 2));
        json_builder_set_member_name(b, "camera");
        json_builder_begin_array(b);
        for (int i = 0; i < 3; i++)
            add_number(b, round_dec(p->camera[i], 1));
        json_builder_end_array(b);
        pcb_json_member_string(b, "camera_unit", p->metric ? "mm" : "reference px");
        json_builder_end_object(b);
    }
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
}

static void
add_registration(JsonBuilder *b, const PcbInspection *insp)
{
    const PcbRegistration *reg = &insp->reg;
    json_builder_set_member_name(b, "registration");
    if (!insp->registered && reg->coarse_matches <= 0) {
        json_builder_add_null_value(b); /* never got as far as matching */
        return;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "homography_photo_to_reference");
    if (insp->registered) { /* full precision: the bench maps points through it */
        json_builder_begin_array(b);
        for (int i = 0; i < 9; i++)
            add_number(b, reg->h[i]);
        json_builder_end_array(b);
    }
    else {
        json_builder_add_null_value(b); /* measured, but a quality gate failed */
    }
    pcb_json_member_int(b, "inliers", reg->inliers);
    member_number(b, "rms_px", round_dec(reg->rms_px, 4));
    pcb_json_member_int(b, "coarse_matches", reg->coarse_matches);
    pcb_json_member_int(b, "coarse_inliers", reg->coarse_inliers);
    pcb_json_member_int(b, "tiles", reg->tiles);
    member_number(b, "field_p95_px", round_dec(reg->field_p95_px, 4));
    member_number(b, "coverage", round_dec(reg->coverage, 4));
    member_number(b, "scale", round_dec(reg->scale, 6));
    member_number(b, "rotation_deg", round_dec(reg->rotation_deg, 4));
    pcb_json_member_int(b, "parallax_tiles", reg->parallax_tiles);
    add_parallax(b, &reg->parallax);
    json_builder_end_object(b);
}

/* A box side rounded to 0.1 px but never to 0: the bench drops boxes with w or h <= 0. */
static double
round_side(double v)
{
    double r = round_dec(v, 1);
    return v > 0 && r <= 0 ? 0.1 : r;
}

static void
add_finding(JsonBuilder *b, const PcbFinding *f)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, pcb_kind_name(f->kind));
    json_builder_set_member_name(b, "bbox");
    json_builder_begin_array(b);
    add_number(b, round_dec(f->bbox.x, 1));
    add_number(b, round_dec(f->bbox.y, 1));
    add_number(b, round_side(f->bbox.w));
    add_number(b, round_side(f->bbox.h));
    json_builder_end_array(b);
    member_number(b, "score", round_dec(f->score, 3));
    member_number(b, "area_mm2", f->area_mm2 >= 0 ? round_dec(f->area_mm2, 3) : NAN);
    member_number(b, "area_px", round_dec(f->area_px, 1));
    member_number(b, "peak_sigma", round_dec(f->peak, 2));
    pcb_json_member_string(b, "zone", f->zone);
    json_builder_end_object(b);
}

/* Capture guidance: each board zone, judged or not and why. */
static void
add_zones(JsonBuilder *b, const PcbInspection *insp)
{
    json_builder_set_member_name(b, "zones");
    json_builder_begin_array(b);
    for (guint i = 0; insp->zones != NULL && i < insp->zones->len; i++) {
        const PcbZoneJudgement *z = &g_array_index(insp->zones, PcbZoneJudgement, i);
        json_builder_begin_object(b);
        pcb_json_member_string(b, "name", z->name);
        json_builder_set_member_name(b, "judged");
        json_builder_add_boolean_value(b, z->judged);
        pcb_json_member_string(b, "why", z->why);
        member_number(b, "covered", round_dec(z->covered, 3));
        member_number(b, "photo_px_per_mm",
                      z->photo_px_per_mm > 0 ? round_dec(z->photo_px_per_mm, 2) : NAN);
        member_number(b, "foreshortening", round_dec(z->foreshortening, 3));
        member_number(b, "parallax_px", round_dec(z->parallax_px, 1));
        pcb_json_member_int(b, "withheld", z->withheld);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void
add_timings(JsonBuilder *b, const PcbInspection *insp)
{
    json_builder_set_member_name(b, "timing_ms");
    json_builder_begin_object(b);
    member_number(b, "total", round_dec(insp->total_ms, 2));
    for (guint i = 0; insp->timings != NULL && i < insp->timings->len; i++) {
        const PcbTiming *t = &g_array_index(insp->timings, PcbTiming, i);
        g_autofree char *stage = g_strndup(t->stage, sizeof t->stage);
        if (stage[0] == '\0' || strcmp(stage, "total") == 0)
            continue;
        g_autofree char *valid = g_utf8_make_valid(stage, -1);
        member_number(b, valid, round_dec(t->ms, 2));
    }
    json_builder_end_object(b);
}

static JsonNode *
build_report(const PcbInspection *insp, const GError *failure)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    guint n_findings = insp->findings != NULL ? insp->findings->len : 0;
    const char *verdict = failure != NULL ? "error" : pcb_inspection_verdict(insp);

    json_builder_begin_object(b);
    pcb_json_member_int(b, "version", PCB_REPORT_VERSION);

    json_builder_set_member_name(b, "tool");
    json_builder_begin_object(b);
    pcb_json_member_string(b, "name", "pcbdiff");
    pcb_json_member_string(b, "version", PCBDIFF_VERSION);
    json_builder_end_object(b);

    pcb_json_member_string(b, "verdict", verdict);
    if (failure != NULL) {
        json_builder_set_member_name(b, "error");
        json_builder_begin_object(b);
        pcb_json_member_string(b, "code", pcb_error_code_name(failure));
        pcb_json_member_int(b, "exit_code", pcb_error_exit_code(failure));
        pcb_json_member_string(b, "message", failure->message);
        json_builder_end_object(b);
    }

    json_builder_set_member_name(b, "inputs");
    json_builder_begin_object(b);
    add_input(b, "reference", insp->reference_path, insp->reference_sha256, insp->reference_width,
              insp->reference_height);
    add_input(b, "photo", insp->photo_path, insp->photo_sha256, insp->photo_width,
              insp->photo_height);
    pcb_json_member_string(b, "board", insp->board_name);
    member_number(b, "px_per_mm", insp->px_per_mm > 0 ? insp->px_per_mm : NAN);
    json_builder_end_object(b);

    add_registration(b, insp);

    json_builder_set_member_name(b, "findings");
    json_builder_begin_array(b);
    for (guint i = 0; i < n_findings; i++)
        add_finding(b, &g_array_index(insp->findings, PcbFinding, i));
    json_builder_end_array(b);

    add_zones(b, insp);

    json_builder_set_member_name(b, "noise_sigma");
    json_builder_begin_array(b);
    for (int c = 0; c < 3; c++)
        add_number(b, round_dec(insp->noise[c], 3));
    json_builder_end_array(b);

    json_builder_set_member_name(b, "capture");
    json_builder_begin_object(b);
    member_number(b, "tilt_deg", round_dec(insp->tilt_deg, 2));
    member_number(b, "max_tilt_deg", insp->max_tilt_deg);
    member_judged(b, insp->pose_judged, insp->pose_why);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "light");
    json_builder_begin_object(b);
    member_number(b, "noise_over_own", insp->registered ? round_dec(insp->light_change, 2) : NAN);
    json_builder_set_member_name(b, "differs");
    json_builder_add_boolean_value(b, insp->light_differs);
    member_judged(b, insp->light_judged, insp->light_why);
    json_builder_end_object(b);

    add_timings(b, insp);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* The shortest spelling of @v that reads back as the same double, keeping a '.' or an
 * exponent so that the value stays a JSON float for typed readers. */
static void
append_short_double(GString *out, double v)
{
    static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_ascii_formatd(buf, sizeof buf, formats[i], v);
        if (g_ascii_strtod(buf, NULL) == v)
            break;
    }
    g_string_append(out, buf);
    if (strpbrk(buf, ".eE") == NULL)
        g_string_append(out, ".0");
}

/* json-glib 1.6 prints every double with "%.17g" (0.93 comes out as 0.93000000000000005)
 * and appends ".0" to any spelling without a '.', which turns 1e+20 into the invalid
 * "1e+20.0". This pass respells each non-integer number token outside strings in its
 * shortest round-trip form; the structure and everything else are json-glib's. */
static char *
shorten_numbers(const char *json)
{
    GString *out = g_string_sized_new(strlen(json));
    gboolean in_string = FALSE;
    const char *p = json;
    while (*p != '\0') {
        if (in_string) {
            if (*p == '\\' && p[1] != '\0')
                g_string_append_c(out, *p++);
            else if (*p == '"')
                in_string = FALSE;
            g_string_append_c(out, *p++);
            continue;
        }
        if (*p == '"') {
            in_string = TRUE;
            g_string_append_c(out, *p++);
            continue;
        }
        if (*p != '-' && !g_ascii_isdigit(*p)) {
            g_string_append_c(out, *p++);
            continue;
        }
        size_t len = strspn(p, "0123456789+-.eE");
        char *end = NULL;
        double v = g_ascii_strtod(p, &end);
        gboolean is_float = memchr(p, '.', len) != NULL || memchr(p, 'e', len) != NULL
                            || memchr(p, 'E', len) != NULL;
        if (is_float && end != p && isfinite(v))
            append_short_double(out, v);
        else /* an integer, or nothing we understand: as json-glib wrote it */
            g_string_append_len(out, p, (gssize) len);
        p += len;
    }
    return g_string_free(out, FALSE);
}

char *
pcb_report_to_json(const PcbInspection *insp, const GError *failure)
{
    g_autoptr(PcbInspection) empty = NULL;
    if (insp == NULL) /* an error before anything was measured */
        insp = empty = pcb_inspection_new();

    g_autoptr(JsonNode) root = build_report(insp, failure);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 2);
    g_autofree char *raw = json_generator_to_data(gen, NULL);
    return shorten_numbers(raw);
}

gboolean
pcb_report_write_json(const PcbInspection *insp, const GError *failure, const char *path,
                      GError **error)
{
    g_return_val_if_fail(path != NULL, FALSE);
    g_autofree char *text = pcb_report_to_json(insp, failure);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    return pcb_write_file_atomic(path, line, strlen(line), error);
}

char *
pcb_report_json_tidy(const char *json)
{
    return shorten_numbers(json);
}
