/* pcbdiff warp: resamples the photo into the reference's pixel frame through a registration. */
#ifndef PCBDIFF_WARP_H
#define PCBDIFF_WARP_H

#include <glib.h>
#include "pcbdiff/image.h"
#include "pcbdiff/register.h"

G_BEGIN_DECLS

/* Warps @photo into the reference frame (@width x @height) through @reg in a single
 * resampling. @valid (optional, GRAY8, same size) gets 255 where the photo covers. */
gboolean pcb_warp(const PcbImage *photo, const PcbRegistration *reg, int width, int height,
                  PcbImage **warped, PcbImage **valid, GError **error);

G_END_DECLS

#endif
