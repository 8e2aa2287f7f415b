/* The overlay: the reference, dimmed, with a translucent heat map of the difference, every
 * finding boxed and labelled, and a verdict banner. PNG, or JPEG for .jpg/.jpeg. */
#include <math.h>
#include <string.h>
#include "pcbdiff/pcbdiff.h"
#include "core/imgops.h"
#include "core/util.h"
#include "report/report_internal.h"

#define HEAT_FROM_SIGMA 3.0  /* nothing shows below this */
#define HEAT_FULL_SIGMA 12.0 /* full red and full opacity from here */
#define HEAT_MAX_ALPHA  0.6
#define JPEG_QUALITY    90
#define MAX_SIDE        4096 /* larger references are drawn reduced by a whole factor */

static const guint8 label_background[3] = { 16, 16, 16 };
static const guint8 outline[3] = { 0, 0, 0 };

static const guint8 *
kind_colour(PcbKind kind)
{
    static const guint8 added[3] = { 255, 48, 48 }, removed[3] = { 0, 200, 255 },
                        altered[3] = { 255, 150, 0 };
    switch (kind) {
    case PCB_KIND_ADDED:
        return added;
    case PCB_KIND_REMOVED:
        return removed;
    case PCB_KIND_ALTERED:
        return altered;
    }
    return altered;
}

/* The reference reduced by @k (area average over whole k x k cells; a partial last row or
 * column of cells takes the nearest whole cell), desaturated and darkened so that marks stand
 * out. */
static gboolean
draw_base(PcbImage *out, const PcbImage *ref, int k, GError **error)
{
    g_autoptr(PcbImage) small = NULL;
    const PcbImage *src = ref;
    if (k > 1) {
        int cw = MAX(1, ref->width / k), chh = MAX(1, ref->height / k);
        g_autoptr(PcbImage) whole
            = pcb_image_new_view(MIN(ref->width, cw * k), MIN(ref->height, chh * k), ref->format,
                                 ref->stride, ref->data);
        if ((small = pcb_image_resize(whole, cw, chh, error)) == NULL)
            return FALSE;
        src = small;
    }
    for (int y = 0; y < out->height; y++) {
        const guint8 *s = pcb_image_row(src, MIN(y, src->height - 1));
        guint8 *d = pcb_image_row(out, y);
        for (int x = 0; x < out->width; x++, d += 3) {
            int sx = MIN(x, src->width - 1), r, g, b;
            if (src->format == PCB_FORMAT_RGB8) {
                r = s[3 * sx];
                g = s[3 * sx + 1];
                b = s[3 * sx + 2];
            }
            else {
                r = g = b = s[sx];
            }
            int luma = (77 * r + 150 * g + 29 * b) >> 8;
            /* 5/8 colour + 3/8 grey, then x 0.7 */
            d[0] = (guint8) ((5 * r + 3 * luma) * 179 >> 11);
            d[1] = (guint8) ((5 * g + 3 * luma) * 179 >> 11);
            d[2] = (guint8) ((5 * b + 3 * luma) * 179 >> 11);
        }
    }
    return TRUE;
}

/* Bilinear sampling positions: output pixel i maps to source (i + 0.5) / scale - 0.5. */
static void
sample_positions(int out_n, int src_n, int *i0, float *frac)
{
    double scale = (double) out_n / src_n;
    for (int i = 0; i < out_n; i++) {
        double s = CLAMP((i + 0.5) / scale - 0.5, 0.0, (double) (src_n - 1));
        int k = MIN((int) s, src_n - 1);
        i0[i] = k;
        frac[i] = (float) (s - k);
    }
}

/* The heat map, stretched over the whole reference: transparent below HEAT_FROM_SIGMA,
 * then yellow to red and more opaque up to HEAT_FULL_SIGMA. */
