/* The command-line contract: exit codes, messages, JSON shape, bad input. Runs the real
 * binary ($PCBDIFF, set by make check) on fixtures made at test time. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "testutil.h"

static const char *dir;
static char *ref_png, *clean_jpg, *implant_jpg, *other_jpg;

static char *
path(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

/* @src re-encoded as JPEG at @quality into the test directory as @name; its path. */
static char *
jpeg_copy(const char *src, const char *name, int quality)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) img = pcb_image_load(src, NULL, &error);
    g_assert_no_error(error);
    char *copy = path(name);
    g_assert_true(pcb_image_save_jpeg(img, copy, quality, &error));
    return copy;
}

static JsonObject *
read_report(JsonParser *parser, const char *file)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_file(parser, file, &error));
    g_assert_no_error(error);
    JsonNode *root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    JsonObject *o = json_node_get_object(root);
    g_assert_cmpint(json_object_get_int_member(o, "version"), ==, 1);
    return o;
}

static void
assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        g_error("\"%s\" does not contain \"%s\"", text, needle);
}

static void
test_help_and_version(void)
{
    g_auto(TuRun) a = { 0 };
    tu_run(&a, "--help", NULL);
    g_assert_cmpint(a.status, ==, 0);
    assert_contains(a.out, "inspect");
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "--version", NULL);
    g_assert_cmpint(b.status, ==, 0);
    assert_contains(b.out, "pcbdiff " PCBDIFF_VERSION);
    g_auto(TuRun) c = { 0 };
    tu_run(&c, "inspect", "--help", NULL);
    g_assert_cmpint(c.status, ==, 0);
    assert_contains(c.out, "--json");
}

static void
test_usage_errors(void)
{
    g_auto(TuRun) a = { 0 };
    tu_run(&a, NULL);
    g_assert_cmpint(a.status, ==, 2);
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "frobnicate", NULL);
    g_assert_cmpint(b.status, ==, 2);
    assert_contains(b.err, "unknown command");
    g_auto(TuRun) c = { 0 };
    tu_run(&c, "inspect", ref_png, NULL);
    g_assert_cmpint(c.status, ==, 2);
    g_auto(TuRun) d = { 0 };
    tu_run(&d, "inspect", "--no-such-option", ref_png, clean_jpg, NULL);
    g_assert_cmpint(d.status, ==, 2);
    g_auto(TuRun) e = { 0 };
    tu_run(&e, "inspect", "--px-per-mm", "-3", ref_png, clean_jpg, NULL);
    g_assert_cmpint(e.status, ==, 2);
}

static void
test_clean_photo_passes(void)
{
    g_autofree char *json = path("clean.json");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", ref_png, clean_jpg, "--json", json, "--px-per-mm", "10", NULL);
    g_assert_cmpint(r.status, ==, 0);
    assert_contains(r.out, "PASS");
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = read_report(p, json);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "pass");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "findings")), ==, 0);
    JsonObject *reg = json_object_get_object_member(o, "registration");
    g_assert_cmpuint(
        json_array_get_length(json_object_get_array_member(reg, "homography_photo_to_reference")),
        ==, 9);
    g_assert_true(json_object_has_member(o, "timing_ms"));
    JsonObject *in = json_object_get_object_member(o, "inputs");
    const char *sha
        = json_object_get_string_member(json_object_get_object_member(in, "photo"), "sha256");
    g_assert_cmpuint(strlen(sha), ==, 64);
}

static void
test_verbosity(void)
{
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "inspect", "-v", "-v", ref_png, clean_jpg, NULL);
    g_assert_cmpint(v.status, ==, 0);
    assert_contains(v.err, "register"); /* -v: stage timings */
    assert_contains(v.err, "debug:");   /* -v -v: debug detail */
    g_auto(TuRun) q = { 0 };
    tu_run(&q, "inspect", "-q", ref_png, clean_jpg, NULL);
    g_assert_cmpint(q.status, ==, 0);
    g_assert_cmpstr(q.out, ==, "");
    g_assert_cmpstr(q.err, ==, "");
}

