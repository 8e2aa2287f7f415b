/* Signed reports (pcbdiff/sign.h): Ed25519 through libcrypto over the canonical form. */
#include <string.h>
#include <sys/stat.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "pcbdiff/error.h"
#include "pcbdiff/report.h"
#include "pcbdiff/sign.h"
#include "core/util.h"

#define ALGORITHM "Ed25519"
#define CANONICAL "pcbdiff-canonical-1"
#define RAW_KEY   32 /* an Ed25519 public key's raw bytes */
#define SIG_BYTES 64
#define MAX_KEY   (64 * 1024) /* a PEM key file is far smaller */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BIO, BIO_free)

/* ---- the canonical form ---- */

static void canon_node(GString *out, JsonNode *node);

static void
canon_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char) *p);
        }
        else if (*p < 0x20)
            g_string_append_printf(out, "\\u%04x", *p);
        else
            g_string_append_c(out, (char) *p);
    }
    g_string_append_c(out, '"');
}

static void
canon_value(GString *out, JsonNode *node)
{
    GType t = json_node_get_value_type(node);
    if (t == G_TYPE_INT64)
        g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
    else if (t == G_TYPE_DOUBLE) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(out, g_ascii_dtostr(buf, sizeof buf, json_node_get_double(node)));
    }
    else if (t == G_TYPE_BOOLEAN)
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
    else
        canon_string(out, json_node_get_string(node));
}

static int
by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Members sorted by name; the top level without "signature". */
static void
canon_object(GString *out, JsonObject *o, gboolean top)
{
    g_autoptr(GList) names = json_object_get_members(o);
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    for (GList *l = names; l != NULL; l = l->next)
        if (!top || strcmp(l->data, "signature") != 0)
            g_ptr_array_add(sorted, l->data);
    g_ptr_array_sort(sorted, by_name);
    g_string_append_c(out, '{');
    for (guint i = 0; i < sorted->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        canon_string(out, sorted->pdata[i]);
        g_string_append_c(out, ':');
        canon_node(out, json_object_get_member(o, sorted->pdata[i]));
    }
    g_string_append_c(out, '}');
}

static void
canon_node(GString *out, JsonNode *node)
{
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT:
        canon_object(out, json_node_get_object(node), FALSE);
        break;
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(node);
        g_string_append_c(out, '[');
        for (guint i = 0; i < json_array_get_length(a); i++) {
            if (i > 0)
                g_string_append_c(out, ',');
            canon_node(out, json_array_get_element(a, i));
        }
        g_string_append_c(out, ']');
        break;
    }
    case JSON_NODE_VALUE:
        canon_value(out, node);
        break;
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    }
}

/* The report's root object, or NULL with PCB_ERROR_DECODE. */
static JsonParser *
parse_report(const char *json, JsonObject **root, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    if (json == NULL || !json_parser_load_from_data(parser, json, -1, &local)
        || json_parser_get_root(parser) == NULL
        || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "not a pcbdiff report: %s",
                    local != NULL ? local->message : "no JSON object");
        return NULL;
    }
    *root = json_node_get_object(json_parser_get_root(parser));
    return g_steal_pointer(&parser);
}

char *
pcb_report_canonical(const char *json, GError **error)
{
    JsonObject *root = NULL;
    g_autoptr(JsonParser) parser = parse_report(json, &root, error);
    if (parser == NULL)
        return NULL;
    GString *out = g_string_new(NULL);
    canon_object(out, root, TRUE);
    return g_string_free(out, FALSE);
}

/* ---- keys ---- */

/* The key in the PEM file @path: private (@want_private) or public (a private key's public
 * half also serves); NULL with PCB_ERROR_IO or PCB_ERROR_USAGE. */
static EVP_PKEY *
load_key(const char *path, gboolean want_private, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: cannot read the key: %s", path,
                    local->message);
        return NULL;
    }
    if (len > MAX_KEY) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: not a key (%" G_GSIZE_FORMAT " bytes)",
                    path, len);
        return NULL;
    }
    g_autoptr(BIO) bio = BIO_new_mem_buf(text, (int) len);
    EVP_PKEY *key = want_private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    if (!want_private) {
        key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (key == NULL) { /* a private key file also holds its public key */
            g_autoptr(BIO) again = BIO_new_mem_buf(text, (int) len);
            key = PEM_read_bio_PrivateKey(again, NULL, NULL, NULL);
        }
    }
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: not an Ed25519 %s key (PEM)", path,
                    want_private ? "private" : "public");
        return NULL;
    }
    return key;
}

