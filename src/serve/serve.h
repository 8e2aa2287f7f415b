/* pcbdiff serve: the inspection service (HTTP with libsoup-3, a bounded job queue, a hot folder,
 * CFX results over AMQP). The CLI (src/cli/cmd_serve.c) fills a ServeConfig and calls
 * serve_run(). */
#ifndef PCB_SERVE_SERVE_H
#define PCB_SERVE_SERVE_H

#include <glib.h>
#include "pcbdiff/pcbdiff.h"

typedef struct {
    char *name;              /* the folder's name: ?board=NAME */
    PcbReference *ref;       /* prepared once, shared by the workers */
    PcbInspectParams params; /* defaults, the board's overrides, then --set */
} ServeBoard;

typedef struct {
    GPtrArray *boards;     /* ServeBoard*, owned by the caller */
    const char *listen;    /* HOST:PORT (PORT 0: any free port) */
    gboolean allow_remote; /* listen on a non-loopback address */
    char *token;           /* bearer token, or NULL */
    int workers;           /* inspections at once */
    int queue;             /* inspections waiting at most (beyond the running ones) */
    gint64 max_body;       /* bytes of a photo */
    const char *watch_dir; /* hot folder, or NULL */
    const char *sign_key;  /* Ed25519 private key for signed reports, or NULL */
    const char *amqp_url, *amqp_address, *amqp_spool;
    guint amqp_spool_max;
    const char *cfx_handle; /* the CFX Source */
    guint drain_grace_ms;   /* how long the broker gets at exit to take the spool */
} ServeConfig;

/* Runs the service until SIGTERM or SIGINT: then it answers new requests 503, finishes what is
 * queued and running, and returns PCB_EXIT_PASS; PCB_EXIT_TROUBLE (the error printed) when it
 * cannot start. */
int serve_run(const ServeConfig *config);

#endif
