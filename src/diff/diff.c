/* Differencing: working resolution, photometric normalisation, shift-tolerant noise-unit score. */
#include <math.h>
#include <string.h>
#include "pcbdiff/diff.h"
#include "pcbdiff/error.h"
#include "core/imgops.h"
#include "core/util.h"
#include "diff/diff_internal.h"

#define CLIP_LEVEL      253  /* a channel this bright is clipped (glare, over-exposure) */
#define WHITE_BOARD     0.25 /* a reference this much clipped is a white board: compared */
#define COVERED         250  /* a reduced coverage value this high counts as covered */
#define MIN_LIGHT_BLOCK 16   /* smallest photometric normalisation block, px */
#define MIN_BLUR_CELL   64   /* smallest blur matching cell, px */
#define MAX_BLUR_SIGMA  2.0  /* strongest blur that blur matching applies, px */
#define BG_CELLS        8    /* local background cells per normalisation block side ... */
#define MIN_BG_CELL     4    /* ... at least this many px */
#define BG_RADIUS       3    /* the background's median reaches this many cells around */

void
pcb_diff_map_clear(PcbDiffMap *map)
{
    g_clear_pointer(&map->score, pcb_image_free);
    g_clear_pointer(&map->valid, pcb_image_free);
    if (map->priv != NULL) {
        pcb_image_free(map->priv->ref_owned);
        pcb_image_free(map->priv->photo_owned);
        g_free(map->priv->blur.sigma);
        pcb_cover_map_clear(&map->priv->cover);
        g_clear_pointer(&map->priv, g_free);
    }
    map->ref = map->photo = NULL;
}

/* The valid mask at the working size: only fully covered pixels, less the ignored ones. */
static PcbImage *
working_valid(const PcbImage *valid, const PcbImage *ignore, int w, int h, GError **error)
{
    g_autoptr(PcbImage) out = NULL;
    if (valid == NULL) {
        if ((out = pcb_image_new(w, h, PCB_FORMAT_GRAY8, error)) == NULL)
            return NULL;
        for (int y = 0; y < h; y++)
            memset(pcb_image_row(out, y), 255, (size_t) w);
    }
    else {
        gboolean same = valid->width == w && valid->height == h;
        out = same ? pcb_image_copy(valid, error) : pcb_image_resize(valid, w, h, error);
        if (out == NULL)
            return NULL;
        for (int y = 0; y < h; y++) { /* only the fully covered pixels */
            guint8 *v = pcb_image_row(out, y);
            for (int x = 0; x < w; x++)
                v[x] = v[x] >= COVERED ? 255 : 0;
        }
    }
    if (ignore != NULL) {
        g_autoptr(PcbImage) reduced = NULL;
        const PcbImage *ig = ignore;
        if (ignore->width != w || ignore->height != h) {
            if ((reduced = pcb_image_resize(ignore, w, h, error)) == NULL)
                return NULL;
            ig = reduced;
        }
        for (int y = 0; y < h; y++) {
            guint8 *v = pcb_image_row(out, y);
            const guint8 *g = pcb_image_row(ig, y);
            for (int x = 0; x < w; x++)
                v[x] = g[x] ? 0 : v[x];
        }
    }
    return g_steal_pointer(&out);
}

/* The fraction of @img's pixels clipped at white (any channel >= @level), from a sample. */
static double
clipped_fraction(const PcbImage *img, int level)
{
    long n = 0, clipped = 0;
    for (int y = 0; y < img->height; y += 8) {
        const guint8 *r = pcb_image_row(img, y);
        for (int x = 0; x < img->width; x += 4, n++)
            clipped += MAX(MAX(r[3 * x], r[3 * x + 1]), r[3 * x + 2]) >= level;
    }
    return n > 0 ? (double) clipped / n : 0;
}

/* The golden and the photo are rarely equally sharp (another lens, focus, the warp's
 * interpolation) and the sharpness varies over a photo: an edge then differs all along it. The
 * sharper image is blurred to match the other, cell by cell; the map goes to @out and @blur. */
static gboolean
match_blur(const pcbcv_view *rv, const pcbcv_view *pv, const pcbcv_view *vv,
           const PcbDiffParams *params, PcbDiffMap *out, PcbBlurMap *blur, GError **error)
{
    double t0 = pcb_now_ms();
    PcbBlurStats bs;
    int cell = MAX(MIN_BLUR_CELL, (int) lround(params->blur_cell * MAX(rv->width, rv->height)));
    if (!pcb_estimate_blur(rv, pv, vv, out->radius, cell, MAX_BLUR_SIGMA, blur, &bs, error))
        return FALSE;
    out->priv->blur = *blur;
    g_debug("difference: blur matching: %d of %d cells of %d px measured, median sigma %.2f, "
            "%.2f .. %.2f (+: reference blurred, -: photo), %.0f ms",
            bs.measured, bs.cells, cell, bs.median, bs.min, bs.max, pcb_now_ms() - t0);
    return TRUE;
}

