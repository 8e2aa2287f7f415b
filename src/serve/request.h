/* pcbdiff serve: what an HTTP request asks for, checked before any work is queued.
 *
 * Pure functions of the request line and headers (no libsoup, no I/O), so the fuzz harness
 * tests/fuzz/fuzz-request.c drives them directly. */
#ifndef PCB_SERVE_REQUEST_H
#define PCB_SERVE_REQUEST_H

#include <glib.h>

typedef enum {
    SERVE_ROUTE_NONE = 0,
    SERVE_ROUTE_INSPECT, /* POST /v1/inspect?board=NAME[&unit=ID] */
    SERVE_ROUTE_BOARDS,  /* GET /v1/boards */
    SERVE_ROUTE_HEALTHZ, /* GET /healthz (never needs the token) */
    SERVE_ROUTE_METRICS, /* GET /metrics */
} ServeRoute;

#define SERVE_BOARD_MAX 64  /* bytes of a board name: [A-Za-z0-9._-], not starting with '.' */
#define SERVE_UNIT_MAX  128 /* bytes of a unit id: printable ASCII, no space */

typedef struct {
    ServeRoute route;
    char board[SERVE_BOARD_MAX + 1];
    char unit[SERVE_UNIT_MAX + 1]; /* "" when not given */
} ServeRequest;

typedef struct {
    const char *token; /* bearer token the /v1 and /metrics routes need, or NULL */
    gint64 max_body;   /* bytes; a larger inspect body is 413 */
} ServeLimits;

/* Checks a request: @method, @path (decoded), @query (raw, undecoded; may be NULL),
 * @authorization (the header, or NULL) and @content_length (-1: unknown, e.g. chunked).
 * Returns 0 and fills @out when it may go on; otherwise the HTTP status to answer with
 * (400 bad query, 401 no or wrong token, 404 no such route, 405 wrong method, 411 no length,
 * 413 body over the cap) and *@why, a one-line reason (g_free it). */
guint serve_request_parse(const char *method, const char *path, const char *query,
                          const char *authorization, gint64 content_length,
                          const ServeLimits *limits, ServeRequest *out, char **why);

/* Whether @name is a well-formed board name (the folder names `serve` accepts). */
gboolean serve_board_name_valid(const char *name);

#endif
