#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "pcbdiff/error.h"
#include "core/util.h"

gboolean
pcb_write_file_atomic(const char *path, const void *data, gsize len, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmpl = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    int fd = g_mkstemp(tmpl);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: %s", path, g_strerror(e));
        return FALSE;
    }
    const guint8 *p = data;
    gsize left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            close(fd);
            g_unlink(tmpl);
            g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: %s", path, g_strerror(e));
            return FALSE;
        }
        p += n;
        left -= (gsize) n;
    }
    /* mkstemp makes 0600; reports are ordinary files: honour the umask */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        g_unlink(tmpl);
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: %s", path, g_strerror(e));
        return FALSE;
    }
    if (g_rename(tmpl, path) != 0) {
        int e = errno;
        g_unlink(tmpl);
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: %s", path, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

static char *
hex_digest(const unsigned char *md, unsigned int n)
{
    char *hex = g_malloc(2 * n + 1);
    for (unsigned int i = 0; i < n; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

char *
pcb_sha256_data(const guint8 *data, gsize len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
        g_error("SHA-256 failed in libcrypto"); /* only on a broken OpenSSL install */
    return hex_digest(md, n);
}
