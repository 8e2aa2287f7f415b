/* Classifying and vetting a region: its kind (added, removed, altered) from the bare board
 * around it, and how much of it a change of light explains. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "core/imgops.h"
#include "findings/findings_internal.h"

/* The coarse colour histogram's cell of a pixel: 4 bits per channel. */
#define COARSE_SHIFT  4
#define COARSE_CELLS  4096
#define MIN_MOVE      30.0 /* the bare-board tolerance (8-bit RGB distance) is at least this ... */
#define MOVE_NOISE    4.0  /* ... or this many L noise sigmas; */
#define MOVE_SHARE    3    /* a move counts from this fraction of it */
#define MIN_SHARE     0.1  /* a kind needs this share of the changed pixels to move its way */
#define ARRIVALS      2.0  /* arrivals must outnumber departures this much for added */
#define PART_IN_BOTH  0.5  /* this share of the changed pixels off the board in both images ... */
#define SAME_OUTLINE  1.6  /* ... and the outline stepping within this factor: a part in both */
#define MIN_PAD       3    /* least ring of board around a box, px */
#define PAD_SHARE     0.5  /* ... else this share of the box's longer side */
#define MIN_FIT       4    /* fewest covered pixels a light fit takes */
#define TINY_VARIANCE 1e-9 /* a flat source has no slope */
#define MIN_SLOPE     0.25 /* no light change inverts or wipes out contrast */
#define RING_WORSE    2.0 /* a light fit that doubles the unchanged ring's squared difference ... */
#define RING_NOISE    2.0 /* ... beyond 2 noise sigmas a pixel explains nothing */
#define LAB_ZERO      128 /* a* and b* of 8-bit Lab are offset by this */
#define SHADE_MIN     0.6 /* bare board in shade or light keeps its chroma in proportion ... */
#define SHADE_MAX     1.5 /* ... to its lightness, within this range of the ring's */
#define CHROMA_TOL    10.0 /* a pixel is bare board within this chroma distance (Lab units) ... */
#define CHROMA_SHARE  0.25 /* ... plus this share of the board's own chroma */
#define GREY_CHROMA   8.0  /* a colour of less chroma is grey (Lab units) ... */
#define TINT_SHARE    0.5  /* ... and yields to a tinted one with this share of its pixels */
#define PART_SIDES    0.5  /* a part's surface holds this share of each side of the ring ... */
#define PART_CHROMA   12.0 /* ... is grey or black, of less chroma (Lab units; a bluish cast) ... */
#define PART_REACH_MM 8.0  /* ... and ends within this of it, mm (a package's body) */
#define OUTLINE_SIGMA 1.5  /* the changed pixels' mask is smoothed this much (px) ... */
#define OUTLINE_EDGE  0.05 /* ... and its outline is where its gradient exceeds this */

/* The cast-shadow test */
#define SHADOW_GAP     2    /* a cast shadow's changed pixels may be this far from its part, px */
#define SHADOW_REACH   512  /* ... and its part at most this far beyond its box, px */
#define SHADOW_SAMPLES 4096 /* a region's pixels walked back to a part, about */

static inline guint
coarse(const guint8 *p)
{
    return (guint) ((p[0] >> COARSE_SHIFT) << 8 | (p[1] >> COARSE_SHIFT) << 4
                    | p[2] >> COARSE_SHIFT);
}

/* A box (exclusive max) and the ring @pad px around it, clipped to an image. */
typedef struct {
    int x0, y0, x1, y1;     /* the box */
    int rx0, ry0, rx1, ry1; /* the box and the ring */
} Ring;

static inline gboolean
in_box(const Ring *g, int x, int y)
{
    return x >= g->x0 && x < g->x1 && y >= g->y0 && y < g->y1;
}

/* Box @x0, @y0 .. @x1, @y1 and the ring @pad px around it, clipped to @img. */
static inline Ring
ring_of(const PcbImage *img, int x0, int y0, int x1, int y1, int pad)
{
    return (Ring){ x0,
                   y0,
                   x1,
                   y1,
                   MAX(0, x0 - pad),
                   MAX(0, y0 - pad),
                   MIN(img->width, x1 + pad),
                   MIN(img->height, y1 + pad) };
}

/* The bare-board tolerance of @map (8-bit RGB distance). */
static inline double
bare_tolerance(const PcbDiffMap *map)
{
    return MAX(MIN_MOVE, MOVE_NOISE * map->noise[0]);
}

/* The mean colour of the ring pixels in coarse cell @best. */
static void
cell_mean(const PcbImage *img, const Ring *g, guint best, double col[3])
{
    double sum[3] = { 0, 0, 0 };
    guint n = 0;
    for (int y = g->ry0; y < g->ry1; y++) {
        const guint8 *row = pcb_image_row(img, y);
        for (int x = g->rx0; x < g->rx1; x++) {
            const guint8 *p = row + 3 * x;
            if (!in_box(g, x, y) && coarse(p) == best) {
                for (int c = 0; c < 3; c++)
                    sum[c] += p[c];
                n++;
            }
        }
    }
    for (int c = 0; c < 3; c++)
        col[c] = sum[c] / n;
}

