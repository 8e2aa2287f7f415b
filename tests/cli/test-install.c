/* The installed library: `make install` (run by `make check` into build/stage, and into
 * build/destdir with DESTDIR) puts the CLI, its man page, the headers, the shared and static
 * libraries and pcbdiff.pc in place; a program built with `pkg-config --cflags --libs pcbdiff`
 * alone inspects a photo through the installed shared library, which exports nothing but the
 * public API. */
#include <string.h>
#include <sys/wait.h>
#include "testutil.h"

static const char *stage;

static char *
run_shell(const char *cmd, int *status)
{
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    char *out = NULL, *err = NULL;
    int wait = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &wait, &error));
    g_assert_no_error(error);
    *status = WIFEXITED(wait) ? WEXITSTATUS(wait) : -1;
    if (*status != 0)
        g_test_message("%s\nstdout: %s\nstderr: %s", cmd, out, err);
    g_free(err);
    return out;
}

static void
test_files(void)
{
    const char *files[]
        = { "bin/pcbdiff",           "lib/libpcbdiff.so",        "lib/libpcbdiff.so.1",
            "lib/libpcbdiff.a",      "lib/pkgconfig/pcbdiff.pc", "include/pcbdiff/pcbdiff.h",
            "include/pcbdiff/api.h", "share/man/man1/pcbdiff.1" };
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_build_filename(stage, files[i], NULL);
        if (!g_file_test(p, G_FILE_TEST_EXISTS))
            g_error("not installed: %s", p);
    }
    /* DESTDIR stages the same tree under it */
    g_autofree char *d = g_build_filename(stage, "..", "destdir", "opt", "pcbdiff", "lib",
                                          "pkgconfig", "pcbdiff.pc", NULL);
    g_assert_true(g_file_test(d, G_FILE_TEST_EXISTS));
}

static void
test_installed_cli(void)
{
    int status;
    g_autofree char *cmd = g_strdup_printf("'%s/bin/pcbdiff' --version", stage);
    g_autofree char *out = run_shell(cmd, &status);
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(out, "pcbdiff"));
}

static void
test_pkg_config_program(void)
{
    const char *cc = g_getenv("PCBDIFF_CC") ? g_getenv("PCBDIFF_CC") : "cc";
    const char *extra = g_getenv("PCBDIFF_CC_FLAGS") ? g_getenv("PCBDIFF_CC_FLAGS") : "";
    g_autofree char *exe = g_build_filename(tu_tmpdir(), "example", NULL);
    g_autofree char *cmd
        = g_strdup_printf("PKG_CONFIG_PATH='%s/lib/pkgconfig' && export PKG_CONFIG_PATH && "
                          "%s %s -std=c11 -Wall -Werror '%s/tests/install/example.c' "
                          "$(pkg-config --cflags --libs pcbdiff) -Wl,-rpath,'%s/lib' -o '%s' && "
                          "'%s' '%s/reference-boards/demo' '%s/samples/implant-bmc.jpg'",
                          stage, cc, extra, tu_srcdir(), stage, exe, exe, tu_srcdir(), tu_srcdir());
    int status;
    g_autofree char *out = run_shell(cmd, &status);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(out, ==, "fail 1\n");
    /* it ran on the installed shared library */
    g_autofree char *ldd = g_strdup_printf("ldd '%s' | grep libpcbdiff.so.1", exe);
    g_autofree char *lib = run_shell(ldd, &status);
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(lib, stage));
}

static void
test_exports_only_api(void)
{
    /* every exported function is a pcb_ name declared in a public header */
    g_autofree char *cmd
        = g_strdup_printf("nm -D --defined-only '%s/lib/libpcbdiff.so' | awk '$2 == \"T\" {print "
                          "$3}' | sort > api.got && "
                          "sed -n 's/^PCB_API [^(]*[ *]\\(pcb_[a-z0-9_]*\\)(.*/\\1/p' "
                          "'%s'/include/pcbdiff/*.h | sort -u > api.want && "
                          "diff api.want api.got",
                          stage, stage);
    g_autofree char *full = g_strdup_printf("cd '%s' && %s", tu_tmpdir(), cmd);
    int status;
    g_autofree char *out = run_shell(full, &status);
    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(out, ==, ""); /* diff prints nothing */
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    stage = g_getenv("PCBDIFF_STAGE");
    if (stage == NULL) {
        g_printerr("test-install: PCBDIFF_STAGE (the installed prefix) is not set: run it from "
                   "make check\n");
        return 2;
    }
    g_test_add_func("/install/files", test_files);
    g_test_add_func("/install/cli-runs-installed", test_installed_cli);
    g_test_add_func("/install/pkg-config-program", test_pkg_config_program);
    g_test_add_func("/install/exports-only-the-api", test_exports_only_api);
    return g_test_run();
}