static void
draw_heat(PcbImage *out, const PcbImage *heat)
{
    g_autofree int *x0 = g_new(int, out->width);
    g_autofree float *fx = g_new(float, out->width);
    g_autofree int *y0 = g_new(int, out->height);
    g_autofree float *fy = g_new(float, out->height);
    sample_positions(out->width, heat->width, x0, fx);
    sample_positions(out->height, heat->height, y0, fy);
    const float from = (float) (HEAT_FROM_SIGMA * PCB_DIFF_UNIT);
    const float span = (float) ((HEAT_FULL_SIGMA - HEAT_FROM_SIGMA) * PCB_DIFF_UNIT);

    for (int y = 0; y < out->height; y++) {
        const guint8 *h0 = pcb_image_row(heat, y0[y]);
        const guint8 *h1 = pcb_image_row(heat, MIN(y0[y] + 1, heat->height - 1));
        guint8 *d = pcb_image_row(out, y);
        for (int x = 0; x < out->width; x++, d += 3) {
            int a = x0[x], b = MIN(a + 1, heat->width - 1);
            float top = h0[a] + fx[x] * (h0[b] - h0[a]);
            float bottom = h1[a] + fx[x] * (h1[b] - h1[a]);
            float v = top + fy[y] * (bottom - top);
            if (v <= from)
                continue;
            float t = MIN(1.0f, (v - from) / span);
            float alpha = (float) HEAT_MAX_ALPHA * sqrtf(t);
            float green = 255.0f * (1.0f - t); /* yellow (255,255,0) -> red (255,0,0) */
            d[0] = (guint8) (d[0] + alpha * (255.0f - d[0]) + 0.5f);
            d[1] = (guint8) (d[1] + alpha * (green - d[1]) + 0.5f);
            d[2] = (guint8) (d[2] * (1.0f - alpha) + 0.5f);
        }
    }
}

/* Fills the rectangle [x0, x1) x [y0, y1), clipped to the image. */
static void
fill_rect(PcbImage *img, int x0, int y0, int x1, int y1, const guint8 rgb[3])
{
    x0 = MAX(x0, 0);
    y0 = MAX(y0, 0);
    x1 = MIN(x1, img->width);
    y1 = MIN(y1, img->height);
    for (int y = y0; y < y1; y++) {
        guint8 *p = pcb_image_row(img, y) + (size_t) x0 * 3;
        for (int x = x0; x < x1; x++, p += 3)
            memcpy(p, rgb, 3);
    }
}

/* A frame of thickness @t drawn outside the rectangle [x0, x1) x [y0, y1). */
static void
draw_frame(PcbImage *img, int x0, int y0, int x1, int y1, int t, const guint8 rgb[3])
{
    fill_rect(img, x0 - t, y0 - t, x1 + t, y0, rgb);
    fill_rect(img, x0 - t, y1, x1 + t, y1 + t, rgb);
    fill_rect(img, x0 - t, y0, x0, y1, rgb);
    fill_rect(img, x1, y0, x1 + t, y1, rgb);
}

/* A coordinate as an int that stays far from overflow in the drawing arithmetic. */
static int
coord(double v)
{
    return (int) CLAMP(v, -1e7, 1e7);
}

typedef struct {
    int x0, y0, x1, y1; /* the box, frame included: [x0, x1) x [y0, y1) */
} Box;

typedef struct {
    int thickness; /* frame, px */
    int pad;       /* gap between the finding and its frame, px */
    int scale;     /* font pixel size */
    int margin;    /* label padding, px */
    int k;         /* reference px per overlay px */
} Style;

static gboolean
finding_box(const PcbFinding *f, const Style *st, Box *box)
{
    const PcbRect *r = &f->bbox;
    if (!isfinite(r->x) || !isfinite(r->y) || !isfinite(r->w) || !isfinite(r->h))
        return FALSE;
    double k = st->k;
    int x0 = coord(floor(r->x / k)) - st->pad, y0 = coord(floor(r->y / k)) - st->pad;
    int x1 = coord(ceil((r->x + MAX(r->w, 0)) / k)) + st->pad;
    int y1 = coord(ceil((r->y + MAX(r->h, 0)) / k)) + st->pad;
    box->x0 = x0 - st->thickness - 1;
    box->y0 = y0 - st->thickness - 1;
    box->x1 = x1 + st->thickness + 1;
    box->y1 = y1 + st->thickness + 1;
    return TRUE;
}

static void
draw_box(PcbImage *img, const Box *box, const Style *st, const guint8 rgb[3])
{
    int t = st->thickness;
    /* a 1 px dark line on both sides of the coloured frame keeps it visible on any board */
    draw_frame(img, box->x0 + t + 2, box->y0 + t + 2, box->x1 - t - 2, box->y1 - t - 2, t + 2,
               outline);
    draw_frame(img, box->x0 + t + 1, box->y0 + t + 1, box->x1 - t - 1, box->y1 - t - 1, t, rgb);
}