/* The Lab colour of every coarse colour cell's centre. */
typedef struct {
    guint8 lab[COARSE_CELLS][3];
} PcbCellColours;

/* The Lab colour of every coarse cell's centre, made once. */
static const PcbCellColours *
cell_colours(void)
{
    static PcbCellColours cells;
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        /* the coarse cells' centres, as one image of 64 x 64 colours */
        guint8 centres[COARSE_CELLS][3];
        const guint half = 1u << (COARSE_SHIFT - 1);
        for (guint i = 0; i < COARSE_CELLS; i++) {
            centres[i][0] = (guint8) (((i >> 8) & 15u) << COARSE_SHIFT | half);
            centres[i][1] = (guint8) (((i >> 4) & 15u) << COARSE_SHIFT | half);
            centres[i][2] = (guint8) ((i & 15u) << COARSE_SHIFT | half);
        }
        pcbcv_view cv = { 64, 64, 3, 3 * 64, &centres[0][0] };
        pcbcv_view lv = { 64, 64, 3, 3 * 64, &cells.lab[0][0] };
        pcb_rgb_to_lab(&cv, &lv);
        g_once_init_leave(&done, 1);
    }
    return &cells;
}

static inline gboolean
is_grey(const PcbCellColours *cells, guint i)
{
    double a = cells->lab[i][1] - LAB_ZERO, b = cells->lab[i][2] - LAB_ZERO;
    return a * a + b * b < GREY_CHROMA * GREY_CHROMA;
}

/* The bare-board colour around a box in one image: the mean of the ring pixels (@pad px
 * around the box) in the most populated cell of a coarse colour histogram — the solder mask,
 * even when parts, traces and silkscreen take much of the ring. With @cells, a grey cell gives
 * way to the commonest tinted one when that has TINT_SHARE of its pixels: a large grey or black
 * part (a socket, a connector's body) beside a small one can take most of the ring, and a
 * solder mask is tinted (green, blue, red) far more often than grey. FALSE when the ring is
 * empty. */
static gboolean
board_colour(const PcbImage *img, const PcbCellColours *cells, int x0, int y0, int x1, int y1,
             int pad, double col[3])
{
    const Ring g = ring_of(img, x0, y0, x1, y1, pad);
    g_autofree guint *hist = g_new0(guint, COARSE_CELLS);
    for (int y = g.ry0; y < g.ry1; y++) {
        const guint8 *row = pcb_image_row(img, y);
        for (int x = g.rx0; x < g.rx1; x++)
            if (!in_box(&g, x, y))
                hist[coarse(row + 3 * x)]++;
    }
    guint best = 0, tinted = 0, tinted_n = 0;
    for (guint i = 1; i < COARSE_CELLS; i++)
        if (hist[i] > hist[best])
            best = i;
    if (hist[best] == 0)
        return FALSE;
    if (cells != NULL && is_grey(cells, best)) {
        for (guint i = 0; i < COARSE_CELLS; i++)
            if (!is_grey(cells, i) && hist[i] > tinted_n) {
                tinted = i;
                tinted_n = hist[i];
            }
        if (tinted_n > 0 && tinted_n >= TINT_SHARE * hist[best])
            best = tinted;
    }
    cell_mean(img, &g, best, col);
    return TRUE;
}

static double
colour_dist(const guint8 *p, const double col[3])
{
    double d0 = p[0] - col[0], d1 = p[1] - col[1], d2 = p[2] - col[2];
    return sqrt(d0 * d0 + d1 * d1 + d2 * d2);
}

/* A region's box clipped to the map, and the width of the ring of board around it. FALSE
 * when nothing of it is left. */
static gboolean
region_box(const PcbDiffMap *map, const PcbRegion *r, int *x0, int *y0, int *x1, int *y1, int *pad)
{
    const PcbBox b = pcb_region_box(r, map->ref->width, map->ref->height);
    *x0 = b.x;
    *y0 = b.y;
    *x1 = b.x + b.w;
    *y1 = b.y + b.h;
    *pad = MAX(MIN_PAD, (int) (PAD_SHARE * MAX(b.w, b.h)));
    return b.w > 0 && b.h > 0;
}

/* How sharply each image's lightness steps across the outline of the changed pixels of box @g:
 * over the outline (the smoothed mask's gradient above OUTLINE_EDGE), the image's gradient
 * along the outline's normal, weighted by the mask's gradient, into @step[0] (reference) and
 * @step[1] (photo). A part put on the board has its outline in the photo; one taken off, in the
 * reference; board detail a part hides or leaves (silkscreen, traces) runs across the outline
 * and steps along it. FALSE when there is no outline. */
