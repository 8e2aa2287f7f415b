#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include "cli/cli.h"

static int verbosity = 1; /* 0 quiet, 1 default, 2 info, 3 debug */

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
    (void) user_data;
    const char *message = NULL;
    for (gsize i = 0; i < n_fields; i++)
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
    if (message == NULL)
        return G_LOG_WRITER_UNHANDLED;
    const char *tag = NULL;
    int need = 0;
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        tag = "error: ";
        need = 0;
    }
    else if (level & G_LOG_LEVEL_WARNING) {
        tag = "warning: ";
        need = 1;
    }
    else if (level & G_LOG_LEVEL_MESSAGE) {
        tag = "";
        need = 1;
    }
    else if (level & G_LOG_LEVEL_INFO) {
        tag = "";
        need = 2;
    }
    else {
        tag = "debug: ";
        need = 3;
    }
    if (verbosity >= need)
        fprintf(stderr, "pcbdiff: %s%s\n", tag, message);
    return G_LOG_WRITER_HANDLED;
}

static gboolean
count_verbose(const char *name, const char *value, gpointer data, GError **error)
{
    (void) name;
    (void) value;
    (void) error;
    ((CliCommon *) data)->verbose++;
    return TRUE;
}

GOptionGroup *
cli_common_group(CliCommon *c)
{
    GOptionEntry entries[]
        = { { "quiet", 'q', 0, G_OPTION_ARG_NONE, &c->quiet, "Print nothing but errors", NULL },
            { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) count_verbose,
              "Print stage timings and measures (twice: debug detail)", NULL },
            { "threads", 0, 0, G_OPTION_ARG_INT, &c->threads, "Worker threads (default: all cores)",
              "N" },
            { "max-megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &c->max_megapixels,
              "Refuse images larger than this (default 250)", "MP" },
            G_OPTION_ENTRY_NULL };
    GOptionGroup *g
        = g_option_group_new("common", "Common options:", "Show common options", c, NULL);
    g_option_group_add_entries(g, entries);
    return g;
}

gboolean
cli_common_apply(const CliCommon *c, GError **error)
{
    verbosity = c->quiet ? 0 : 1 + c->verbose;
    g_log_set_writer_func(writer, NULL, NULL);
    if (c->threads < 0 || c->threads > PCB_MAX_THREADS) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--threads %d: out of range (0 = all cores, at most %d)", c->threads,
                    PCB_MAX_THREADS);
        return FALSE;
    }
    if (!(c->max_megapixels >= 0 && c->max_megapixels <= CLI_MAX_MEGAPIXELS)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--max-megapixels %g: out of range (0 = the default, at most %d)",
                    c->max_megapixels, CLI_MAX_MEGAPIXELS);
        return FALSE;
    }
    if (c->max_megapixels > 0)
        pcb_set_max_pixels((guint64) (c->max_megapixels * 1e6));
    pcb_init(c->threads);
    return TRUE;
}

gboolean
cli_check_distinct(const char *const *paths, const char *const *names, int n, GError **error)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (paths[i] == NULL || paths[j] == NULL)
                continue;
            g_autofree char *a = g_canonicalize_filename(paths[i], NULL);
            g_autofree char *b = g_canonicalize_filename(paths[j], NULL);
            g_autofree char *ra = realpath(a, NULL);
            g_autofree char *rb = realpath(b, NULL);
            if (g_strcmp0(a, b) == 0 || (ra != NULL && g_strcmp0(ra, rb) == 0)) {
                g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s and %s name the same file %s",
                            names[i], names[j], paths[j]);
                return FALSE;
            }
        }
    return TRUE;
}