static char *
key_id_of(EVP_PKEY *key)
{
    guint8 raw[RAW_KEY];
    size_t n = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != RAW_KEY)
        return NULL;
    return pcb_sha256_data(raw, n);
}

gboolean
pcb_sign_key_check(const char *path, GError **error)
{
    g_autoptr(EVP_PKEY) key = load_key(path, TRUE, error);
    return key != NULL;
}

char *
pcb_sign_key_id(const char *path, GError **error)
{
    g_autoptr(EVP_PKEY) key = load_key(path, FALSE, error);
    return key != NULL ? key_id_of(key) : NULL;
}

/* The PEM text of @key (private or public) into a new string. */
static char *
pem_of(EVP_PKEY *key, gboolean private_half)
{
    g_autoptr(BIO) bio = BIO_new(BIO_s_mem());
    int ok = private_half ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(bio, key);
    char *data = NULL;
    long n = ok == 1 ? BIO_get_mem_data(bio, &data) : 0;
    return n > 0 ? g_strndup(data, (gsize) n) : NULL;
}

static gboolean
write_key_file(const char *path, const char *text, int mode, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, &local)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: %s", path, local->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
pcb_sign_keygen(const char *path, gboolean force, GError **error)
{
    g_autofree char *pub = g_strconcat(path, ".pub", NULL);
    if (!force && (g_file_test(path, G_FILE_TEST_EXISTS) || g_file_test(pub, G_FILE_TEST_EXISTS))) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "%s or %s exists: not overwritten (--force replaces the key)", path, pub);
        return FALSE;
    }
    g_autoptr(EVP_PKEY) key = EVP_PKEY_Q_keygen(NULL, NULL, ALGORITHM);
    g_autofree char *priv_pem = key != NULL ? pem_of(key, TRUE) : NULL;
    g_autofree char *pub_pem = key != NULL ? pem_of(key, FALSE) : NULL;
    if (priv_pem == NULL || pub_pem == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "libcrypto could not make an %s key",
                    ALGORITHM);
        return FALSE;
    }
    gboolean ok
        = write_key_file(path, priv_pem, 0600, error) && write_key_file(pub, pub_pem, 0644, error);
    OPENSSL_cleanse(priv_pem, strlen(priv_pem));
    return ok;
}

/* ---- signing and verifying ---- */

static char *
sign_json(const char *json, const char *key_path, GError **error)
{
    g_autoptr(EVP_PKEY) key = load_key(key_path, TRUE, error);
    if (key == NULL)
        return NULL;
    g_autofree char *canon = pcb_report_canonical(json, error);
    if (canon == NULL)
        return NULL;
    guint8 sig[SIG_BYTES];
    size_t n = sizeof sig;
    g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1
        || EVP_DigestSign(ctx, sig, &n, (const guint8 *) canon, strlen(canon)) != 1) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "libcrypto could not sign the report");
        return NULL;
    }
    g_autofree char *id = key_id_of(key);
    g_autofree char *value = g_base64_encode(sig, n);
    /* the report as written, the signature added as its last member */
    const char *end = strrchr(json, '}');
    if (end == NULL || id == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "not a pcbdiff report");
        return NULL;
    }
    const char *body = end;
    while (body > json && g_ascii_isspace(body[-1]))
        body--;
    return g_strdup_printf("%.*s,\n  \"signature\": {\n    \"algorithm\": \"" ALGORITHM "\",\n"
                           "    \"canonical\": \"" CANONICAL "\",\n    \"key_id\": \"%s\",\n"
                           "    \"value\": \"%s\"\n  }\n}",
                           (int) (body - json), json, id, value);
}

/* libcrypto keeps per-thread state (its error queue: key decoding tries decoders that fail)
 * until the thread exits; a pool's worker still parked at the process's exit leaves it behind
 * (LeakSanitizer: 904 bytes). It is freed after each signature and made again when needed. */
char *
pcb_report_sign(const char *json, const char *key_path, GError **error)
{
    char *signed_json = sign_json(json, key_path, error);
    OPENSSL_thread_stop();
    return signed_json;
}