static gboolean
outline_steps(const PcbDiffMap *map, const Ring *g, guint8 low, double step[2])
{
    const int margin = (int) ceil(3 * OUTLINE_SIGMA) + 1;
    const int x0 = MAX(0, g->x0 - margin), y0 = MAX(0, g->y0 - margin);
    const int x1 = MIN(map->ref->width, g->x1 + margin);
    const int y1 = MIN(map->ref->height, g->y1 + margin);
    const int w = x1 - x0, h = y1 - y0;
    if (w < 3 || h < 3)
        return FALSE;
    g_autofree float *mask = g_new(float, (size_t) w *h);
    g_autofree float *smooth = g_new(float, (size_t) w *h);
    for (int y = y0; y < y1; y++) {
        const guint8 *s = pcb_image_row(map->score, y);
        for (int x = x0; x < x1; x++)
            mask[(size_t) (y - y0) * w + (x - x0)] = in_box(g, x, y) && s[x] >= low ? 1.0f : 0.0f;
    }
    pcbcv_fview mv = { w, h, 1, sizeof(float) * (size_t) w, mask };
    pcbcv_fview sv = { w, h, 1, sizeof(float) * (size_t) w, smooth };
    char msg[256] = "";
    if (pcbcv_gaussian_f(&mv, &sv, 0, OUTLINE_SIGMA, PCBCV_BORDER_REPLICATE, msg, sizeof msg)
        != PCBCV_OK)
        return FALSE;
    const PcbImage *img[2] = { map->ref, map->photo };
    double sum[2] = { 0, 0 }, weight = 0;
    for (int y = y0 + 1; y < y1 - 1; y++) {
        const guint8 *v = pcb_image_row(map->valid, y);
        for (int x = x0 + 1; x < x1 - 1; x++) {
            const float *m = smooth + (size_t) (y - y0) * w + (x - x0);
            const float mx = (m[1] - m[-1]) / 2, my = (m[w] - m[-w]) / 2;
            if (!v[x] || !v[x - 1] || !v[x + 1] || hypotf(mx, my) <= OUTLINE_EDGE)
                continue;
            for (int k = 0; k < 2; k++) {
                const guint8 *up = pcb_image_row(img[k], y - 1), *row = pcb_image_row(img[k], y);
                const guint8 *down = pcb_image_row(img[k], y + 1);
                double ix = 0, iy = 0;
                for (int c = 0; c < 3; c++) {
                    ix += (row[3 * (x + 1) + c] - row[3 * (x - 1) + c]) / 6.0;
                    iy += (down[3 * x + c] - up[3 * x + c]) / 6.0;
                }
                sum[k] += fabs(ix * mx + iy * my);
            }
            weight += (double) mx * mx + (double) my * my;
        }
    }
    if (weight <= 0)
        return FALSE;
    step[0] = sum[0] / weight;
    step[1] = sum[1] / weight;
    return TRUE;
}

/* The Lab colour of an 8-bit RGB colour. */
static void
rgb_lab(const double rgb[3], double lab[3])
{
    guint8 in[3] = { (guint8) lround(rgb[0]), (guint8) lround(rgb[1]), (guint8) lround(rgb[2]) };
    guint8 out[3];
    pcbcv_view iv = { 1, 1, 3, 3, in }, ov = { 1, 1, 3, 3, out };
    pcb_rgb_to_lab(&iv, &ov);
    for (int c = 0; c < 3; c++)
        lab[c] = out[c];
}

/* The share of the pixels of rows @y0..@y1 and columns @x0..@x1 (exclusive) of @img within
 * @tol of @col; -1 when there are none. */
static double
near_share(const PcbImage *img, int x0, int y0, int x1, int y1, const double col[3], double tol)
{
    guint n = 0, near = 0;
    for (int y = y0; y < y1; y++) {
        const guint8 *row = pcb_image_row(img, y);
        for (int x = x0; x < x1; x++, n++)
            near += colour_dist(row + 3 * x, col) < tol;
    }
    return n > 0 ? (double) near / n : -1;
}

/* Whether the reference shows box @g on a part: the ring's commonest colour (@col) is grey or
 * black, as a package's body is and a solder mask mostly is not, it holds half of each of the
 * ring's four sides, and the surface of that colour joined to the ring ends within @reach px
 * of it, short of the image's edge. The solder mask runs on across the board; a package's body
 * is a few mm across, and a change inside it (its marking, its top) was neither put on nor
 * taken off. */
