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

/* The human summary: verdict, then one line per finding (kind, place, size, zone, score). */
PCB_API void pcb_report_print_text(const PcbInspection *insp, FILE *out);

G_END_DECLS

#endif