gboolean
cli_check_writable(const char *path, const char *what, GError **error)
{
    if (path == NULL)
        return TRUE;
    if (*path == '\0') {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: empty path", what);
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s %s: it is a directory", what,
                    path);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s %s: no directory %s", what,
                    path, dir);
        return FALSE;
    }
    if (access(dir, W_OK) != 0) {
        int e = errno;
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s %s: %s", what, path,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

int
cli_fail(const GError *error)
{
    g_printerr("pcbdiff: %s\n", error->message);
    return pcb_error_exit_code(error);
}

GOptionGroup *
cli_params_group(CliParams *p)
{
    GOptionEntry entries[]
        = { { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &p->sets,
              "Set a parameter, e.g. --set diff.tolerance-px=1.5 (repeatable; pcbdiff params "
              "lists them)",
              "KEY=VALUE" },
            { "sensitivity", 's', 0, G_OPTION_ARG_STRING, &p->sensitivity,
              "Detection sensitivity (--set findings.sensitivity; higher finds fainter changes)",
              "S" },
            { "px-per-mm", 0, 0, G_OPTION_ARG_STRING, &p->px_per_mm,
              "Reference scale in pixels per mm, over the board profile's (--set "
              "inspect.px-per-mm)",
              "F" },
            { "aligned", 0, 0, G_OPTION_ARG_NONE, &p->aligned,
              "The photo is already aligned with the reference pixel for pixel (a fixture, a "
              "pre-registered scan): no registration; same size required (--set "
              "register.aligned=true)",
              NULL },
            G_OPTION_ENTRY_NULL };
    GOptionGroup *g
        = g_option_group_new("params", "Parameter options:", "Show parameter options", p, NULL);
    g_option_group_add_entries(g, entries);
    return g;
}

void
cli_params_clear(CliParams *p)
{
    g_clear_pointer(&p->sets, g_strfreev);
    g_clear_pointer(&p->sensitivity, g_free);
    g_clear_pointer(&p->px_per_mm, g_free);
}

gboolean
cli_params_build(const CliParams *p, const PcbBoard *board, PcbInspectParams *params,
                 GError **error)
{
    pcb_inspect_params_init(params);
    if (board != NULL)
        pcb_board_apply_params(board, params);
    if ((p->sensitivity != NULL
         && !pcb_inspect_params_set(params, "findings.sensitivity", p->sensitivity, error))
        || (p->px_per_mm != NULL
            && !pcb_inspect_params_set(params, "inspect.px-per-mm", p->px_per_mm, error))
        || (p->aligned && !pcb_inspect_params_set(params, "register.aligned", "true", error)))
        return FALSE;
    for (char **s = p->sets; s != NULL && *s != NULL; s++) {
        const char *eq = strchr(*s, '=');
        if (eq == NULL || eq == *s) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "--set expects KEY=VALUE, got \"%s\"",
                        *s);
            return FALSE;
        }
        g_autofree char *key = g_strndup(*s, (gsize) (eq - *s));
        if (!pcb_inspect_params_set(params, g_strstrip(key), eq + 1, error))
            return FALSE;
    }
    return pcb_inspect_params_check(params, error);
}

gboolean
cli_write_report(const PcbInspection *insp, const GError *failure, const char *json,
                 const char *sign_key, GError **error)
{
    return sign_key != NULL ? pcb_report_write_json_signed(insp, failure, json, sign_key, error)
                            : pcb_report_write_json(insp, failure, json, error);
}

int
cli_fail_report(PcbInspection *insp, const char *photo, const GError *error, const char *json,
                const char *sign_key)
{
    if (insp->photo_path == NULL)
        insp->photo_path = g_strdup(photo);
    int code = cli_fail(error);
    g_autoptr(GError) werr = NULL;
    if (json != NULL && !cli_write_report(insp, error, json, sign_key, &werr))
        g_printerr("pcbdiff: %s\n", werr->message);
    return code;
}

gboolean
cli_parse(GOptionContext *ctx, const char *cmd, int *argc, char ***argv)
{
    g_autoptr(GError) error = NULL;
    if (g_option_context_parse(ctx, argc, argv, &error))
        return TRUE;
    g_printerr("pcbdiff %s: %s (see pcbdiff %s --help)\n", cmd, error->message, cmd);
    return FALSE;
}
