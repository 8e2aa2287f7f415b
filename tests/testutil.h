/* Shared helpers for the GTest binaries. */
#ifndef PCB_TESTUTIL_H
#define PCB_TESTUTIL_H

#include "pcbdiff/pcbdiff.h"

/* A seeded synthetic board: green mask, traces, pads, a few dark ICs, fine noise. RGB8. */
PcbImage *tu_make_board(int width, int height, guint32 seed);

/* A fresh temporary folder, removed (with its contents) at exit of the test binary. */
const char *tu_tmpdir(void);

/* SRCDIR from the environment (set by make check), else ".". */
const char *tu_srcdir(void);

/* A synthetic "photo" of @board: photo pixel p shows board point H(D(p)), where D is radial
 * distortion k1 around the photo centre (normalised to the half-diagonal) and @h_photo_to_board
 * is row-major. Pixels outside the board get @bg grey. Bilinear. */
PcbImage *tu_photograph(const PcbImage *board, const double h_photo_to_board[9], double k1,
                        int width, int height, guint8 bg);

/* The board point photo pixel (x, y) shows, for the same model as tu_photograph. */
void tu_photo_to_board(const double h[9], double k1, int width, int height, double x, double y,
                       double *bx, double *by);

/* A homography for a photo of size (pw, ph) showing the board (bw x bh) rotated by @deg about
 * its centre, scaled by @scale (photo px per board px), with perspective terms @px, @py
 * (per pixel) and a shift (tx, ty). Returns photo -> board. */
void tu_pose(double h[9], int bw, int bh, int pw, int ph, double deg, double scale, double px,
             double py, double tx, double ty);

/* One run of the pcbdiff binary ($PCBDIFF, set by make check): exit status, stdout, stderr. */
typedef struct {
    int status;
    char *out, *err;
} TuRun;

void tu_run_clear(TuRun *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TuRun, tu_run_clear)

/* Runs pcbdiff with the NULL-terminated arguments; asserts it exited (never a crash). */
void tu_run(TuRun *r, ...) G_GNUC_NULL_TERMINATED;

#endif