gboolean
pcb_report_write_json_signed(const PcbInspection *insp, const GError *failure, const char *path,
                             const char *key_path, GError **error)
{
    g_autofree char *text = pcb_report_to_json(insp, failure);
    g_autofree char *signed_text = pcb_report_sign(text, key_path, error);
    if (signed_text == NULL)
        return FALSE;
    g_autofree char *line = g_strconcat(signed_text, "\n", NULL);
    return pcb_write_file_atomic(path, line, strlen(line), error);
}

/* The signature member's algorithm, key id and raw value; FALSE with the reason. */
static gboolean
signature_of(JsonObject *root, char **id, guint8 **sig, gsize *n, GError **error)
{
    JsonNode *node = json_object_get_member(root, "signature");
    if (node == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY, "the report has no signature");
        return FALSE;
    }
    JsonObject *s = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    const char *alg = s ? json_object_get_string_member_with_default(s, "algorithm", NULL) : NULL;
    const char *can = s ? json_object_get_string_member_with_default(s, "canonical", NULL) : NULL;
    const char *key = s ? json_object_get_string_member_with_default(s, "key_id", NULL) : NULL;
    const char *val = s ? json_object_get_string_member_with_default(s, "value", NULL) : NULL;
    if (alg == NULL || can == NULL || key == NULL || val == NULL || strcmp(alg, ALGORITHM) != 0
        || strcmp(can, CANONICAL) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "the signature is malformed (expected algorithm " ALGORITHM
                    ", canonical " CANONICAL ", key_id and value)");
        return FALSE;
    }
    *sig = g_base64_decode(val, n);
    *id = g_strdup(key);
    return TRUE;
}

/* Whether the file at @path has the SHA-256 the report's inputs.@which names. */
static gboolean
input_matches(JsonObject *root, const char *which, const char *path, GError **error)
{
    JsonObject *inputs = json_object_get_object_member(root, "inputs");
    JsonObject *in = inputs && json_object_has_member(inputs, which)
                         ? json_object_get_object_member(inputs, which)
                         : NULL;
    const char *want = in ? json_object_get_string_member_with_default(in, "sha256", NULL) : NULL;
    gsize len = 0;
    g_autofree char *bytes = NULL;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &bytes, &len, &local)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: %s", path, local->message);
        return FALSE;
    }
    g_autofree char *got = pcb_sha256_data((const guint8 *) bytes, len);
    if (want == NULL || strcmp(want, got) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "%s: SHA-256 differs: the report says %s, %s is %s", which,
                    want ? want : "nothing", path, got);
        return FALSE;
    }
    return TRUE;
}

gboolean
pcb_report_verify(const char *json, const char *pubkey_path, const char *photo_path,
                  const char *reference_path, char **key_id, GError **error)
{
    g_autoptr(EVP_PKEY) key = load_key(pubkey_path, FALSE, error);
    if (key == NULL)
        return FALSE;
    JsonObject *root = NULL;
    g_autoptr(JsonParser) parser = parse_report(json, &root, error);
    if (parser == NULL)
        return FALSE;
    g_autofree char *id = NULL;
    g_autofree guint8 *sig = NULL;
    gsize n = 0;
    if (!signature_of(root, &id, &sig, &n, error))
        return FALSE;
    g_autofree char *ours = key_id_of(key);
    if (ours == NULL || strcmp(ours, id) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "signed by another key (key %.16s..., this public key is %.16s...)", id,
                    ours ? ours : "?");
        return FALSE;
    }
    GString *canon = g_string_new(NULL);
    canon_object(canon, root, TRUE);
    g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new();
    gboolean good = ctx != NULL && n == SIG_BYTES
                    && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1
                    && EVP_DigestVerify(ctx, sig, n, (const guint8 *) canon->str, canon->len) == 1;
    g_string_free(canon, TRUE);
    if (!good) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "the signature does not match the report's content (edited after signing)");
        return FALSE;
    }
    if ((photo_path != NULL && !input_matches(root, "photo", photo_path, error))
        || (reference_path != NULL && !input_matches(root, "reference", reference_path, error)))
        return FALSE;
    if (key_id != NULL)
        *key_id = g_steal_pointer(&id);
    return TRUE;
}
