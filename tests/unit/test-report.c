/* Reports: the JSON document, the overlay image, the text summary and the label font. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "testutil.h"
#include "report/report_internal.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

static void
add_finding(PcbInspection *insp, PcbKind kind, double x, double y, double w, double h, double score,
            double area_mm2, const char *zone)
{
    PcbFinding f = { 0 };
    f.kind = kind;
    f.bbox = (PcbRect){ x, y, w, h };
    f.area_px = w * h * 0.6;
    f.area_mm2 = area_mm2;
    f.score = score;
    f.peak = 9.87654;
    f.zone = g_strdup(zone);
    g_array_append_val(insp->findings, f);
}

static void
add_timing(PcbInspection *insp, const char *stage, double ms)
{
    PcbTiming t = { { 0 }, ms };
    g_strlcpy(t.stage, stage, sizeof t.stage);
    g_array_append_val(insp->timings, t);
}

static const double test_h[9] = { 1.02, -0.03, -41.7, 0.03, 1.02, -18.2, 1.1e-6, -2.0e-6, 1.0 };

/* A finished inspection with no findings (add them per test). */
static PcbInspection *
make_inspection(void)
{
    PcbInspection *insp = pcb_inspection_new();
    insp->reference_path = g_strdup("boards/demo/golden.png");
    insp->photo_path = g_strdup("photos/photo.jpg");
    insp->reference_sha256 = g_strnfill(64, 'a');
    insp->photo_sha256 = g_strnfill(64, 'b');
    insp->reference_width = 1600;
    insp->reference_height = 1000;
    insp->photo_width = 4000;
    insp->photo_height = 3000;
    insp->board_name = g_strdup("demo");
    insp->px_per_mm = 10.0;
    insp->registered = TRUE;
    memcpy(insp->reg.h, test_h, sizeof test_h);
    insp->reg.coarse_matches = 900;
    insp->reg.coarse_inliers = 700;
    insp->reg.inliers = 812;
    insp->reg.tiles = 900;
    insp->reg.rms_px = 0.2134567;
    insp->reg.field_p95_px = 0.75;
    insp->reg.coverage = 1.0;
    insp->reg.scale = 2.5;
    insp->reg.rotation_deg = 1.5;
    insp->noise[0] = 1.5;
    insp->noise[1] = 1.25;
    insp->noise[2] = 1.75;
    insp->total_ms = 812.5;
    add_timing(insp, "load", 120.25);
    add_timing(insp, "register", 400.5);
    add_timing(insp, "diff", 250);
    add_timing(insp, "findings", 20);
    return insp;
}

static JsonNode *
parse_json(const char *text)
{
    g_autoptr(GError) error = NULL;
    JsonNode *root = json_from_string(text, &error);
    g_assert_no_error(error);
    g_assert_nonnull(root);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return root;
}

static JsonNode *
report_json(const PcbInspection *insp, const GError *failure)
{
    g_autofree char *text = pcb_report_to_json(insp, failure);
    g_assert_nonnull(text);
    return parse_json(text);
}

static JsonObject *
object_member(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    JsonNode *n = json_object_get_member(o, name);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(n));
    return json_node_get_object(n);
}

static JsonArray *
array_member(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    JsonNode *n = json_object_get_member(o, name);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(n));
    return json_node_get_array(n);
}

static gboolean
member_is_null(JsonObject *o, const char *name)
{
    return json_object_has_member(o, name) && JSON_NODE_HOLDS_NULL(json_object_get_member(o, name));
}

