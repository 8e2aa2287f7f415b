/* Signed reports: pcbdiff keygen, inspect --sign, verify. An untouched report verifies; an
 * edited byte of its content, another photo, another key, a missing signature each fail
 * naming why (exit 1); a malformed key is trouble (exit 2). */
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include "testutil.h"

static char *key, *pub, *report, *board, *photo, *golden;

static void
assert_contains(const char *text, const char *needle)
{
    if (text == NULL || strstr(text, needle) == NULL)
        g_error("\"%s\" does not contain \"%s\"", text ? text : "(null)", needle);
}

static void
sign_once(void)
{
    g_auto(TuRun) k = { 0 };
    tu_run(&k, "keygen", "--out", key, NULL);
    g_assert_cmpint(k.status, ==, 0);
    assert_contains(k.out, "key id");
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--board", board, photo, "--json", report, "--sign", key, "-q", NULL);
    g_assert_cmpint(r.status, ==, 1); /* the planted chip is found */
}

static void
test_keygen(void)
{
    GStatBuf st;
    g_assert_cmpint(g_stat(key, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_true(g_file_test(pub, G_FILE_TEST_EXISTS));
    g_auto(TuRun) again = { 0 }; /* an existing key is never overwritten silently */
    tu_run(&again, "keygen", "--out", key, NULL);
    g_assert_cmpint(again.status, ==, 2);
    assert_contains(again.err, "not overwritten");
}

static void
test_untouched_verifies(void)
{
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "verify", report, "--pubkey", pub, "--photo", photo, "--reference", golden, NULL);
    g_assert_cmpint(v.status, ==, 0);
    assert_contains(v.out, "verified");
    assert_contains(v.out, "photo matches");
}

/* A copy of the report with the first @from after @after replaced by @to. */
static char *
edited(const char *name, const char *after, const char *from, const char *to)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(report, &text, NULL, NULL));
    char *a = strstr(text, after);
    g_assert_nonnull(a);
    char *at = strstr(a, from);
    g_assert_nonnull(at);
    GString *s = g_string_new_len(text, at - text);
    g_string_append(s, to);
    g_string_append(s, at + strlen(from));
    char *path = g_build_filename(tu_tmpdir(), name, NULL);
    g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
    g_string_free(s, TRUE);
    return path;
}

static void
test_edited_byte_fails(void)
{
    /* one byte of a finding's score; then the verdict */
    g_autofree char *score = edited("score.json", "\"score\"", "0.", "1.");
    g_auto(TuRun) a = { 0 };
    tu_run(&a, "verify", score, "--pubkey", pub, NULL);
    g_assert_cmpint(a.status, ==, 1);
    assert_contains(a.err, "NOT VERIFIED: the signature does not match the report's content");
    g_autofree char *verdict = edited("verdict.json", "\"verdict\"", "fail", "pass");
    g_auto(TuRun) b = { 0 };
    tu_run(&b, "verify", verdict, "--pubkey", pub, NULL);
    g_assert_cmpint(b.status, ==, 1);
    /* layout is not content: re-indented, it still verifies */
    g_autofree char *spaced = edited("spaced.json", "\"verdict\"", " : ", ":    ");
    g_auto(TuRun) c = { 0 };
    tu_run(&c, "verify", spaced, "--pubkey", pub, NULL);
    g_assert_cmpint(c.status, ==, 0);
}

static void
test_other_photo_fails(void)
{
    g_autofree char *other = g_build_filename(tu_srcdir(), "samples", "clean-rotated.jpg", NULL);
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "verify", report, "--pubkey", pub, "--photo", other, NULL);
    g_assert_cmpint(v.status, ==, 1);
    assert_contains(v.err, "photo: SHA-256 differs");
}

static void
test_other_key_and_no_signature(void)
{
    g_autofree char *k2 = g_build_filename(tu_tmpdir(), "other.key", NULL);
    g_autofree char *p2 = g_strconcat(k2, ".pub", NULL);
    g_auto(TuRun) k = { 0 };
    tu_run(&k, "keygen", "--out", k2, NULL);
    g_assert_cmpint(k.status, ==, 0);
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "verify", report, "--pubkey", p2, NULL);
    g_assert_cmpint(v.status, ==, 1);
    assert_contains(v.err, "signed by another key");
    g_autofree char *plain = g_build_filename(tu_tmpdir(), "plain.json", NULL);
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--board", board, photo, "--json", plain, "-q", NULL);
    g_auto(TuRun) n = { 0 };
    tu_run(&n, "verify", plain, "--pubkey", pub, NULL);
    g_assert_cmpint(n.status, ==, 1);
    assert_contains(n.err, "no signature");
}

static void
test_bad_keys(void)
{
    g_autofree char *junk = g_build_filename(tu_tmpdir(), "junk.pub", NULL);
    g_assert_true(g_file_set_contents(junk, "not a key\n", -1, NULL));
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "verify", report, "--pubkey", junk, NULL);
    g_assert_cmpint(v.status, ==, 2);
    assert_contains(v.err, "not an Ed25519 public key");
    g_autofree char *out = g_build_filename(tu_tmpdir(), "never.json", NULL);
    g_auto(TuRun) s = { 0 }; /* a public key cannot sign: refused before any work */
    tu_run(&s, "inspect", "--board", board, photo, "--json", out, "--sign", pub, NULL);
    g_assert_cmpint(s.status, ==, 2);
    assert_contains(s.err, "not an Ed25519 private key");
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    g_auto(TuRun) j = { 0 };
    tu_run(&j, "inspect", "--board", board, photo, "--sign", key, NULL);
    g_assert_cmpint(j.status, ==, 2);
    assert_contains(j.err, "--sign needs --json");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    key = g_build_filename(tu_tmpdir(), "signing.key", NULL);
    pub = g_strconcat(key, ".pub", NULL);
    report = g_build_filename(tu_tmpdir(), "signed.json", NULL);
    board = g_build_filename(tu_srcdir(), "reference-boards", "demo", NULL);
    photo = g_build_filename(tu_srcdir(), "samples", "implant-bmc.jpg", NULL);
    golden = g_build_filename(board, "golden.png", NULL);
    sign_once();
    g_test_add_func("/sign/keygen-0600-no-overwrite", test_keygen);
    g_test_add_func("/sign/untouched-report-verifies", test_untouched_verifies);
    g_test_add_func("/sign/edited-byte-fails", test_edited_byte_fails);
    g_test_add_func("/sign/other-photo-fails", test_other_photo_fails);
    g_test_add_func("/sign/other-key-or-no-signature-fails", test_other_key_and_no_signature);
    g_test_add_func("/sign/bad-keys-are-trouble", test_bad_keys);
    int rc = g_test_run();
    g_free(key);
    g_free(pub);
    g_free(report);
    g_free(board);
    g_free(photo);
    g_free(golden);
    return rc;
}
