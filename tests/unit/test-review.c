/* The review page writer (files, atomic replacement, the embedded report) and the decisions
 * an operator exports from it, applied to a report. The page's behaviour in a browser is
 * tests/browser/test-review.py. */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "testutil.h"

#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void
add_finding(PcbInspection *insp, PcbKind kind, double x, double y, double w, double h, double score)
{
    PcbFinding f = { 0 };
    f.kind = kind;
    f.bbox = (PcbRect){ x, y, w, h };
    f.area_px = w * h;
    f.area_mm2 = w * h / 100.0;
    f.score = score;
    f.peak = 9.5;
    f.zone = g_strdup("BMC");
    g_array_append_val(insp->findings, f);
}

/* A finished inspection of a @w x @h board with kept images and two findings. */
static PcbInspection *
make_inspection(int w, int h)
{
    PcbInspection *insp = pcb_inspection_new();
    insp->reference_path = g_strdup("golden.png");
    insp->photo_path = g_strdup("photo.jpg");
    insp->reference_sha256 = g_strnfill(64, 'a');
    insp->photo_sha256 = g_strdup(SHA_B);
    insp->reference_width = insp->photo_width = w;
    insp->reference_height = insp->photo_height = h;
    insp->px_per_mm = 10.0;
    insp->registered = TRUE;
    insp->reg.h[0] = insp->reg.h[4] = insp->reg.h[8] = 1.0;
    insp->reg.rms_px = 0.125;
    insp->reg.coverage = 1.0;
    insp->reference = tu_make_board(w, h, 3);
    insp->warped = tu_make_board(w, h, 4);
    g_autoptr(GError) error = NULL;
    insp->heat = pcb_image_new(w / 2, h / 2, PCB_FORMAT_GRAY8, &error);
    g_assert_no_error(error);
    add_finding(insp, PCB_KIND_ADDED, 40, 30, 12, 8, 0.93);
    add_finding(insp, PCB_KIND_REMOVED, w - 5, h - 5, 20, 20, 0.5); /* runs off the image */
    return insp;
}

static char *
fresh_dir(const char *name)
{
    char *dir = g_build_filename(tu_tmpdir(), name, NULL);
    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    return dir;
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

/* The JSON inside <script id="@id" type="application/json"> ... </script>. */
static JsonNode *
embedded(const char *html, const char *id)
{
    g_autofree char *open = g_strdup_printf("<script id=\"%s\" type=\"application/json\">", id);
    const char *start = strstr(html, open);
    g_assert_nonnull(start);
    start += strlen(open);
    const char *end = strstr(start, "</script>");
    g_assert_nonnull(end);
    g_autofree char *text = g_strndup(start, (gsize) (end - start));
    g_autoptr(GError) error = NULL;
    JsonNode *root = json_from_string(text, &error);
    g_assert_no_error(error);
    return root;
}

static void
test_review_files(void)
{
    g_autoptr(PcbInspection) insp = make_inspection(400, 300);
    g_autofree char *dir = fresh_dir("files");
    g_autofree char *page = g_build_filename(dir, "review.html", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_report_write_review(insp, NULL, NULL, page, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_entries(dir), ==, 2); /* the page and its folder, no temporaries */

    g_autofree char *folder = g_strconcat(page, ".d", NULL);
    g_assert_cmpuint(count_entries(folder), ==, 7); /* overview + 3 crops x 2 findings */
    static const char *const files[]
        = { "overview.jpg", "f1-ref.jpg",   "f1-photo.jpg", "f1-diff.jpg",
            "f2-ref.jpg",   "f2-photo.jpg", "f2-diff.jpg" };
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *f = g_build_filename(folder, files[i], NULL);
        int w = 0, h = 0;
        g_assert_true(pcb_image_probe(f, &w, &h, &error));
        g_assert_no_error(error);
        g_assert_cmpint(w, >, 0);
    }

    g_autofree char *html = NULL;
    g_assert_true(g_file_get_contents(page, &html, NULL, NULL));
    g_assert_true(g_str_has_prefix(html, "<!DOCTYPE html>"));
    /* nothing from the network: every http address is the SVG namespace */
    for (const char *p = strstr(html, "http"); p != NULL; p = strstr(p + 1, "http"))
        g_assert_true(g_str_has_prefix(p, "http://www.w3.org/2000/svg\""));
    g_assert_null(strstr(html, "<!--PCBDIFF-DATA-->"));
    g_autoptr(JsonNode) report = embedded(html, "pcbdiff-report");
    JsonObject *r = json_node_get_object(report);
    g_assert_cmpstr(json_object_get_string_member(r, "verdict"), ==, "fail");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(r, "findings")), ==, 2);

    g_autoptr(JsonNode) pnode = embedded(html, "pcbdiff-page");
    JsonObject *p = json_node_get_object(pnode);
    g_assert_cmpstr(json_object_get_string_member(p, "dir"), ==, "review.html.d");
    JsonArray *crops = json_object_get_array_member(p, "findings");
    g_assert_cmpuint(json_array_get_length(crops), ==, 2);
    /* the second finding's crop is clipped to the image */
    JsonArray *c = json_object_get_array_member(json_array_get_object_element(crops, 1), "crop");
    g_assert_cmpint(json_array_get_int_element(c, 0) + json_array_get_int_element(c, 2), <=, 400);
    g_assert_cmpint(json_array_get_int_element(c, 1) + json_array_get_int_element(c, 3), <=, 300);
    /* the first one is grown around its box to at least 160 px */
    c = json_object_get_array_member(json_array_get_object_element(crops, 0), "crop");
    g_assert_cmpint(json_array_get_int_element(c, 2), >=, 160);
    g_assert_cmpint(json_array_get_int_element(c, 0), <=, 40);
    g_assert_cmpint(json_array_get_int_element(c, 0) + json_array_get_int_element(c, 2), >=, 52);
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(p, "warnings")), ==, 0);
}