static char *
tmp_path(const char *name)
{
    return g_build_filename(tu_tmpdir(), name, NULL);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void
test_json_pass(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_autofree char *text = pcb_report_to_json(insp, NULL);
    g_assert_true(g_str_has_prefix(text, "{\n  \"version\" : 1,\n")
                  || g_str_has_prefix(text, "{\n  \"version\": 1,\n"));
    g_autoptr(JsonNode) root = parse_json(text);
    JsonObject *o = json_node_get_object(root);

    g_assert_cmpint(json_object_get_int_member(o, "version"), ==, 1);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "pass");
    g_assert_false(json_object_has_member(o, "error"));
    JsonObject *tool = object_member(o, "tool");
    g_assert_cmpstr(json_object_get_string_member(tool, "name"), ==, "pcbdiff");
    g_assert_cmpstr(json_object_get_string_member(tool, "version"), ==, PCBDIFF_VERSION);

    JsonObject *inputs = object_member(o, "inputs");
    JsonObject *ref = object_member(inputs, "reference");
    g_assert_cmpstr(json_object_get_string_member(ref, "path"), ==, "boards/demo/golden.png");
    g_assert_cmpint(json_object_get_string_member(ref, "sha256")[0], ==, 'a');
    g_assert_cmpint(json_object_get_int_member(ref, "width"), ==, 1600);
    g_assert_cmpint(json_object_get_int_member(ref, "height"), ==, 1000);
    JsonObject *photo = object_member(inputs, "photo");
    g_assert_cmpstr(json_object_get_string_member(photo, "path"), ==, "photos/photo.jpg");
    g_assert_cmpint(json_object_get_int_member(photo, "width"), ==, 4000);
    g_assert_cmpstr(json_object_get_string_member(inputs, "board"), ==, "demo");
    g_assert_cmpfloat(json_object_get_double_member(inputs, "px_per_mm"), ==, 10.0);

    JsonObject *reg = object_member(o, "registration");
    JsonArray *h = array_member(reg, "homography_photo_to_reference");
    g_assert_cmpuint(json_array_get_length(h), ==, 9);
    for (guint i = 0; i < 9; i++) /* full precision: exactly the doubles we had */
        g_assert_cmpfloat(json_array_get_double_element(h, i), ==, test_h[i]);
    g_assert_cmpint(json_object_get_int_member(reg, "inliers"), ==, 812);
    g_assert_cmpint(json_object_get_int_member(reg, "coarse_matches"), ==, 900);
    g_assert_cmpint(json_object_get_int_member(reg, "coarse_inliers"), ==, 700);
    g_assert_cmpint(json_object_get_int_member(reg, "tiles"), ==, 900);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(reg, "rms_px"), 0.2135, 1e-9);
    g_assert_cmpfloat(json_object_get_double_member(reg, "coverage"), ==, 1.0);
    g_assert_cmpfloat(json_object_get_double_member(reg, "scale"), ==, 2.5);
    g_assert_cmpfloat(json_object_get_double_member(reg, "rotation_deg"), ==, 1.5);
    g_assert_cmpfloat(json_object_get_double_member(reg, "field_p95_px"), ==, 0.75);

    g_assert_cmpuint(json_array_get_length(array_member(o, "findings")), ==, 0);
    JsonArray *noise = array_member(o, "noise_sigma");
    g_assert_cmpuint(json_array_get_length(noise), ==, 3);
    g_assert_cmpfloat(json_array_get_double_element(noise, 1), ==, 1.25);
    JsonObject *light = object_member(o, "light");
    g_assert_false(json_object_get_boolean_member(light, "differs"));
    g_assert_true(json_object_has_member(light, "noise_over_own"));

    /* doubles are spelled short, not json-glib's %.17g */
    g_assert_null(strstr(text, "0000000"));
    g_assert_nonnull(strstr(text, "0.2135"));
}

static void
test_json_findings(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    add_finding(insp, PCB_KIND_ADDED, 412.04, 233.06, 16.04, 0.01, 0.93456, 1.8, "BMC");
    add_finding(insp, PCB_KIND_REMOVED, 10, 20, 30, 40, 0.5, -1, NULL);
    add_finding(insp, PCB_KIND_ALTERED, 1, 2, 3, 4, 0.25, 0, "SPI flash");
    g_autofree char *text = pcb_report_to_json(insp, NULL);
    g_autoptr(JsonNode) root = parse_json(text);
    JsonObject *o = json_node_get_object(root);

    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "fail");
    JsonArray *findings = array_member(o, "findings");
    g_assert_cmpuint(json_array_get_length(findings), ==, 3);

    JsonObject *f = json_array_get_object_element(findings, 0);
    g_assert_cmpstr(json_object_get_string_member(f, "kind"), ==, "added");
    JsonArray *bbox = array_member(f, "bbox");
    g_assert_cmpuint(json_array_get_length(bbox), ==, 4);
    g_assert_cmpfloat(json_array_get_double_element(bbox, 0), ==, 412.0);
    g_assert_cmpfloat(json_array_get_double_element(bbox, 1), ==, 233.1);
    g_assert_cmpfloat(json_array_get_double_element(bbox, 2), ==, 16.0);
    g_assert_cmpfloat(json_array_get_double_element(bbox, 3), ==, 0.1); /* never 0 */
    g_assert_cmpfloat(json_object_get_double_member(f, "score"), ==, 0.935);
    g_assert_cmpfloat(json_object_get_double_member(f, "area_mm2"), ==, 1.8);
    g_assert_cmpfloat(json_object_get_double_member(f, "peak_sigma"), ==, 9.88);
    g_assert_true(json_object_has_member(f, "area_px"));
    g_assert_cmpstr(json_object_get_string_member(f, "zone"), ==, "BMC");

    f = json_array_get_object_element(findings, 1);
    g_assert_cmpstr(json_object_get_string_member(f, "kind"), ==, "removed");
    g_assert_true(member_is_null(f, "area_mm2")); /* scale unknown */
    g_assert_true(member_is_null(f, "zone"));
    g_assert_cmpfloat(json_array_get_double_element(array_member(f, "bbox"), 3), ==, 40.0);

    f = json_array_get_object_element(findings, 2);
    g_assert_cmpstr(json_object_get_string_member(f, "kind"), ==, "altered");
    g_assert_cmpfloat(json_object_get_double_member(f, "area_mm2"), ==, 0.0); /* known, zero */
    g_assert_cmpstr(json_object_get_string_member(f, "zone"), ==, "SPI flash");

    g_assert_nonnull(strstr(text, "0.935"));
    g_assert_null(strstr(text, "0.93500000"));
}

