/* libFuzzer harness: pcbdiff serve's request check (src/serve/request.c) on arbitrary request
 * lines and headers. The input is split at newlines into method, path, query, Authorization
 * and the Content-Length (a missing field is NULL, or -1 for the length); half the runs set a
 * token. Any input must give either a route with a well-formed board and unit, or an HTTP
 * error status with a one-line reason; never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <string.h>
#include "../../src/serve/request.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    g_autofree char *text = g_strndup((const char *) data, size); /* stops at a NUL: fine */
    g_auto(GStrv) f = g_strsplit(text, "\n", 5);
    guint n = g_strv_length(f);
    gint64 length = n > 4 ? g_ascii_strtoll(f[4], NULL, 10) : -1;
    ServeLimits limits
        = { .token = (size & 1) ? "secret-token-0123456789" : NULL, .max_body = 1 << 20 };
    ServeRequest req;
    char *why = NULL;
    guint status = serve_request_parse(n > 0 ? f[0] : "", n > 1 ? f[1] : "/", n > 2 ? f[2] : NULL,
                                       n > 3 ? f[3] : NULL, length, &limits, &req, &why);
    if (status == 0) {
        g_assert(why == NULL);
        g_assert(req.route != SERVE_ROUTE_NONE);
        if (req.route == SERVE_ROUTE_INSPECT) {
            g_assert(serve_board_name_valid(req.board));
            g_assert(length > 0 && length <= limits.max_body);
            for (const char *u = req.unit; *u; u++)
                g_assert(*u > 0x20 && *u < 0x7f);
        }
    }
    else {
        g_assert(status == 400 || status == 401 || status == 404 || status == 405 || status == 411
                 || status == 413);
        g_assert(why != NULL && strchr(why, '\n') == NULL);
    }
    g_free(why);
    return 0;
}