static gboolean
on_part(const PcbImage *ref, const Ring *g, const double col[3], double tol, int reach,
        PcbBox *body)
{
    double lab[3];
    rgb_lab(col, lab);
    if (hypot(lab[1] - LAB_ZERO, lab[2] - LAB_ZERO) >= PART_CHROMA || g->rx0 == g->x0
        || g->ry0 == g->y0 || g->rx1 == g->x1 || g->ry1 == g->y1)
        return FALSE;
    const double sides[4] = { near_share(ref, g->rx0, g->ry0, g->rx1, g->y0, col, tol),
                              near_share(ref, g->rx0, g->y1, g->rx1, g->ry1, col, tol),
                              near_share(ref, g->rx0, g->y0, g->x0, g->y1, col, tol),
                              near_share(ref, g->x1, g->y0, g->rx1, g->y1, col, tol) };
    for (int i = 0; i < 4; i++)
        if (sides[i] < PART_SIDES)
            return FALSE;
    const int wx0 = g->rx0 - reach, wy0 = g->ry0 - reach, wx1 = g->rx1 + reach,
              wy1 = g->ry1 + reach;
    if (wx0 < 0 || wy0 < 0 || wx1 > ref->width || wy1 > ref->height)
        return FALSE; /* the surface may run on beyond the image */
    const int w = wx1 - wx0, h = wy1 - wy0;
    g_autofree guint8 *m = g_new(guint8, (size_t) w * h);
    for (int y = 0; y < h; y++) {
        const guint8 *row = pcb_image_row(ref, wy0 + y) + 3 * wx0;
        for (int x = 0; x < w; x++)
            m[(size_t) y * w + x] = colour_dist(row + 3 * x, col) < tol;
    }
    g_autofree int *list = g_new(int, (size_t) w *h);
    int bx0 = g->rx0 - wx0, by0 = g->ry0 - wy0, bx1 = g->rx1 - wx0, by1 = g->ry1 - wy0;
    for (int y = g->ry0; y < g->ry1; y++)
        for (int x = g->rx0; x < g->rx1; x++) {
            const int i = (y - wy0) * w + (x - wx0);
            if (in_box(g, x, y) || m[i] != 1)
                continue;
            const int size = pcb_grow_component(m, w, h, i, 1, 2, list);
            for (int k = 0; k < size; k++) {
                const int px = list[k] % w, py = list[k] / w;
                if (px == 0 || py == 0 || px == w - 1 || py == h - 1)
                    return FALSE;
                bx0 = MIN(bx0, px);
                by0 = MIN(by0, py);
                bx1 = MAX(bx1, px + 1);
                by1 = MAX(by1, py + 1);
            }
        }
    if (body != NULL)
        *body = (PcbBox){ wx0 + bx0, wy0 + by0, bx1 - bx0, by1 - by0 };
    return TRUE;
}

/* The ring around region @r's box, the ring's commonest colour in the reference (@common) and
 * how far a part's body may reach beyond the ring (@reach px); FALSE without a ring or a scale
 * (a body's size is physical). */
static gboolean
part_setup(const PcbDiffMap *map, const PcbRegion *r, double px_per_mm, Ring *g, double common[3],
           int *reach)
{
    int x0, y0, x1, y1, pad;
    if (px_per_mm <= 0 || !region_box(map, r, &x0, &y0, &x1, &y1, &pad)
        || !board_colour(map->ref, NULL, x0, y0, x1, y1, pad, common))
        return FALSE;
    *g = ring_of(map->ref, x0, y0, x1, y1, pad);
    *reach = (int) lround(PART_REACH_MM * px_per_mm / map->scale);
    return TRUE;
}

gboolean
pcb_part_body(const PcbDiffMap *map, const PcbRegion *r, double px_per_mm, PcbBox *body)
{
    Ring g;
    double common[3];
    int reach;
    return part_setup(map, r, px_per_mm, &g, common, &reach)
           && on_part(map->ref, &g, common, bare_tolerance(map), reach, body);
}

/* Kind from which way the changed pixels moved against the bare board around them: nearer
 * the board colour in the reference than in the photo, a part now stands there (added); the
 * other way round, a part is gone (removed; the pads it leaves may look new); neither way
 * for a good share (another part, colour, marking): altered. A move counts when it is at
 * least a third of the bare-board tolerance; measuring it, not asking "bare or not" on each
 * side, keeps a part whose colour is near the board's (a small or blurred part, a trace
 * under it) from reading as no change of part at all. */