static void
test_json_error(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    insp->registered = FALSE;
    insp->reg.coarse_matches = 40;
    insp->reg.coarse_inliers = 6;
    g_autoptr(GError) failure
        = g_error_new(PCB_ERROR, PCB_ERROR_REGISTER, "registration too weak: 6 inliers");
    g_autoptr(JsonNode) root = report_json(insp, failure);
    JsonObject *o = json_node_get_object(root);

    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "error");
    JsonObject *err = object_member(o, "error");
    g_assert_cmpstr(json_object_get_string_member(err, "code"), ==, "register");
    g_assert_cmpint(json_object_get_int_member(err, "exit_code"), ==, PCB_EXIT_UNREGISTERED);
    g_assert_cmpstr(json_object_get_string_member(err, "message"), ==,
                    "registration too weak: 6 inliers");
    /* measured but gated: the figures stay, the homography is null */
    JsonObject *reg = object_member(o, "registration");
    g_assert_true(member_is_null(reg, "homography_photo_to_reference"));
    g_assert_cmpint(json_object_get_int_member(reg, "coarse_matches"), ==, 40);
    g_assert_cmpint(json_object_get_int_member(reg, "coarse_inliers"), ==, 6);

    /* a failure overrides findings */
    add_finding(insp, PCB_KIND_ADDED, 1, 1, 1, 1, 1, 1, NULL);
    g_autoptr(JsonNode) root2 = report_json(insp, failure);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root2), "verdict"), ==,
                    "error");

    /* never got to matching: registration is null */
    insp->reg.coarse_matches = 0;
    g_autoptr(GError) decode = g_error_new(PCB_ERROR, PCB_ERROR_DECODE, "photo.jpg: truncated");
    g_autoptr(JsonNode) root3 = report_json(insp, decode);
    JsonObject *o3 = json_node_get_object(root3);
    g_assert_true(member_is_null(o3, "registration"));
    err = object_member(o3, "error");
    g_assert_cmpstr(json_object_get_string_member(err, "code"), ==, "decode");
    g_assert_cmpint(json_object_get_int_member(err, "exit_code"), ==, PCB_EXIT_TROUBLE);

    /* no inspection at all */
    g_autoptr(JsonNode) root4 = report_json(NULL, decode);
    JsonObject *o4 = json_node_get_object(root4);
    g_assert_cmpstr(json_object_get_string_member(o4, "verdict"), ==, "error");
    g_assert_true(member_is_null(o4, "registration"));
    g_assert_true(member_is_null(object_member(object_member(o4, "inputs"), "photo"), "path"));
    g_assert_cmpuint(json_array_get_length(array_member(o4, "findings")), ==, 0);
}

static void
test_json_non_finite(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    insp->reg.rms_px = NAN;
    insp->reg.h[4] = INFINITY;
    insp->reg.scale = 1e20; /* json-glib 1.6 alone would write the invalid 1e+20.0 */
    insp->noise[2] = -INFINITY;
    insp->px_per_mm = 0;
    insp->total_ms = NAN;
    g_free(insp->photo_sha256);
    insp->photo_sha256 = NULL;
    g_free(insp->photo_path);
    insp->photo_path = g_strdup("caf\xe9.jpg"); /* Latin-1 bytes, not UTF-8 */
    add_finding(insp, PCB_KIND_ADDED, 1, 2, 3, 4, NAN, NAN, NULL);
    g_autoptr(JsonNode) root = report_json(insp, NULL);
    JsonObject *o = json_node_get_object(root);

    JsonObject *reg = object_member(o, "registration");
    g_assert_true(member_is_null(reg, "rms_px"));
    g_assert_cmpfloat(json_object_get_double_member(reg, "scale"), ==, 1e20);
    JsonArray *h = array_member(reg, "homography_photo_to_reference");
    g_assert_true(JSON_NODE_HOLDS_NULL(json_array_get_element(h, 4)));
    g_assert_cmpfloat(json_array_get_double_element(h, 0), ==, 1.02);
    g_assert_true(JSON_NODE_HOLDS_NULL(json_array_get_element(array_member(o, "noise_sigma"), 2)));
    JsonObject *inputs = object_member(o, "inputs");
    g_assert_true(member_is_null(inputs, "px_per_mm"));
    JsonObject *photo = object_member(inputs, "photo");
    g_assert_true(member_is_null(photo, "sha256"));
    g_assert_true(g_utf8_validate(json_object_get_string_member(photo, "path"), -1, NULL));
    g_assert_true(member_is_null(object_member(o, "timing_ms"), "total"));
    JsonObject *f = json_array_get_object_element(array_member(o, "findings"), 0);
    g_assert_true(member_is_null(f, "score"));
    g_assert_true(member_is_null(f, "area_mm2"));
}

