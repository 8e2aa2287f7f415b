#include "pcbdiff/error.h"
#include "core/imgops.h"

gboolean
pcb_cv_check(pcbcv_status status, const char *msg, const char *what, int nomatch_code,
             GError **error)
{
    if (status == PCBCV_OK)
        return TRUE;
    int code = PCB_ERROR_BACKEND;
    if (status == PCBCV_E_NOMATCH)
        code = nomatch_code;
    else if (status == PCBCV_E_NOMEM)
        code = PCB_ERROR_LIMIT;
    g_set_error(error, PCB_ERROR, code, "%s: %s", what, msg[0] ? msg : "failed");
    return FALSE;
}

PcbImage *
pcb_image_resize(const PcbImage *src, int width, int height, GError **error)
{
    g_autoptr(PcbImage) dst = pcb_image_new(MAX(1, width), MAX(1, height), src->format, error);
    if (dst == NULL)
        return NULL;
    char msg[256] = "";
    pcbcv_view s = pcb_view(src), d = pcb_view(dst);
    if (!pcb_cv_check(pcbcv_resize(&s, &d, msg, sizeof msg), msg, "resize", PCB_ERROR_BACKEND,
                      error))
        return NULL;
    return g_steal_pointer(&dst);
}

int
pcb_grow_component(guint8 *m, int w, int h, int seed, guint8 from, guint8 to, int *list)
{
    int n = 0, head = 0;
    list[n++] = seed;
    m[seed] = to;
    while (head < n) {
        const int p = list[head++], x = p % w, y = p / w;
        for (int j = MAX(0, y - 1); j <= MIN(h - 1, y + 1); j++)
            for (int i = MAX(0, x - 1); i <= MIN(w - 1, x + 1); i++)
                if (m[j * w + i] == from) {
                    m[j * w + i] = to;
                    list[n++] = j * w + i;
                }
    }
    return n;
}