/* The warnings of @insp's review page, written into a fresh folder @name. */
static GStrv
page_warnings(const PcbInspection *insp, const char *name)
{
    g_autofree char *dir = fresh_dir(name);
    g_autofree char *page = g_build_filename(dir, "review.html", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_report_write_review(insp, NULL, NULL, page, &error));
    g_assert_no_error(error);
    g_autofree char *html = NULL;
    g_assert_true(g_file_get_contents(page, &html, NULL, NULL));
    g_autoptr(JsonNode) pnode = embedded(html, "pcbdiff-page");
    JsonArray *w = json_object_get_array_member(json_node_get_object(pnode), "warnings");
    GStrv out = g_new0(char *, json_array_get_length(w) + 1);
    for (guint i = 0; i < json_array_get_length(w); i++)
        out[i] = g_strdup(json_array_get_string_element(w, i));
    return out;
}

/* Under another light the page warns that only parts put on or taken off were judged, and,
 * unless such a photo is judged all the same, that the board was not judged whole. */
static void
test_review_light_warning(void)
{
    g_autoptr(PcbInspection) insp = make_inspection(400, 300);
    insp->light_change = 6.5;
    insp->light_differs = TRUE;
    pcb_light_judge(insp, TRUE);
    g_auto(GStrv) w = page_warnings(insp, "light");
    g_assert_cmpuint(g_strv_length(w), ==, 1);
    g_assert_nonnull(strstr(w[0], "the light differs from the golden's (6.5x"));
    g_assert_nonnull(strstr(w[0], "only parts put on or taken off were judged"));
    pcb_light_judge(insp, FALSE);
    g_auto(GStrv) w2 = page_warnings(insp, "light2");
    g_assert_cmpuint(g_strv_length(w2), ==, 1);
    g_assert_nonnull(strstr(w2[0], "the board was not judged whole: the light differs from the "
                                   "golden's (6.5x"));
}

/* A photo seen too obliquely to judge the board whole: the page says so. */
static void
test_review_tilt_warning(void)
{
    g_autoptr(PcbInspection) insp = make_inspection(400, 300);
    insp->registered = TRUE;
    insp->reg.parallax.valid = insp->reg.parallax.pose_valid = TRUE;
    insp->reg.parallax.tilt_deg = 14;
    pcb_pose_judge(insp, 10);
    g_auto(GStrv) w = page_warnings(insp, "tilt");
    g_assert_cmpuint(g_strv_length(w), ==, 1);
    g_assert_nonnull(
        strstr(w[0], "the board was not judged whole: the photo is seen 14.0 degrees"));
}

/* A page written again replaces the old one and its folder (no file of the old folder stays);
 * an error report without images still makes a page. */
