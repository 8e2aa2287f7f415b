/* Warp: the photo resampled once into the reference frame through the registration.
 *
 * C computes, band by band on the shim's thread pool, where each reference pixel lies in the
 * photo (the homography after the local field); the shim resamples a band through those
 * coordinates (cv::remap). Built -O3 (the Makefile's HOTOPT) so GCC vectorises the row loops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/warp.h"
#include "core/imgops.h"
#include "register/homography.h"

#define WARP_MAX_SCALE 1.3 /* photo px per reference px above this: reduce the photo first */
#define WARP_BAND      32  /* rows per band: the unit of parallel work and of the maps */

typedef struct {
    float m[9];                 /* reference -> photo */
    const PcbRegistration *reg; /* its field, or NULL for none */
    pcbcv_view src, out, valid; /* valid.data NULL: not wanted */
    float pw, ph;               /* the photo's last column and row */
    gint status;                /* the first failure's pcbcv_status */
    char msg[256];
} WarpJob;

/* 255 where the photo coordinates fall inside the photo, else 0. */
static void
covered_row(const float *restrict px, const float *restrict py, float pw, float ph,
            guint8 *restrict v, int cols)
{
    for (int x = 0; x < cols; x++)
        v[x] = (px[x] >= 0 && py[x] >= 0 && px[x] <= pw && py[x] <= ph) ? 255 : 0;
}

/* Photo coordinates through the homography @m of reference pixels x0 .. x1-1 on row y,
 * displaced by the field (ox + (x - base) * sx, oy + (x - base) * sy). */
static void
warp_span(const float *restrict m, int x0, int x1, float y, float ox, float oy, float sx, float sy,
          float base, float *restrict px, float *restrict py)
{
    const float h00 = m[0], h01 = m[1], h02 = m[2], h10 = m[3], h11 = m[4], h12 = m[5];
    const float h20 = m[6], h21 = m[7], h22 = m[8];
    for (int x = x0; x < x1; x++) {
        float t = (float) x - base;
        float qx = (float) x + ox + t * sx, qy = y + oy + t * sy;
        float w = h20 * qx + h21 * qy + h22;
        gboolean ok = w > 1e-12f;
        float iw = 1.0f / (ok ? w : 1.0f);
        px[x] = ok ? (h00 * qx + h01 * qy + h02) * iw : -10.0f;
        py[x] = ok ? (h10 * qx + h11 * qy + h12) * iw : -10.0f;
    }
}

/* Photo coordinates of one row of reference pixels: q = (x, y) + field(x, y), then the
 * homography. The field is bilinear between its nodes, so along a row it is linear between
 * node columns: each span is a straight, vectorisable loop. Single precision is ample: remap
 * resolves 1/32 px. @ndx, @ndy: room for the field's columns. */
static void
warp_row(const WarpJob *j, int y, int cols, float *px, float *py, float *ndx, float *ndy)
{
    const PcbRegistration *f = j->reg;
    if (f == NULL) {
        warp_span(j->m, 0, cols, (float) y, 0, 0, 0, 0, 0, px, py);
        return;
    }
    double gy = MIN(MAX(y / f->field_step_y, 0.0), f->field_rows - 1.0);
    int iy = MIN((int) gy, f->field_rows - 2);
    float fy = (float) (gy - iy);
    const float *dx0 = f->field_dx + (size_t) iy * f->field_cols, *dx1 = dx0 + f->field_cols;
    const float *dy0 = f->field_dy + (size_t) iy * f->field_cols, *dy1 = dy0 + f->field_cols;
    for (int i = 0; i < f->field_cols; i++) {
        ndx[i] = dx0[i] + fy * (dx1[i] - dx0[i]);
        ndy[i] = dy0[i] + fy * (dy1[i] - dy0[i]);
    }
    int x = 0;
    for (int i = 0; i + 1 < f->field_cols && x < cols; i++) {
        double base = i * f->field_step_x;
        int end = i + 2 == f->field_cols ? cols : (int) ceil((i + 1) * f->field_step_x);
        end = MIN(end, cols);
        float sx = (float) ((ndx[i + 1] - ndx[i]) / f->field_step_x);
        float sy = (float) ((ndy[i + 1] - ndy[i]) / f->field_step_x);
        warp_span(j->m, x, end, (float) y, ndx[i], ndy[i], sx, sy, (float) base, px, py);
        x = end;
    }
}

static void
warp_fail(WarpJob *j, pcbcv_status status, const char *msg)
{
    if (g_atomic_int_compare_and_exchange(&j->status, PCBCV_OK, (gint) status))
        g_strlcpy(j->msg, msg, sizeof j->msg);
}

