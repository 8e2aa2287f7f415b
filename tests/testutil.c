#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include "testutil.h"

static guint32
rnd(guint32 *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void
fill_rect(PcbImage *img, int x0, int y0, int w, int h, guint8 r, guint8 g, guint8 b)
{
    for (int y = MAX(0, y0); y < MIN(img->height, y0 + h); y++) {
        guint8 *row = pcb_image_row(img, y);
        for (int x = MAX(0, x0); x < MIN(img->width, x0 + w); x++) {
            row[3 * x] = r;
            row[3 * x + 1] = g;
            row[3 * x + 2] = b;
        }
    }
}

PcbImage *
tu_make_board(int width, int height, guint32 seed)
{
    guint32 s = seed * 2654435761u + 1;
    PcbImage *img = pcb_image_new(width, height, PCB_FORMAT_RGB8, NULL);
    g_assert_nonnull(img);
    fill_rect(img, 0, 0, width, height, 30, 100, 50);
    int scale = MAX(1, MIN(width, height) / 64);
    for (int i = 0; i < 60; i++) { /* traces */
        int x = (int) (rnd(&s) % (guint32) width), y = (int) (rnd(&s) % (guint32) height);
        int len = (int) (rnd(&s) % (guint32) (width / 2)) + 8;
        if (rnd(&s) & 1)
            fill_rect(img, x, y, len, MAX(1, scale / 2), 45, 130, 60);
        else
            fill_rect(img, x, y, MAX(1, scale / 2), len, 45, 130, 60);
    }
    for (int i = 0; i < 40; i++) { /* pads and passives */
        int x = (int) (rnd(&s) % (guint32) width), y = (int) (rnd(&s) % (guint32) height);
        fill_rect(img, x, y, 2 * scale, scale, 200, 190, 160);
        fill_rect(img, x + 3 * scale, y, 2 * scale, scale, 200, 190, 160);
        fill_rect(img, x + 2 * scale, y, scale, scale, 60, 50, 40);
    }
    for (int i = 0; i < 4; i++) { /* ICs */
        int x = (int) (rnd(&s) % (guint32) width), y = (int) (rnd(&s) % (guint32) height);
        fill_rect(img, x, y, 8 * scale, 6 * scale, 25, 25, 28);
        fill_rect(img, x + scale, y + scale, scale, scale, 70, 70, 70);
    }
    for (int y = 0; y < height; y++) { /* fine texture */
        guint8 *row = pcb_image_row(img, y);
        for (int x = 0; x < 3 * width; x++) {
            int v = row[x] + (int) (rnd(&s) % 7) - 3;
            row[x] = (guint8) CLAMP(v, 0, 255);
        }
    }
    return img;
}

static char *tmpdir;

static void
remove_tmpdir(void)
{
    if (tmpdir == NULL)
        return;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        g_printerr("could not remove %s\n", tmpdir);
    g_free(tmpdir);
}

const char *
tu_tmpdir(void)
{
    if (tmpdir == NULL) {
        tmpdir = g_dir_make_tmp("pcbdiff-test-XXXXXX", NULL);
        g_assert_nonnull(tmpdir);
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *
tu_srcdir(void)
{
    const char *s = g_getenv("SRCDIR");
    return s != NULL ? s : ".";
}

static void
distort(double k1, int width, int height, double x, double y, double *ux, double *uy)
{
    double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
    double r2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (cx * cx + cy * cy);
    double f = 1 + k1 * r2;
    *ux = cx + (x - cx) * f;
    *uy = cy + (y - cy) * f;
}

void
tu_photo_to_board(const double h[9], double k1, int width, int height, double x, double y,
                  double *bx, double *by)
{
    double ux, uy;
    distort(k1, width, height, x, y, &ux, &uy);
    double w = h[6] * ux + h[7] * uy + h[8];
    *bx = (h[0] * ux + h[1] * uy + h[2]) / w;
    *by = (h[3] * ux + h[4] * uy + h[5]) / w;
}

PcbImage *
tu_photograph(const PcbImage *board, const double h[9], double k1, int width, int height, guint8 bg)
{
    PcbImage *out = pcb_image_new(width, height, board->format, NULL);
    g_assert_nonnull(out);
    int ch = (int) board->format;
    for (int y = 0; y < height; y++) {
        guint8 *o = pcb_image_row(out, y);
        for (int x = 0; x < width; x++) {
            double bx, by;
            tu_photo_to_board(h, k1, width, height, x, y, &bx, &by);
            int x0 = (int) floor(bx), y0 = (int) floor(by);
            if (x0 < 0 || y0 < 0 || x0 + 1 >= board->width || y0 + 1 >= board->height) {
                memset(o + ch * x, bg, (size_t) ch);
                continue;
            }
            double fx = bx - x0, fy = by - y0;
            const guint8 *r0 = pcb_image_row(board, y0) + ch * x0;
            const guint8 *r1 = pcb_image_row(board, y0 + 1) + ch * x0;
            for (int c = 0; c < ch; c++) {
                double a = r0[c] + fx * (r0[c + ch] - r0[c]);
                double b = r1[c] + fx * (r1[c + ch] - r1[c]);
                o[ch * x + c] = (guint8) CLAMP(lround(a + fy * (b - a)), 0, 255);
            }
        }
    }
    return out;
}

void
tu_pose(double h[9], int bw, int bh, int pw, int ph, double deg, double scale, double px, double py,
        double tx, double ty)
{
    /* photo -> board: translate photo centre to origin, perspective, rotate back, unscale,
     * move to the board centre */
    double a = -deg * G_PI / 180.0, c = cos(a) / scale, s = sin(a) / scale;
    double pcx = (pw - 1) / 2.0 + tx, pcy = (ph - 1) / 2.0 + ty;
    double bcx = (bw - 1) / 2.0, bcy = (bh - 1) / 2.0;
    /* affine part A (photo -> board) about the centres, then a projective row */
    double m[9] = { c,  -s, bcx - c * pcx + s * pcy, s, c, bcy - s * pcx - c * pcy,
                    px, py, 1 - px * pcx - py * pcy };
    /* the projective row is 1 at the photo centre, so the centres still correspond */
    for (int i = 0; i < 9; i++)
        h[i] = m[i];
}

void
tu_run_clear(TuRun *r)
{
    g_free(r->out);
    g_free(r->err);
}

void
tu_run(TuRun *r, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *bin = g_getenv("PCBDIFF");
    g_ptr_array_add(argv, (gpointer) (bin ? bin : "build/pcbdiff"));
    va_list ap;
    va_start(ap, r);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        g_ptr_array_add(argv, (gpointer) a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) error = NULL;
    int wait = 0;
    g_assert_true(g_spawn_sync(NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r->out, &r->err, &wait, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(wait)); /* never a crash */
    r->status = WEXITSTATUS(wait);
    if (g_test_verbose())
        g_test_message("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}
