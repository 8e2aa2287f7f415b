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
    g_autofree char *pages = NULL;
    GOptionEntry entries[] = {
        { "csv", 0, 0, G_OPTION_ARG_NONE, &csv, "export: CSV", NULL },
        { "jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "export: JSON lines (findings, reports)",
          NULL },
        { "pages", 0, 0, G_OPTION_ARG_FILENAME, &pages,
          "review: the review pages are in DIR (batch --out DIR --html), not OUTDIR", "DIR" },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx
        = g_option_context_new("merge|export|summary|verify|review DATABASE...");
    g_option_context_set_summary(ctx, summary_text);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, "db", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    g_log_set_writer_func(g_log_writer_standard_streams, NULL, NULL);
    if (argc < 2) {
        g_printerr("pcbdiff db: expected merge, export, summary, verify or review (see pcbdiff "
                   "db --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "merge") == 0)
        return db_merge(argc - 1, argv + 1);
    if (strcmp(sub, "review") == 0)
        return db_review(argc - 1, argv + 1, pages);
    if (strcmp(sub, "export") != 0 && strcmp(sub, "summary") != 0 && strcmp(sub, "verify") != 0) {
        g_printerr("pcbdiff db: unknown command '%s' (merge, export, summary, verify, review)\n",
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
    printf("%s: verified, %" G_GINT64_FORMAT " rows, chain head %s\n", argv[2], rows, head);
    return PCB_EXIT_PASS;
}