static gboolean
build(const PcbImage *reference, PcbImage *warped, const PcbImage *valid, const PcbImage *ignore,
      const PcbDiffParams *params, PcbDiffMap *out, GError **error)
{
    double mpx = (double) reference->width * reference->height / 1e6;
    double f = params->max_work_mpx > 0 && mpx > params->max_work_mpx
                   ? sqrt(mpx / params->max_work_mpx)
                   : 1.0;
    int w = MAX(1, (int) lround(reference->width / f)),
        h = MAX(1, (int) lround(reference->height / f));
    out->scale = (double) reference->width / w;
    PcbImage *photo = warped;
    if (w == reference->width && h == reference->height)
        out->ref = reference;
    else if ((out->ref = out->priv->ref_owned = pcb_image_resize(reference, w, h, error)) == NULL
             || (photo = out->priv->photo_owned = pcb_image_resize(warped, w, h, error)) == NULL)
        return FALSE;
    out->photo = photo;
    double t0 = pcb_now_ms();
    if ((out->valid = working_valid(valid, ignore, w, h, error)) == NULL
        || (out->score = pcb_image_new(w, h, PCB_FORMAT_GRAY8, error)) == NULL)
        return FALSE;
    pcbcv_view rv = pcb_view(out->ref), pv = pcb_view(photo), vv = pcb_view(out->valid);
    pcbcv_view sv = pcb_view(out->score);
    g_debug("difference: valid mask %.0f ms", pcb_now_ms() - t0);
    /* Clipped pixels are glare or over-exposure where they are rare; where the golden itself
     * is largely white (a binarised scan, a white silkscreen board) white is content and is
     * compared like any other value. */
    double white = clipped_fraction(out->ref, CLIP_LEVEL);
    g_autofree guint8 *recheck = NULL;
    if (white > WHITE_BOARD)
        g_debug("difference: %.0f%% of the reference is white: clipped pixels are compared",
                100 * white);
    /* as far as the comparison reads around a pixel: its tolerance and the plain-surface reach
     * of the one-way test (near-white flanks of a clipped highlight take its lost tint) */
    else if (!pcb_exclude_clipped(&rv, &pv, &vv, CLIP_LEVEL,
                                  MAX(0, (int) lround(params->tolerance_px)) + PCB_FLAT_REACH,
                                  &recheck, error))
        return FALSE;
    g_debug("difference: clipped pixels %.0f ms", pcb_now_ms() - t0);
    int block = MAX(MIN_LIGHT_BLOCK, (int) lround(params->light_block * MAX(w, h)));
    const int bg_cell = MAX(MIN_BG_CELL, block / BG_CELLS);
    /* before the normalisation: its contrast gain would stretch a plain surface's noise */
    if (!pcb_cover_map(&rv, &pv, &vv, bg_cell, BG_RADIUS, &out->priv->cover, error))
        return FALSE;
    int improved = 0;
    if (!pcb_normalise_light(&rv, &pv, &vv, block, &improved, error))
        return FALSE;
    if (recheck != NULL) /* the photo's light now matches the reference's */
        g_debug("difference: %zu pixels beside a saturated colour compared again",
                pcb_readmit_clipped(&rv, &pv, &vv, recheck));
    out->normalise_ms = pcb_now_ms() - t0;
    g_debug("difference: normalisation %s, %.0f ms",
            improved ? "applied" : "skipped (the photo agrees as well without it)",
            out->normalise_ms);
    int radius = MAX(0, (int) lround(params->tolerance_px));
    out->radius = radius;
    PcbBlurMap blur = { 0, 0, 0, NULL };
    if (params->match_blur && !match_blur(&rv, &pv, &vv, params, out, &blur, error))
        return FALSE;
    out->one_way = params->one_way;
    t0 = pcb_now_ms();
    if (!pcb_diff_score(&rv, &pv, &vv, &blur, radius, params->one_way, PCB_DIFF_UNIT, &sv,
                        out->noise, &out->light_change, error))
        return FALSE;
    g_debug("difference: score %.0f ms; noise L %.2f, %.1f times the images' own",
            pcb_now_ms() - t0, out->noise[0], out->light_change);
    if (params->background_quantile <= 0)
        return TRUE;
    /* what the smooth normalisation cannot follow (glare, tone curves over mixed blocks, dark
     * noise) lifts the score over whole areas: a finding must stand out of that background */
    t0 = pcb_now_ms();
    gboolean ok
        = pcb_local_background(&sv, &vv, bg_cell, BG_RADIUS, params->background_quantile, error);
    g_debug("difference: local background %.0f ms", pcb_now_ms() - t0);
    return ok;
}

gboolean
pcb_difference(const PcbImage *reference, PcbImage *warped, const PcbImage *valid,
               const PcbImage *ignore, const PcbDiffParams *params, PcbDiffMap *out, GError **error)
{
    PcbDiffParams defaults;
    if (params == NULL) {
        pcb_diff_params_init(&defaults);
        params = &defaults;
    }
    g_return_val_if_fail(reference->format == PCB_FORMAT_RGB8 && warped->format == PCB_FORMAT_RGB8,
                         FALSE);
    g_return_val_if_fail(warped->width == reference->width && warped->height == reference->height,
                         FALSE);
    memset(out, 0, sizeof *out);
    out->priv = g_new0(struct PcbDiffPrivate, 1);
    if (!build(reference, warped, valid, ignore, params, out, error)) {
        pcb_diff_map_clear(out);
        return FALSE;
    }
    return TRUE;
}
