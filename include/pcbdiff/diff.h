/* pcbdiff differencing: the registered photo against the reference, in units of noise. */
#ifndef PCBDIFF_DIFF_H
#define PCBDIFF_DIFF_H

#include "pcbdiff/api.h"

#include <glib.h>
#include "pcbdiff/image.h"

G_BEGIN_DECLS

typedef struct {
    double tolerance_px; /* a pixel differs only if it differs from every reference pixel
                            within this radius (at the working resolution) */
    double light_block;  /* photometric normalisation block, as a fraction of the longer side */
    double max_work_mpx; /* 0 (default): full resolution; else differencing runs at most at this
                            many megapixels (reduced above) */
    double background_quantile; /* the score's local background (this quantile over small cells,
                                   median over their neighbourhood) is subtracted; 0 = off */
    double one_way;      /* 0..1: weight of the difference seen one way only (a stroke narrower than
                            the tolerance in one image only: a marking, an open, a scratch), above
                            the one seen both ways; 0 = only differences seen both ways count */
    gboolean match_blur; /* blur the sharper image to match the other, cell by cell */
    double blur_cell;    /* blur matching cell, as a fraction of the longer side */
} PcbDiffParams;

PCB_API void pcb_diff_params_init(PcbDiffParams *params);

#define PCB_DIFF_UNIT 16.0 /* score map value per noise sigma */

typedef struct {
    PcbImage
        *score; /* GRAY8 at the working resolution: difference in noise sigmas * PCB_DIFF_UNIT */
    const PcbImage *ref;         /* the reference at the working resolution (RGB8) */
    const PcbImage *photo;       /* the normalised, warped photo at the working resolution (RGB8) */
    PcbImage *valid;             /* GRAY8: 255 where the photo covers the reference, nothing is
                                    ignored and nothing is clipped */
    double scale;                /* reference px per working px (>= 1) */
    double noise[3];             /* estimated noise sigma per channel, grey levels */
    int radius;                  /* the score's tolerance radius, working px */
    double one_way;              /* the score's one-way weight (PcbDiffParams) */
    double normalise_ms;         /* wall time of the masks and photometric normalisation */
    double light_change;         /* noise[0] over what the two images' own noise explains: about
                                    1 under the golden's light, several times that when the light
                                    on the parts differs */
    struct PcbDiffPrivate *priv; /* private (the reduced copies, the blur map); may be NULL */
} PcbDiffMap;

/* Frees what @map owns (score, valid, the private part) and leaves it empty; @map itself is the
 * caller's. */
PCB_API void pcb_diff_map_clear(PcbDiffMap *map);

/* Differences @warped (the photo in the reference frame) against @reference into @out (clear it
 * with pcb_diff_map_clear; on FALSE it is left empty). At full working
 * resolution (the default) @warped is normalised to the reference's light in place and the
 * map borrows both images: they must outlive it. @valid (optional, GRAY8): where the photo
 * covers the reference. @ignore (optional, GRAY8, reference size): non-zero pixels are never
 * reported. */
PCB_API gboolean pcb_difference(const PcbImage *reference, PcbImage *warped, const PcbImage *valid,
                                const PcbImage *ignore, const PcbDiffParams *params,
                                PcbDiffMap *out, GError **error);

G_END_DECLS

#endif
