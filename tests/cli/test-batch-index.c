/* pcbdiff batch --out DIR --html and pcbdiff db review: a small batch of the samples (a pass, three
 * fails, a photo whose name needs escaping in a URL, a corrupt file) writes each photo's review
 * page; the index lists every row with its verdict, and its links resolve to those pages from
 * the index's folder, wherever that is; a missing page gives no link; bad databases and
 * folders are refused with exit 2 and one line. */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "testutil.h"

static char *dir, *photos, *out, *db;

static void
assert_contains(const char *text, const char *needle)
{
    if (text == NULL || strstr(text, needle) == NULL)
        g_error("\"%s\" does not contain \"%s\"", text ? text : "(null)", needle);
}

static void
copy_sample(const char *name, const char *as)
{
    g_autofree char *src = g_build_filename(tu_srcdir(), "samples", name, NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
    g_autofree char *dst = g_build_filename(photos, as, NULL);
    g_assert_true(g_file_set_contents(dst, bytes, (gssize) len, NULL));
}

/* The rows embedded in @index (the JSON in <script id="pcbdiff-index">). */
static JsonNode *
index_data(const char *index)
{
    g_autofree char *html = NULL;
    g_assert_true(g_file_get_contents(index, &html, NULL, NULL));
    const char *open = "<script id=\"pcbdiff-index\" type=\"application/json\">\n";
    char *start = strstr(html, open);
    g_assert_nonnull(start);
    start += strlen(open);
    char *end = strstr(start, "\n</script>");
    g_assert_nonnull(end);
    *end = '\0';
    g_assert_null(strstr(html, "http://")); /* nothing from the network */
    g_assert_null(strstr(end + 1, "https://"));
    g_autoptr(GError) error = NULL;
    JsonNode *node = json_from_string(start, &error);
    g_assert_no_error(error);
    return node;
}

/* The file a row's link names, relative to @folder. */
static char *
link_target(const char *folder, const char *href)
{
    g_autofree char *path = g_uri_unescape_string(href, NULL);
    g_assert_nonnull(path);
    g_autofree char *joined = g_build_filename(folder, path, NULL);
    return g_canonicalize_filename(joined, NULL);
}

static void
setup(void)
{
    dir = g_strdup(tu_tmpdir());
    photos = g_build_filename(dir, "photos", NULL);
    out = g_build_filename(dir, "out", NULL);
    db = g_build_filename(dir, "results.sqlite", NULL);
    g_assert_cmpint(g_mkdir_with_parents(photos, 0755), ==, 0);
    copy_sample("clean-rotated.jpg", "clean-rotated.jpg");
    copy_sample("implant-bmc.jpg", "implant-bmc.jpg");
    copy_sample("removed-passive.jpg", "removed-passive.jpg");
    copy_sample("implant-upside-down.jpg", "upside down #2%.jpg");
    g_autofree char *bad = g_build_filename(photos, "corrupt.jpg", NULL);
    g_assert_true(g_file_set_contents(bad, "\xff\xd8\xff not really", -1, NULL));
}

static void
test_index_links_review_pages(void)
{
    g_autofree char *board = g_build_filename(tu_srcdir(), "reference-boards", "demo", NULL);
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "batch", "--board", board, "--db", db, "--out", out, "--html", "-j", "2", "-q",
           photos, NULL);
    g_assert_cmpint(b.status, ==, 2); /* the corrupt file */

    g_auto(TuRun) r = { 0 };
    tu_run(&r, "db", "review", db, out, NULL);
    g_assert_cmpint(r.status, ==, 0);
    assert_contains(r.out, "db review: 5 photos (");
    assert_contains(r.out, "1 error), 5 with a review page");
    g_autofree char *index = g_build_filename(out, "index.html", NULL);
    g_autoptr(JsonNode) node = index_data(index);
    JsonArray *rows = json_object_get_array_member(json_node_get_object(node), "rows");
    g_assert_cmpuint(json_array_get_length(rows), ==, 5);
    int pass = 0, fail = 0, error = 0;
    for (guint i = 0; i < json_array_get_length(rows); i++) {
        JsonObject *row = json_array_get_object_element(rows, i);
        const char *photo = json_object_get_string_member(row, "photo");
        const char *verdict = json_object_get_string_member(row, "verdict");
        pass += strcmp(verdict, "pass") == 0;
        fail += strcmp(verdict, "fail") == 0;
        error += strcmp(verdict, "error") == 0;
        g_assert_cmpstr(json_object_get_string_member(row, "board"), ==, "demo");
        gint64 n = json_object_get_int_member(row, "findings");
        g_assert_true((n > 0) == (strcmp(verdict, "fail") == 0));
        g_assert_true((n > 0) == !json_object_get_null_member(row, "score"));
        if (strstr(photo, "implant-bmc") != NULL) {
            JsonArray *zones = json_object_get_array_member(row, "zones");
            g_assert_cmpuint(json_array_get_length(zones), ==, 1);
            g_assert_cmpstr(json_array_get_string_element(zones, 0), ==, "BMC");
        }
        /* every row links to its page, beside the index, and the page's images folder is there */
        const char *href = json_object_get_string_member(row, "href");
        g_assert_nonnull(href);
        g_assert_null(strchr(href, '#'));
        g_assert_null(strchr(href, ' '));
        g_autofree char *page = link_target(out, href);
        g_assert_true(g_file_test(page, G_FILE_TEST_IS_REGULAR));
        g_autofree char *images = g_strconcat(page, ".d", NULL);
        g_assert_true(g_file_test(images, G_FILE_TEST_IS_DIR));
        g_autofree char *base = g_path_get_basename(photo);
        *strrchr(base, '.') = '\0';
        g_autofree char *page_base = g_path_get_basename(page);
        g_assert_true(g_str_has_prefix(page_base, base));
        /* the page is the photo's review page: its verdict inside */
        g_autofree char *html = NULL;
        g_assert_true(g_file_get_contents(page, &html, NULL, NULL));
        assert_contains(html, "id=\"pcbdiff-report\"");
    }
    g_assert_cmpint(pass, ==, 1);
    g_assert_cmpint(fail, ==, 3);
    g_assert_cmpint(error, ==, 1);

    /* the index elsewhere (--pages): links climb back; a page gone is no link, not a broken one */
    g_autofree char *gone = link_target(
        out, json_object_get_string_member(json_array_get_object_element(rows, 0), "href"));
    g_assert_cmpint(g_unlink(gone), ==, 0);
    g_autofree char *elsewhere = g_build_filename(dir, "site", "batch", NULL);
    g_auto(TuRun) r2 = { 0 };
    tu_run(&r2, "db", "review", "--pages", out, db, elsewhere, NULL);
    g_assert_cmpint(r2.status, ==, 0);
    assert_contains(r2.out, "4 with a review page");
    g_autofree char *index2 = g_build_filename(elsewhere, "index.html", NULL);
    g_autoptr(JsonNode) node2 = index_data(index2);
    JsonArray *rows2 = json_object_get_array_member(json_node_get_object(node2), "rows");
    g_assert_cmpuint(json_array_get_length(rows2), ==, 5);
    g_assert_true(json_object_get_null_member(json_array_get_object_element(rows2, 0), "href"));
    for (guint i = 1; i < 5; i++) {
        const char *href
            = json_object_get_string_member(json_array_get_object_element(rows2, i), "href");
        g_assert_true(g_str_has_prefix(href, "../../out/"));
        g_autofree char *page = link_target(elsewhere, href);
        g_assert_true(g_file_test(page, G_FILE_TEST_IS_REGULAR));
    }

    /* an operator's decisions (pcbdiff db decide) are counted per photo */
    const char *implant = NULL;
    for (guint i = 0; i < 5; i++) {
        const char *p
            = json_object_get_string_member(json_array_get_object_element(rows2, i), "photo");
        if (strstr(p, "implant-bmc") != NULL)
            implant = p;
    }
    g_assert_nonnull(implant);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(implant, &bytes, &len, NULL));
    g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *) bytes, len);
    g_autofree char *decisions = g_build_filename(dir, "decisions.json", NULL);
    g_autofree char *body = g_strdup_printf(
        "{\"version\": 1, \"report\": \"%s\", \"operator\": \"Ana\", \"decided_at\": "
        "\"2026-12-06T04:00:00Z\", \"findings\": [{\"index\": 0, \"verification\": "
        "\"DefectConfirmed\"}]}",
        sha);
    g_assert_true(g_file_set_contents(decisions, body, -1, NULL));
    g_auto(TuRun) d = { 0 };
    tu_run(&d, "db", "decide", db, decisions, NULL);
    g_assert_cmpint(d.status, ==, 0);
    g_auto(TuRun) r3 = { 0 };
    tu_run(&r3, "db", "review", "--pages", out, db, elsewhere, NULL);
    g_assert_cmpint(r3.status, ==, 0);
    g_autoptr(JsonNode) node3 = index_data(index2);
    JsonArray *rows3 = json_object_get_array_member(json_node_get_object(node3), "rows");
    for (guint i = 0; i < json_array_get_length(rows3); i++) {
        JsonObject *row = json_array_get_object_element(rows3, i);
        if (strstr(json_object_get_string_member(row, "photo"), "implant-bmc") != NULL) {
            g_assert_cmpint(json_object_get_int_member(row, "confirmed"), ==, 1);
            g_assert_cmpint(json_object_get_int_member(row, "rejected"), ==, 0);
        }
        else
            g_assert_true(json_object_get_null_member(row, "confirmed"));
    }
}