static void
test_review_replace_and_error(void)
{
    g_autoptr(PcbInspection) insp = make_inspection(400, 300);
    g_autofree char *dir = fresh_dir("replace");
    g_autofree char *page = g_build_filename(dir, "r.html", NULL);
    g_autofree char *folder = g_strconcat(page, ".d", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_report_write_review(insp, NULL, NULL, page, &error));
    g_autofree char *stray = g_build_filename(folder, "stray.txt", NULL);
    g_assert_true(g_file_set_contents(stray, "x", -1, NULL));

    g_autoptr(PcbInspection) bare = pcb_inspection_new();
    bare->photo_path = g_strdup("photo.jpg");
    g_autoptr(GError) failure = g_error_new(PCB_ERROR, PCB_ERROR_REGISTER, "no match <here>");
    g_assert_true(pcb_report_write_review(bare, NULL, failure, page, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_entries(dir), ==, 2);
    g_assert_cmpuint(count_entries(folder), ==, 0);
    g_autofree char *html = NULL;
    g_assert_true(g_file_get_contents(page, &html, NULL, NULL));
    g_assert_null(strstr(html, "<here>")); /* '<' is escaped inside the script element */
    g_autoptr(JsonNode) report = embedded(html, "pcbdiff-report");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(report), "verdict"), ==,
                    "error");
}

