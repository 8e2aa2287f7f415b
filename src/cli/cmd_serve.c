/* pcbdiff serve: the inspection service for a production line (src/serve/). */
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "serve/request.h"
#include "serve/serve.h"

static const char summary[]
    = "Loads and prepares every board folder in DIR once, then inspects photos sent over HTTP\n"
      "(POST /v1/inspect?board=NAME[&unit=ID], the photo as the body) or dropped in a hot\n"
      "folder, and publishes each result as an IPC-CFX UnitsInspected message over AMQP 1.0.\n"
      "Also GET /v1/boards, /healthz, /metrics. SIGTERM or SIGINT: stop taking work, finish\n"
      "what is queued, exit 0.\n\n"
      "Exit status: 0 stopped by a signal, 2 could not start (usage, boards, address).";

static void
board_free(gpointer data)
{
    ServeBoard *b = data;
    g_free(b->name);
    pcb_reference_free(b->ref);
    g_free(b);
}

/* Every folder of @dir with a board.ini, prepared; NULL (error set) when one fails. */
static GPtrArray *
load_boards(const char *dir, const CliParams *cp, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    if (d == NULL) {
        g_prefix_error(error, "--boards: ");
        return NULL;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d)) != NULL;) {
        g_autofree char *ini = g_build_filename(dir, n, "board.ini", NULL);
        if (g_file_test(ini, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(names, g_strdup(n));
    }
    g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);
    if (names->len == 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--boards %s: no board folders (folders with a board.ini) in it", dir);
        return NULL;
    }
    g_autoptr(GPtrArray) boards = g_ptr_array_new_with_free_func(board_free);
    for (guint i = 0; i < names->len; i++) {
        const char *name = *(char **) &g_ptr_array_index(names, i);
        if (!serve_board_name_valid(name)) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                        "--boards: folder name '%s' cannot be a board name (1-%d of A-Z a-z "
                        "0-9 . _ -)",
                        name, SERVE_BOARD_MAX);
            return NULL;
        }
        g_autofree char *path = g_build_filename(dir, name, NULL);
        gint64 t0 = g_get_monotonic_time();
        ServeBoard *b = g_new0(ServeBoard, 1);
        b->name = g_strdup(name);
        g_ptr_array_add(boards, b);
        PcbBoard *board = pcb_board_open(path, 0, error);
        if (board == NULL || !cli_params_build(cp, board, &b->params, error)) {
            pcb_board_free(board);
            g_prefix_error(error, "board %s: ", name);
            return NULL;
        }
        b->ref = pcb_reference_new(board, &b->params, error); /* takes the board */
        if (b->ref == NULL) {
            g_prefix_error(error, "board %s: ", name);
            return NULL;
        }
        g_message("board %s prepared in %.0f ms", name, (g_get_monotonic_time() - t0) / 1e3);
    }
    return g_steal_pointer(&boards);
}

static char *
read_token(const char *path, GError **error)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error)) {
        g_prefix_error(error, "--token-file: ");
        return NULL;
    }
    g_strstrip(text);
    if (strlen(text) < 16 || strpbrk(text, " \t\r\n") != NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--token-file %s: the token must be one word of at least 16 characters", path);
        g_free(text);
        return NULL;
    }
    return text;
}

/* What the command line says. */
typedef struct {
    char *boards_dir, *listen, *token_file, *watch, *sign_key, *amqp, *amqp_address, *spool;
    char *handle;
    gboolean allow_remote;
    int workers, queue, spool_max;
    double max_body_mb, grace;
} ServeArgs;