/* @text on a dark plate with its top-left at (@x, @y), moved inside the image. */
static void
draw_label(PcbImage *img, int x, int y, const char *text, const Style *st, const guint8 rgb[3])
{
    int w = pcb_font_text_width(text, st->scale) + 2 * st->margin;
    int h = PCB_FONT_HEIGHT * st->scale + 2 * st->margin;
    x = CLAMP(x, 0, MAX(0, img->width - w));
    y = CLAMP(y, 0, MAX(0, img->height - h));
    fill_rect(img, x, y, x + w, y + h, label_background);
    pcb_font_draw_text(img, x + st->margin, y + st->margin, text, st->scale, rgb);
}

/* Above the box when there is room, else below it, else inside its top edge. */
static void
label_finding(PcbImage *img, const Box *box, const char *text, const Style *st, const guint8 rgb[3])
{
    int h = PCB_FONT_HEIGHT * st->scale + 2 * st->margin;
    int y = box->y0 - h;
    if (y < 0)
        y = box->y1 + h <= img->height ? box->y1 : MAX(box->y0, 0);
    draw_label(img, box->x0, y, text, st, rgb);
}

static gboolean
is_jpeg_path(const char *path)
{
    g_autofree char *lower = g_ascii_strdown(path, -1);
    return g_str_has_suffix(lower, ".jpg") || g_str_has_suffix(lower, ".jpeg");
}

gboolean
pcb_report_write_overlay(const PcbInspection *insp, const char *path, GError **error)
{
    g_return_val_if_fail(insp != NULL && path != NULL, FALSE);
    const PcbImage *ref = insp->reference;
    if (ref == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "overlay needs the reference image");
        return FALSE;
    }
    Style st;
    st.k = (MAX(ref->width, ref->height) + MAX_SIDE - 1) / MAX_SIDE;
    g_autoptr(PcbImage) out = pcb_image_new(
        (ref->width + st.k - 1) / st.k, (ref->height + st.k - 1) / st.k, PCB_FORMAT_RGB8, error);
    if (out == NULL)
        return FALSE;
    double t0 = pcb_now_ms();
    if (!draw_base(out, ref, st.k, error))
        return FALSE;
    double t_base = pcb_now_ms();
    if (insp->heat != NULL && insp->heat->format == PCB_FORMAT_GRAY8)
        draw_heat(out, insp->heat);
    g_debug("overlay: base %.0f ms, heat %.0f ms", t_base - t0, pcb_now_ms() - t_base);

    int side = MAX(out->width, out->height);
    st.thickness = MAX(2, (int) lround(side / 600.0));
    st.pad = 2 * st.thickness;
    st.scale = MAX(1, (int) lround(0.015 * out->height / PCB_FONT_CAP)); /* 1.5% */
    st.margin = MAX(2, st.scale);

    guint n = insp->findings != NULL ? insp->findings->len : 0;
    g_autofree Box *boxes = g_new0(Box, MAX(n, 1));
    g_autofree gboolean *drawn = g_new0(gboolean, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
        drawn[i] = finding_box(f, &st, &boxes[i]);
        if (drawn[i])
            draw_box(out, &boxes[i], &st, kind_colour(f->kind));
    }
    /* labels after every box, the best finding last so that it stays on top */
    for (guint i = n; i-- > 0;) {
        const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
        if (!drawn[i])
            continue;
        g_autofree char *text
            = g_strdup_printf("%u %s %.2f%s%s", i + 1, pcb_kind_name(f->kind), f->score,
                              f->zone != NULL ? " " : "", f->zone != NULL ? f->zone : "");
        label_finding(out, &boxes[i], text, &st, kind_colour(f->kind));
    }

    static const guint8 pass_colour[3] = { 80, 230, 80 }, fail_colour[3] = { 255, 64, 64 };
    g_autofree char *banner
        = n == 0 ? g_strdup("pcbdiff PASS")
                 : g_strdup_printf("pcbdiff FAIL: %u finding%s", n, n == 1 ? "" : "s");
    draw_label(out, st.margin, st.margin, banner, &st, n == 0 ? pass_colour : fail_colour);

    t0 = pcb_now_ms();
    gboolean ok = is_jpeg_path(path) ? pcb_image_save_jpeg(out, path, JPEG_QUALITY, error)
                                     : pcb_image_save_png(out, path, error);
    g_debug("overlay: %d x %d written in %.0f ms", out->width, out->height, pcb_now_ms() - t0);
    return ok;
}
