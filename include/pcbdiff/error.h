/* pcbdiff: the project's one error domain and its exit codes. */
#ifndef PCBDIFF_ERROR_H
#define PCBDIFF_ERROR_H

#include "pcbdiff/api.h"

#include <glib.h>

G_BEGIN_DECLS

/* Process exit codes of every pcbdiff command (they extend diff(1)). */
typedef enum {
    PCB_EXIT_PASS = 0,         /* finished, no findings */
    PCB_EXIT_FINDINGS = 1,     /* finished, at least one finding, or a zone not judged */
    PCB_EXIT_TROUBLE = 2,      /* usage error, unreadable input, unwritable output */
    PCB_EXIT_UNREGISTERED = 3, /* the photo could not be registered to the reference */
} PcbExit;

#define PCB_ERROR (pcb_error_quark())
PCB_API GQuark pcb_error_quark(void);

typedef enum {
    PCB_ERROR_USAGE,    /* bad arguments or parameters */
    PCB_ERROR_IO,       /* a file cannot be read or written */
    PCB_ERROR_DECODE,   /* corrupt, truncated, empty or unsupported image */
    PCB_ERROR_LIMIT,    /* image over the configured pixel cap */
    PCB_ERROR_PROFILE,  /* malformed board profile */
    PCB_ERROR_REGISTER, /* the photo cannot be registered (other board, blur, overlap) */
    PCB_ERROR_BACKEND,  /* OpenCV failed unexpectedly */
    PCB_ERROR_VERIFY,   /* a signed report does not verify (signature or an input's hash) */
} PcbError;

/* The exit code a command returns for @error: PCB_EXIT_UNREGISTERED for
 * PCB_ERROR_REGISTER, 1 for PCB_ERROR_VERIFY (`pcbdiff verify`: the report does not verify),
 * PCB_EXIT_TROUBLE for everything else. */
PCB_API PcbExit pcb_error_exit_code(const GError *error);

/* A stable short name for @error's code ("decode", "register", ...), used in JSON reports.
 * Static: not freed. */
PCB_API const char *pcb_error_code_name(const GError *error);

G_END_DECLS

#endif
