/* Clipped pixels: glare and over-exposure hide what is there, and the camera's blur (and blur
 * matching) spreads what clipping lost over the pixels around it. */
#include <stdlib.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"
#include "diff/kernels.h"

/* Rows handled per band: a band's masks stay in cache. */
#define CLIP_BAND 64
/* Mask values. */
#define ON      255
#define OFF     0
#define GLARE   255  /* clip mask: clipped near white in either image (wins when grown) */
#define COLOUR  128  /* ... clipped in a saturated colour only */
#define RECHECK 0x80 /* recheck: compare again if the unclipped channels differ */
/* A pixel clipped in the photo only, where the reference is no brighter than this in any
 * channel, is no glare (see clip_mask). */
#define DARK_REFERENCE 128
/* Near white: the darkest channel within 2/5 of the brightest. */
#define GLARE_SPREAD_NUM 2
#define GLARE_SPREAD_DEN 5
/* A channel clipped in neither image differs, beside a clipped one: by this many levels and
 * this share of the brighter value. */
#define READMIT_MIN       24
#define READMIT_SHARE_NUM 1
#define READMIT_SHARE_DEN 4
/* An unclipped pixel beside a saturated colour whose channels all agree this well is the same
 * surface in both images: compared (a red sticker's surround). */
#define READMIT_AGREE 12

typedef struct {
    const pcbcv_view *ref, *pho;
    pcbcv_view *val;
    gboolean want;   /* whether to note pixels to compare again ... */
    guint8 *recheck; /* ... in this mask, made by the first worker that has one */
    int level, reach;
    PcbJob job;
} ClipJob;

/* The channels of RGB pixel @p at @level or above, as bits 0-2. */
static inline unsigned
clipped_channels(const guint8 *p, int level)
{
    return (p[0] >= level) | (p[1] >= level) << 1 | (p[2] >= level) << 2;
}

/* Whether RGB pixel @p is near white: its darkest channel within GLARE_SPREAD of its
 * brightest. Glare and over-exposure are; a saturated colour (a red sticker or mark with its
 * red channel at 255) is not, and still shows what it is in its other channels. */
static inline gboolean
near_white(const guint8 *p)
{
    const int hi = MAX(MAX(p[0], p[1]), p[2]), lo = MIN(MIN(p[0], p[1]), p[2]);
    return (hi - lo) * GLARE_SPREAD_DEN <= hi * GLARE_SPREAD_NUM;
}

/* Whether RGB pixel @p is dark: no channel above DARK_REFERENCE. A highlight that a change of
 * light casts on a dark surface (solder mask, a part's body) leaves it short of clipping: where
 * the photo clips over a dark reference, something bright now stands there (a new white part
 * under the highlight), and it is compared. */
static inline gboolean
dark(const guint8 *p)
{
    return MAX(MAX(p[0], p[1]), p[2]) <= DARK_REFERENCE;
}

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

/* Where either image is clipped, rows [@a0, @a1) into @clip: GLARE where either is clipped
 * and near white there, COLOUR where only a saturated colour is. */
static void
clip_mask(const ClipJob *j, int a0, int a1, pcbcv_view *clip)
{
    for (int y = a0; y < a1; y++) {
        const guint8 *restrict r = pcb_view_row(j->ref, y);
        const guint8 *restrict p = pcb_view_row(j->pho, y);
        guint8 *restrict c = pcb_view_row(clip, y - a0);
        for (int x = 0; x < j->ref->width; x++) {
            const unsigned cr = clipped_channels(r + 3 * x, j->level),
                           cp = clipped_channels(p + 3 * x, j->level);
            if (!cr && cp && dark(r + 3 * x)) {
                c[x] = OFF;
                continue;
            }
            c[x] = (cr && near_white(r + 3 * x)) || (cp && near_white(p + 3 * x)) ? GLARE
                   : cr || cp                                                     ? COLOUR
                                                                                  : OFF;
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
    guint8 *recheck = NULL; /* j->recheck once this worker has seen it made */
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
            const guint8 *r = pcb_view_row(j->ref, y), *p = pcb_view_row(j->pho, y);
            guint8 *o = pcb_view_row(j->val, y);
            for (int x = 0; x < cols; x++) {
                if (!g[x])
                    continue;
                if (j->want && o[x] && g[x] == COLOUR) { /* no glare within reach */
                    if (recheck == NULL) {
                        g_mutex_lock(&j->job.lock);
                        if (j->recheck == NULL)
                            j->recheck = g_new0(guint8, (size_t) rows * cols);
                        recheck = j->recheck;
                        g_mutex_unlock(&j->job.lock);
                    }
                    recheck[(size_t) y * cols + x]
                        = (guint8) (RECHECK | clipped_channels(r + 3 * x, j->level)
                                    | clipped_channels(p + 3 * x, j->level) << 3);
                }
                o[x] = OFF;
            }
        }
    }
    pcb_buf_clear(&cb);
    pcb_buf_clear(&gb);
}

gboolean
pcb_exclude_clipped(const pcbcv_view *reference, const pcbcv_view *photo, pcbcv_view *valid,
                    int level, int reach, guint8 **recheck, GError **error)
{
    if (reference->channels != 3 || photo->channels != 3 || valid->channels != 1
        || reference->width != photo->width || reference->height != photo->height
        || valid->width != reference->width || valid->height != reference->height || reach < 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "exclude clipped: bad arguments");
        return FALSE;
    }
    ClipJob j = { .ref = reference,
                  .pho = photo,
                  .val = valid,
                  .want = recheck != NULL,
                  .level = level,
                  .reach = reach };
    const int nb = (reference->height + CLIP_BAND - 1) / CLIP_BAND;
    gboolean ok = pcb_parallel(nb, clip_bands, &j, &j.job, "clipped pixels", error);
    if (recheck != NULL && ok)
        *recheck = j.recheck;
    else
        g_free(j.recheck);
    return ok;
}

/* Where a saturated colour was left out (@recheck), with no glare within reach, its unclipped
 * channels still tell. The pixel is compared again when its channels, none clipped, all agree
 * within READMIT_AGREE, or when one of the channels clipped in neither image there differs by
 * more than READMIT_MIN levels and READMIT_SHARE of the brighter value (a red sticker over a
 * silver top: green 40 against 182), after normalisation. The same red mark in both images, one
 * clipped, the other not, differs in its red channel only: it stays out. */
size_t
pcb_readmit_clipped(const pcbcv_view *reference, const pcbcv_view *photo, pcbcv_view *valid,
                    const guint8 *recheck)
{
    const int w = reference->width;
    size_t readmitted = 0;
    for (int y = 0; y < reference->height; y++) {
        const guint8 *r = pcb_view_row(reference, y), *p = pcb_view_row(photo, y);
        const guint8 *rc = recheck + (size_t) y * w;
        guint8 *v = pcb_view_row(valid, y);
        for (int x = 0; x < w; x++) {
            if (!(rc[x] & RECHECK))
                continue;
            const unsigned clipped = (rc[x] | rc[x] >> 3) & 7;
            gboolean differs = FALSE, agrees = !clipped;
            for (int k = 0; k < 3; k++) {
                const int a = r[3 * x + k], b = p[3 * x + k], d = abs(a - b);
                differs |= !(clipped >> k & 1) && d > READMIT_MIN
                           && d * READMIT_SHARE_DEN > MAX(a, b) * READMIT_SHARE_NUM;
                agrees &= d <= READMIT_AGREE;
            }
            if (differs || agrees) {
                v[x] = ON;
                readmitted++;
            }
        }
    }
    return readmitted;
}