static void
test_json_timing(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_autoptr(JsonNode) root = report_json(insp, NULL);
    JsonObject *timing = object_member(json_node_get_object(root), "timing_ms");
    g_autoptr(GList) names = json_object_get_members(timing);
    static const char *const expected[] = { "total", "load", "register", "diff", "findings" };
    g_assert_cmpuint(g_list_length(names), ==, G_N_ELEMENTS(expected));
    guint i = 0;
    for (GList *l = names; l != NULL; l = l->next, i++)
        g_assert_cmpstr(l->data, ==, expected[i]);
    g_assert_cmpfloat(json_object_get_double_member(timing, "total"), ==, 812.5);
    g_assert_cmpfloat(json_object_get_double_member(timing, "register"), ==, 400.5);
    g_assert_cmpfloat(json_object_get_double_member(timing, "diff"), ==, 250.0);
}

static guint
count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    guint n = 0;
    while (g_dir_read_name(d) != NULL)
        n++;
    return n;
}

static void
test_json_write(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    add_finding(insp, PCB_KIND_ADDED, 412, 233, 16, 9, 0.93, 1.8, "BMC");
    g_autofree char *dir = tmp_path("write");
    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    g_autofree char *path = g_build_filename(dir, "report.json", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true(pcb_report_write_json(insp, NULL, path, &error));
    g_assert_no_error(error);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(g_str_has_suffix(text, "}\n"));
    g_autoptr(JsonNode) root = parse_json(text);
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "verdict"), ==,
                    "fail");
    g_assert_cmpuint(count_entries(dir), ==, 1); /* no temporary left behind */

    /* overwriting is fine too */
    g_autoptr(GError) failure = g_error_new(PCB_ERROR, PCB_ERROR_IO, "cannot read photo.jpg");
    g_assert_true(pcb_report_write_json(insp, failure, path, &error));
    g_autofree char *text2 = NULL;
    g_assert_true(g_file_get_contents(path, &text2, NULL, NULL));
    g_assert_nonnull(strstr(text2, "\"error\""));
    g_assert_cmpuint(count_entries(dir), ==, 1);
}

