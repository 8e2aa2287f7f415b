/* Whether a photo in a hot folder is complete (src/watch/settle.c): no prefix of a JPEG or PNG
 * passes for a whole one, also where a prefix ends on an embedded thumbnail's end marker; a
 * file is handed over only after its quiet period, with the bytes that were checked. The whole
 * watch mode, with a slow writer, is tests/watch/test-watch.py. */
#include <string.h>
#include <glib/gstdio.h>
#include "testutil.h"
#include "watch/settle.h"

static GBytes *
sample(const char *name)
{
    g_autofree char *path
        = g_build_filename(tu_srcdir(), "tests", "fuzz", "corpus", "image", name, NULL);
    char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_bytes_new_take(data, len);
}

/* Every proper prefix of @b is partial, the whole is complete. */
static void
assert_prefixes_partial(GBytes *b)
{
    gsize len = 0;
    const guint8 *d = g_bytes_get_data(b, &len);
    for (gsize n = 0; n < len; n++)
        if (settle_shape(d, n) != SETTLE_SHAPE_PARTIAL)
            g_error("prefix of %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes: %s", n, len,
                    settle_shape_name(settle_shape(d, n)));
    g_assert_cmpint(settle_shape(d, len), ==, SETTLE_SHAPE_COMPLETE);
}

static void
test_jpeg_prefixes(void)
{
    const char *names[] = { "small.jpg", "progressive.jpg", "exif-orient6.jpg" };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(GBytes) b = sample(names[i]);
        assert_prefixes_partial(b);
    }
}

static void
test_png_prefixes(void)
{
    g_autoptr(GBytes) b = sample("small.png");
    assert_prefixes_partial(b);
}

/* A JPEG whose APP1 holds a whole JPEG (an EXIF thumbnail): cut right after the thumbnail's
 * EOI it ends in FF D9 like a whole file, and is still partial. */
static void
test_thumbnail_eoi_is_not_the_end(void)
{
    g_autoptr(GBytes) thumb = sample("small.jpg");
    g_autoptr(GBytes) main_image = sample("progressive.jpg");
    gsize tl = 0, ml = 0;
    const guint8 *t = g_bytes_get_data(thumb, &tl);
    const guint8 *m = g_bytes_get_data(main_image, &ml);
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, m, 2); /* SOI */
    guint8 app1[4] = { 0xff, 0xe1, (guint8) ((tl + 2) >> 8), (guint8) (tl + 2) };
    g_byte_array_append(a, app1, 4);
    g_byte_array_append(a, t, (guint) tl);
    gsize cut = a->len;
    g_assert_cmpuint(a->data[cut - 2], ==, 0xff);
    g_assert_cmpuint(a->data[cut - 1], ==, 0xd9);
    g_byte_array_append(a, m + 2, (guint) (ml - 2));
    g_assert_cmpint(settle_shape(a->data, cut), ==, SETTLE_SHAPE_PARTIAL);
    g_assert_cmpint(settle_shape(a->data, a->len), ==, SETTLE_SHAPE_COMPLETE);
    g_byte_array_unref(a);
}

static void
test_other_shapes(void)
{
    g_autoptr(GBytes) b = sample("small.jpg");
    gsize len = 0;
    const guint8 *d = g_bytes_get_data(b, &len);
    /* bytes after EOI (some cameras append a trailer) */
    g_autofree guint8 *tail = g_malloc(len + 16);
    memcpy(tail, d, len);
    memset(tail + len, 0x55, 16);
    g_assert_cmpint(settle_shape(tail, len + 16), ==, SETTLE_SHAPE_COMPLETE);
    /* a prefix followed by zeros: a preallocated file being filled */
    memset(tail + len / 2, 0, len + 16 - len / 2);
    g_assert_cmpint(settle_shape(tail, len + 16), ==, SETTLE_SHAPE_PARTIAL);
    /* a marker position holding garbage */
    memcpy(tail, d, len);
    tail[2] = 0x12;
    g_assert_cmpint(settle_shape(tail, len), ==, SETTLE_SHAPE_BROKEN);
    const guint8 text[] = "this is not an image";
    g_assert_cmpint(settle_shape(text, sizeof text - 1), ==, SETTLE_SHAPE_FOREIGN);
    const guint8 zeros[64] = { 0 };
    g_assert_cmpint(settle_shape(zeros, sizeof zeros), ==, SETTLE_SHAPE_PARTIAL);
}

