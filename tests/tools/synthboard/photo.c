/* synthboard: rendering a photo: warp, lens, table, light, blur, sensor noise. */
#include "synthboard.h"

static float *
normal_table(Rng *rng)
{
    float *t = g_new(float, 65536);
    for (int k = 0; k < 65536; k += 2) {
        double u = 1.0 - rng_uniform(rng), v = rng_uniform(rng), r = sqrt(-2.0 * log(u));
        t[k] = (float) (r * cos(2 * G_PI * v));
        t[k + 1] = (float) (r * sin(2 * G_PI * v));
    }
    return t;
}

typedef struct {
    const Camera *cam;
    const PcbImage *board;
    double ratio;     /* board pixels per reference pixel */
    int ref_w, ref_h; /* the golden's size */
    double ref_ppm;
    float *gamma_lut; /* 1025 entries over 0 .. 256 */
    float *tex;       /* table texture lattice */
    int tex_nx, tex_ny;
} PhotoCtx;

#define TEX_CELL 40.0

/* One photo row before blur and noise: float RGB. */
static void
photo_row(const PhotoCtx *pc, int y, float *out)
{
    const Camera *cam = pc->cam;
    const PcbImage *bd = pc->board;
    const double *H = cam->H_pr;
    const double r2 = 1.0 / (cam->rnorm * cam->rnorm), k1 = cam->o.k1;
    const double dy = y - cam->cy, diag = 0.5 / cam->rnorm;
    const double sh_x = 0.8 * pc->ref_ppm, sh_y = 1.0 * pc->ref_ppm, sh_soft = 2.5 * pc->ref_ppm;
    const int bw = bd->width, bh = bd->height;
    const double ty = y / TEX_CELL;
    const int tyi = CLAMP((int) ty, 0, pc->tex_ny - 2);
    const float tyf = (float) (ty - tyi);
    const float *ta = pc->tex + (size_t) tyi * pc->tex_nx, *tb = ta + pc->tex_nx;
    const double Y = dy * diag * 2;
    for (int x = 0; x < cam->width; x++) {
        const double dx = x - cam->cx, f = 1 + k1 * (dx * dx + dy * dy) * r2;
        const double ux = cam->cx + dx * f, uy = cam->cy + dy * f;
        const double w = H[6] * ux + H[7] * uy + H[8];
        const double rx = (H[0] * ux + H[1] * uy + H[2]) / w,
                     ry = (H[3] * ux + H[4] * uy + H[5]) / w;
        const double din
            = MIN(MIN(rx + 0.5, pc->ref_w - 0.5 - rx), MIN(ry + 0.5, pc->ref_h - 0.5 - ry));
        const double cov = CLAMP(0.5 + din * cam->scale, 0.0, 1.0);
        float v[3] = { 0, 0, 0 };
        if (cov > 0) {
            double bxf = (rx + 0.5) * pc->ratio - 0.5, byf = (ry + 0.5) * pc->ratio - 0.5;
            bxf = CLAMP(bxf, 0.0, bw - 1.001);
            byf = CLAMP(byf, 0.0, bh - 1.001);
            const int ix = (int) bxf, iy = (int) byf;
            const float fx = (float) (bxf - ix), fy = (float) (byf - iy);
            const guint8 *p0 = bd->data + (size_t) iy * bd->stride + (size_t) ix * 3;
            const guint8 *p1 = p0 + bd->stride;
            for (int c = 0; c < 3; c++) {
                float a = p0[c] + (p0[3 + c] - p0[c]) * fx, b = p1[c] + (p1[3 + c] - p1[c]) * fx;
                v[c] = (float) cov * (a + (b - a) * fy);
            }
        }
        if (cov < 1) {
            const double tx = x / TEX_CELL;
            const int txi = CLAMP((int) tx, 0, pc->tex_nx - 2);
            const float txf = (float) (tx - txi);
            float t0 = ta[txi] + (ta[txi + 1] - ta[txi]) * txf,
                  t1 = tb[txi] + (tb[txi + 1] - tb[txi]) * txf;
            float tex = t0 + (t1 - t0) * tyf;
            /* the board's shadow on the table, cast towards +x +y */
            double sx = rx - sh_x, sy = ry - sh_y;
            double qx = MAX(-0.5 - sx, sx - (pc->ref_w - 0.5)),
                   qy = MAX(-0.5 - sy, sy - (pc->ref_h - 0.5));
            double sd = qx > 0 && qy > 0 ? hypot(qx, qy) : MAX(qx, qy);
            double sh = 1.0 - 0.55 * CLAMP(0.5 - sd / sh_soft, 0.0, 1.0);
            const float tc[3] = { cam->table.r, cam->table.g, cam->table.b };
            for (int c = 0; c < 3; c++)
                v[c] += (float) ((1 - cov) * sh) * (tc[c] + tex);
        }
        const double X = dx * diag * 2;
        double field
            = cam->vignette
                  ? 1 - cam->illum_amp * 0.5 * (X * X + Y * Y)
                  : 1 + cam->illum_amp * 0.5 * (X * cos(cam->illum_dir) + Y * sin(cam->illum_dir));
        for (int c = 0; c < 3; c++) {
            float q = v[c] * 4.0f;
            int qi = q <= 0 ? 0 : q >= 1023 ? 1023 : (int) q;
            float g = pc->gamma_lut[qi] + (pc->gamma_lut[qi + 1] - pc->gamma_lut[qi]) * (q - qi);
            out[3 * x + c] = (float) (g * cam->gain * cam->wb[c] * field);
        }
    }
}