PcbKind
pcb_classify(const PcbDiffMap *map, const PcbRegion *r, guint8 low, double px_per_mm)
{
    /* a change inside a part's body (its marking, its top): altered */
    if (pcb_part_body(map, r, px_per_mm, NULL))
        return PCB_KIND_ALTERED;
    const PcbCellColours *cells = cell_colours();
    int x0, y0, x1, y1, pad;
    double br[3], bp[3];
    if (!region_box(map, r, &x0, &y0, &x1, &y1, &pad)
        || !board_colour(map->ref, cells, x0, y0, x1, y1, pad, br)
        || !board_colour(map->photo, cells, x0, y0, x1, y1, pad, bp))
        return PCB_KIND_ALTERED;
    /* a move counts from a third of the bare-board tolerance */
    const double bare = bare_tolerance(map), move = bare / MOVE_SHARE;
    guint n = 0, to_part = 0, to_bare = 0, part_both = 0;
    for (int y = y0; y < y1; y++) {
        const guint8 *a = pcb_image_row(map->ref, y), *b = pcb_image_row(map->photo, y);
        const guint8 *s = pcb_image_row(map->score, y);
        for (int x = x0; x < x1; x++) {
            if (s[x] < low) /* only the pixels that changed */
                continue;
            n++;
            const double from = colour_dist(a + 3 * x, br), to = colour_dist(b + 3 * x, bp);
            to_part += to - from > move;
            to_bare += to - from < -move;
            part_both += from > bare && to > bare;
        }
    }
    if (n == 0)
        return PCB_KIND_ALTERED;
    /* a part in both images whose outline steps about as sharply in both: it stayed where it
     * was and changed (another colour, another part of its size), neither put on nor taken
     * off; a part taken off leaves its pads off the board too, but not its outline. A marking's
     * strokes are each in one image only: this does not reach them */
    const Ring g = { x0, y0, x1, y1, x0, y0, x1, y1 };
    double step[2];
    const gboolean outline = outline_steps(map, &g, low, step);
    if (outline && part_both >= PART_IN_BOTH * n && step[1] * SAME_OUTLINE >= step[0]
        && step[1] <= SAME_OUTLINE * step[0])
        return PCB_KIND_ALTERED;
    /* a part standing on the board moves most changed pixels away from it, at least twice as
     * many as it hides board detail; short of that, a tenth moving to the board is a removal
     * (its pads may stay and look new) */
    if (to_part >= MIN_SHARE * n && to_part >= ARRIVALS * to_bare)
        return PCB_KIND_ADDED;
    /* a part taken off leaves its outline in the reference: where the photo steps more sharply
     * across the changed pixels' outline, a part was put over board detail (a black part on a
     * black board hides white silkscreen) */
    if (to_bare >= MIN_SHARE * n) {
        if (outline && step[1] > step[0])
            return to_part >= MIN_SHARE * n ? PCB_KIND_ADDED : PCB_KIND_ALTERED;
        return PCB_KIND_REMOVED;
    }
    return PCB_KIND_ALTERED;
}

PcbBlurMap
pcb_blur_of(const PcbDiffMap *map)
{
    return map->priv != NULL ? map->priv->blur : (PcbBlurMap){ 0, 0, 0, NULL };
}

/* Whether Lab pixel @p is bare board of Lab colour @board: its chroma is the board's, scaled
 * by its lightness against the board's (shade and light change a surface's lightness and its
 * chroma in proportion, not its hue). */
static gboolean
is_bare(const guint8 *p, const double board[3])
{
    double k = CLAMP(p[0] / MAX(board[0], 1.0), SHADE_MIN, SHADE_MAX);
    double ba = board[1] - LAB_ZERO, bb = board[2] - LAB_ZERO;
    double da = p[1] - LAB_ZERO - k * ba, db = p[2] - LAB_ZERO - k * bb;
    double tol = CHROMA_TOL + CHROMA_SHARE * sqrt(ba * ba + bb * bb);
    return da * da + db * db < tol * tol;
}

double
pcb_material_change(const PcbDiffMap *map, const PcbRegion *r, guint8 low, int cell, double least)
{
    int x0, y0, x1, y1, pad;
    double rgb[2][3], board[2][3];
    if (!region_box(map, r, &x0, &y0, &x1, &y1, &pad)
        || !board_colour(map->ref, NULL, x0, y0, x1, y1, pad, rgb[0])
        || !board_colour(map->photo, NULL, x0, y0, x1, y1, pad, rgb[1]))
        return 1; /* nothing to hold it to: a change of material */
    const PcbBox box = { x0, y0, x1 - x0, y1 - y0 };
    g_autoptr(PcbImage) lab0 = pcb_image_new(box.w, box.h, PCB_FORMAT_RGB8, NULL);
    g_autoptr(PcbImage) lab1 = pcb_image_new(box.w, box.h, PCB_FORMAT_RGB8, NULL);
    if (lab0 == NULL || lab1 == NULL)
        return 1;
    pcbcv_view rv = pcb_view(map->ref), pv = pcb_view(map->photo);
    pcbcv_view rc = pcb_view_crop(&rv, box), pc = pcb_view_crop(&pv, box);
    pcbcv_view l0 = pcb_view(lab0), l1 = pcb_view(lab1);
    pcb_rgb_to_lab(&rc, &l0);
    pcb_rgb_to_lab(&pc, &l1);
    rgb_lab(rgb[0], board[0]);
    rgb_lab(rgb[1], board[1]);
    cell = MAX(1, cell);
    const int cols = (box.w + cell - 1) / cell, rows = (box.h + cell - 1) / cell;
    g_autofree guint *count = g_new0(guint, 2 * (size_t) cols * rows); /* changed, moved */
    guint n = 0, moved = 0;
    for (int y = y0; y < y1; y++) {
        const guint8 *a = pcb_image_row(lab0, y - y0), *b = pcb_image_row(lab1, y - y0);
        const guint8 *s = pcb_image_row(map->score, y);
        for (int x = x0; x < x1; x++) {
            if (s[x] < low)
                continue;
            const guint8 *pa = a + 3 * (x - x0), *pb = b + 3 * (x - x0);
            const double la[3] = { pa[0], pa[1], pa[2] }, lb[3] = { pb[0], pb[1], pb[2] };
            /* bare board in one image, and not the same surface in shade or light in the other */
            gboolean m = (is_bare(pa, board[0]) && !is_bare(pb, la))
                         || (is_bare(pb, board[1]) && !is_bare(pa, lb));
            guint *c = count + 2 * ((size_t) ((y - y0) / cell) * cols + (x - x0) / cell);
            c[0]++;
            c[1] += m;
            n++;
            moved += m;
        }
    }
    /* a new part merged with the shade beside it: its cells still change material */
    double share = n > 0 ? (double) moved / n : 1;
    for (int i = 0; i < cols * rows; i++)
        if (count[2 * i + 1] >= least)
            share = MAX(share, (double) count[2 * i + 1] / count[2 * i]);
    return share;
}