static void
test_implant_is_found(void)
{
    g_autofree char *json = path("implant.json");
    g_autofree char *overlay = path("implant-overlay.png");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", ref_png, implant_jpg, "--json", json, "--overlay", overlay, "--px-per-mm",
           "10", NULL);
    g_assert_cmpint(r.status, ==, 1);
    assert_contains(r.out, "FAIL");
    assert_contains(r.out, "added");
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = read_report(p, json);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "fail");
    JsonArray *f = json_object_get_array_member(o, "findings");
    g_assert_cmpuint(json_array_get_length(f), ==, 1);
    JsonObject *f0 = json_array_get_object_element(f, 0);
    g_assert_cmpstr(json_object_get_string_member(f0, "kind"), ==, "added");
    JsonArray *bb = json_object_get_array_member(f0, "bbox");
    double cx = json_array_get_double_element(bb, 0) + json_array_get_double_element(bb, 2) / 2;
    double cy = json_array_get_double_element(bb, 1) + json_array_get_double_element(bb, 3) / 2;
    g_assert_cmpfloat(fabs(cx - 396), <, 8);
    g_assert_cmpfloat(fabs(cy - 243), <, 8);
    g_assert_cmpfloat(json_object_get_double_member(f0, "area_mm2"), >, 0.5);
    g_assert_true(g_file_test(overlay, G_FILE_TEST_IS_REGULAR));
}

static void
expect_trouble(const char *photo, int status, const char *needle)
{
    g_autofree char *json = path("trouble.json");
    g_unlink(json);
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", ref_png, photo, "--json", json, NULL);
    g_assert_cmpint(r.status, ==, status);
    assert_contains(r.err, needle);
    g_assert_cmpuint(strlen(r.err), >, 0);
    g_assert_null(strchr(r.err, '\n') == r.err + strlen(r.err) - 1 ? NULL : "one line");
    /* an error report is still written */
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = read_report(p, json);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "error");
    g_assert_true(json_object_has_member(o, "error"));
}

static void
write_bytes(const char *file, const void *data, gsize len)
{
    g_assert_true(g_file_set_contents(file, data, (gssize) len, NULL));
}

static void
test_bad_photos(void)
{
    g_autofree char *empty = path("empty.jpg");
    write_bytes(empty, "", 0);
    expect_trouble(empty, 2, empty);
    g_autofree char *junk = path("junk.jpg");
    write_bytes(junk, "this is not an image at all, just text", 38);
    expect_trouble(junk, 2, junk);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(clean_jpg, &bytes, &len, NULL));
    g_autofree char *truncated = path("truncated.jpg");
    write_bytes(truncated, bytes, len * 6 / 10);
    expect_trouble(truncated, 2, truncated);
    g_autofree char *corrupt = path("corrupt.jpg");
    g_autofree char *copy = g_memdup2(bytes, len);
    for (gsize i = 200; i < len; i += 97)
        copy[i] = (char) 0xFF;
    write_bytes(corrupt, copy, len);
    g_auto(TuRun) r = { 0 }; /* damaged entropy data: an error or a registration failure */
    tu_run(&r, "inspect", ref_png, corrupt, NULL);
    g_assert_true(r.status == 2 || r.status == 3);
    g_autofree char *missing = path("no-such-photo.jpg");
    expect_trouble(missing, 2, "no-such-photo.jpg");
}

/* The rough edges once found: each is exit 2 with a plain one-line reason, never a crash or a
 * library's message. */
static void
test_threads_out_of_range(void)
{
    const char *bad[] = { "100000", "257", "-1" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(TuRun) r = { 0 };
        tu_run(&r, "inspect", ref_png, clean_jpg, "--threads", bad[i], NULL);
        g_assert_cmpint(r.status, ==, 2);
        assert_contains(r.err, "--threads");
        assert_contains(r.err, "at most 256");
    }
    g_auto(TuRun) m = { 0 };
    tu_run(&m, "inspect", ref_png, clean_jpg, "--max-megapixels", "-3", NULL);
    g_assert_cmpint(m.status, ==, 2);
    assert_contains(m.err, "--max-megapixels -3: out of range");
}