static void
serve_args_clear(ServeArgs *a)
{
    char **strs[] = { &a->boards_dir, &a->listen,       &a->token_file, &a->watch, &a->sign_key,
                      &a->amqp,       &a->amqp_address, &a->spool,      &a->handle };
    for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
        g_clear_pointer(strs[i], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ServeArgs, serve_args_clear)

/* The usage errors of @a (@argc: the arguments left); -1 when there are none. */
static int
check_args(const ServeArgs *a, int argc)
{
    if (argc != 1 || a->boards_dir == NULL) {
        g_printerr("pcbdiff serve: expected --boards DIR and no other arguments (see pcbdiff "
                   "serve --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    if (a->workers < 1 || a->workers > PCB_MAX_THREADS || a->queue < 0 || a->queue > 100000
        || !(a->max_body_mb > 0 && a->max_body_mb <= 4096) || a->spool_max < 1
        || !(a->grace >= 0 && a->grace <= 3600)) {
        g_printerr("pcbdiff serve: --workers must be 1..%d, --queue 0..100000, --max-body-mb "
                   "0..4096, --amqp-spool-max >= 1, --drain-seconds 0..3600\n",
                   PCB_MAX_THREADS);
        return PCB_EXIT_TROUBLE;
    }
    if ((a->amqp == NULL) != (a->amqp_address == NULL)) {
        g_printerr("pcbdiff serve: --amqp and --amqp-address go together\n");
        return PCB_EXIT_TROUBLE;
    }
    if (a->watch != NULL && !g_file_test(a->watch, G_FILE_TEST_IS_DIR)) {
        g_printerr("pcbdiff serve: --watch %s: not a folder\n", a->watch);
        return PCB_EXIT_TROUBLE;
    }
    return -1;
}

/* Parses the command line into @a, @cp and @common; -1, or the exit status of a usage error. */
static int
parse_args(int *argc, char ***argv, ServeArgs *a, CliParams *cp, CliCommon *common)
{
    GOptionEntry entries[] = {
        { "boards", 0, 0, G_OPTION_ARG_FILENAME, &a->boards_dir,
          "Folder of board folders (each with board.ini); a board's name is its folder's", "DIR" },
        { "listen", 'l', 0, G_OPTION_ARG_STRING, &a->listen,
          "Address to listen on (default 127.0.0.1:8080; port 0: any free port)", "HOST:PORT" },
        { "allow-remote", 0, 0, G_OPTION_ARG_NONE, &a->allow_remote,
          "Allow a --listen address that is not loopback", NULL },
        { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &a->token_file,
          "Require 'Authorization: Bearer TOKEN' (the file's one word) on /v1 and /metrics",
          "FILE" },
        { "workers", 'w', 0, G_OPTION_ARG_INT, &a->workers, "Inspections at once (default 2)",
          "N" },
        { "queue", 0, 0, G_OPTION_ARG_INT, &a->queue,
          "Inspections that may wait for a worker; more get 503 (default 16)", "N" },
        { "max-body-mb", 0, 0, G_OPTION_ARG_DOUBLE, &a->max_body_mb,
          "Largest photo accepted, MB; larger get 413 (default 64)", "MB" },
        { "watch", 0, 0, G_OPTION_ARG_FILENAME, &a->watch,
          "Hot folder: photos dropped in DIR/BOARD/ are inspected once completely written; "
          "report and photo go to DIR/BOARD/done/ (failed/ on errors)",
          "DIR" },
        { "sign", 0, 0, G_OPTION_ARG_FILENAME, &a->sign_key,
          "Sign every report with this Ed25519 private key (pcbdiff keygen)", "KEY" },
        { "amqp", 0, 0, G_OPTION_ARG_STRING, &a->amqp,
          "Publish CFX results to this AMQP 1.0 broker", "amqp://[USER:PASS@]HOST[:PORT]" },
        { "amqp-address", 0, 0, G_OPTION_ARG_STRING, &a->amqp_address,
          "Target address (queue or exchange) of the CFX messages (needed with --amqp)", "ADDR" },
        { "amqp-spool", 0, 0, G_OPTION_ARG_FILENAME, &a->spool,
          "Where messages wait for the broker (default ./pcbdiff-cfx-spool)", "DIR" },
        { "amqp-spool-max", 0, 0, G_OPTION_ARG_INT, &a->spool_max,
          "Messages that may wait; when full, inspections get 503 (default 10000)", "N" },
        { "cfx-handle", 0, 0, G_OPTION_ARG_STRING, &a->handle,
          "The CFX Source of the messages (default pcbdiff.serve.HOSTNAME)", "HANDLE" },
        { "drain-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &a->grace,
          "At exit, how long the broker gets to take the spool (default 5)", "S" },
        G_OPTION_ENTRY_NULL
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--boards DIR [--listen HOST:PORT]");
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_params_group(cp));
    g_option_context_add_group(ctx, cli_common_group(common));
    if (!cli_parse(ctx, "serve", argc, argv))
        return PCB_EXIT_TROUBLE;
    return -1;
}

int
cmd_serve(int argc, char **argv)
{
    CliCommon common = { 0 };
    g_auto(CliParams) cp = { 0 };
    g_auto(ServeArgs) a
        = { .workers = 2, .queue = 16, .spool_max = 10000, .max_body_mb = 64, .grace = 5 };
    int rc = parse_args(&argc, &argv, &a, &cp, &common);
    if (rc >= 0)
        return rc;
    g_autoptr(GError) error = NULL;
    if (!cli_common_apply(&common, &error))
        return cli_fail(error);
    if ((rc = check_args(&a, argc)) >= 0)
        return rc;
    if (a.sign_key != NULL && !pcb_sign_key_check(a.sign_key, &error))
        return cli_fail(error);
    g_autofree char *token = a.token_file ? read_token(a.token_file, &error) : NULL;
    if (a.token_file != NULL && token == NULL)
        return cli_fail(error);
    PcbInspectParams probe;
    if (!cli_params_build(&cp, NULL, &probe, &error))
        return cli_fail(error);
    g_autoptr(GPtrArray) boards = load_boards(a.boards_dir, &cp, &error);
    if (boards == NULL)
        return cli_fail(error);
    if (a.handle == NULL) {
        g_autofree char *host = g_strdup(g_get_host_name());
        g_strdelimit(host, ". ", '-');
        a.handle = g_strdup_printf("pcbdiff.serve.%s", host);
    }
    ServeConfig cfg = { .boards = boards,
                        .listen = a.listen ? a.listen : "127.0.0.1:8080",
                        .allow_remote = a.allow_remote,
                        .token = token,
                        .workers = a.workers,
                        .queue = a.queue,
                        .max_body = (gint64) (a.max_body_mb * 1024 * 1024),
                        .watch_dir = a.watch,
                        .sign_key = a.sign_key,
                        .amqp_url = a.amqp,
                        .amqp_address = a.amqp_address,
                        .amqp_spool = a.spool ? a.spool : "pcbdiff-cfx-spool",
                        .amqp_spool_max = (guint) a.spool_max,
                        .cfx_handle = a.handle,
                        .drain_grace_ms = (guint) (a.grace * 1000) };
    return serve_run(&cfg);
}
