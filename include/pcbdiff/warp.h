/* pcbdiff warp: resamples the photo into the reference's pixel frame through a registration. */
#ifndef PCBDIFF_WARP_H
#define PCBDIFF_WARP_H

#include "pcbdiff/api.h"

#include <glib.h>
#include "pcbdiff/image.h"
#include "pcbdiff/register.h"

G_BEGIN_DECLS

/* Warps @photo (RGB or grey) into the reference frame (@width x @height) through @reg (its
 * homography and local field) in a single bilinear resampling; a photo much finer than the
 * reference is area-reduced first. @valid may be NULL; else it gets a GRAY8 image of the same
 * size, 255 where the photo covers and 0 elsewhere.
 *
 * Returns: TRUE with *@warped (the photo's format) and *@valid set to new images the caller
 * frees with pcb_image_free (g_autoptr(PcbImage) works). FALSE with @error set
 * (PCB_ERROR_REGISTER: a degenerate homography; PCB_ERROR_BACKEND: OpenCV failed;
 * PCB_ERROR_LIMIT: out of memory); *@warped and *@valid are then left untouched. @photo and
 * @reg are not changed. */
PCB_API gboolean pcb_warp(const PcbImage *photo, const PcbRegistration *reg, int width, int height,
                          PcbImage **warped, PcbImage **valid, GError **error);

G_END_DECLS

#endif