static void
test_tiny_image(void)
{
    const int sides[][2] = { { 1, 1 }, { 3, 2 }, { 15, 400 } };
    for (guint i = 0; i < G_N_ELEMENTS(sides); i++) {
        g_autoptr(PcbImage) img = pcb_image_new(sides[i][0], sides[i][1], PCB_FORMAT_RGB8, NULL);
        g_autofree char *name = g_strdup_printf("tiny-%dx%d.png", sides[i][0], sides[i][1]);
        g_autofree char *tiny = path(name);
        g_assert_true(pcb_image_save_png(img, tiny, NULL));
        g_auto(TuRun) r = { 0 }; /* as the photo */
        tu_run(&r, "inspect", ref_png, tiny, NULL);
        g_assert_cmpint(r.status, ==, 2);
        assert_contains(r.err, "px is too small to inspect (at least 16 x 16 px)");
        g_assert_null(strstr(r.err, "OpenCV"));
        g_auto(TuRun) g = { 0 }; /* as the golden */
        tu_run(&g, "inspect", tiny, clean_jpg, NULL);
        g_assert_cmpint(g.status, ==, 2);
        assert_contains(g.err, "too small to inspect");
    }
    /* a side over 32766 px cannot be warped: refused as plainly */
    g_autoptr(PcbImage) longest = pcb_image_new(32767, 16, PCB_FORMAT_RGB8, NULL);
    g_autofree char *too_long = path("long-32767x16.png");
    g_assert_true(pcb_image_save_png(longest, too_long, NULL));
    g_auto(TuRun) l = { 0 };
    tu_run(&l, "inspect", ref_png, too_long, NULL);
    g_assert_cmpint(l.status, ==, 2);
    assert_contains(l.err, "32767 x 16 px is too large to inspect (at most 32766 px a side)");
}

static void
test_same_output_twice(void)
{
    g_autofree char *out = path("same.out");
    g_autofree char *folder = g_path_get_dirname(out);
    g_autofree char *other_spelling = g_strdup_printf("%s/./same.out", folder);
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", ref_png, clean_jpg, "--json", out, "--overlay", other_spelling, NULL);
    g_assert_cmpint(r.status, ==, 2);
    assert_contains(r.err, "--json and --overlay name the same file");
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS)); /* nothing written */
    g_auto(TuRun) w = { 0 };
    tu_run(&w, "register", ref_png, clean_jpg, "--out", out, "--json", out, NULL);
    g_assert_cmpint(w.status, ==, 2);
    assert_contains(w.err, "--out and --json name the same file");
}

static void
test_over_pixel_cap(void)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--max-megapixels", "0.1", ref_png, clean_jpg, NULL);
    g_assert_cmpint(r.status, ==, 2);
    assert_contains(r.err, "megapixels");
}

static void
test_other_board_is_unregistered(void)
{
    expect_trouble(other_jpg, 3, "limit");
}

static void
test_unwritable_output(void)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", ref_png, clean_jpg, "--json", "/nonexistent-dir/r.json", NULL);
    g_assert_cmpint(r.status, ==, 2);
    assert_contains(r.err, "/nonexistent-dir");
    g_auto(TuRun) o = { 0 };
    tu_run(&o, "inspect", ref_png, clean_jpg, "--overlay", dir, NULL); /* a directory */
    g_assert_cmpint(o.status, ==, 2);
}

static void
test_board_profile(void)
{
    g_autofree char *board = path("board");
    g_mkdir(board, 0755);
    g_autofree char *golden = g_build_filename(board, "golden.png", NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(ref_png, &bytes, &len, NULL));
    write_bytes(golden, bytes, len);
    g_autofree char *ini = g_build_filename(board, "board.ini", NULL);
    const char *good = "[board]\nname = test\npx-per-mm = 10\n\n[zone BMC]\nrect = 360, 210, "
                       "80, 70\nsensitivity = 1.5\n";
    write_bytes(ini, good, strlen(good));
    g_autofree char *json = path("board.json");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--board", board, implant_jpg, "--json", json, NULL);
    g_assert_cmpint(r.status, ==, 1);
    assert_contains(r.out, "BMC");
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = read_report(p, json);
    JsonObject *f0 = json_array_get_object_element(json_object_get_array_member(o, "findings"), 0);
    g_assert_cmpstr(json_object_get_string_member(f0, "zone"), ==, "BMC");

    const char *bad = "[board]\nname = test\npx-per-mm = ten\n";
    write_bytes(ini, bad, strlen(bad));
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "inspect", "--board", board, implant_jpg, NULL);
    g_assert_cmpint(b.status, ==, 2);
    assert_contains(b.err, "board.ini:3:");
}

