/* Internal: PcbImage <-> shim views, and the image operations every stage shares. */
#ifndef PCB_CORE_IMGOPS_H
#define PCB_CORE_IMGOPS_H

#include <glib.h>
#include "cv/pcbcv.h"
#include "pcbdiff/image.h"

G_BEGIN_DECLS

static inline pcbcv_view
pcb_view(const PcbImage *image)
{
    pcbcv_view v = { image->width, image->height, (int) image->format, image->stride, image->data };
    return v;
}

/* Turns a shim status into a GError (PCB_ERROR_BACKEND, or @nomatch_code for NOMATCH). */
gboolean pcb_cv_check(pcbcv_status status, const char *msg, const char *what, int nomatch_code,
                      GError **error);

/* A resized copy (area averaging when shrinking). */
PcbImage *pcb_image_resize(const PcbImage *src, int width, int height, GError **error);

/* A grey copy through OpenCV (SIMD, parallel): cv::cvtColor's BT.601 with 15-bit
 * coefficients, (9798 R + 19235 G + 3735 B + 2^14) >> 15. It is NOT pcb_image_to_gray, whose
 * 14-bit ones (4899, 9617, 1868) give one level less or more on 0.26% of RGB triples (e.g.
 * 25 75 0: 51 there, 52 here): the loaders' grey output and registration's grey input each
 * keep their own, so merging the two would change one of them. */
PcbImage *pcb_image_gray(const PcbImage *src, GError **error);

G_END_DECLS

#endif
