/* pcbdiff watch: what the session (watch.c) and its page server (server.c) share. Every field is
 * touched from the main loop's thread only; the inspection thread gets its own copies. */
#ifndef PCB_WATCH_INTERNAL_H
#define PCB_WATCH_INTERNAL_H

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "watch/watch.h"
#include "watch/settle.h"

typedef struct _WatchSession WatchSession;

/* The session as the page's JSON endpoint gives it (json_node_unref() it): {version, board,
 * folder, out, started_at, rev, running, counts, waiting[], results[] (oldest first)}. */
JsonNode *watch_session_json(WatchSession *s);
/* The out folder (absolute). */
const char *watch_session_out(WatchSession *s);

/* Serves the live page (/), the session (/api/session) and the out folder's files (/out/...)
 * on @listen (HOST:PORT). NULL with a one-line reason (address in use, bad address). *@url gets
 * the page's address. */
SoupServer *watch_server_new(WatchSession *s, const char *listen, char **url, GError **error);

#endif
