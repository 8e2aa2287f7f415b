/* pcbdiff batch: inspect a photo archive into an SQLite results database (src/batch/). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "batch/batch.h"

static const char summary_text[]
    = "Inspects every photo of PATH... (photos, folders searched recursively for .jpg, .jpeg\n"
      "and .png, @LIST files of paths, CSV or JSONL manifests of photo, board, unit) into the\n"
      "SQLite database RESULTS. A photo already in RESULTS with the same board and parameters\n"
      "is skipped: after a crash or a kill, the same command finishes the rest.\n\n"
      "Exit status: 0 every photo passed, 1 findings on some (no trouble), 3 some photos could\n"
      "not be registered (no other trouble), 2 some photos could not be inspected (unreadable,\n"
      "corrupt, board missing) or the run could not start (options, database, board).";

typedef struct {
    const CliParams *cp;
} BuildData;

static gboolean
build_params(gpointer data, const PcbBoard *board, PcbInspectParams *params, GError **error)
{
    const BuildData *bd = data;
    return cli_params_build(bd->cp, board, params, error);
}

static void
print_summary(const BatchSummary *s, const char *db_path)
{
    int inspected = s->total - s->skipped - s->duplicate;
    printf("batch: %d photos in %.1f s: %d pass, %d fail (%ld findings), %d unregistered, "
           "%d error\n",
           s->total, s->seconds, s->pass, s->fail, s->findings, s->unregistered, s->error);
    printf("batch: %d inspected now (%.2f photos/s), %d done before, %d duplicates; results in "
           "%s\n",
           inspected, s->seconds > 0 ? inspected / s->seconds : 0.0, s->skipped, s->duplicate,
           db_path);
}

/* What the command line says. */
typedef struct {
    char *board, *boards, *db, *out, *shard, *sign_key;
    int jobs;
    gboolean html;
} BatchArgs;

static void
batch_args_clear(BatchArgs *a)
{
    g_free(a->board);
    g_free(a->boards);
    g_free(a->db);
    g_free(a->out);
    g_free(a->shard);
    g_free(a->sign_key);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BatchArgs, batch_args_clear)

/* Parses the command line into @a, @cp and @common; -1, or the exit status of a usage error. */
static int
parse_args(int *argc, char ***argv, BatchArgs *a, CliParams *cp, CliCommon *common)
{
    GOptionEntry entries[] = {
        { "board", 'b', 0, G_OPTION_ARG_FILENAME, &a->board,
          "Board folder (golden + board.ini) or golden image for every photo a manifest does not "
          "give a board",
          "DIR|IMAGE" },
        { "boards", 0, 0, G_OPTION_ARG_FILENAME, &a->boards,
          "Folder of board folders, for manifests that name boards", "DIR" },
        { "db", 'd', 0, G_OPTION_ARG_FILENAME, &a->db, "Results database (SQLite; made if missing)",
          "RESULTS.sqlite" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out,
          "Also write each photo's JSON report and overlay here", "DIR" },
        { "html", 0, 0, G_OPTION_ARG_NONE, &a->html,
          "With --out: also each photo's review page (NAME.html and its NAME.html.d folder), "
          "for pcbdiff db review",
          NULL },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &a->jobs,
          "Photos inspected at once (default: the cores)", "N" },
        { "shard", 0, 0, G_OPTION_ARG_STRING, &a->shard,
          "Only the I-th of N stable parts of the photos (by a hash of the path), 1 <= I <= N",
          "I/N" },
        { "sign", 0, 0, G_OPTION_ARG_FILENAME, &a->sign_key,
          "Sign each report with this Ed25519 private key (pcbdiff keygen)", "KEY" },
        G_OPTION_ENTRY_NULL
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--db RESULTS.sqlite PATH...");
    g_option_context_set_summary(ctx, summary_text);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_params_group(cp));
    g_option_context_add_group(ctx, cli_common_group(common));
    if (!cli_parse(ctx, "batch", argc, argv))
        return PCB_EXIT_TROUBLE;
    if (a->db == NULL || *argc < 2) {
        g_printerr("pcbdiff batch: expected --db RESULTS.sqlite and at least one PATH (see "
                   "pcbdiff batch --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    if (a->html && a->out == NULL) {
        g_printerr("pcbdiff batch: --html needs --out DIR (the pages go beside the reports)\n");
        return PCB_EXIT_TROUBLE;
    }
    if (a->jobs < 0 || a->jobs > PCB_MAX_THREADS) {
        g_printerr("pcbdiff batch: --jobs %d: out of range (0 = the cores, at most %d)\n", a->jobs,
                   PCB_MAX_THREADS);
        return PCB_EXIT_TROUBLE;
    }
    if (a->boards != NULL && !g_file_test(a->boards, G_FILE_TEST_IS_DIR)) {
        g_printerr("pcbdiff batch: --boards %s: not a folder\n", a->boards);
        return PCB_EXIT_TROUBLE;
    }
    return -1;
}

/* The photos of @paths in this run's shard (all of them without --shard) into @all, the
 * shard's into *@items (borrowed from @all). */
static gboolean
shard_photos(char **paths, const char *shard, GPtrArray *all, GPtrArray **items, GError **error)
{
    int shard_i = 1, shard_n = 1;
    if ((shard != NULL && !batch_shard_parse(shard, &shard_i, &shard_n, error))
        || !batch_collect(paths, all, error))
        return FALSE;
    *items = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++) {
        BatchItem *it = g_ptr_array_index(all, i);
        if (shard == NULL || batch_shard_has(it->path, shard_i, shard_n))
            g_ptr_array_add(*items, it);
    }
    if (all->len == 0)
        g_warning("no photos found in the paths given");
    return TRUE;
}

int
cmd_batch(int argc, char **argv)
{
    CliCommon common = { 0 };
    g_auto(CliParams) cp = { 0 };
    g_auto(BatchArgs) a = { 0 };
    int rc = parse_args(&argc, &argv, &a, &cp, &common);
    if (rc >= 0)
        return rc;
    int cores = (int) g_get_num_processors();
    int jobs = a.jobs == 0 ? cores : a.jobs;
    /* the photos run side by side: each inspection's own threads share what is left */
    CliCommon c = common;
    c.verbose = MAX(0, common.verbose - 1); /* -v: a line per photo; -vv: stage timings too */
    if (c.threads == 0)
        c.threads = MAX(1, cores / jobs);
    g_autoptr(GError) error = NULL;
    PcbInspectParams params;
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify) batch_item_free);
    g_autoptr(GPtrArray) items = NULL;
    if (!cli_common_apply(&c, &error) || !cli_params_build(&cp, NULL, &params, &error)
        || (a.sign_key != NULL && !pcb_sign_key_check(a.sign_key, &error))
        || !cli_check_writable(a.db, "results database", &error)
        || !shard_photos(argv + 1, a.shard, all, &items, &error))
        return cli_fail(error);
    BuildData bd = { &cp };
    BatchOptions opts = { .board_dir = a.board,
                          .boards_dir = a.boards,
                          .db_path = a.db,
                          .out_dir = a.out,
                          .sign_key = a.sign_key,
                          .jobs = jobs,
                          .progress = common.quiet ? 0 : 1 + common.verbose,
                          .build_params = build_params,
                          .build_data = &bd,
                          .html = a.html };
    BatchSummary s;
    if (!batch_run(&opts, items, &s, &error))
        return cli_fail(error);
    if (!common.quiet)
        print_summary(&s, a.db);
    return batch_exit_code(&s);
}
