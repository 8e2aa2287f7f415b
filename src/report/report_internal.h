/* Internal to src/report: the embedded bitmap font the overlay writes its labels with. */
#ifndef PCB_REPORT_INTERNAL_H
#define PCB_REPORT_INTERNAL_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include "pcbdiff/image.h"
#include "pcbdiff/inspect.h"

G_BEGIN_DECLS

/* A 5x7 ASCII font with one descender row below (so 8 rows drawn); each character takes
 * PCB_FONT_ADVANCE columns (one column of gap). */
#define PCB_FONT_WIDTH   5
#define PCB_FONT_HEIGHT  8
#define PCB_FONT_CAP     7 /* rows of a capital letter */
#define PCB_FONT_ADVANCE 6

/* The 5 column bytes of @c (bit 0 = top row, bit 7 = descender); '?' for anything outside printable
 * ASCII. */
const guint8 *pcb_font_glyph(unsigned char c);

/* Width in pixels of @text drawn at @scale (each font pixel becomes scale x scale pixels).
 * A UTF-8 sequence counts as one character, drawn as '?'. */
int pcb_font_text_width(const char *text, int scale);

/* Draws @text (RGB8 @image) with its top-left corner at (@x, @y); clipped to the image. */
void pcb_font_draw_text(PcbImage *image, int x, int y, const char *text, int scale,
                        const guint8 rgb[3]);

/* @json with every non-integer number respelt in its shortest round-trip form (json-glib prints
 * 0.93 as 0.93000000000000005); g_free() it. */
char *pcb_report_json_tidy(const char *json);

/* JSON members as the report writes them (json.c): @name = @v; a string NULL becomes null and
 * bytes that are not UTF-8 (a path, say) are replaced, so the output is always valid JSON. */
void pcb_json_member_int(JsonBuilder *b, const char *name, gint64 v);
void pcb_json_member_string(JsonBuilder *b, const char *name, const char *s);
void pcb_json_member_ints(JsonBuilder *b, const char *name, const int *v, int n);

/* What the summary and the review page say when the light differs from the golden's (the
 * findings then judged only parts put on or taken off) and the board was judged all the same
 * (inspect.judge-other-light; else light_why says it), or NULL; g_free() it (text.c). */
char *pcb_report_light_warning(const PcbInspection *insp);

G_END_DECLS

#endif
