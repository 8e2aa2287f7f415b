/* The pcbdiff command line: shared option handling for the subcommands. */
#ifndef PCB_CLI_H
#define PCB_CLI_H

#include <glib.h>
#include "pcbdiff/pcbdiff.h"

typedef struct {
    gboolean quiet;
    int verbose;
    int threads;
    double max_megapixels;
} CliCommon;

/* GOptionEntry rows for -q, -v, --threads, --max-megapixels (write into @common). */
GOptionGroup *cli_common_group(CliCommon *common);
/* Parses the command line of subcommand @cmd; on a bad option prints one line naming it and
 * returns FALSE (exit 2). */
gboolean cli_parse(GOptionContext *ctx, const char *cmd, int *argc, char ***argv);

/* Applies verbosity, threads and the pixel cap. */
/* Applies the common options (log level, pixel cap, threads); FALSE, PCB_ERROR_USAGE, for an
 * option out of its range. */
gboolean cli_common_apply(const CliCommon *common, GError **error);

/* --max-megapixels is at most this (the cap guards memory; 0 keeps the default, 250). */
#define CLI_MAX_MEGAPIXELS 100000

/* FALSE (PCB_ERROR_USAGE) when two of the @n output @paths (NULL: not given; @names: their
 * options) name the same file: one output would overwrite the other. */
gboolean cli_check_distinct(const char *const *paths, const char *const *names, int n,
                            GError **error);

/* Checks early that @path can be written (its folder exists and is writable), so a long run
 * does not end in an unwritable output. NULL @path is fine. */
gboolean cli_check_writable(const char *path, const char *what, GError **error);

/* The parameter options every command that inspects takes: --set KEY=VALUE (repeatable) and
 * the shorthands --sensitivity and --px-per-mm. */
typedef struct {
    char **sets; /* KEY=VALUE, in command-line order */
    char *sensitivity, *px_per_mm;
    gboolean aligned;
} CliParams;

/* GOptionEntry rows for --set, --sensitivity, --px-per-mm and --aligned (write into @p). */
GOptionGroup *cli_params_group(CliParams *p);
void cli_params_clear(CliParams *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliParams, cli_params_clear)

/* @params from the table's defaults, then @board's overrides (may be NULL), then the shorthands,
 * then each --set in order. PCB_ERROR_USAGE naming the key and its range on a bad one. */
gboolean cli_params_build(const CliParams *p, const PcbBoard *board, PcbInspectParams *params,
                          GError **error);

int cmd_params(int argc, char **argv);

/* After a failed inspection of @photo: prints the error, writes an error report to @json
 * (when not NULL; signed with @sign_key when not NULL) and returns the exit code for @error. */
int cli_fail_report(PcbInspection *insp, const char *photo, const GError *error, const char *json,
                    const char *sign_key);

/* Writes the report of @insp (@failure: NULL, or why it stopped) to @json atomically, signed
 * with the private key in @sign_key when not NULL. */
gboolean cli_write_report(const PcbInspection *insp, const GError *failure, const char *json,
                          const char *sign_key, GError **error);

int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Prints "pcbdiff: MESSAGE" on stderr and returns the exit code for @error. */
int cli_fail(const GError *error);

int cmd_inspect(int argc, char **argv);
int cmd_decide(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Writes the review page @html (pcb_report_write_review()) and records its time as the stage
 * "review" in @insp's timings. */
gboolean cli_write_review(PcbInspection *insp, const PcbBoard *board, const GError *failure,
                          const char *html, GError **error);
int cmd_register(int argc, char **argv);
/* pcbdiff watch (src/watch/): bench mode on a hot folder with a live page. */
int cmd_watch(int argc, char **argv);

/* pcbdiff batch and pcbdiff db (src/batch/) */
int cmd_batch(int argc, char **argv);
int cmd_db(int argc, char **argv);

#endif
