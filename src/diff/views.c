/* Views, boxes, growable buffers and parallel jobs for the stages' C code. */
#include "pcbdiff/error.h"
#include "core/imgops.h"
#include "diff/diff_internal.h"

PcbBox
pcb_box_and(PcbBox a, PcbBox b)
{
    int x0 = MAX(a.x, b.x), y0 = MAX(a.y, b.y);
    int x1 = MIN(a.x + a.w, b.x + b.w), y1 = MIN(a.y + a.h, b.y + b.h);
    if (x1 <= x0 || y1 <= y0)
        return (PcbBox){ 0, 0, 0, 0 };
    return (PcbBox){ x0, y0, x1 - x0, y1 - y0 };
}

PcbBox
pcb_box_grow(PcbBox a, int g, PcbBox bounds)
{
    return pcb_box_and((PcbBox){ a.x - g, a.y - g, a.w + 2 * g, a.h + 2 * g }, bounds);
}

pcbcv_view
pcb_view_crop(const pcbcv_view *v, PcbBox b)
{
    pcbcv_view c = { b.w, b.h, v->channels, v->stride,
                     pcb_view_row(v, b.y) + (size_t) b.x * (size_t) v->channels };
    return c;
}

static void *
buf_reserve(PcbBuf *buf, size_t size)
{
    if (size > buf->size) {
        g_free(buf->data);
        buf->data = g_malloc(size);
        buf->size = size;
    }
    return buf->data;
}

pcbcv_view
pcb_buf_view(PcbBuf *buf, int width, int height, int channels)
{
    size_t stride = (size_t) width * (size_t) channels;
    pcbcv_view v
        = { width, height, channels, stride, buf_reserve(buf, stride * (size_t) MAX(height, 1)) };
    return v;
}

pcbcv_fview
pcb_buf_fview(PcbBuf *buf, int width, int height, int channels)
{
    size_t stride = (size_t) width * (size_t) channels * sizeof(float);
    pcbcv_fview v
        = { width, height, channels, stride, buf_reserve(buf, stride * (size_t) MAX(height, 1)) };
    return v;
}

float
pcb_median_select(float *v, size_t n)
{
    return pcb_nth_select(v, n, n / 2);
}

float
pcb_nth_select(float *v, size_t n, size_t nth)
{
    /* Wirth's selection: partitions around element nth until it is in place (a qsort with a
     * callback per comparison took several times as long on the background grid) */
    const long k = (long) MIN(nth, n - 1);
    long lo = 0, hi = (long) n - 1;
    while (lo < hi) {
        const float x = v[k];
        long i = lo, j = hi;
        do {
            while (v[i] < x)
                i++;
            while (x < v[j])
                j--;
            if (i <= j) {
                const float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        } while (i <= j);
        if (j < k)
            lo = i;
        if (k < i)
            hi = j;
    }
    return v[k];
}

void
pcb_buf_clear(PcbBuf *buf)
{
    g_clear_pointer(&buf->data, g_free);
    buf->size = 0;
}

gboolean
pcb_job_check(PcbJob *job, pcbcv_status status, const char *msg, const char *what)
{
    if (status == PCBCV_OK)
        return TRUE;
    g_mutex_lock(&job->lock);
    if (job->error == NULL)
        pcb_cv_check(status, msg, what, PCB_ERROR_BACKEND, &job->error);
    g_mutex_unlock(&job->lock);
    return FALSE;
}

gboolean
pcb_job_fail(PcbJob *job, GError *error)
{
    g_mutex_lock(&job->lock);
    if (job->error == NULL)
        job->error = g_steal_pointer(&error);
    g_mutex_unlock(&job->lock);
    g_clear_error(&error);
    return FALSE;
}

gboolean
pcb_parallel(int n, void (*fn)(void *ctx, int begin, int end), void *ctx, PcbJob *job,
             const char *what, GError **error)
{
    char msg[256] = "";
    g_mutex_init(&job->lock);
    job->error = NULL;
    gboolean ok = pcb_cv_check(pcbcv_parallel_for(n, fn, ctx, msg, sizeof msg), msg, what,
                               PCB_ERROR_BACKEND, error);
    g_mutex_clear(&job->lock);
    if (job->error != NULL) {
        if (ok)
            g_propagate_error(error, job->error);
        else
            g_error_free(job->error);
        job->error = NULL;
        return FALSE;
    }
    return ok;
}
