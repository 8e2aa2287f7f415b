/* synthboard: drawing a whole scene (mask, copper, silkscreen, holes, parts) at any px/mm. */
#include "synthboard.h"

static void
render_background(const Scene *sc, const Canvas *cv)
{
    const double s = cv->ppm;
    const int W = cv->width;
    int *ix = g_new(int, (size_t) W * 2);
    float *fx = g_new(float, (size_t) W * 2);
    for (int i = 0; i < W; i++) {
        double x = (i + 0.5) / s / MOTTLE_MM + 1.0, x2 = (i + 0.5) / s / MOTTLE2_MM + 1.0;
        ix[i] = CLAMP((int) floor(x), 0, sc->mot_nx - 2);
        ix[W + i] = CLAMP((int) floor(x2), 0, sc->mot2_nx - 2);
        double t = x - ix[i], t2 = x2 - ix[W + i];
        fx[i] = (float) (t * t * (3 - 2 * t));
        fx[W + i] = (float) (t2 * t2 * (3 - 2 * t2));
    }
    for (int j = 0; j < cv->height; j++) {
        double y = (j + 0.5) / s / MOTTLE_MM + 1.0, y2 = (j + 0.5) / s / MOTTLE2_MM + 1.0;
        int iy = CLAMP((int) floor(y), 0, sc->mot_ny - 2);
        int iy2 = CLAMP((int) floor(y2), 0, sc->mot2_ny - 2);
        float ty = (float) (y - iy), ty2 = (float) (y2 - iy2);
        ty = ty * ty * (3 - 2 * ty);
        ty2 = ty2 * ty2 * (3 - 2 * ty2);
        const float *ra = sc->mottle + (size_t) iy * sc->mot_nx * 3;
        const float *rb = ra + (size_t) sc->mot_nx * 3;
        const float *qa = sc->mottle2 + (size_t) iy2 * sc->mot2_nx * 3;
        const float *qb = qa + (size_t) sc->mot2_nx * 3;
        const double gy = sc->grad[1] * ((j + 0.5) / cv->height - 0.5);
        guint8 *row = cv->data + (size_t) j * cv->stride;
        for (int i = 0; i < W; i++) {
            const int a = ix[i] * 3, b = ix[W + i] * 3;
            const float t = fx[i], t2 = fx[W + i];
            const float g = (float) (gy + sc->grad[0] * ((i + 0.5) / W - 0.5));
            const float base[3] = { sc->mask.r + g + (float) sc->grad[2], sc->mask.g + g,
                                    sc->mask.b + g - (float) sc->grad[2] };
            for (int k = 0; k < 3; k++) {
                float m0 = ra[a + k] + (ra[a + 3 + k] - ra[a + k]) * t;
                float m1 = rb[a + k] + (rb[a + 3 + k] - rb[a + k]) * t;
                float n0 = qa[b + k] + (qa[b + 3 + k] - qa[b + k]) * t2;
                float n1 = qb[b + k] + (qb[b + 3 + k] - qb[b + k]) * t2;
                row[3 * i + k] = clamp_u8(base[k] + m0 + (m1 - m0) * ty + n0 + (n1 - n0) * ty2);
            }
        }
    }
    g_free(ix);
    g_free(fx);
}