static void
write_bytes(const char *path, const guint8 *d, gsize n, const char *mode)
{
    FILE *f = fopen(path, mode);
    g_assert_nonnull(f);
    g_assert_cmpuint(fwrite(d, 1, n, f), ==, n);
    g_assert_cmpint(fclose(f), ==, 0);
}

/* The quiet period, then the structure; a file that changes starts over; the bytes handed over
 * are the whole file; a vanished file is gone. Times are given, not waited for. */
static void
test_file_states(void)
{
    g_autoptr(GBytes) b = sample("small.jpg");
    gsize len = 0;
    const guint8 *d = g_bytes_get_data(b, &len);
    g_autofree char *path = g_build_filename(tu_tmpdir(), "settle.jpg", NULL);
    const SettleRules rules = { .quiet_us = 500000, .give_up_us = 5000000 };
    gint64 now = 1000000000;
    write_bytes(path, d, len / 2, "wb");
    g_autoptr(SettleFile) f = settle_file_new(path, now);
    GBytes *got = NULL;
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_WAITING);
    /* quiet long enough, but half a JPEG */
    now += 2 * rules.quiet_us;
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_WAITING);
    g_assert_null(got);
    /* the rest arrives: the quiet period starts again */
    write_bytes(path, d + len / 2, len - len / 2, "ab");
    now += 1000;
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_WAITING);
    now += rules.quiet_us / 2;
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_WAITING);
    /* an event in the file restarts it too */
    settle_file_touched(f, now);
    now += rules.quiet_us - 1;
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_WAITING);
    now += 1;
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_READY);
    g_assert_nonnull(got);
    g_assert_true(g_bytes_equal(got, b));
    g_bytes_unref(got);
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(settle_file_poll(f, &rules, now, &got), ==, SETTLE_GONE);
}

/* A partial file unchanged for the give-up period is handed over as it is. */
static void
test_give_up(void)
{
    g_autoptr(GBytes) b = sample("small.png");
    gsize len = 0;
    const guint8 *d = g_bytes_get_data(b, &len);
    g_autofree char *path = g_build_filename(tu_tmpdir(), "stale.png", NULL);
    write_bytes(path, d, len - 5, "wb");
    const SettleRules rules = { .quiet_us = 100000, .give_up_us = 3000000 };
    gint64 now = 5000000;
    g_autoptr(SettleFile) f = settle_file_new(path, now);
    GBytes *got = NULL;
    g_assert_cmpint(settle_file_poll(f, &rules, now + 200000, &got), ==, SETTLE_WAITING);
    g_assert_cmpint(settle_file_poll(f, &rules, now + 2999999, &got), ==, SETTLE_WAITING);
    g_assert_cmpint(settle_file_poll(f, &rules, now + 3000000, &got), ==, SETTLE_STALE);
    g_assert_nonnull(got);
    g_assert_cmpuint(g_bytes_get_size(got), ==, len - 5);
    g_bytes_unref(got);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/settle/jpeg-prefixes-are-partial", test_jpeg_prefixes);
    g_test_add_func("/settle/png-prefixes-are-partial", test_png_prefixes);
    g_test_add_func("/settle/thumbnail-eoi-is-not-the-end", test_thumbnail_eoi_is_not_the_end);
    g_test_add_func("/settle/trailer-zeros-garbage-text", test_other_shapes);
    g_test_add_func("/settle/quiet-then-complete", test_file_states);
    g_test_add_func("/settle/gives-up-on-a-stale-file", test_give_up);
    return g_test_run();
}
