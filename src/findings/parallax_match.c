/* Matching along the parallax direction: one-sided whole-pixel displacements (raised parts
 * only move one way), forward and reverse, with a left-right (uniqueness) check. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "findings/parallax_internal.h"

#define NO_MATCH  1e9f /* the smallest matching displacement of a pixel nothing matches */
#define LR_SLACK  1.5  /* a match at s is unique when the partner's smallest is >= s - this, px */
#define WORD_BITS 64   /* displacements per bitset word */

/* One direction's displacements whose cost is below tau, per pixel, and the smallest. */
typedef struct {
    int words;     /* bitset words per pixel */
    guint64 *bits; /* displacement s of pixel i: bit s % 64 of word i * words + s / 64 */
    float *first;  /* the smallest such s, NO_MATCH for none */
} Below;

static inline float
lerp2(const float *r0, const float *r1, int xa, int xb, float fx, float fy)
{
    float top = r0[xa] + fx * (r0[xb] - r0[xa]);
    float bottom = r1[xa] + fx * (r1[xb] - r1[xa]);
    return top + fy * (bottom - top);
}

/* @src (@w x @h) sampled bilinearly at (@x, @y), the edges replicated. */
static float
sample_at(const float *src, int w, int h, double x, double y)
{
    int ix = (int) floor(x), iy = (int) floor(y);
    const float *r0 = src + (size_t) CLAMP(iy, 0, h - 1) * w;
    const float *r1 = src + (size_t) CLAMP(iy + 1, 0, h - 1) * w;
    return lerp2(r0, r1, CLAMP(ix, 0, w - 1), CLAMP(ix + 1, 0, w - 1), (float) (x - ix),
                 (float) (y - iy));
}

/* out(x, y) = src(x + dx, y + dy), bilinear, the edges replicated. */
static void
shift_sample(const float *src, int w, int h, double dx, double dy, float *out)
{
    const int ix = (int) floor(dx), iy = (int) floor(dy);
    const float fx = (float) (dx - ix), fy = (float) (dy - iy);
    const int a = CLAMP(-ix, 0, w), b = CLAMP(w - 1 - ix, a, w); /* x + ix + 1 inside */
    for (int y = 0; y < h; y++) {
        const float *r0 = src + (size_t) CLAMP(y + iy, 0, h - 1) * w;
        const float *r1 = src + (size_t) CLAMP(y + iy + 1, 0, h - 1) * w;
        float *o = out + (size_t) y * w;
        for (int x = 0; x < a; x++)
            o[x] = lerp2(r0, r1, CLAMP(x + ix, 0, w - 1), CLAMP(x + ix + 1, 0, w - 1), fx, fy);
        for (int x = a; x < b; x++)
            o[x] = lerp2(r0, r1, x + ix, x + ix + 1, fx, fy);
        for (int x = b; x < w; x++)
            o[x] = lerp2(r0, r1, CLAMP(x + ix, 0, w - 1), CLAMP(x + ix + 1, 0, w - 1), fx, fy);
    }
}

/* The displacements s (0..smax) at which a cost of @a(x) against @b(x + @sign s u) is below
 * its tau. */
static void
below_tau(const PcbMatchInput *in, const float *a, const float *b, double sign, Below *out)
{
    const size_t n = (size_t) in->w * in->h;
    g_autofree float *shifted = g_new(float, n);
    g_autofree float *alo = g_new(float, n);
    g_autofree float *ahi = g_new(float, n);
    g_autofree float *work = g_new(float, 5 * n);
    g_autofree float *cost = g_new(float, PCB_COSTS *n);
    float *const per[PCB_COSTS] = { cost, cost + n };
    pcb_half_range(a, in->w, in->h, alo, ahi);
    for (size_t i = 0; i < n; i++)
        out->first[i] = NO_MATCH;
    for (int s = 0; s <= in->smax; s++) {
        shift_sample(b, in->w, in->h, sign * s * in->ux, sign * s * in->uy, shifted);
        pcb_zn_costs(a, alo, ahi, shifted, in->w, in->h, work, per);
        const guint64 bit = (guint64) 1 << (s % WORD_BITS);
        guint64 *word = out->bits + s / WORD_BITS;
        for (size_t i = 0; i < n; i++)
            if (per[PCB_COST_PLAIN][i] < in->tau[PCB_COST_PLAIN]
                || per[PCB_COST_HALF][i] < in->tau[PCB_COST_HALF]) {
                word[i * out->words] |= bit;
                if (out->first[i] == NO_MATCH)
                    out->first[i] = (float) s;
            }
    }
}

/* The smallest displacement of @own's pixel (@x, @y) that is unique: its partner at
 * (x, y) + @sign s u has no match of its own below s - LR_SLACK (s = 0 always is); -1 none. */
static int
first_unique(const PcbMatchInput *in, const Below *own, const Below *partner, double sign, int x,
             int y)
{
    const guint64 *bits = own->bits + ((size_t) y * in->w + x) * own->words;
    for (int wd = 0; wd < own->words; wd++)
        for (guint64 b = bits[wd]; b != 0; b &= b - 1) {
            int s = wd * WORD_BITS + __builtin_ctzll(b);
            if (s == 0
                || sample_at(partner->first, in->w, in->h, x + sign * s * in->ux,
                             y + sign * s * in->uy)
                       >= s - LR_SLACK)
                return s;
        }
    return -1;
}

static void
all_unique(const PcbMatchInput *in, const Below *own, const Below *partner, double sign, int *out)
{
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            out[(size_t) y * in->w + x] = first_unique(in, own, partner, sign, x, y);
}

/* The two directions, in parallel: [0] forward, [1] reverse; first the costs (stage 0),
 * then the unique matches (stage 1, which reads the other direction's). */
typedef struct {
    const PcbMatchInput *in;
    Below dir[2];
    int *out[2];
    int stage;
    PcbJob job;
} MatchJob;

static void
match_dirs(void *ctx, int begin, int end)
{
    MatchJob *j = ctx;
    for (int d = begin; d < end; d++) {
        const double sign = d == 0 ? 1 : -1;
        if (j->stage == 0)
            below_tau(j->in, d == 0 ? j->in->zr : j->in->zw, d == 0 ? j->in->zw : j->in->zr, sign,
                      &j->dir[d]);
        else
            all_unique(j->in, &j->dir[d], &j->dir[1 - d], sign, j->out[d]);
    }
}

gboolean
pcb_match_along(const PcbMatchInput *in, int *sf, int *sr, GError **error)
{
    const size_t n = (size_t) in->w * in->h;
    const int words = (in->smax + WORD_BITS) / WORD_BITS;
    MatchJob j = { .in = in, .out = { sf, sr } };
    for (int d = 0; d < 2; d++)
        j.dir[d] = (Below){ words, g_new0(guint64, n * words), g_new(float, n) };
    gboolean ok = pcb_parallel(2, match_dirs, &j, &j.job, "parallax test", error);
    j.stage = 1;
    ok = ok && pcb_parallel(2, match_dirs, &j, &j.job, "parallax test", error);
    for (int d = 0; d < 2; d++) {
        g_free(j.dir[d].bits);
        g_free(j.dir[d].first);
    }
    return ok;
}