/* Draws the scene at cv->ppm: the canvas covers the board from (0, 0) mm. */
static void
render_scene(const Scene *sc, const Canvas *cv)
{
    render_background(sc, cv);
    Paint pour = paint_blend(sc->pour_add, BLEND_ADD, 1.0);
    for (guint k = 0; k < sc->pours->len; k++) {
        const Poly *p = &g_array_index(sc->pours, Poly, k);
        draw_poly(cv, p->x, p->y, p->n, &pour);
    }
    Paint trace = paint_blend(sc->trace_add, BLEND_ADD, 1.0);
    for (guint k = 0; k < sc->segs->len; k++) {
        const Seg *s = &g_array_index(sc->segs, Seg, k);
        draw_seg(cv, s->x0, s->y0, s->x1, s->y1, s->w, &trace);
    }
    Paint tented = paint_blend(rgb(14, 26, 9), BLEND_ADD, 1.0);
    Paint plug = paint_flat(rgb_mul(sc->mask, 0.45));
    Paint ring = paint_prof(rgb_mul(sc->tin, 1.0), rgb_mul(sc->tin, 0.8), PROF_RADIAL, 0, 0);
    Paint hole = paint_flat(rgb(22, 24, 22));
    for (guint k = 0; k < sc->vias->len; k++) {
        const Via *v = &g_array_index(sc->vias, Via, k);
        if (v->tented) {
            draw_disc(cv, v->x, v->y, v->r, 0, &tented);
            draw_disc(cv, v->x, v->y, v->hole, 0, &plug);
        }
        else {
            draw_disc(cv, v->x, v->y, v->r, 0, &ring);
            draw_disc(cv, v->x, v->y, v->hole, 0, &hole);
        }
    }
    Paint silk = paint_flat(sc->silk_col);
    silk.alpha = 0.93f;
    silk.grain = 6.0f;
    for (guint k = 0; k < sc->silk->len; k++) {
        const Seg *s = &g_array_index(sc->silk, Seg, k);
        draw_seg(cv, s->x0, s->y0, s->x1, s->y1, s->w, &silk);
    }
    for (guint k = 0; k < sc->labels->len; k++) {
        const Label *l = &g_array_index(sc->labels, Label, k);
        draw_text(cv, l->x, l->y, l->h, l->rot, l->text, &silk);
    }
    for (guint k = 0; k < sc->parts->len; k++)
        draw_pads(&g_array_index(sc->parts, Part, k), cv, sc->tin);
    Paint lam = paint_flat(sc->laminate);
    Paint fid = paint_prof(rgb_mul(sc->tin, 1.05), rgb_mul(sc->tin, 0.85), PROF_RADIAL, 0, 0);
    for (guint k = 0; k < sc->fids->len; k++) {
        const Via *v = &g_array_index(sc->fids, Via, k);
        draw_disc(cv, v->x, v->y, v->r, 0, &lam);
        draw_disc(cv, v->x, v->y, v->hole, 0, &fid);
    }
    Paint mring = paint_prof(rgb_mul(sc->tin, 0.95), rgb_mul(sc->tin, 0.8), PROF_RADIAL, 0, 0);
    mring.grain = 5.0f;
    Paint mhole = paint_flat(rgb(18, 18, 18));
    for (guint k = 0; k < sc->holes->len; k++) {
        const Via *v = &g_array_index(sc->holes, Via, k);
        draw_disc(cv, v->x, v->y, v->r, 0, &mring);
        draw_disc(cv, v->x, v->y, v->hole, 0, &mhole);
        for (int a = 0; a < 8; a++) { /* stitching vias around the hole */
            double t = a * G_PI / 4;
            draw_disc(cv, v->x + 2.35 * cos(t), v->y + 2.35 * sin(t), 0.22, 0, &hole);
        }
    }
    for (guint k = 0; k < sc->parts->len; k++) {
        const Part *p = &g_array_index(sc->parts, Part, k);
        if (p->populated && !p->removed)
            draw_shadow(p, cv);
    }
    for (guint k = 0; k < sc->parts->len; k++) {
        const Part *p = &g_array_index(sc->parts, Part, k);
        if (p->populated && !p->removed)
            draw_part(p, cv);
    }
}

PcbImage *
render_board(const Scene *sc, double ppm, int width, int height, GError **error)
{
    PcbImage *img = pcb_image_new(width, height, PCB_FORMAT_RGB8, error);
    if (img == NULL)
        return NULL;
    Canvas cv = { img->data, img->stride, width, height, ppm };
    render_scene(sc, &cv);
    return img;
}
