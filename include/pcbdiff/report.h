/* pcbdiff reports: versioned JSON (../shared/bench/REPORT_FORMAT.md, version 1, plus our own
 * fields), an annotated overlay image, and a short human summary. */
#ifndef PCBDIFF_REPORT_H
#define PCBDIFF_REPORT_H

#include "pcbdiff/api.h"

#include <stdio.h>
#include <glib.h>
#include "pcbdiff/inspect.h"

G_BEGIN_DECLS

#define PCB_REPORT_VERSION 1

/* The JSON text of a report (g_free it). @failure non-NULL gives verdict "error" with its
 * message. @insp is only read. */
PCB_API char *pcb_report_to_json(const PcbInspection *insp, const GError *failure);

/* Writes the JSON report atomically (temporary file, then rename): on FALSE (PCB_ERROR_IO)
 * @path is untouched. */
PCB_API gboolean pcb_report_write_json(const PcbInspection *insp, const GError *failure,
                                       const char *path, GError **error);

/* The reference with a translucent heat map of the difference and every finding boxed and
 * labelled (kind, score). PNG, or JPEG when @path ends in .jpg/.jpeg. Written atomically.
 * Needs an inspection run with keep_images. */
PCB_API gboolean pcb_report_write_overlay(const PcbInspection *insp, const char *path,
                                          GError **error);

/* The review page for an operator at the bench: @path (HTML, self-contained: inline CSS and
 * JS, nothing from the network) and beside it the folder "@path.d" of its JPEG images (the
 * reference reduced to at most 2000 px, and per finding reference, photo and difference crops
 * around its box). The page embeds the JSON report (@failure as in pcb_report_to_json()), shows
 * the verdict, registration figures, zones not judged and the findings, and lets the operator
 * record a verification per finding and export them for `pcbdiff decide`. @board (may be NULL)
 * gives the zone rectangles. Needs an inspection run with keep_images for the images. Written
 * atomically: the images go to a temporary folder that replaces the old one, then the page is
 * renamed into place; on FALSE (PCB_ERROR_IO) the old page and folder are left as they were. */
PCB_API gboolean pcb_report_write_review(const PcbInspection *insp, const PcbBoard *board,
                                         const GError *failure, const char *path, GError **error);

/* The four IPC-CFX verification names a finding's decision takes, and the count. */
#define PCB_VERIFICATION_COUNT 4
PCB_API extern const char *const pcb_verification_names[PCB_VERIFICATION_COUNT];

/* A report with the operator's decisions applied: @report_json (a version 1 report) and
 * @decisions_json (what the review page exports: {"version": 1, "report": the photo's sha256,
 * "operator", "decided_at": ISO 8601, "findings": [{"index", "verification"}]}) give the report
 * text where each finding has "verification" (one of pcb_verification_names; a finding the
 * decisions do not list is "NotVerifiedYet") and the report has "review": {operator,
 * decided_at}. NULL with PCB_ERROR_USAGE and a one-line reason when either is malformed, the
 * decisions are for another report, an index is out of range or repeated, or a verification is
 * unknown. *@counts (optional, PCB_VERIFICATION_COUNT entries) gets how many findings took each
 * verification. g_free() the text. */
PCB_API char *pcb_report_apply_decisions(const char *report_json, const char *decisions_json,
                                         int *counts, GError **error);

/* pcb_report_apply_decisions() on the files @report_path and @decisions_path, the result
 * written atomically to @out_path (NULL: @report_path itself, replaced). PCB_ERROR_IO for a file
 * that cannot be read or written, PCB_ERROR_USAGE (the message starting with @decisions_path)
 * for bad contents; the output is then untouched. */
PCB_API gboolean pcb_report_decide(const char *report_path, const char *decisions_path,
                                   const char *out_path, int *counts, GError **error);

/* The human summary: verdict, then one line per finding (kind, place, size, zone, score). */
PCB_API void pcb_report_print_text(const PcbInspection *insp, FILE *out);

/* What of the board @insp could not judge from the photo, and why: "not judged from the
 * photo: zone NAME (why); the board (why)", the zones first, then the pose and the light; NULL
 * when it judged everything (g_free). */
PCB_API char *pcb_report_not_judged(const PcbInspection *insp);

G_END_DECLS

#endif