static void
test_review_unwritable(void)
{
    g_autoptr(PcbInspection) insp = make_inspection(200, 150);
    g_autofree char *page = g_build_filename(tu_tmpdir(), "no-such-dir", "r.html", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_false(pcb_report_write_review(insp, NULL, NULL, page, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
}

/* ---- decisions --------------------------------------------------------------------------- */

static char *
report_text(void)
{
    g_autoptr(PcbInspection) insp = make_inspection(200, 150);
    return pcb_report_to_json(insp, NULL);
}

static char *
decisions(const char *report, const char *op, const char *at, const char *findings)
{
    return g_strdup_printf("{\"version\": 1, \"report\": \"%s\", \"operator\": \"%s\", "
                           "\"decided_at\": \"%s\", \"findings\": [%s]}",
                           report, op, at, findings);
}

static void
test_decisions_apply(void)
{
    g_autofree char *report = report_text();
    g_autofree char *d = decisions(SHA_B, " Ada ", "2026-12-05T10:11:12.345Z",
                                   "{\"index\": 1, \"verification\": \"DefectRejected\"}");
    int counts[PCB_VERIFICATION_COUNT];
    g_autoptr(GError) error = NULL;
    g_autofree char *out = pcb_report_apply_decisions(report, d, counts, &error);
    g_assert_no_error(error);
    g_assert_nonnull(out);
    g_assert_cmpint(counts[1], ==, 1);
    g_assert_cmpint(counts[3], ==, 1);
    g_autoptr(JsonNode) root = json_from_string(out, &error);
    g_assert_no_error(error);
    JsonObject *r = json_node_get_object(root);
    JsonArray *f = json_object_get_array_member(r, "findings");
    g_assert_cmpstr(
        json_object_get_string_member(json_array_get_object_element(f, 0), "verification"), ==,
        "NotVerifiedYet");
    g_assert_cmpstr(
        json_object_get_string_member(json_array_get_object_element(f, 1), "verification"), ==,
        "DefectRejected");
    JsonObject *review = json_object_get_object_member(r, "review");
    g_assert_cmpstr(json_object_get_string_member(review, "operator"), ==, "Ada");
    g_assert_cmpstr(json_object_get_string_member(review, "decided_at"), ==,
                    "2026-12-05T10:11:12.345Z");
    /* numbers keep their short spelling */
    g_assert_nonnull(strstr(out, "0.93"));
    g_assert_null(strstr(out, "0.9300000"));
}

static void
assert_refused(const char *report, const char *d, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = pcb_report_apply_decisions(report, d, NULL, &error);
    g_assert_null(out);
    g_assert_error(error, PCB_ERROR, PCB_ERROR_USAGE);
    g_assert_null(strchr(error->message, '\n')); /* one line */
    if (strstr(error->message, needle) == NULL)
        g_error("\"%s\" does not say \"%s\"", error->message, needle);
}

static void
test_decisions_refused(void)
{
    g_autofree char *report = report_text();
    const char *at = "2026-12-05T10:11:12Z";
    g_autofree char *other
        = decisions("cccc", "Ada", at, "{\"index\": 0, \"verification\": \"DefectConfirmed\"}");
    assert_refused(report, other, "not this one");
    g_autofree char *range
        = decisions(SHA_B, "Ada", at, "{\"index\": 2, \"verification\": \"DefectConfirmed\"}");
    assert_refused(report, range, "out of range");
    g_autofree char *neg
        = decisions(SHA_B, "Ada", at, "{\"index\": -1, \"verification\": \"DefectConfirmed\"}");
    assert_refused(report, neg, "out of range");
    g_autofree char *twice = decisions(SHA_B, "Ada", at,
                                       "{\"index\": 0, \"verification\": \"DefectConfirmed\"},"
                                       "{\"index\": 0, \"verification\": \"DefectRejected\"}");
    assert_refused(report, twice, "twice");
    g_autofree char *unknown
        = decisions(SHA_B, "Ada", at, "{\"index\": 0, \"verification\": \"Confirmed\"}");
    assert_refused(report, unknown, "unknown verification");
    g_autofree char *noname
        = decisions(SHA_B, "  ", at, "{\"index\": 0, \"verification\": \"DefectConfirmed\"}");
    assert_refused(report, noname, "operator");
    g_autofree char *badtime = decisions(SHA_B, "Ada", "yesterday", "");
    assert_refused(report, badtime, "decided_at");
    g_autofree char *noint
        = decisions(SHA_B, "Ada", at, "{\"index\": \"0\", \"verification\": \"DefectConfirmed\"}");
    assert_refused(report, noint, "index");
    assert_refused(report, "[1, 2]", "not a JSON object");
    assert_refused(report, "{\"version\": 2}", "version");
    assert_refused("{\"version\": 1}", other, "findings");
    assert_refused(report, "{nope", "not JSON");
    /* what json-glib reads but cannot write back (found by tests/fuzz/fuzz-decisions.c) */
    g_autofree char *none = decisions(SHA_B, "Ada", at, "");
    g_autofree char *surrogate = decisions(SHA_B, "Ada \\ud800x", at,
                                           "{\"index\": 0, \"verification\": \"DefectConfirmed\"}");
    assert_refused(report, surrogate, "not valid Unicode");
    const char *huge = "{\"version\": 1, \"inputs\": {\"photo\": {\"sha256\": \"" SHA_B "\"}}, "
                       "\"findings\": [], \"x\": 1e400}";
    assert_refused(huge, none, "cannot be written back");
}

/* The file front-end: written atomically to --out; on a refusal nothing is written. */
static void
test_decide_files(void)
{
    g_autofree char *dir = fresh_dir("decide");
    g_autofree char *report = report_text();
    g_autofree char *rpath = g_build_filename(dir, "r.json", NULL);
    g_autofree char *dpath = g_build_filename(dir, "d.json", NULL);
    g_autofree char *out = g_build_filename(dir, "out.json", NULL);
    g_assert_true(g_file_set_contents(rpath, report, -1, NULL));
    g_autofree char *bad = decisions(SHA_B, "Ada", "2026-12-05T10:11:12Z",
                                     "{\"index\": 9, \"verification\": \"DefectConfirmed\"}");
    g_assert_true(g_file_set_contents(dpath, bad, -1, NULL));
    g_autoptr(GError) error = NULL;
    g_assert_false(pcb_report_decide(rpath, dpath, out, NULL, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_USAGE);
    g_assert_true(g_str_has_prefix(error->message, dpath));
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    g_clear_error(&error);

    g_autofree char *good = decisions(SHA_B, "Ada", "2026-12-05T10:11:12Z", "");
    g_assert_true(g_file_set_contents(dpath, good, -1, NULL));
    g_assert_true(pcb_report_decide(rpath, dpath, NULL, NULL, &error)); /* in place */
    g_assert_no_error(error);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(rpath, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\"review\""));
    g_assert_cmpuint(count_entries(dir), ==, 2);

    g_autofree char *missing = g_build_filename(dir, "missing.json", NULL);
    g_assert_false(pcb_report_decide(rpath, missing, out, NULL, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/review/page/files", test_review_files);
    g_test_add_func("/review/page/light-warning", test_review_light_warning);
    g_test_add_func("/review/page/tilt-warning", test_review_tilt_warning);
    g_test_add_func("/review/page/replace-and-error", test_review_replace_and_error);
    g_test_add_func("/review/page/unwritable", test_review_unwritable);
    g_test_add_func("/review/decisions/apply", test_decisions_apply);
    g_test_add_func("/review/decisions/refused", test_decisions_refused);
    g_test_add_func("/review/decisions/files", test_decide_files);
    return g_test_run();
}
