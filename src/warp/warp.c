/* Warp: the photo resampled once into the reference frame through the registration. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/warp.h"
#include "core/imgops.h"
#include "register/homography.h"

#define WARP_MAX_SCALE 1.3 /* photo px per reference px above this: reduce the photo first */

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
    g_autoptr(PcbImage) out = pcb_image_new(width, height, photo->format, error);
    if (out == NULL)
        return FALSE;
    g_autoptr(PcbImage) val = NULL;
    if (valid != NULL && (val = pcb_image_new(width, height, PCB_FORMAT_GRAY8, error)) == NULL)
        return FALSE;
    pcbcv_field field = { reg->field_cols,   reg->field_rows, reg->field_step_x,
                          reg->field_step_y, reg->field_dx,   reg->field_dy };
    pcbcv_view sv = pcb_view(src), ov = pcb_view(out), vv = { 0 };
    if (val != NULL)
        vv = pcb_view(val);
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_warp(&sv, hinv, reg->field_dx ? &field : NULL, &ov, val ? &vv : NULL,
                                 msg, sizeof msg),
                      msg, "warp", PCB_ERROR_BACKEND, error))
        return FALSE;
    *warped = g_steal_pointer(&out);
    if (valid != NULL)
        *valid = g_steal_pointer(&val);
    return TRUE;
}