static void
test_register_command(void)
{
    g_autofree char *warped = path("warped.png");
    g_autofree char *json = path("register.json");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "register", ref_png, clean_jpg, "--out", warped, "--json", json, NULL);
    g_assert_cmpint(r.status, ==, 0);
    assert_contains(r.out, "rms");
    g_autoptr(PcbImage) img = pcb_image_load(warped, NULL, NULL);
    g_assert_nonnull(img);
    g_assert_cmpint(img->width, ==, 720);
    g_assert_cmpint(img->height, ==, 480);
    g_auto(TuRun) u = { 0 };
    tu_run(&u, "register", ref_png, other_jpg, "--out", warped, NULL);
    g_assert_cmpint(u.status, ==, 3);
    g_auto(TuRun) m = { 0 };
    tu_run(&m, "register", ref_png, clean_jpg, NULL); /* --out is required */
    g_assert_cmpint(m.status, ==, 2);
}

/* Capture guidance: a zone the photo does not show is not judged, the verdict is incomplete
 * (exit 1), and the summary says which zone and why; a zone it shows is judged. */
static void
test_zone_not_in_photo(void)
{
    g_autofree char *board = path("zboard");
    g_mkdir(board, 0755);
    g_autoptr(PcbImage) golden = pcb_image_load(ref_png, NULL, NULL);
    g_assert_nonnull(golden);
    g_autofree char *gpath = g_build_filename(board, "golden.png", NULL);
    g_assert_true(pcb_image_save_png(golden, gpath, NULL));
    g_autofree char *ini = g_build_filename(board, "board.ini", NULL);
    const char *text = "[board]\nname = zones\npx-per-mm = 10\n\n[zone LEFT]\nrect = 60, 100, "
                       "150, 250\n\n[zone RIGHT]\nrect = 560, 100, 120, 250\n";
    write_bytes(ini, text, strlen(text));
    /* the photo shows the left 55% of the board only */
    g_autoptr(PcbImage) view
        = pcb_image_new_view(396, golden->height, golden->format, golden->stride, golden->data);
    g_autoptr(PcbImage) left = pcb_image_copy(view, NULL);
    g_autofree char *photo = path("left.png");
    g_assert_true(pcb_image_save_png(left, photo, NULL));
    g_autofree char *json = path("zones.json");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--board", board, photo, "--json", json, NULL);
    g_assert_cmpint(r.status, ==, 1);
    assert_contains(r.out, "INCOMPLETE");
    assert_contains(r.out, "NOT JUDGED  zone RIGHT: only 0% of it is in the photo");
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = read_report(p, json);
    g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "incomplete");
    JsonArray *zones = json_object_get_array_member(o, "zones");
    g_assert_cmpuint(json_array_get_length(zones), ==, 2);
    JsonObject *z0 = json_array_get_object_element(zones, 0);
    JsonObject *z1 = json_array_get_object_element(zones, 1);
    g_assert_cmpstr(json_object_get_string_member(z0, "name"), ==, "LEFT");
    g_assert_true(json_object_get_boolean_member(z0, "judged"));
    g_assert_false(json_object_get_boolean_member(z1, "judged"));
    g_assert_cmpfloat(json_object_get_double_member(z1, "covered"), <, 0.05);
}