static void
test_json_write_missing_dir(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_autofree char *path = g_build_filename(tu_tmpdir(), "no-such-dir", "report.json", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_false(pcb_report_write_json(insp, NULL, path, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* A write that fails half way (file size limit: EFBIG, even for root) leaves the old report
 * as it was and no temporary file. */
static void
test_json_write_failure_keeps_old(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_autofree char *dir = tmp_path("keep");
    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    g_autofree char *path = g_build_filename(dir, "report.json", NULL);
    const char *old = "{\"old\": 1}\n";
    g_assert_true(g_file_set_contents(path, old, -1, NULL));

    struct rlimit saved, small;
    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
    small = saved;
    small.rlim_cur = 64;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
    g_autoptr(GError) error = NULL;
    gboolean ok = pcb_report_write_json(insp, NULL, path, &error);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
    signal(SIGXFSZ, prev);

    g_assert_false(ok);
    g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, old);
    g_assert_cmpuint(count_entries(dir), ==, 1);
}

/* ---- overlay ----------------------------------------------------------------------------- */

static PcbInspection *
make_overlay_inspection(int width, int height)
{
    PcbInspection *insp = make_inspection();
    insp->reference = tu_make_board(width, height, 7);
    insp->reference_width = width;
    insp->reference_height = height;
    return insp;
}

static const guint8 *
pixel(const PcbImage *img, int x, int y)
{
    return pcb_image_row(img, y) + (size_t) x * 3;
}

static void
test_overlay_png(void)
{
    g_autoptr(PcbInspection) insp = make_overlay_inspection(320, 240);
    /* a heat map at half resolution, hot (16 sigma) over reference (40..60, 180..200) */
    insp->heat = pcb_image_new(160, 120, PCB_FORMAT_GRAY8, NULL);
    for (int y = 90; y < 100; y++)
        memset(pcb_image_row(insp->heat, y) + 20, 255, 10);
    add_finding(insp, PCB_KIND_ADDED, 150, 100, 20, 16, 0.93, 1.8, "BMC");
    add_finding(insp, PCB_KIND_REMOVED, 250, 180, 10, 10, 0.5, -1, NULL);

    g_autofree char *path = tmp_path("overlay.png");
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_report_write_overlay(insp, path, &error));
    g_assert_no_error(error);

    g_autoptr(PcbImage) img = pcb_image_load(path, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, ==, 320);
    g_assert_cmpint(img->height, ==, 240);
    g_assert_cmpint(img->format, ==, PCB_FORMAT_RGB8);
    const PcbImage *ref = insp->reference;

    /* the added box's left border (a few px left of x = 150, mid-height): red, and unlike
       the reference there */
    gboolean red = FALSE, cyan = FALSE;
    for (int x = 135; x < 150; x++) {
        const guint8 *p = pixel(img, x, 108);
        if (p[0] > 200 && p[1] < 100 && p[2] < 100 && memcmp(p, pixel(ref, x, 108), 3) != 0)
            red = TRUE;
    }
    /* the removed box's right border */
    for (int x = 260; x < 275; x++) {
        const guint8 *p = pixel(img, x, 185);
        if (p[0] < 80 && p[1] > 150 && p[2] > 200)
            cyan = TRUE;
    }
    g_assert_true(red);
    g_assert_true(cyan);

    /* the heat: red over the hot spot, nothing added where the map is cold */
    const guint8 *hot = pixel(img, 50, 190), *hot_ref = pixel(ref, 50, 190);
    g_assert_cmpint(hot[0], >, hot_ref[0]);
    g_assert_cmpint(hot[0], >, hot[1] + 60);
    g_assert_cmpint(hot[0], >, hot[2] + 60);
    const guint8 *cold = pixel(img, 300, 100), *cold_ref = pixel(ref, 300, 100);
    g_assert_cmpint(cold[0] + cold[1] + cold[2], <, cold_ref[0] + cold_ref[1] + cold_ref[2]);
    g_assert_cmpint(cold[0], <=, cold_ref[0] + 8); /* dimmed and greyer, not reddened */

    /* the banner: a dark plate at the top-left */
    const guint8 *banner = pixel(img, 3, 3);
    g_assert_cmpint(banner[0] + banner[1] + banner[2], <, 60);
}

static void
test_overlay_jpeg(void)
{
    g_autoptr(PcbInspection) insp = make_overlay_inspection(300, 200);
    add_finding(insp, PCB_KIND_ALTERED, 100, 100, 30, 20, 0.75, 2.5, "U7");
    g_autofree char *path = tmp_path("overlay.JPEG");
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_report_write_overlay(insp, path, &error));
    g_assert_no_error(error);

    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, >, 3);
    g_assert_cmpint((guint8) data[0], ==, 0xFF);
    g_assert_cmpint((guint8) data[1], ==, 0xD8);
    g_autoptr(PcbImage) img = pcb_image_load(path, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, ==, 300);
    g_assert_cmpint(img->height, ==, 200);

    /* .jpg, lower case, also gives JPEG */
    g_autofree char *path2 = tmp_path("overlay.jpg");
    g_assert_true(pcb_report_write_overlay(insp, path2, &error));
    g_autofree char *data2 = NULL;
    g_assert_true(g_file_get_contents(path2, &data2, &len, NULL));
    g_assert_cmpint((guint8) data2[0], ==, 0xFF);
}

