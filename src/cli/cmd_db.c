/* pcbdiff db: merge, export, summary and verify on batch results databases (src/batch/). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "batch/batch.h"

static const char summary_text[]
    = "Commands on results databases written by pcbdiff batch:\n"
      "  merge OUT SHARD...        add the rows of shard databases to OUT (made if missing;\n"
      "                            merging again adds nothing); each shard must verify\n"
      "  export --csv|--jsonl DB   every row to stdout, sorted by photo path\n"
      "  summary DB                counts per board and verdict, reasons, the audit chain head\n"
      "  verify DB                 check the audit chain: names the first edited, deleted or\n"
      "                            reordered row\n"
      "  decide DB DECISIONS.json  record an operator's decisions (the review page's export)\n"
      "                            for the inspection of their photo (--board NAME when it\n"
      "                            was inspected on several boards); checked as pcbdiff\n"
      "                            decide checks them, appended with their own audit chain\n"
      "  review DB OUTDIR          OUTDIR/index.html: every photo, sortable and filterable,\n"
      "                            linking to the review pages of batch --out DIR --html\n"
      "                            (looked for in OUTDIR, or in --pages DIR)\n\n"
      "Exit status: 0 done (verify: the chain holds), 1 verify: the chain is broken (or a\n"
      "shard given to merge does not verify), 2 usage, unreadable or foreign database.";

static int
db_review(int argc, char **argv, const char *pages)
{
    if (argc != 3) {
        g_printerr("pcbdiff db review: expected DB OUTDIR\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(BatchDb) db = batch_db_open(argv[1], FALSE, &error);
    if (db == NULL)
        return cli_fail(error);
    BatchReviewSummary s;
    if (!batch_db_review(db, argv[1], argv[2], pages, &s, &error))
        return cli_fail(error);
    printf("db review: %d photos (%d pass, %d fail, %d unregistered, %d error), %d with a review "
           "page; wrote %s\n",
           s.rows, s.pass, s.fail, s.unregistered, s.error, s.linked, s.path);
    g_free(s.path);
    return PCB_EXIT_PASS;
}

static int
db_decide(int argc, char **argv, const char *board)
{
    if (argc != 3) {
        g_printerr("pcbdiff db decide: expected DB DECISIONS.json\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    if (!g_file_get_contents(argv[2], &text, NULL, &error))
        return cli_fail(error);
    g_autoptr(BatchDb) db = batch_db_open(argv[1], FALSE, &error);
    if (db == NULL)
        return cli_fail(error);
    BatchDecideSummary s;
    gboolean ok = batch_db_decide(db, text, board, &s, &error);
    if (ok)
        printf("db decide: inspection %" G_GINT64_FORMAT " (%s, board %s): %u decisions recorded "
               "(%d confirmed, %d rejected, %d accepted, %d not verified yet)\n",
               s.inspection_id, s.photo_path, s.board, s.recorded, s.counts[0], s.counts[1],
               s.counts[2], s.counts[3]);
    g_free(s.photo_path);
    g_free(s.board);
    if (!ok) {
        g_prefix_error(&error, "%s: ", argv[2]);
        return cli_fail(error);
    }
    return PCB_EXIT_PASS;
}

static int
db_merge(int argc, char **argv)
{
    if (argc < 3) {
        g_printerr("pcbdiff db merge: expected OUT.sqlite SHARD.sqlite...\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(GError) error = NULL;
    if (!cli_check_writable(argv[1], "merged database", &error))
        return cli_fail(error);
    if (!batch_db_merge(argv[1], argv + 2, stdout, &error))
        return cli_fail(error);
    return PCB_EXIT_PASS;
}

int
cmd_db(int argc, char **argv)
{
    gboolean csv = FALSE, jsonl = FALSE;
    g_autofree char *pages = NULL, *board = NULL;
    GOptionEntry entries[] = {
        { "csv", 0, 0, G_OPTION_ARG_NONE, &csv, "export: CSV", NULL },
        { "jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "export: JSON lines (findings, reports)",
          NULL },
        { "pages", 0, 0, G_OPTION_ARG_FILENAME, &pages,
          "review: the review pages are in DIR (batch --out DIR --html), not OUTDIR", "DIR" },
        { "board", 0, 0, G_OPTION_ARG_STRING, &board,
          "decide: the inspection on this board (when the photo was inspected on several)",
          "NAME" },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx
        = g_option_context_new("merge|export|summary|verify|review|decide DATABASE...");
    g_option_context_set_summary(ctx, summary_text);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, "db", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    g_log_set_writer_func(g_log_writer_standard_streams, NULL, NULL);
    if (argc < 2) {
        g_printerr(
            "pcbdiff db: expected merge, export, summary, verify, review or decide (see pcbdiff "
            "db --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "merge") == 0)
        return db_merge(argc - 1, argv + 1);
    if (strcmp(sub, "review") == 0)
        return db_review(argc - 1, argv + 1, pages);
    if (strcmp(sub, "decide") == 0)
        return db_decide(argc - 1, argv + 1, board);
    if (strcmp(sub, "export") != 0 && strcmp(sub, "summary") != 0 && strcmp(sub, "verify") != 0) {
        g_printerr(
            "pcbdiff db: unknown command '%s' (merge, export, summary, verify, review, decide)\n",
            sub);
        return PCB_EXIT_TROUBLE;
    }
    if (argc != 3) {
        g_printerr("pcbdiff db %s: expected one DATABASE\n", sub);
        return PCB_EXIT_TROUBLE;
    }
    if (strcmp(sub, "export") == 0 && csv == jsonl) {
        g_printerr("pcbdiff db export: give --csv or --jsonl\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(BatchDb) db = batch_db_open(argv[2], FALSE, &error);
    if (db == NULL)
        return cli_fail(error);
    if (strcmp(sub, "export") == 0)
        return batch_db_export(db, jsonl, stdout, &error) ? PCB_EXIT_PASS : cli_fail(error);
    if (strcmp(sub, "summary") == 0)
        return batch_db_summary(db, stdout, &error) ? PCB_EXIT_PASS : cli_fail(error);
    gint64 rows = 0;
    g_autofree char *head = NULL;
    if (!batch_db_verify(db, &rows, &head, &error)) {
        g_printerr("pcbdiff: %s: %s\n", argv[2], error->message);
        return pcb_error_exit_code(error);
    }
    gint64 decisions = 0;
    if (!batch_db_verify_decisions(db, &decisions, &error))
        return cli_fail(error);
    printf("%s: verified, %" G_GINT64_FORMAT " rows, chain head %s; %" G_GINT64_FORMAT
           " decision rows\n",
           argv[2], rows, head, decisions);
    return PCB_EXIT_PASS;
}
