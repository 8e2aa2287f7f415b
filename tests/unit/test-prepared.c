/* A prepared reference (pcbdiff/inspect.h): the golden decoded once, then photos inspected
 * against it from a file, an encoded buffer or decoded pixels, from several threads at once,
 * give exactly the findings pcb_inspect() gives. */
#include <string.h>
#include "testutil.h"

#define THREADS 4
#define ROUNDS  2

static const char *photos[]
    = { "implant-bmc", "removed-passive", "clean-rotated", "implant-upside-down" };

/* A finding list as text: kind, box and score to 3 decimals, in report order. */
static char *
summary(const PcbInspection *insp)
{
    GString *s = g_string_new(pcb_inspection_verdict(insp));
    for (guint i = 0; i < insp->findings->len; i++) {
        const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
        g_string_append_printf(s, "|%s %.1f %.1f %.1f %.1f %.3f", pcb_kind_name(f->kind), f->bbox.x,
                               f->bbox.y, f->bbox.w, f->bbox.h, f->score);
    }
    return g_string_free(s, FALSE);
}

static char *
photo_path(guint i)
{
    return g_strdup_printf("%s/samples/%s.jpg", tu_srcdir(), photos[i]);
}

static PcbBoard *
demo_board(void)
{
    g_autofree char *dir = g_build_filename(tu_srcdir(), "reference-boards", "demo", NULL);
    g_autoptr(GError) error = NULL;
    PcbBoard *b = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    return b;
}

/* What pcb_inspect() finds on each photo, the board loaded afresh each time. */
static char *expected[G_N_ELEMENTS(photos)];

static void
expect_all(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(photos); i++) {
        g_autoptr(PcbBoard) board = demo_board();
        g_autoptr(PcbInspection) insp = pcb_inspection_new();
        g_autofree char *path = photo_path(i);
        g_autoptr(GError) error = NULL;
        g_assert_true(pcb_inspect(board, path, NULL, insp, &error));
        expected[i] = summary(insp);
    }
}

typedef struct {
    const PcbReference *ref;
    guint first;
    char *got[ROUNDS * G_N_ELEMENTS(photos)];
    char *error;
} Worker;

/* Each worker inspects every photo ROUNDS times, starting at its own, by file, buffer and
 * pixels in turn. */
static gpointer
work(gpointer data)
{
    Worker *w = data;
    const guint n = G_N_ELEMENTS(photos);
    for (guint k = 0; k < ROUNDS * n && w->error == NULL; k++) {
        const guint i = (w->first + k) % n;
        g_autofree char *path = photo_path(i);
        g_autoptr(PcbInspection) insp = pcb_inspection_new();
        GError *error = NULL;
        gboolean ok = FALSE;
        if (k % 3 == 0)
            ok = pcb_inspect_file(w->ref, path, NULL, insp, &error);
        else if (k % 3 == 1) {
            gsize len = 0;
            g_autofree guint8 *bytes = pcb_image_read_bytes(path, &len, &error);
            ok = bytes != NULL
                 && pcb_inspect_buffer(w->ref, photos[i], bytes, len, NULL, insp, &error);
        }
        else {
            g_autoptr(PcbImage) img = pcb_image_load(path, NULL, &error);
            ok = img != NULL && pcb_inspect_pixels(w->ref, photos[i], img, NULL, insp, &error);
        }
        if (!ok) {
            w->error = g_strdup(error->message);
            g_error_free(error);
            break;
        }
        g_autofree char *got = summary(insp);
        w->got[k] = g_strdup_printf("%u:%s", i, got);
    }
    return NULL;
}

static void
test_threads(void)
{
    expect_all();
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbReference) ref = pcb_reference_new(demo_board(), NULL, &error);
    g_assert_no_error(error);
    Worker w[THREADS];
    GThread *t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (Worker){ .ref = ref, .first = (guint) i };
        t[i] = g_thread_new("inspect", work, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        g_thread_join(t[i]);
    for (int i = 0; i < THREADS; i++) {
        if (w[i].error != NULL)
            g_error("thread %d: %s", i, w[i].error);
        for (guint k = 0; k < ROUNDS * G_N_ELEMENTS(photos); k++) {
            const guint p = (w[i].first + k) % G_N_ELEMENTS(photos);
            g_autofree char *want = g_strdup_printf("%u:%s", p, expected[p]);
            g_assert_cmpstr(w[i].got[k], ==, want);
            g_free(w[i].got[k]);
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(photos); i++)
        g_clear_pointer(&expected[i], g_free);
}

static void
test_reports_inputs(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbReference) ref = pcb_reference_new(demo_board(), NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(pcb_reference_board(ref)->name);
    g_autofree char *path = photo_path(0);
    gsize len = 0;
    g_autofree guint8 *bytes = pcb_image_read_bytes(path, &len, &error);
    g_assert_no_error(error);
    g_autoptr(PcbInspection) a = pcb_inspection_new();
    g_autoptr(PcbInspection) b = pcb_inspection_new();
    g_assert_true(pcb_inspect_file(ref, path, NULL, a, &error));
    g_assert_true(pcb_inspect_buffer(ref, "from-memory.jpg", bytes, len, NULL, b, &error));
    /* the same bytes: the same hash; the golden's hash is the board's */
    g_assert_cmpstr(a->photo_sha256, ==, b->photo_sha256);
    g_assert_cmpstr(b->photo_path, ==, "from-memory.jpg");
    g_assert_nonnull(a->reference_sha256);
    g_assert_cmpstr(a->reference_sha256, ==, b->reference_sha256);
}

static void
test_bad_input(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbReference) ref = pcb_reference_new(demo_board(), NULL, &error);
    g_assert_no_error(error);
    const guint8 junk[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F' };
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    g_assert_false(pcb_inspect_buffer(ref, "junk.jpg", junk, sizeof junk, NULL, insp, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_DECODE);
    g_clear_error(&error);
    g_assert_false(pcb_inspect_buffer(ref, "empty", junk, 0, NULL, insp, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_DECODE);
    g_clear_error(&error);
    g_autoptr(PcbImage) grey = pcb_image_new(64, 64, PCB_FORMAT_GRAY8, NULL);
    g_autoptr(PcbInspection) insp2 = pcb_inspection_new();
    g_assert_false(pcb_inspect_pixels(ref, "grey", grey, NULL, insp2, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_USAGE);
    g_clear_error(&error);
    /* a board whose golden is missing: the error, and the board is freed with the reference */
    PcbBoard *missing = pcb_board_new_from_image("/nonexistent/golden.png", 0);
    g_assert_null(pcb_reference_new(missing, NULL, &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pcb_init(1); /* OpenCV runs each call in its caller: the four threads here are the concurrency
                  * under test (ThreadSanitizer cannot see TBB's synchronisation) */
    g_test_add_func("/prepared/four-threads-same-findings", test_threads);
    g_test_add_func("/prepared/reports-inputs", test_reports_inputs);
    g_test_add_func("/prepared/bad-input", test_bad_input);
    return g_test_run();
}