static void
make_fixtures(void)
{
    dir = tu_tmpdir();
    g_autoptr(PcbImage) board = tu_make_board(720, 480, 5);
    /* bare mask where the implant goes, in the golden and the photos alike */
    for (int y = 225; y < 262; y++)
        for (int x = 370; x < 422; x++) {
            guint8 *p = pcb_image_row(board, y) + 3 * x;
            p[0] = 30;
            p[1] = 100;
            p[2] = 50;
        }
    ref_png = path("ref.png");
    g_assert_true(pcb_image_save_png(board, ref_png, NULL));
    double h[9];
    tu_pose(h, 720, 480, 860, 640, 21, 1.15, 5e-5, 0, 0, 0);
    g_autoptr(PcbImage) clean = tu_photograph(board, h, 0.01, 860, 640, 70);
    clean_jpg = path("clean.jpg");
    g_assert_true(pcb_image_save_jpeg(clean, clean_jpg, 90, NULL));
    /* a 20 x 10 px (2 x 1 mm at 10 px/mm) dark six-pin part on the bare patch */
    g_autoptr(PcbImage) tampered = pcb_image_copy(board, NULL);
    for (int y = 238; y < 248; y++)
        for (int x = 386; x < 406; x++) {
            guint8 *p = pcb_image_row(tampered, y) + 3 * x;
            gboolean lead = (y < 240 || y >= 246) && (x % 7 < 3);
            p[0] = p[1] = p[2] = lead ? 200 : 28;
        }
    g_autoptr(PcbImage) implant = tu_photograph(tampered, h, 0.01, 860, 640, 70);
    implant_jpg = path("implant.jpg");
    g_assert_true(pcb_image_save_jpeg(implant, implant_jpg, 90, NULL));
    g_autoptr(PcbImage) other = tu_make_board(720, 480, 1234);
    g_autoptr(PcbImage) other_photo = tu_photograph(other, h, 0, 860, 640, 70);
    other_jpg = path("other.jpg");
    g_assert_true(pcb_image_save_jpeg(other_photo, other_jpg, 90, NULL));
}

/* A photo compared with a re-encoded copy of itself: nothing to report. */
static void
test_reencoded_copy_passes(void)
{
    g_autofree char *copy = jpeg_copy(implant_jpg, "implant-q80.jpg", 80);
    g_autofree char *json = path("reencoded.json");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", implant_jpg, copy, "--json", json, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = read_report(p, json);
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "findings")), ==, 0);
}

/* --aligned: no registration; the photo must have the reference's size. */
static void
test_aligned(void)
{
    g_autofree char *same = jpeg_copy(ref_png, "aligned.jpg", 92);
    g_auto(TuRun) a = { 0 };
    tu_run(&a, "inspect", "--aligned", ref_png, same, NULL);
    g_assert_cmpint(a.status, ==, 0);
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "inspect", "--aligned", ref_png, clean_jpg, NULL);
    g_assert_cmpint(b.status, ==, 3);
    assert_contains(b.err, "must have the reference's size");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    make_fixtures();
    g_test_add_func("/cli/help-and-version", test_help_and_version);
    g_test_add_func("/cli/usage-errors-exit-2", test_usage_errors);
    g_test_add_func("/cli/clean-photo-exit-0", test_clean_photo_passes);
    g_test_add_func("/cli/implant-exit-1", test_implant_is_found);
    g_test_add_func("/cli/verbosity", test_verbosity);
    g_test_add_func("/cli/bad-photos-exit-2", test_bad_photos);
    g_test_add_func("/cli/over-pixel-cap-exit-2", test_over_pixel_cap);
    g_test_add_func("/cli/other-board-exit-3", test_other_board_is_unregistered);
    g_test_add_func("/cli/unwritable-output-exit-2", test_unwritable_output);
    g_test_add_func("/cli/board-profile", test_board_profile);
    g_test_add_func("/cli/zone-not-in-photo-incomplete", test_zone_not_in_photo);
    g_test_add_func("/cli/register-command", test_register_command);
    g_test_add_func("/cli/reencoded-copy-exit-0", test_reencoded_copy_passes);
    g_test_add_func("/cli/aligned", test_aligned);
    g_test_add_func("/cli/threads-out-of-range", test_threads_out_of_range);
    g_test_add_func("/cli/tiny-image-plain-reason", test_tiny_image);
    g_test_add_func("/cli/same-output-twice", test_same_output_twice);
    int rc = g_test_run();
    g_free(ref_png);
    g_free(clean_jpg);
    g_free(implant_jpg);
    g_free(other_jpg);
    return rc;
}
