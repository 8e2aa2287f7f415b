/* pcbdiff serve: request checking (see request.h). */
#include <string.h>
#include "serve/request.h"

gboolean
serve_board_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SERVE_BOARD_MAX || name[0] == '.')
        return FALSE;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
            return FALSE;
    return TRUE;
}

static gboolean
unit_valid(const char *unit)
{
    size_t n = strlen(unit);
    if (n == 0 || n > SERVE_UNIT_MAX)
        return FALSE;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) unit[i] < 0x21 || (unsigned char) unit[i] > 0x7e)
            return FALSE;
    return TRUE;
}

/* Compares in time independent of where the strings differ (the token is a secret). */
static gboolean
token_equal(const char *given, size_t given_len, const char *token)
{
    size_t n = strlen(token);
    unsigned char diff = given_len != n;
    for (size_t i = 0; i < given_len; i++)
        diff |= (unsigned char) given[i] ^ (unsigned char) token[i % (n ? n : 1)];
    return diff == 0 && n > 0;
}

static guint fail(char **why, guint status, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static guint
fail(char **why, guint status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return status;
}

static guint
parse_inspect_query(const char *query, ServeRequest *out, char **why)
{
    if (query == NULL || *query == '\0')
        return fail(why, 400, "missing query: POST /v1/inspect?board=NAME[&unit=ID]");
    g_auto(GStrv) parts = g_strsplit(query, "&", 0);
    g_autofree char *board = NULL, *unit = NULL;
    for (int i = 0; parts[i] != NULL; i++) {
        const char *eq = strchr(parts[i], '=');
        if (eq == NULL)
            return fail(why, 400, "malformed query: every part is KEY=VALUE");
        g_autofree char *key = g_uri_unescape_segment(parts[i], eq, NULL);
        g_autofree char *value = g_uri_unescape_string(eq + 1, NULL);
        if (key == NULL || value == NULL)
            return fail(why, 400, "malformed query: bad %%-escape");
        char **slot = strcmp(key, "board") == 0 ? &board : strcmp(key, "unit") == 0 ? &unit : NULL;
        if (slot == NULL)
            return fail(why, 400, "unknown query parameter (only board and unit are known)");
        if (*slot != NULL)
            return fail(why, 400, "%s given twice", key);
        *slot = g_steal_pointer(&value);
    }
    if (board == NULL)
        return fail(why, 400, "missing board: POST /v1/inspect?board=NAME[&unit=ID]");
    if (!serve_board_name_valid(board))
        return fail(why, 400,
                    "malformed board name (1-%d of A-Z a-z 0-9 . _ -, not starting with '.')",
                    SERVE_BOARD_MAX);
    if (unit != NULL && !unit_valid(unit))
        return fail(why, 400, "malformed unit id (1-%d printable ASCII characters, no space)",
                    SERVE_UNIT_MAX);
    g_strlcpy(out->board, board, sizeof out->board);
    g_strlcpy(out->unit, unit ? unit : "", sizeof out->unit);
    return 0;
}

guint
serve_request_parse(const char *method, const char *path, const char *query,
                    const char *authorization, gint64 content_length, const ServeLimits *limits,
                    ServeRequest *out, char **why)
{
    g_return_val_if_fail(method != NULL && path != NULL && limits != NULL && out != NULL, 500);
    memset(out, 0, sizeof *out);
    *why = NULL;
    ServeRoute route = SERVE_ROUTE_NONE;
    const char *want = "GET";
    if (strcmp(path, "/v1/inspect") == 0) {
        route = SERVE_ROUTE_INSPECT;
        want = "POST";
    }
    else if (strcmp(path, "/v1/boards") == 0)
        route = SERVE_ROUTE_BOARDS;
    else if (strcmp(path, "/healthz") == 0)
        route = SERVE_ROUTE_HEALTHZ;
    else if (strcmp(path, "/metrics") == 0)
        route = SERVE_ROUTE_METRICS;
    else
        return fail(why, 404,
                    "no such endpoint (POST /v1/inspect, GET /v1/boards, /healthz, "
                    "/metrics)");
    if (strcmp(method, want) != 0 && !(strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0))
        return fail(why, 405, "%s wants %s", path, want);
    if (limits->token != NULL && route != SERVE_ROUTE_HEALTHZ) {
        const char *given = NULL;
        if (authorization != NULL && g_ascii_strncasecmp(authorization, "Bearer ", 7) == 0)
            given = authorization + 7;
        if (given == NULL || !token_equal(given, strlen(given), limits->token))
            return fail(why, 401, "missing or wrong bearer token (Authorization: Bearer TOKEN)");
    }
    if (route == SERVE_ROUTE_INSPECT) {
        if (content_length < 0)
            return fail(why, 411, "the photo's length must be given (Content-Length)");
        if (content_length > limits->max_body)
            return fail(why, 413,
                        "photo of %" G_GINT64_FORMAT " bytes is over the cap of %" G_GINT64_FORMAT
                        " bytes (--max-body-mb)",
                        content_length, limits->max_body);
        if (content_length == 0)
            return fail(why, 400, "empty body: send the photo's bytes (JPEG or PNG)");
        guint status = parse_inspect_query(query, out, why);
        if (status != 0)
            return status;
    }
    else if (query != NULL && *query != '\0')
        return fail(why, 400, "%s takes no query", path);
    out->route = route;
    return 0;
}
