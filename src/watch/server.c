/* pcbdiff watch: the local page, served with libsoup-3 from the main loop.
 *   GET /              the live page (src/watch/watch.html, embedded)
 *   GET /api/session   the session as JSON (watch_session_json()); the page polls it
 *   GET /out/FILE      a file of the out folder: reports, review pages and their images
 * Read-only: other methods get 405. On a loopback address only requests naming a loopback host
 * are answered (a web page elsewhere cannot reach the results through DNS rebinding). */
#include <stdlib.h>
#include <string.h>
#include <gio/gio.h>
#include "watch/watch_internal.h"
#include "watch_page.h"

typedef struct {
    WatchSession *session;
    gboolean loopback;
    guint port;
} Server;

static void
reply(SoupServerMessage *msg, guint status, const char *type, char *body, gsize len)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Cache-Control", "no-store");
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body, len);
}

static void
reply_text(SoupServerMessage *msg, guint status, const char *text)
{
    char *body = g_strconcat(text, "\n", NULL);
    reply(msg, status, "text/plain; charset=utf-8", body, strlen(body));
}

static const char *
content_type(const char *name)
{
    g_autofree char *low = g_ascii_strdown(name, -1);
    if (g_str_has_suffix(low, ".html"))
        return "text/html; charset=utf-8";
    if (g_str_has_suffix(low, ".json"))
        return "application/json";
    if (g_str_has_suffix(low, ".jpg") || g_str_has_suffix(low, ".jpeg"))
        return "image/jpeg";
    if (g_str_has_suffix(low, ".png"))
        return "image/png";
    return NULL;
}

/* @rel (decoded, below /out/) when it names a file inside the out folder: no empty, "." or ".."
 * segment, no backslash, and its real path still inside the folder. A new string or NULL. */
static char *
out_file(const char *out, const char *rel)
{
    if (*rel == '\0' || strchr(rel, '\\') != NULL)
        return NULL;
    g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
    for (char **p = parts; *p != NULL; p++)
        if (**p == '\0' || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
            return NULL;
    g_autofree char *path = g_build_filename(out, rel, NULL);
    g_autofree char *real = realpath(path, NULL);
    g_autofree char *root = realpath(out, NULL);
    if (real == NULL || root == NULL || !g_str_has_prefix(real, root) || real[strlen(root)] != '/')
        return NULL;
    return g_steal_pointer(&path);
}

/* On a loopback address: the Host header names a loopback host (or is absent: HTTP/1.0). */
static gboolean
host_allowed(const Server *sv, SoupServerMessage *msg)
{
    if (!sv->loopback)
        return TRUE;
    const char *host
        = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");
    if (host == NULL)
        return TRUE;
    g_autofree char *h = g_ascii_strdown(host, -1);
    char *colon = strrchr(h, ':');
    if (colon != NULL && strchr(colon, ']') == NULL)
        *colon = '\0';
    return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0;
}

static void
handle(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
       gpointer data)
{
    (void) server;
    (void) query;
    Server *sv = data;
    const char *method = soup_server_message_get_method(msg);
    if (!host_allowed(sv, msg)) {
        reply_text(msg, SOUP_STATUS_FORBIDDEN, "pcbdiff watch answers loopback hosts only");
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                     "GET, HEAD");
        reply_text(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "pcbdiff watch: read-only (GET, HEAD)");
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        reply(msg, SOUP_STATUS_OK, "text/html; charset=utf-8", g_strdup(watch_page),
              sizeof watch_page - 1);
        return;
    }
    if (strcmp(path, "/api/session") == 0) {
        g_autoptr(JsonNode) root = watch_session_json(sv->session);
        g_autoptr(JsonGenerator) gen = json_generator_new();
        json_generator_set_root(gen, root);
        gsize len = 0;
        char *text = json_generator_to_data(gen, &len);
        reply(msg, SOUP_STATUS_OK, "application/json", text, len);
        return;
    }
    if (g_str_has_prefix(path, "/out/")) {
        const char *type = content_type(path);
        g_autofree char *file
            = type != NULL ? out_file(watch_session_out(sv->session), path + 5) : NULL;
        char *body = NULL;
        gsize len = 0;
        if (file != NULL && g_file_test(file, G_FILE_TEST_IS_REGULAR)
            && g_file_get_contents(file, &body, &len, NULL)) {
            reply(msg, SOUP_STATUS_OK, type, body, len);
            return;
        }
    }
    reply_text(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

/* HOST:PORT, [V6]:PORT or PORT (on 127.0.0.1); localhost is 127.0.0.1. NULL when malformed. */
static GSocketAddress *
listen_address(const char *listen)
{
    g_autofree char *host = NULL;
    const char *port_text = listen;
    const char *colon = strrchr(listen, ':');
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':')
            return NULL;
        host = g_strndup(listen + 1, (gsize) (close - listen - 1));
        port_text = close + 2;
    }
    else if (colon != NULL) {
        host = g_strndup(listen, (gsize) (colon - listen));
        port_text = colon + 1;
    }
    else
        host = g_strdup("127.0.0.1");
    if (g_ascii_strcasecmp(host, "localhost") == 0 || *host == '\0') {
        g_free(host);
        host = g_strdup("127.0.0.1");
    }
    guint64 port = 0;
    if (!g_ascii_string_to_unsigned(port_text, 10, 0, 65535, &port, NULL))
        return NULL;
    g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
    return addr != NULL ? g_inet_socket_address_new(addr, (guint16) port) : NULL;
}

static GSocketAddress *
parse_listen(const char *listen, GError **error)
{
    GSocketAddress *addr = listen_address(listen);
    if (addr == NULL)
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--listen %s: expected HOST:PORT with an IP address (127.0.0.1:8787, "
                    "[::1]:8787; port 0 picks a free one)",
                    listen);
    return addr;
}

SoupServer *
watch_server_new(WatchSession *s, const char *listen, char **url, GError **error)
{
    g_autoptr(GSocketAddress) addr = parse_listen(listen, error);
    if (addr == NULL)
        return NULL;
    GInetAddress *ip = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr));
    Server *sv = g_new0(Server, 1);
    sv->session = s;
    sv->loopback = g_inet_address_get_is_loopback(ip);
    g_autoptr(SoupServer) server = soup_server_new("server-header", "pcbdiff-watch ", NULL);
    soup_server_add_handler(server, NULL, handle, sv, g_free);
    g_autoptr(GError) lerr = NULL;
    if (!soup_server_listen(server, addr, 0, &lerr)) {
        g_autofree char *where = g_socket_connectable_to_string(G_SOCKET_CONNECTABLE(addr));
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot listen on %s: %s", where,
                    lerr->message);
        return NULL;
    }
    GSList *uris = soup_server_get_uris(server);
    if (uris != NULL) {
        sv->port = (guint) g_uri_get_port(uris->data);
        *url = g_uri_to_string(uris->data);
    }
    else
        *url = g_strdup("(none)");
    g_slist_free_full(uris, (GDestroyNotify) g_uri_unref);
    if (!sv->loopback)
        g_warning("the page on %s has no password: anyone who can reach it sees the results", *url);
    return g_steal_pointer(&server);
}
