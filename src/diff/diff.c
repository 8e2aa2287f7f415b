/* Differencing: working resolution, photometric normalisation, shift-tolerant noise-unit score. */
#include <math.h>
#include <string.h>
#include "pcbdiff/diff.h"
#include "pcbdiff/error.h"
#include "core/imgops.h"

void
pcb_diff_params_init(PcbDiffParams *p)
{
    memset(p, 0, sizeof *p);
    p->tolerance_px = 1.0;
    p->light_block = 1.0 / 12.0;
    p->max_work_mpx = 16.0;
    p->background_quantile = 0.9;
}

void
pcb_diff_map_clear(PcbDiffMap *map)
{
    g_clear_pointer(&map->score, pcb_image_free);
    g_clear_pointer(&map->ref, pcb_image_free);
    g_clear_pointer(&map->photo, pcb_image_free);
    g_clear_pointer(&map->valid, pcb_image_free);
}

static PcbImage *
at_size(const PcbImage *src, int w, int h, GError **error)
{
    if (src->width == w && src->height == h)
        return pcb_image_copy(src, error);
    return pcb_image_resize(src, w, h, error);
}

/* A pixel clipped at white in either image carries no usable difference: glare or
 * over-exposure hides what is there. Such pixels and their neighbours are left out. */
static void
exclude_clipped(const PcbImage *ref, const PcbImage *photo, PcbImage *valid)
{
    int w = valid->width, h = valid->height;
    g_autofree guint8 *clip = g_new0(guint8, (size_t) w * h);
    for (int y = 0; y < h; y++) {
        const guint8 *r = pcb_image_row(ref, y), *p = pcb_image_row(photo, y);
        for (int x = 0; x < w; x++) {
            const guint8 *a = r + 3 * x, *b = p + 3 * x;
            clip[(size_t) y * w + x]
                = MAX(MAX(a[0], a[1]), a[2]) >= 253 || MAX(MAX(b[0], b[1]), b[2]) >= 253;
        }
    }
    for (int y = 0; y < h; y++) {
        guint8 *v = pcb_image_row(valid, y);
        for (int x = 0; x < w; x++) {
            gboolean c = FALSE;
            for (int dy = -1; dy <= 1 && !c; dy++)
                for (int dx = -1; dx <= 1 && !c; dx++) {
                    int xx = x + dx, yy = y + dy;
                    c = xx >= 0 && yy >= 0 && xx < w && yy < h && clip[(size_t) yy * w + xx];
                }
            if (c)
                v[x] = 0;
        }
    }
}

static gboolean
build(const PcbImage *reference, const PcbImage *warped, const PcbImage *valid,
      const PcbImage *ignore, const PcbDiffParams *params, PcbDiffMap *out, GError **error)
{
    double mpx = (double) reference->width * reference->height / 1e6;
    double f = params->max_work_mpx > 0 && mpx > params->max_work_mpx
                   ? sqrt(mpx / params->max_work_mpx)
                   : 1.0;
    int w = MAX(1, (int) lround(reference->width / f)),
        h = MAX(1, (int) lround(reference->height / f));
    out->scale = (double) reference->width / w;
    if ((out->ref = at_size(reference, w, h, error)) == NULL
        || (out->photo = at_size(warped, w, h, error)) == NULL
        || (out->score = pcb_image_new(w, h, PCB_FORMAT_GRAY8, error)) == NULL)
        return FALSE;
    if (valid != NULL) {
        if ((out->valid = at_size(valid, w, h, error)) == NULL)
            return FALSE;
        for (int y = 0; y < h; y++) { /* only pixels fully covered */
            guint8 *v = pcb_image_row(out->valid, y);
            for (int x = 0; x < w; x++)
                v[x] = v[x] >= 250 ? 255 : 0;
        }
    }
    else {
        if ((out->valid = pcb_image_new(w, h, PCB_FORMAT_GRAY8, error)) == NULL)
            return FALSE;
        for (int y = 0; y < h; y++)
            memset(pcb_image_row(out->valid, y), 255, (size_t) w);
    }
    if (ignore != NULL) {
        g_autoptr(PcbImage) ig = at_size(ignore, w, h, error);
        if (ig == NULL)
            return FALSE;
        for (int y = 0; y < h; y++) {
            guint8 *v = pcb_image_row(out->valid, y);
            const guint8 *g = pcb_image_row(ig, y);
            for (int x = 0; x < w; x++)
                if (g[x])
                    v[x] = 0;
        }
    }
    exclude_clipped(out->ref, out->photo, out->valid);
    char msg[256] = "";
    pcbcv_view rv = pcb_view(out->ref), pv = pcb_view(out->photo), vv = pcb_view(out->valid);
    pcbcv_view sv = pcb_view(out->score);
    int block = MAX(16, (int) lround(params->light_block * MAX(w, h)));
    if (!pcb_cv_check(pcbcv_normalise_light(&rv, &pv, &vv, block, msg, sizeof msg), msg,
                      "photometric normalisation", PCB_ERROR_BACKEND, error))
        return FALSE;
    int radius = MAX(0, (int) lround(params->tolerance_px));
    if (!pcb_cv_check(pcbcv_diff_score(&rv, &pv, &vv, radius, PCB_DIFF_UNIT, &sv, out->noise, msg,
                                       sizeof msg),
                      msg, "difference", PCB_ERROR_BACKEND, error))
        return FALSE;
    if (params->background_quantile <= 0)
        return TRUE;
    /* what the smooth normalisation cannot follow (glare, tone curves over mixed blocks, dark
     * noise) lifts the score over whole areas: a finding must stand out of that background */
    return pcb_cv_check(pcbcv_local_background(&sv, &vv, MAX(4, block / 8), 3,
                                               params->background_quantile, msg, sizeof msg),
                        msg, "local background", PCB_ERROR_BACKEND, error);
}

gboolean
pcb_difference(const PcbImage *reference, const PcbImage *warped, const PcbImage *valid,
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
    if (!build(reference, warped, valid, ignore, params, out, error)) {
        pcb_diff_map_clear(out);
        return FALSE;
    }
    return TRUE;
}
