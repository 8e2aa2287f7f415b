/* pcbdiff: finds tampering on printed circuit boards by comparing photos.
 * The public C API of libpcbdiff. C11, no C++ needed by callers. */
#ifndef PCBDIFF_H
#define PCBDIFF_H

#include "pcbdiff/error.h"
#include "pcbdiff/image.h"
#include "pcbdiff/board.h"
#include "pcbdiff/register.h"
#include "pcbdiff/warp.h"
#include "pcbdiff/diff.h"
#include "pcbdiff/findings.h"
#include "pcbdiff/inspect.h"
#include "pcbdiff/report.h"

G_BEGIN_DECLS

#define PCBDIFF_VERSION "0.1.0"

/* Sets the worker thread count for all of pcbdiff (OpenCV's pool included); 0 = all cores.
 * The only place the thread count is owned. */
void pcb_init(int threads);
int pcb_get_threads(void);

G_END_DECLS

#endif
