/* Findings from the texture cover map: a plain surface put over the board's parts (or taken off
 * them) that is larger than the score's local background reaches is its own background there,
 * and under another light its difference is small in the score's unit; where the texture one
 * image shows is gone in the other, over more than half of that reach, the change is kept. */
#include <string.h>
#include "core/imgops.h"
#include "findings/findings_internal.h"

/* Whether cell (@x, @y) of the @w x @h mask @m (1: of the group's sign) has more than half of
 * the background's window (radius @r cells) of the same sign: a change that sets its own
 * background there. */
static gboolean
in_core(const guint8 *m, int w, int h, int x, int y, int r)
{
    int in = 0;
    for (int v = y - r; v <= y + r; v++)
        for (int u = x - r; u <= x + r; u++)
            in += v >= 0 && v < h && u >= 0 && u < w && m[v * w + u] != 0;
    return 2 * in > (2 * r + 1) * (2 * r + 1);
}

GArray *
pcb_cover_groups(const PcbDiffMap *map)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(PcbCoverGroup));
    const PcbCoverMap *c = map->priv != NULL ? &map->priv->cover : NULL;
    if (c == NULL || c->sign == NULL)
        return out;
    const int w = c->cols, h = c->rows, n = w * h;
    g_autofree guint8 *m = g_new(guint8, n);
    g_autofree guint8 *core = g_new(guint8, n);
    g_autofree int *list = g_new(int, n);
    for (int sign = 1; sign >= -1; sign -= 2) {
        for (int i = 0; i < n; i++)
            m[i] = c->sign[i] == sign;
        for (int i = 0; i < n; i++)
            core[i] = m[i] && in_core(m, w, h, i % w, i / w, c->window);
        for (int s = 0; s < n; s++) {
            if (m[s] != 1)
                continue;
            const int size = pcb_grow_component(m, w, h, s, 1, 2, list);
            PcbCoverGroup g = { .r = { w, h, 0, 0, 0, 0, 0, TRUE }, .cells = size, .sign = sign };
            for (int i = 0; i < size; i++) {
                const int x = list[i] % w, y = list[i] / w;
                g.r.x0 = MIN(g.r.x0, x);
                g.r.y0 = MIN(g.r.y0, y);
                g.r.x1 = MAX(g.r.x1, x + 1);
                g.r.y1 = MAX(g.r.y1, y + 1);
                g.core += core[list[i]];
            }
            if (g.core == 0)
                continue; /* never more than half of the window: the score's path sees it */
            g.r.x0 *= c->cell;
            g.r.y0 *= c->cell;
            g.r.x1 = MIN(g.r.x1 * c->cell, map->score->width);
            g.r.y1 = MIN(g.r.y1 * c->cell, map->score->height);
            g.r.area = (double) size * c->cell * c->cell;
            for (int y = (int) g.r.y0; y < (int) g.r.y1; y++) {
                const guint8 *row = pcb_image_row(map->score, y);
                for (int x = (int) g.r.x0; x < (int) g.r.x1; x++)
                    g.r.peak = MAX(g.r.peak, row[x]);
            }
            g_array_append_val(out, g);
        }
    }
    return out;
}