/* A least-squares line Y = slope X + off through the covered pixels of channel @c (@src to
 * @dst, crops at @x0, @y0 of @w x @h); FALSE with fewer than MIN_FIT of them. */
static gboolean
fit_light(const PcbDiffMap *map, const PcbImage *src, const PcbImage *dst, int x0, int y0, int c,
          double *slope, double *off)
{
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int y = y0; y < y0 + src->height; y++) {
        const guint8 *a = pcb_image_row(src, y - y0), *b = pcb_image_row(dst, y - y0);
        const guint8 *v = pcb_image_row(map->valid, y);
        for (int x = x0; x < x0 + src->width; x++)
            if (v[x]) {
                double X = a[3 * (x - x0) + c], Y = b[3 * (x - x0) + c];
                n++;
                sx += X;
                sy += Y;
                sxx += X * X;
                sxy += X * Y;
            }
    }
    if (n < MIN_FIT)
        return FALSE;
    double vx = sxx - sx * sx / n, cxy = sxy - sx * sy / n;
    *slope = vx > TINY_VARIANCE ? cxy / vx : 0;
    if (*slope < MIN_SLOPE)
        *slope = MIN_SLOPE;
    *off = (sy - *slope * sx) / n;
    return TRUE;
}

/* The squared differences, before (e0) and after (e1) the light fit, of the changed pixels in
 * the box and of the unchanged ones around it (the ring). */
typedef struct {
    double e0, e1, box_n, ring0, ring1, ring_n;
} LightErrors;

static void
light_errors_row(const PcbDiffMap *map, const guint8 *a, const guint8 *b, int y, int x0, int width,
                 const int box[4], guint8 low, int c, double slope, double off, LightErrors *le)
{
    const guint8 *s = pcb_image_row(map->score, y), *v = pcb_image_row(map->valid, y);
    const gboolean rows_in = y >= box[1] && y < box[3];
    for (int x = x0; x < x0 + width; x++) {
        double X = a[3 * (x - x0) + c], Y = b[3 * (x - x0) + c];
        double d0 = (Y - X) * (Y - X), d1 = (Y - slope * X - off) * (Y - slope * X - off);
        if (rows_in && x >= box[0] && x < box[2]) {
            if (s[x] >= low) {
                le->e0 += d0;
                le->e1 += d1;
                le->box_n += c == 0; /* pixels, counted on the first channel */
            }
        }
        else if (v[x] && s[x] < low) {
            le->ring0 += d0;
            le->ring1 += d1;
            le->ring_n++;
        }
    }
}

/* The share of the changed pixels' squared difference that the light fits (per channel,
 * @src to @dst) leave unexplained, and what they leave (@residual: noise sigmas, root mean
 * square over the pixels and channels); FALSE when a fit has too few pixels. A fit that would
 * spoil the unchanged board around the box (a change of light is smooth: it acts there too)
 * explains nothing: a sticker or a new part over a uniform area is no change of light. */
static gboolean
unexplained_way(const PcbDiffMap *map, const PcbImage *src, const PcbImage *dst, int x0, int y0,
                const int box[4], guint8 low, double *u, double *residual)
{
    LightErrors le = { 0 };
    double floor = 0;
    for (int c = 0; c < 3; c++) {
        double slope, off;
        if (!fit_light(map, src, dst, x0, y0, c, &slope, &off))
            return FALSE;
        double n_before = le.ring_n;
        for (int y = y0; y < y0 + src->height; y++)
            light_errors_row(map, pcb_image_row(src, y - y0), pcb_image_row(dst, y - y0), y, x0,
                             src->width, box, low, c, slope, off, &le);
        double sigma = RING_NOISE * map->noise[c];
        floor += (le.ring_n - n_before) * sigma * sigma;
    }
    const double var = map->noise[0] * map->noise[0] + map->noise[1] * map->noise[1]
                       + map->noise[2] * map->noise[2];
    *residual = le.box_n > 0 ? sqrt(le.e1 / (le.box_n * var)) : 0;
    if (le.ring1 > RING_WORSE * le.ring0 + floor) {
        *u = 1;
        return TRUE;
    }
    *u = le.e0 > 0 ? le.e1 / le.e0 : 1;
    return TRUE;
}

