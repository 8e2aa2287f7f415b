/* pcbdiff inspect --html: the review page, timed like the other outputs. */
#include "cli/cli.h"

gboolean
cli_write_review(PcbInspection *insp, const PcbBoard *board, const GError *failure,
                 const char *html, GError **error)
{
    double t0 = g_get_monotonic_time() / 1e3;
    if (!pcb_report_write_review(insp, board, failure, html, error))
        return FALSE;
    PcbTiming t = { "review-page", g_get_monotonic_time() / 1e3 - t0 };
    g_array_append_val(insp->timings, t);
    g_info("%-12s %8.1f ms  (the review page)", t.stage, t.ms);
    return TRUE;
}
