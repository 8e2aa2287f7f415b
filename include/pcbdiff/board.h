/* pcbdiff board profiles: a reference board is a folder with a golden image and board.ini.
 *
 *     [board]
 *     name = demo
 *     golden = golden.png          ; relative to the folder
 *     px-per-mm = 10.0             ; or width-mm = 160 (physical width of the golden)
 *
 *     [zone BMC]                   ; one group per named zone
 *     rect = 410, 220, 260, 180    ; x, y, w, h in golden pixels (or rect-mm = ... in mm)
 *     sensitivity = 1.5            ; > 1 finds fainter changes here (0.25 .. 4, default 1)
 *
 *     [ignore]
 *     rects = 10,10,80,30; 600,20,90,40   ; serial labels, stickers, shields
 *     mask = ignore.png            ; optional: non-zero pixels are ignored
 *
 *     [diff]                       ; also [register], [findings]: parameter overrides
 *     tolerance-px = 1.5           ; see pcbdiff/params.h and `pcbdiff params`
 *
 * A board is modified only by pcb_board_resolve() (which pcb_inspect() calls); otherwise it is
 * only read.
 */
#ifndef PCBDIFF_BOARD_H
#define PCBDIFF_BOARD_H

#include "pcbdiff/api.h"

#include <glib.h>
#include "pcbdiff/image.h"

G_BEGIN_DECLS

typedef struct {
    double x, y, w, h; /* reference pixels */
} PcbRect;

typedef struct {
    char *name;
    PcbRect rect;
    double sensitivity; /* multiplies detection sensitivity; 1 = board default */
} PcbZone;

typedef struct {
    char *dir; /* the board folder */
    char *name;
    char *golden_path;      /* absolute or relative to the working directory */
    double px_per_mm;       /* 0 when unknown */
    double width_mm;        /* 0 unless given; resolved into px_per_mm once the golden is known */
    GArray *zones;          /* PcbZone */
    GArray *ignore;         /* PcbRect */
    char *ignore_mask_path; /* NULL when none */
} PcbBoard;

/* Loads DIR/board.ini into a new board (pcb_board_free() it). Errors: PCB_ERROR_IO when the folder
 * or file is missing, PCB_ERROR_PROFILE for a malformed file: the message names the file, the line
 * and the reason. */
PCB_API PcbBoard *pcb_board_load(const char *dir, GError **error);
/* A board with no profile: just a golden image (zones and ignores empty); pcb_board_free() it. */
PCB_API PcbBoard *pcb_board_new_from_image(const char *golden_path, double px_per_mm);
/* What a front-end's REFERENCE or --board names: a board folder (pcb_board_load) or a golden
 * image (pcb_board_new_from_image with @px_per_mm); NULL with PCB_ERROR_IO when it is neither
 * there, or with pcb_board_load's error. */
PCB_API PcbBoard *pcb_board_open(const char *reference, double px_per_mm, GError **error);
PCB_API void pcb_board_free(PcbBoard *board);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbBoard, pcb_board_free)

/* Once the golden's size is known: resolves width-mm into px_per_mm and checks that every
 * zone and ignore rectangle lies at least partly inside the image (PCB_ERROR_PROFILE). */
PCB_API gboolean pcb_board_resolve(PcbBoard *board, int golden_width, int golden_height,
                                   GError **error);

/* The zone whose rectangle contains the centre of @r (the smallest such zone), or NULL. The
 * zone belongs to @board. */
PCB_API const PcbZone *pcb_board_zone_at(const PcbBoard *board, const PcbRect *r);

G_END_DECLS

#endif