/* How much of a region's difference a local affine change of light explains (per channel,
 * fitted over the box and a ring around it, both ways: photo from reference and reference
 * from photo). Returns the larger share of the changed pixels' squared difference that stays
 * unexplained: near 0 for glare, gain or tone changes, near 1 for a part that appeared (the
 * reference cannot be mapped onto it) or vanished (nor the photo onto the reference); 1 when
 * both ways leave the changed pixels @max_residual noise sigmas apart or more. */
double
pcb_unexplained(const PcbDiffMap *map, const PcbRegion *r, guint8 low, double max_residual)
{
    int w = map->ref->width, h = map->ref->height;
    int box[4], pad;
    if (!region_box(map, r, &box[0], &box[1], &box[2], &box[3], &pad))
        return 1; /* nothing of it on the map: nothing explained */
    int x0 = MAX(0, box[0] - pad), y0 = MAX(0, box[1] - pad), x1 = MIN(w, box[2] + pad),
        y1 = MIN(h, box[3] + pad);
    /* both images as the score compared them (blur matched) */
    g_autoptr(PcbImage) rc = pcb_image_new(x1 - x0, y1 - y0, PCB_FORMAT_RGB8, NULL);
    g_autoptr(PcbImage) pc = pcb_image_new(x1 - x0, y1 - y0, PCB_FORMAT_RGB8, NULL);
    if (rc == NULL || pc == NULL)
        return 1;
    PcbBlurMap blur = pcb_blur_of(map);
    pcbcv_view rv = pcb_view(map->ref), pv = pcb_view(map->photo);
    pcbcv_view rcv = pcb_view(rc), pcv = pcb_view(pc);
    if (!pcb_matched_crop(&rv, &blur, 1, x0, y0, &rcv, NULL)
        || !pcb_matched_crop(&pv, &blur, -1, x0, y0, &pcv, NULL))
        return 1; /* nothing explained */
    double worst = 0, least_left = G_MAXDOUBLE;
    for (int dir = 0; dir < 2; dir++) {
        double u, left;
        if (!unexplained_way(map, dir == 0 ? rc : pc, dir == 0 ? pc : rc, x0, y0, box, low, &u,
                             &left))
            return 1;
        worst = MAX(worst, u);
        least_left = MIN(least_left, left);
    }
    /* what the fits leave, either way, is still a change: a grey part on dark board whose
     * surroundings are lit a little brighter keeps 60% of its difference's amplitude */
    return max_residual > 0 && least_left >= max_residual ? 1 : worst;
}

/* One region's crop for the cast-shadow test: which pixels changed (the score's, dilated to
 * bridge a shadow's soft edge), which of them the photo shows in shade (darker, no channel
 * brighter), and which reference
 * pixels are no bare board (a part that may cast a shadow). */
typedef struct {
    int x0, y0, w, h;       /* the crop, working px */
    int bx0, by0, bx1, by1; /* the region's box in it */
    guint8 *near, *dark, *part;
} ShadowCrop;

static void
shadow_crop_clear(ShadowCrop *k)
{
    g_free(k->near);
    g_free(k->dark);
    g_free(k->part);
}