static void
assert_refused(TuRun *r, const char *why)
{
    g_assert_cmpint(r->status, ==, 2);
    assert_contains(r->err, why);
    g_assert_cmpint(strchr(r->err, '\n') - r->err, ==, (long) strlen(r->err) - 1); /* one line */
}

static void
test_refuses_bad_input(void)
{
    g_autofree char *missing = g_build_filename(dir, "missing.sqlite", NULL);
    g_autofree char *o = g_build_filename(dir, "o", NULL);
    g_auto(TuRun) a = { 0 };
    tu_run(&a, "db", "review", missing, o, NULL);
    assert_refused(&a, "No such file");
    g_assert_false(g_file_test(o, G_FILE_TEST_EXISTS));

    g_autofree char *text = g_build_filename(dir, "text.sqlite", NULL);
    g_assert_true(g_file_set_contents(text, "not a database at all, just some text\n", -1, NULL));
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "db", "review", text, o, NULL);
    assert_refused(&b, "not a results database");

    /* OUTDIR under a regular file */
    g_autofree char *under = g_build_filename(text, "sub", NULL);
    g_auto(TuRun) c = { 0 };
    tu_run(&c, "db", "review", db, under, NULL);
    assert_refused(&c, "cannot make the output folder");

    g_auto(TuRun) d = { 0 };
    tu_run(&d, "db", "review", db, NULL);
    assert_refused(&d, "expected DB OUTDIR");

    g_auto(TuRun) e = { 0 };
    tu_run(&e, "batch", "--db", db, "--html", photos, NULL);
    assert_refused(&e, "--html needs --out");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup();
    g_test_add_func("/db-review/index-links-review-pages", test_index_links_review_pages);
    g_test_add_func("/db-review/refuses-bad-input", test_refuses_bad_input);
    return g_test_run();
}