/* The table's texture lattice (seeded) and the gamma curve. */
static void
photo_ctx_init(PhotoCtx *pc, const Camera *cam, guint64 seed)
{
    Rng r;
    rng_init(&r, seed, STREAM_TABLE);
    pc->tex_nx = (int) (cam->width / TEX_CELL) + 3;
    pc->tex_ny = (int) (cam->height / TEX_CELL) + 3;
    pc->tex = g_new(float, (size_t) pc->tex_nx *(size_t) pc->tex_ny);
    for (int k = 0; k < pc->tex_nx * pc->tex_ny; k++)
        pc->tex[k] = (float) (3.0 * rng_normal(&r));
    pc->gamma_lut = g_new(float, 1025);
    for (int k = 0; k <= 1024; k++)
        pc->gamma_lut[k] = (float) (255.0 * pow(MIN(k / 4.0, 255.0) / 255.0, cam->gamma));
}

/* A normalised Gaussian of @sigma px in @kern (at most 64 taps); returns its radius. */
static int
blur_kernel(double sigma, float kern[64])
{
    const int R = sigma > 0.05 ? (int) ceil(3 * sigma) : 0, ring = 2 * R + 1;
    double sum = 0;
    for (int k = -R; k <= R; k++)
        sum += kern[k + R] = R > 0 ? (float) exp(-0.5 * k * k / (sigma * sigma)) : 1.0f;
    for (int k = 0; k < ring; k++)
        kern[k] = (float) (kern[k] / sum);
    return R;
}

/* The horizontal pass of the blur over one RGB row of @W pixels. */
static void
blur_row(const float *raw, float *dst, int W, const float *kern, int R)
{
    for (int x = 0; x < W; x++)
        for (int c = 0; c < 3; c++) {
            float s = 0;
            for (int k = -R; k <= R; k++) {
                int xx = CLAMP(x + k, 0, W - 1);
                s += kern[k + R] * raw[3 * xx + c];
            }
            dst[3 * x + c] = s;
        }
}

/* Adds the sensor noise to one blurred row and stores it. */
static void
noise_row(const float *acc, guint8 *out, int n, float sd, const float *gauss, Rng *nr)
{
    guint64 bits = 0;
    for (int i = 0; i < n; i++) {
        if (i % 4 == 0)
            bits = rng_next(nr);
        float v = sd * gauss[(bits >> (16 * (i % 4))) & 0xFFFF];
        out[i] = clamp_u8(acc[i] + v);
    }
}

/* Renders the photo of @sc seen by @cam: the board is drawn at ref_ppm x cam->scale, warped
 * (inverse mapping, bilinear), lit, blurred (separable Gaussian over a ring of rows), noised. */
PcbImage *
render_photo(const Scene *sc, const Camera *cam, double ref_ppm, int ref_w, int ref_h, guint64 seed,
             GError **error)
{
    const double ppm_b = ref_ppm * cam->scale;
    const int bw = (int) ceil(sc->width_mm * ppm_b) + 1, bh = (int) ceil(sc->height_mm * ppm_b) + 1;
    g_autoptr(PcbImage) board = render_board(sc, ppm_b, bw, bh, error);
    if (board == NULL)
        return NULL;
    g_autoptr(PcbImage) photo = pcb_image_new(cam->width, cam->height, PCB_FORMAT_RGB8, error);
    if (photo == NULL)
        return NULL;
    PhotoCtx pc = { .cam = cam,
                    .board = board,
                    .ratio = ppm_b / ref_ppm,
                    .ref_w = ref_w,
                    .ref_h = ref_h,
                    .ref_ppm = ref_ppm };
    photo_ctx_init(&pc, cam, seed);
    const int W = cam->width, Hh = cam->height;
    float kern[64];
    const int R = blur_kernel(cam->o.blur, kern), ring = 2 * R + 1;
    float *raw = g_new(float, (size_t) W * 3);
    float *rows = g_new(float, (size_t) W * 3 * (size_t) ring);
    float *acc = g_new(float, (size_t) W * 3);
    int made = 0; /* rows [0, made) are in the ring */
    Rng nr;
    rng_init(&nr, seed, STREAM_NOISE);
    float *gauss = normal_table(&nr);
    for (int y = 0; y < Hh; y++) {
        for (; made < MIN(Hh, y + R + 1); made++) {
            photo_row(&pc, made, raw);
            blur_row(raw, rows + (size_t) (made % ring) * W * 3, W, kern, R);
        }
        memset(acc, 0, sizeof(float) * (size_t) W * 3);
        for (int k = -R; k <= R; k++) {
            int yy = CLAMP(y + k, 0, Hh - 1);
            const float *src = rows + (size_t) (yy % ring) * W * 3, kk = kern[k + R];
            for (int i = 0; i < W * 3; i++)
                acc[i] += kk * src[i];
        }
        noise_row(acc, pcb_image_row(photo, y), W * 3, (float) cam->o.noise, gauss, &nr);
    }
    g_free(gauss);
    g_free(raw);
    g_free(rows);
    g_free(acc);
    g_free(pc.tex);
    g_free(pc.gamma_lut);
    return g_steal_pointer(&photo);
}