/* Bands @b0 .. @b1-1: their photo coordinates, the resampling through them, their cover. */
static void
warp_bands(void *ctx, int b0, int b1)
{
    WarpJob *j = ctx;
    const int cols = j->out.width, fcols = j->reg != NULL ? j->reg->field_cols : 0;
    float *maps = malloc(((size_t) 2 * WARP_BAND * cols + 2 * (size_t) fcols) * sizeof(float));
    if (maps == NULL) {
        warp_fail(j, PCBCV_E_NOMEM, "out of memory");
        return;
    }
    float *mx = maps, *my = mx + (size_t) WARP_BAND * cols, *ndx = my + (size_t) WARP_BAND * cols;
    float *ndy = ndx + fcols;
    for (int b = b0; b < b1 && g_atomic_int_get(&j->status) == PCBCV_OK; b++) {
        int y0 = b * WARP_BAND, rows = MIN(WARP_BAND, j->out.height - y0);
        for (int yy = 0; yy < rows; yy++)
            warp_row(j, y0 + yy, cols, mx + (size_t) yy * cols, my + (size_t) yy * cols, ndx, ndy);
        pcbcv_fview fx = { cols, rows, 1, (size_t) cols * sizeof(float), mx };
        pcbcv_fview fy = { cols, rows, 1, (size_t) cols * sizeof(float), my };
        pcbcv_view ob = j->out;
        ob.height = rows;
        ob.data += (size_t) y0 * ob.stride;
        char msg[256] = "";
        pcbcv_status st = pcbcv_remap(&j->src, &fx, &fy, &ob, msg, sizeof msg);
        if (st != PCBCV_OK) {
            warp_fail(j, st, msg);
            break;
        }
        if (j->valid.data != NULL)
            for (int yy = 0; yy < rows; yy++)
                covered_row(mx + (size_t) yy * cols, my + (size_t) yy * cols, j->pw, j->ph,
                            j->valid.data + (size_t) (y0 + yy) * j->valid.stride, cols);
    }
    free(maps);
}

gboolean
pcb_warp(const PcbImage *photo, const PcbRegistration *reg, int width, int height,
         PcbImage **warped, PcbImage **valid, GError **error)
{
    double h[9];
    memcpy(h, reg->h, sizeof h);
    /* a photo much finer than the reference is reduced first: bilinear sampling would alias */
    g_autoptr(PcbImage) reduced = NULL;
    const PcbImage *src = photo;
    double s = pcb_h_photo_scale(h, width / 2.0, height / 2.0);
    if (s > WARP_MAX_SCALE) {
        reduced = pcb_image_resize(photo, MAX(1, (int) lround(photo->width / s)),
                                   MAX(1, (int) lround(photo->height / s)), error);
        if (reduced == NULL)
            return FALSE;
        double bx = (double) reduced->width / photo->width;
        double by = (double) reduced->height / photo->height;
        double binv[9], t[9];
        pcb_h_scaling(1 / bx, 1 / by, binv);
        pcb_h_mul(h, binv, t);
        memcpy(h, t, sizeof h);
        src = reduced;
    }
    double hinv[9];
    if (!pcb_h_invert(h, hinv)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER, "degenerate homography");
        return FALSE;
    }
    if (reg->field_dx != NULL
        && (reg->field_cols < 2 || reg->field_rows < 2 || reg->field_step_x <= 0
            || reg->field_step_y <= 0 || reg->field_dy == NULL)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "warp: bad displacement field");
        return FALSE;
    }
    g_autoptr(PcbImage) out = pcb_image_new(width, height, photo->format, error);
    if (out == NULL)
        return FALSE;
    g_autoptr(PcbImage) val = NULL;
    if (valid != NULL && (val = pcb_image_new(width, height, PCB_FORMAT_GRAY8, error)) == NULL)
        return FALSE;
    WarpJob job = { .reg = reg->field_dx != NULL ? reg : NULL,
                    .src = pcb_view(src),
                    .out = pcb_view(out),
                    .pw = (float) (src->width - 1),
                    .ph = (float) (src->height - 1) };
    for (int i = 0; i < 9; i++)
        job.m[i] = (float) hinv[i];
    if (val != NULL)
        job.valid = pcb_view(val);
    char msg[256] = "";
    int bands = (height + WARP_BAND - 1) / WARP_BAND;
    pcbcv_status st = pcbcv_parallel_for(bands, warp_bands, &job, msg, sizeof msg);
    if (st == PCBCV_OK && job.status != PCBCV_OK) {
        st = (pcbcv_status) job.status;
        g_strlcpy(msg, job.msg, sizeof msg);
    }
    if (!pcb_cv_check(st, msg, "warp", PCB_ERROR_BACKEND, error))
        return FALSE;
    *warped = g_steal_pointer(&out);
    if (valid != NULL)
        *valid = g_steal_pointer(&val);
    return TRUE;
}
