/* pcbdiff: finds tampering on printed circuit boards by comparing photos.
 * The public C API of libpcbdiff. C11, no C++ needed by callers.
 *
 * Memory. Every function that returns a new object says how to free it: PcbImage with
 * pcb_image_free(), PcbBoard with pcb_board_free(), PcbInspection with pcb_inspection_free()
 * (each also by g_autoptr), GArray with g_array_unref() (its elements are cleared with it), char *
 * with g_free(). Pointers inside a returned struct belong to that struct. Errors are GErrors in
 * the PCB_ERROR domain (pcbdiff/error.h), always with a one-line message.
 *
 * Thread safety. Process-wide, and meant to be set once before any inspection starts: the worker
 * thread count (pcb_init(), which also sizes OpenCV's pool) and the pixel cap
 * (pcb_set_max_pixels()); reading them is safe from any thread. Everything else is reentrant on
 * distinct objects: threads may inspect at once, each with its own PcbBoard and PcbInspection
 * (pcb_inspect() resolves the board in place, so a board is not shared between threads while it
 * runs). Parameter structs and the parameter tables (pcbdiff/params.h) are only read, and may be
 * shared. There is no other global state: no static is written after start-up. */
#ifndef PCBDIFF_H
#define PCBDIFF_H

#include "pcbdiff/api.h"

#include "pcbdiff/error.h"
#include "pcbdiff/image.h"
#include "pcbdiff/board.h"
#include "pcbdiff/register.h"
#include "pcbdiff/warp.h"
#include "pcbdiff/diff.h"
#include "pcbdiff/findings.h"
#include "pcbdiff/inspect.h"
#include "pcbdiff/report.h"
#include "pcbdiff/sign.h"

G_BEGIN_DECLS

#define PCBDIFF_VERSION "0.2.0"

/* The most worker threads pcbdiff runs. */
#define PCB_MAX_THREADS 256

/* Sets the worker thread count for all of pcbdiff (OpenCV's pool included); 0 = all cores, at
 * most PCB_MAX_THREADS (more is taken as that many). The only place the thread count is owned. */
PCB_API void pcb_init(int threads);
PCB_API int pcb_get_threads(void);

G_END_DECLS

#endif