static gboolean
shadow_crop(const PcbDiffMap *map, const PcbRegion *r, guint8 low, ShadowCrop *k)
{
    int x0, y0, x1, y1, pad;
    double rgb[3], board[3];
    if (!region_box(map, r, &x0, &y0, &x1, &y1, &pad)
        || !board_colour(map->ref, cell_colours(), x0, y0, x1, y1, pad, rgb))
        return FALSE;
    rgb_lab(rgb, board);
    /* a shadow reaches back to its part: as far as the region is long, and a ring */
    const int reach = MIN(SHADOW_REACH, MAX(x1 - x0, y1 - y0) + SHADOW_GAP + 2);
    const PcbBox all = { 0, 0, map->ref->width, map->ref->height };
    const PcbBox c = pcb_box_grow((PcbBox){ x0, y0, x1 - x0, y1 - y0 }, reach, all);
    *k = (ShadowCrop){
        c.x, c.y, c.w, c.h, x0 - c.x, y0 - c.y, x1 - c.x, y1 - c.y, NULL, NULL, NULL
    };
    const size_t n = (size_t) c.w * c.h;
    g_autoptr(PcbImage) lr = pcb_image_new(c.w, c.h, PCB_FORMAT_RGB8, NULL);
    g_autoptr(PcbImage) lp = pcb_image_new(c.w, c.h, PCB_FORMAT_RGB8, NULL);
    if (lr == NULL || lp == NULL)
        return FALSE;
    pcbcv_view rv = pcb_view(map->ref), pv = pcb_view(map->photo);
    pcbcv_view rc = pcb_view_crop(&rv, c), pc = pcb_view_crop(&pv, c);
    pcbcv_view l0 = pcb_view(lr), l1 = pcb_view(lp);
    pcb_rgb_to_lab(&rc, &l0);
    pcb_rgb_to_lab(&pc, &l1);
    g_autofree guint8 *changed = g_new(guint8, n);
    k->near = g_new(guint8, n);
    k->dark = g_new(guint8, n);
    k->part = g_new(guint8, n);
    /* a shade only takes light away: no channel of the photo rises over the reference's by
     * more than the difference's noise (a mark or a part taken off shows another colour) */
    const double rise = map->noise[0];
    for (int y = 0; y < c.h; y++) {
        const guint8 *s = pcb_image_row(map->score, c.y + y) + c.x;
        const guint8 *a = pcb_image_row(lr, y), *b = pcb_image_row(lp, y);
        const guint8 *ra = pcb_view_row(&rc, y), *pb = pcb_view_row(&pc, y);
        for (int x = 0; x < c.w; x++) {
            const size_t i = (size_t) y * c.w + x;
            changed[i] = s[x] >= low ? 255 : 0;
            gboolean shade = s[x] >= low && b[3 * x] < a[3 * x];
            for (int ch = 0; ch < 3; ch++)
                shade = shade && pb[3 * x + ch] <= ra[3 * x + ch] + rise;
            k->dark[i] = shade;
            k->part[i] = !is_bare(a + 3 * x, board);
        }
    }
    pcbcv_view cv = { c.w, c.h, 1, (size_t) c.w, changed },
               nv = { c.w, c.h, 1, (size_t) c.w, k->near };
    char msg[256] = "";
    if (pcbcv_morph(&cv, &nv, 1, 2 * SHADOW_GAP + 1, PCBCV_BORDER_DEFAULT, msg, sizeof msg)
        == PCBCV_OK)
        return TRUE;
    g_debug("findings: cast-shadow test: %s: region kept", msg);
    return FALSE;
}

/* Whether crop pixel (@x, @y), walked towards the light (-@dx, -@dy), reaches a part through
 * changed pixels: a cast shadow lies against the part that casts it, a new part on the board
 * is surrounded by board that did not change. */
static gboolean
attached(const ShadowCrop *k, int x, int y, double dx, double dy)
{
    double fx = x, fy = y;
    for (;;) {
        fx -= dx;
        fy -= dy;
        const int ix = (int) lround(fx), iy = (int) lround(fy);
        if (ix < 0 || iy < 0 || ix >= k->w || iy >= k->h)
            return FALSE;
        const size_t i = (size_t) iy * k->w + ix;
        const gboolean own
            = ix >= k->bx0 && ix < k->bx1 && iy >= k->by0 && iy < k->by1 && k->dark[i];
        if (k->part[i] && !own)
            return TRUE; /* a part, not under the region's own shade */
        if (!k->near[i])
            return FALSE; /* unchanged bare board between */
    }
}

gboolean
pcb_shadow_shares(const PcbDiffMap *map, const PcbRegion *r, guint8 low, int ndirs, double *share,
                  double *changed)
{
    ShadowCrop k;
    memset(&k, 0, sizeof k);
    gboolean ok = shadow_crop(map, r, low, &k);
    /* a large region is judged on a grid of about SHADOW_SAMPLES of its pixels */
    const double area = (double) (k.bx1 - k.bx0) * (k.by1 - k.by0);
    const int step = MAX(1, (int) sqrt(area / SHADOW_SAMPLES));
    g_autofree double *dx = g_new(double, ndirs);
    g_autofree double *dy = g_new(double, ndirs);
    g_autofree guint *hits = g_new0(guint, ndirs);
    for (int d = 0; d < ndirs; d++) {
        dx[d] = cos(2 * G_PI * d / ndirs);
        dy[d] = sin(2 * G_PI * d / ndirs);
    }
    guint n = 0;
    for (int y = k.by0; ok && y < k.by1; y += step) {
        const guint8 *s = pcb_image_row(map->score, k.y0 + y) + k.x0;
        for (int x = k.bx0; x < k.bx1; x += step) {
            if (s[x] < low)
                continue;
            n++;
            if (k.dark[(size_t) y * k.w + x])
                for (int d = 0; d < ndirs; d++)
                    hits[d] += attached(&k, x, y, dx[d], dy[d]);
        }
    }
    shadow_crop_clear(&k);
    for (int d = 0; d < ndirs; d++)
        share[d] = n > 0 ? (double) hits[d] / n : 0;
    *changed = (double) n * step * step;
    return ok;
}
