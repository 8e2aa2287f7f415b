#include "pcbdiff/pcbdiff.h"
#include "cv/pcbcv.h"

static int threads_set;

void
pcb_init(int threads)
{
    int n = threads > 0 ? threads : (int) g_get_num_processors();
    pcbcv_set_threads(n);
    threads_set = n;
}

int
pcb_get_threads(void)
{
    return threads_set > 0 ? threads_set : pcbcv_get_threads();
}
