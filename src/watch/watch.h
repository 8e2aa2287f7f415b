/* pcbdiff watch: bench mode. Photos dropped into a folder by a tethered camera are inspected
 * against a prepared reference as soon as they are complete (settle.h), once each, in arrival
 * order; a local page (server.c) shows the latest result live and the session's history. */
#ifndef PCB_WATCH_H
#define PCB_WATCH_H

#include <glib.h>
#include "pcbdiff/pcbdiff.h"

typedef struct {
    const char *folder;   /* the hot folder (exists) */
    const char *out;      /* reports and review pages go here (created when missing) */
    const char *listen;   /* HOST:PORT of the page (port 0: any free one) */
    const char *sign_key; /* sign each report with this Ed25519 key, or NULL */
    gboolean existing;    /* also inspect the photos already in the folder at start */
    gboolean quiet;       /* no progress lines */
    double quiet_s;       /* a file is checked once unchanged this long */
    double give_up_s;     /* a file still unfinished after this long unchanged is taken as is */
} WatchOptions;

/* The ranges of --settle and --give-up, seconds. */
#define WATCH_QUIET_MIN   0.05
#define WATCH_QUIET_MAX   600.0
#define WATCH_GIVE_UP_MAX 86400.0

/* The default --out for @folder: the folder beside it named FOLDER.pcbdiff (a new string). */
char *watch_default_out(const char *folder);

/* Runs a bench session on @ref (taken: freed at the end) with @params until SIGINT or SIGTERM;
 * returns the exit code (0 after a signal; 2 when it cannot start, or the folder goes away,
 * after one line on stderr). */
int watch_run(PcbReference *ref, const PcbInspectParams *params, const WatchOptions *opts);

#endif