static void
test_overlay_needs_reference(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_autofree char *path = tmp_path("no-reference.png");
    g_autoptr(GError) error = NULL;
    g_assert_false(pcb_report_write_overlay(insp, path, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_USAGE);
    g_assert_cmpstr(error->message, ==, "overlay needs the reference image");
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_overlay_write_fails(void)
{
    g_autoptr(PcbInspection) insp = make_overlay_inspection(64, 48);
    g_autofree char *path = g_build_filename(tu_tmpdir(), "missing", "overlay.png", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_false(pcb_report_write_overlay(insp, path, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
}

/* Boxes and labels that reach past the edges, odd heat sizes, a grey reference, tiny images:
 * everything is clipped (valgrind checks the writes). */
static void
test_overlay_clips(void)
{
    static const int sizes[][2] = { { 1, 1 }, { 12, 9 }, { 7, 300 }, { 500, 20 } };
    for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
        int w = sizes[s][0], h = sizes[s][1];
        g_autoptr(PcbInspection) insp = make_overlay_inspection(MAX(w, 2), MAX(h, 2));
        if (w == 1) { /* a 1x1 grey reference */
            pcb_image_free(insp->reference);
            insp->reference = pcb_image_new(1, 1, PCB_FORMAT_GRAY8, NULL);
        }
        insp->heat = pcb_image_new(3, 2, PCB_FORMAT_GRAY8, NULL);
        memset(insp->heat->data, 255, insp->heat->stride * 2);
        add_finding(insp, PCB_KIND_ADDED, -50, -50, 5000, 5000, 1.0, 1e6,
                    "Z\xc3\xb6ne \xe2\x80\x94 7");
        add_finding(insp, PCB_KIND_REMOVED, w - 2, h - 2, 5, 5, 0.5, -1, NULL);
        add_finding(insp, PCB_KIND_ALTERED, NAN, 0, 1, 1, 0.5, -1, NULL);
        add_finding(insp, PCB_KIND_ALTERED, 1e300, -1e300, 1e300, 1, 0.1, -1, "far");
        g_autofree char *name = g_strdup_printf("clip-%u.png", s);
        g_autofree char *path = tmp_path(name);
        g_autoptr(GError) error = NULL;
        g_assert_true(pcb_report_write_overlay(insp, path, &error));
        g_assert_no_error(error);
        g_autoptr(PcbImage) img = pcb_image_load(path, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(img->width, ==, insp->reference->width);
        g_assert_cmpint(img->height, ==, insp->reference->height);
    }
}

/* ---- text -------------------------------------------------------------------------------- */

static char *
text_of(const PcbInspection *insp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    g_assert_nonnull(out);
    pcb_report_print_text(insp, out);
    g_assert_cmpint(fclose(out), ==, 0);
    return buf; /* malloc'd; g_free is free here */
}

static void
assert_lines_short(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_utf8_strlen(lines[i], -1) >= 100)
            g_test_message("too long: %s", lines[i]);
        g_assert_cmpint(g_utf8_strlen(lines[i], -1), <, 100);
    }
}

static void
test_text_fail(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    add_finding(insp, PCB_KIND_ADDED, 412, 233, 16, 9, 0.93, 1.8, "BMC");
    add_finding(insp, PCB_KIND_REMOVED, 10, 20, 30, 40, 0.5, -1, NULL);
    g_autofree char *text = text_of(insp);
    g_test_message("\n%s", text);
    g_assert_true(g_str_has_prefix(text, "FAIL  2 findings  (photo.jpg vs demo; registered: 812"));
    g_assert_nonnull(strstr(text, "coverage 100%"));
    g_assert_nonnull(strstr(text, "  1  added    x=412 y=233"));
    g_assert_nonnull(strstr(text, "16x9 px"));
    g_assert_nonnull(strstr(text, "1.8 mm\xc2\xb2"));
    g_assert_nonnull(strstr(text, "zone BMC"));
    g_assert_nonnull(strstr(text, "score 0.93"));
    g_assert_nonnull(strstr(text, "  2  removed"));
    g_assert_nonnull(strstr(text, "score 0.50"));
    g_assert_true(g_str_has_suffix(text, "\n"));
    assert_lines_short(text);

    /* long names and large numbers still fit */
    g_free(insp->photo_path);
    insp->photo_path = g_strnfill(200, 'p');
    g_free(insp->board_name);
    insp->board_name = g_strnfill(150, 'b');
    insp->reg.inliers = 999999;
    insp->reg.rms_px = 12345.678;
    add_finding(insp, PCB_KIND_ALTERED, 99999, 99999, 99999, 99999, 1, 9999999,
                "a zone with a very long name indeed");
    g_autofree char *text2 = text_of(insp);
    g_test_message("\n%s", text2);
    g_assert_nonnull(strstr(text2, "FAIL  3 findings"));
    g_assert_nonnull(strstr(text2, "altered"));
    g_assert_nonnull(strstr(text2, "..."));
    assert_lines_short(text2);
}

static void
test_text_pass(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_autofree char *text = text_of(insp);
    g_assert_true(g_str_has_prefix(text, "PASS  no findings  (photo.jpg vs demo; registered"));
    g_assert_cmpuint(strlen(text), ==, strcspn(text, "\n") + 1); /* one line */

    insp->registered = FALSE;
    g_free(insp->board_name);
    insp->board_name = NULL;
    g_autofree char *text2 = text_of(insp);
    g_assert_nonnull(strstr(text2, "vs golden.png; not registered"));
}

/* Capture guidance for the whole board: a photo seen more obliquely than inspect.max-tilt-deg
 * from the golden's view is not judged whole (at best "incomplete"), and the JSON, the text
 * summary and the verdict say why; within the limit, or without a pose, nothing changes. */
static void
test_capture_tilt(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    insp->reg.parallax.valid = insp->reg.parallax.pose_valid = TRUE;
    insp->reg.parallax.tilt_deg = 12.5;
    pcb_pose_judge(insp, 10);
    g_assert_false(insp->pose_judged);
    g_assert_cmpstr(pcb_inspection_verdict(insp), ==, "incomplete");
    g_autofree char *text = text_of(insp);
    g_assert_true(g_str_has_prefix(text, "INCOMPLETE  no findings"));
    g_assert_nonnull(strstr(text, "\nNOT JUDGED  the board: the photo is seen 12.5 degrees from "
                                  "the golden's view (limit 10)"));
    g_autofree char *json = pcb_report_to_json(insp, NULL);
    g_autoptr(JsonNode) root = parse_json(json);
    JsonObject *o = json_node_get_object(root);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "incomplete");
    JsonObject *c = object_member(o, "capture");
    g_assert_cmpfloat(json_object_get_double_member(c, "tilt_deg"), ==, 12.5);
    g_assert_cmpfloat(json_object_get_double_member(c, "max_tilt_deg"), ==, 10);
    g_assert_false(json_object_get_boolean_member(c, "judged"));
    g_assert_nonnull(strstr(json_object_get_string_member(c, "why"), "tall parts hide"));

    pcb_pose_judge(insp, 15); /* within the limit */
    g_assert_true(insp->pose_judged);
    g_assert_null(insp->pose_why);
    g_assert_cmpstr(pcb_inspection_verdict(insp), ==, "pass");
    pcb_pose_judge(insp, 0); /* 0: never */
    g_assert_cmpstr(pcb_inspection_verdict(insp), ==, "pass");
    insp->reg.parallax.pose_valid = FALSE; /* no pose estimated: the tilt is unknown */
    pcb_pose_judge(insp, 10);
    g_assert_true(insp->pose_judged);
    g_autofree char *json2 = pcb_report_to_json(insp, NULL);
    g_autoptr(JsonNode) root2 = parse_json(json2);
    JsonObject *c2 = object_member(json_node_get_object(root2), "capture");
    g_assert_true(member_is_null(c2, "tilt_deg"));
    g_assert_true(json_object_get_boolean_member(c2, "judged"));
    g_assert_true(member_is_null(c2, "why"));
}

/* Capture guidance for the light: a photo under another light than the golden's is not judged
 * whole (at best "incomplete": implants in its shade are missed), and the JSON, the text
 * summary and the verdict say why, unless inspect.judge-other-light; findings still fail it;
 * under the golden's light nothing changes. */
static void
test_capture_light(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    insp->light_change = 7.4;
    insp->light_differs = TRUE;
    pcb_light_judge(insp, FALSE);
    g_assert_false(insp->light_judged);
    g_assert_cmpstr(pcb_inspection_verdict(insp), ==, "incomplete");
    g_autofree char *text = text_of(insp);
    g_assert_true(g_str_has_prefix(text, "INCOMPLETE  no findings"));
    g_assert_nonnull(strstr(text, "\nNOT JUDGED  the board: the light differs from the golden's "
                                  "(7.4x the images' own noise)"));
    g_assert_null(strstr(text, "NOTE")); /* said once */
    g_autofree char *json = pcb_report_to_json(insp, NULL);
    g_autoptr(JsonNode) root = parse_json(json);
    JsonObject *o = json_node_get_object(root);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "incomplete");
    JsonObject *l = object_member(o, "light");
    g_assert_true(json_object_get_boolean_member(l, "differs"));
    g_assert_false(json_object_get_boolean_member(l, "judged"));
    g_assert_nonnull(strstr(json_object_get_string_member(l, "why"), "may be missed"));

    pcb_light_judge(insp, TRUE); /* judged all the same: pass, with the note */
    g_assert_true(insp->light_judged);
    g_assert_null(insp->light_why);
    g_assert_cmpstr(pcb_inspection_verdict(insp), ==, "pass");
    g_autofree char *text2 = text_of(insp);
    g_assert_nonnull(strstr(text2, "\nNOTE  the light differs from the golden's (7.4x"));

    insp->light_differs = FALSE; /* the golden's light */
    pcb_light_judge(insp, FALSE);
    g_assert_true(insp->light_judged);
    g_assert_cmpstr(pcb_inspection_verdict(insp), ==, "pass");
    g_autofree char *json2 = pcb_report_to_json(insp, NULL);
    g_autoptr(JsonNode) root2 = parse_json(json2);
    JsonObject *l2 = object_member(json_node_get_object(root2), "light");
    g_assert_true(json_object_get_boolean_member(l2, "judged"));
    g_assert_true(member_is_null(l2, "why"));
}

/* What was not judged, in one line (the batch database's reason for an incomplete row): the
 * zones, then the board from its pose and under its light; NULL when everything was. */
static void
test_not_judged(void)
{
    g_autoptr(PcbInspection) insp = make_inspection();
    g_assert_null(pcb_report_not_judged(insp));
    PcbZoneJudgement z = { .name = g_strdup("BMC"), .judged = FALSE, .why = g_strdup("hidden") };
    g_array_append_val(insp->zones, z);
    insp->reg.parallax.valid = insp->reg.parallax.pose_valid = TRUE;
    insp->reg.parallax.tilt_deg = 12.5;
    pcb_pose_judge(insp, 10);
    insp->light_change = 6.0;
    insp->light_differs = TRUE;
    pcb_light_judge(insp, FALSE);
    g_autofree char *why = pcb_report_not_judged(insp);
    g_assert_true(g_str_has_prefix(why, "not judged from the photo: zone BMC (hidden); the board "
                                        "(the photo is seen 12.5 degrees"));
    g_assert_nonnull(strstr(why, "; the board (the light differs from the golden's (6.0x"));
}

/* ---- font -------------------------------------------------------------------------------- */

static void
test_font(void)
{
    for (int c = 0x21; c <= 0x7E; c++) { /* every printable character but space has ink */
        const guint8 *g = pcb_font_glyph((unsigned char) c);
        guint8 any = 0;
        for (int i = 0; i < PCB_FONT_WIDTH; i++)
            any |= g[i];
        g_assert_cmpuint(any, !=, 0);
        g_assert_cmpuint(any & 0x80, ==, strchr("gjpqy", c) != NULL ? 0x80 : 0); /* descenders */
    }
    g_assert_true(pcb_font_glyph(0x01) == pcb_font_glyph('?'));
    g_assert_true(pcb_font_glyph(0xE9) == pcb_font_glyph('?'));
    g_assert_cmpint(pcb_font_text_width("", 3), ==, 0);
    g_assert_cmpint(pcb_font_text_width("A", 1), ==, 5);
    g_assert_cmpint(pcb_font_text_width("AB", 2), ==, 22);
    g_assert_cmpint(pcb_font_text_width("Z\xc3\xb6n", 1), ==, 17); /* one character each */

    g_autoptr(PcbImage) img = pcb_image_new(40, 30, PCB_FORMAT_RGB8, NULL);
    static const guint8 white[3] = { 255, 255, 255 };
    pcb_font_draw_text(img, 4, 6, "H", 2, white);
    int ink = 0;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            if (pixel(img, x, y)[0] != 0) {
                g_assert_cmpint(x, >=, 4);
                g_assert_cmpint(x, <, 4 + 10);
                g_assert_cmpint(y, >=, 6);
                g_assert_cmpint(y, <, 6 + 2 * PCB_FONT_HEIGHT);
                ink++;
            }
    g_assert_cmpint(ink, ==, (7 + 7 + 3) * 4); /* 'H': two 7-px stems and a 3-px bar */
    pcb_font_draw_text(img, -100, -100, "clipped", 5, white);
    pcb_font_draw_text(img, 35, 25, "clipped", 5, white);
}

/* The canonical form behind signatures: layout and member order do not matter, the
 * signature member is left out, every value counts. */
static void
test_canonical(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *a = pcb_report_canonical(
        "{\"version\": 1, \"b\": [1, 2.5, \"x\\\"y\", null, true], \"a\": {\"z\": 0.1, \"y\": -3}}",
        &error);
    g_assert_no_error(error);
    g_assert_cmpstr(
        a, ==,
        "{\"a\":{\"y\":-3,\"z\":0.10000000000000001},\"b\":[1,2.5,\"x\\\"y\",null,true],"
        "\"version\":1}");
    g_autofree char *b = pcb_report_canonical(
        "{\n \"a\" : {\"y\":-3, \"z\":0.1},\"version\":1,\n\"signature\":{\"value\":\"x\"},"
        "\"b\":[1,2.5,\"x\\\"y\",null,true]}",
        &error);
    g_assert_cmpstr(a, ==, b);
    g_autofree char *c = pcb_report_canonical("{\"a\":{\"y\":-3,\"z\":0.2},\"version\":1,"
                                              "\"b\":[1,2.5,\"x\\\"y\",null,true]}",
                                              &error);
    g_assert_cmpstr(a, !=, c);
    g_assert_null(pcb_report_canonical("[1, 2]", &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_DECODE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/report/json/pass", test_json_pass);
    g_test_add_func("/report/json/findings", test_json_findings);
    g_test_add_func("/report/json/error", test_json_error);
    g_test_add_func("/report/json/non-finite-is-null", test_json_non_finite);
    g_test_add_func("/report/json/timing-in-order", test_json_timing);
    g_test_add_func("/report/json/write", test_json_write);
    g_test_add_func("/report/json/write-missing-dir", test_json_write_missing_dir);
    g_test_add_func("/report/json/write-failure-keeps-old", test_json_write_failure_keeps_old);
    g_test_add_func("/report/overlay/png", test_overlay_png);
    g_test_add_func("/report/overlay/jpeg", test_overlay_jpeg);
    g_test_add_func("/report/overlay/needs-reference", test_overlay_needs_reference);
    g_test_add_func("/report/overlay/write-fails", test_overlay_write_fails);
    g_test_add_func("/report/overlay/clips", test_overlay_clips);
    g_test_add_func("/report/text/fail", test_text_fail);
    g_test_add_func("/report/text/pass", test_text_pass);
    g_test_add_func("/report/capture/tilt", test_capture_tilt);
    g_test_add_func("/report/capture/light", test_capture_light);
    g_test_add_func("/report/capture/not-judged", test_not_judged);
    g_test_add_func("/report/font", test_font);
    g_test_add_func("/report/canonical-form", test_canonical);
    return g_test_run();
}
