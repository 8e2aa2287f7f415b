/* Clipped pixels: glare and over-exposure hide what is there, and the camera's blur (and blur
 * matching) spreads what clipping lost over the pixels around it. */
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"
#include "diff/kernels.h"

/* Rows handled per band: a band's masks stay in cache. */
#define CLIP_BAND 64
/* Mask values. */
#define ON  255
#define OFF 0

typedef struct {
    const pcbcv_view *ref, *pho;
    pcbcv_view *val;
    int level, reach;
    PcbJob job;
} ClipJob;

/* Whether any byte of rows [@a0, @a1) of either image is clipped: most bands hold none, and a
 * vectorised scan says so. */
static gboolean
band_clipped(const ClipJob *j, int a0, int a1)
{
    const int n = 3 * j->ref->width;
    for (int y = a0; y < a1; y++)
        if (pcb_row_max(pcb_view_row(j->ref, y), n) >= j->level
            || pcb_row_max(pcb_view_row(j->pho, y), n) >= j->level)
            return TRUE;
    return FALSE;
}

/* ON where either image's brightest channel is clipped, rows [@a0, @a1) into @clip. */
static void
clip_mask(const ClipJob *j, int a0, int a1, pcbcv_view *clip)
{
    for (int y = a0; y < a1; y++) {
        const guint8 *restrict r = pcb_view_row(j->ref, y);
        const guint8 *restrict p = pcb_view_row(j->pho, y);
        guint8 *restrict c = pcb_view_row(clip, y - a0);
        for (int x = 0; x < j->ref->width; x++) {
            int m = MAX(MAX(MAX(r[3 * x], r[3 * x + 1]), r[3 * x + 2]),
                        MAX(MAX(p[3 * x], p[3 * x + 1]), p[3 * x + 2]));
            c[x] = m >= j->level ? ON : OFF;
        }
    }
}

static void
clip_bands(void *ctx, int begin, int end)
{
    ClipJob *j = ctx;
    const int rows = j->ref->height, cols = j->ref->width;
    PcbBuf cb = { 0 }, gb = { 0 };
    char msg[256] = "";
    for (int b = begin; b < end; b++) {
        const int y0 = b * CLIP_BAND, y1 = MIN(rows, y0 + CLIP_BAND);
        const int a0 = MAX(0, y0 - j->reach), a1 = MIN(rows, y1 + j->reach);
        if (!band_clipped(j, a0, a1))
            continue;
        pcbcv_view clip = pcb_buf_view(&cb, cols, a1 - a0, 1);
        pcbcv_view grown = pcb_buf_view(&gb, cols, a1 - a0, 1);
        clip_mask(j, a0, a1, &clip);
        if (!pcb_job_check(
                &j->job,
                pcbcv_morph(&clip, &grown, 1, 2 * j->reach + 1, PCBCV_BORDER_ZERO, msg, sizeof msg),
                msg, "clipped pixels"))
            break;
        for (int y = y0; y < y1; y++) {
            const guint8 *g = pcb_view_row(&grown, y - a0);
            guint8 *o = pcb_view_row(j->val, y);
            for (int x = 0; x < cols; x++)
                if (g[x])
                    o[x] = OFF;
        }
    }
    pcb_buf_clear(&cb);
    pcb_buf_clear(&gb);
}

gboolean
pcb_exclude_clipped(const pcbcv_view *reference, const pcbcv_view *photo, pcbcv_view *valid,
                    int level, int reach, GError **error)
{
    if (reference->channels != 3 || photo->channels != 3 || valid->channels != 1
        || reference->width != photo->width || reference->height != photo->height
        || valid->width != reference->width || valid->height != reference->height || reach < 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "exclude clipped: bad arguments");
        return FALSE;
    }
    ClipJob j = { .ref = reference, .pho = photo, .val = valid, .level = level, .reach = reach };
    const int nb = (reference->height + CLIP_BAND - 1) / CLIP_BAND;
    return pcb_parallel(nb, clip_bands, &j, &j.job, "clipped pixels", error);
}
