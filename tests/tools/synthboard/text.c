/* synthboard: a 5 x 7 font for silkscreen and part markings, drawn with exact coverage. */
#include "synthboard.h"

/* A 5 x 7 font: seven rows per glyph, bit 4 is the left column. */
static const guint8 *
glyph(char ch)
{
    static const guint8 digits[10][7] = {
        { 0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E }, { 0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E },
        { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F }, { 0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E },
        { 0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02 }, { 0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E },
        { 0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E }, { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 },
        { 0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E }, { 0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C },
    };
    static const guint8 letters[26][7] = {
        { 0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11 }, { 0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E },
        { 0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E }, { 0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C },
        { 0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F }, { 0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10 },
        { 0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F }, { 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11 },
        { 0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E }, { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C },
        { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 }, { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F },
        { 0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11 }, { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 },
        { 0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E }, { 0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10 },
        { 0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D }, { 0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11 },
        { 0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E }, { 0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 },
        { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E }, { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04 },
        { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A }, { 0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11 },
        { 0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04 }, { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F },
    };
    static const guint8 dash[7] = { 0, 0, 0, 0x1F, 0, 0, 0 };
    static const guint8 dot[7] = { 0, 0, 0, 0, 0, 0x0C, 0x0C };
    static const guint8 slash[7] = { 0, 0x01, 0x02, 0x04, 0x08, 0x10, 0 };
    static const guint8 plus[7] = { 0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0 };
    static const guint8 colon[7] = { 0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0 };
    if (ch >= '0' && ch <= '9')
        return digits[ch - '0'];
    if (ch >= 'A' && ch <= 'Z')
        return letters[ch - 'A'];
    if (ch >= 'a' && ch <= 'z')
        return letters[ch - 'a'];
    switch (ch) {
    case '-':
        return dash;
    case '.':
        return dot;
    case '/':
        return slash;
    case '+':
        return plus;
    case ':':
        return colon;
    default:
        return NULL;
    }
}

double
text_width(const char *text, double height)
{
    size_t n = strlen(text);
    return n == 0 ? 0.0 : (6.0 * (double) n - 1.0) * height / 7.0;
}

/* Adds the area of the rectangle [x0, x1] x [y0, y1] (pixels, buffer frame) to each pixel. */
static void
cov_add_rect(float *buf, int bw, int bh, double x0, double y0, double x1, double y1)
{
    int ia, ib, ja, jb;
    span(x0, x1, bw, &ia, &ib);
    span(y0, y1, bh, &ja, &jb);
    for (int j = ja; j < jb; j++) {
        double oy = MIN(y1, j + 1.0) - MAX(y0, (double) j);
        if (oy <= 0)
            continue;
        for (int i = ia; i < ib; i++) {
            double ox = MIN(x1, i + 1.0) - MAX(x0, (double) i);
            if (ox > 0)
                buf[(size_t) j * (size_t) bw + (size_t) i] += (float) (ox * oy);
        }
    }
}

/* Text centred on (cx, cy) mm, glyphs @height mm tall, turned by @rot quarter turns (1: reads
 * bottom to top, 2: upside down, 3: top to bottom). Coverage is the exact area of the font's
 * cells in each pixel, so small text greys out instead of breaking up. */
void
draw_text(const Canvas *cv, double cx, double cy, double height, int rot, const char *text,
          const Paint *p)
{
    const double s = cv->ppm, cell = height / 7.0 * s;
    const double tw = text_width(text, height) * s, th = height * s;
    const double wpx = (rot & 1) ? th : tw, hpx = (rot & 1) ? tw : th;
    const double X0 = cx * s - 0.5 * wpx, Y0 = cy * s - 0.5 * hpx;
    const int ox = (int) floor(X0) - 1, oy = (int) floor(Y0) - 1;
    const int bw = (int) ceil(wpx) + 3, bh = (int) ceil(hpx) + 3;
    if (tw <= 0 || ox >= cv->width || oy >= cv->height || ox + bw <= 0 || oy + bh <= 0)
        return;
    float *buf = g_new0(float, (size_t) bw *(size_t) bh);
    const double bx = X0 - ox, by = Y0 - oy;
    for (size_t k = 0; text[k] != '\0'; k++) {
        const guint8 *g = glyph(text[k]);
        if (g == NULL)
            continue;
        for (int row = 0; row < 7; row++)
            for (int col = 0; col < 5; col++) {
                if (!(g[row] & (0x10 >> col)))
                    continue;
                double u0 = (6.0 * (double) k + col) * cell, u1 = u0 + cell;
                double v0 = row * cell, v1 = v0 + cell;
                switch (rot & 3) {
                case 0:
                    cov_add_rect(buf, bw, bh, bx + u0, by + v0, bx + u1, by + v1);
                    break;
                case 1:
                    cov_add_rect(buf, bw, bh, bx + v0, by + hpx - u1, bx + v1, by + hpx - u0);
                    break;
                case 2:
                    cov_add_rect(buf, bw, bh, bx + wpx - u1, by + hpx - v1, bx + wpx - u0,
                                 by + hpx - v0);
                    break;
                default:
                    cov_add_rect(buf, bw, bh, bx + wpx - v1, by + u0, bx + wpx - v0, by + u1);
                    break;
                }
            }
    }
    for (int j = MAX(0, -oy); j < bh && oy + j < cv->height; j++)
        for (int i = MAX(0, -ox); i < bw && ox + i < cv->width; i++) {
            float a = buf[(size_t) j * (size_t) bw + (size_t) i];
            if (a <= 0.0f)
                continue;
            a = MIN(a, 1.0f) * p->alpha;
            blend_pixel(canvas_px(cv, ox + i, oy + j), p, a, paint_colour(p, 0, 0, ox + i, oy + j));
        }
    g_free(buf);
}
