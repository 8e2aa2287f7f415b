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

/* The 8-connected component of the pixels of @m (@w x @h) equal to @from at @seed, each set
 * to @to, into @list (room for w * h); its size. */
int pcb_grow_component(guint8 *m, int w, int h, int seed, guint8 from, guint8 to, int *list);

G_END_DECLS

#endif
