/* The process-wide thread count (pcbdiff.h: set once, before inspections start). */
#include <stdatomic.h>
#include "pcbdiff/pcbdiff.h"
#include "cv/pcbcv.h"

static _Atomic int threads_set; /* 0 until pcb_init(): OpenCV's own count */

void
pcb_init(int threads)
{
    int n = MIN(threads > 0 ? threads : (int) g_get_num_processors(), PCB_MAX_THREADS);
    pcbcv_set_threads(n);
    atomic_store(&threads_set, n);
}

int
pcb_get_threads(void)
{
    int n = atomic_load(&threads_set);
    return n > 0 ? n : pcbcv_get_threads();
}
