/* The parallax model of the registration: the photo camera's pose and the parallax field are
 * recovered from the board-plane homography of a known camera. */
#include <math.h>
#include <string.h>
#include "testutil.h"
#include "register/homography.h"
#include "register/register_internal.h"

#define RW     2400
#define RH     1600
#define FOCAL  3333.0 /* both cameras, px */
#define PPM    12.655 /* reference px per mm */
#define DX_OFF 1.5    /* test_pose_focal_from_tiles: a corner registered this far off, px */

/* A camera looking at the board: rotation @r (board -> camera), centre @c (reference px, board
 * frame: origin at the reference centre, z into the board). */
typedef struct {
    double r[9], c[3];
} Cam;

static void
rotation(double ax_deg, double ay_deg, double az_deg, double r[9])
{
    double a = ax_deg * G_PI / 180, b = ay_deg * G_PI / 180, g = az_deg * G_PI / 180;
    double rx[9] = { 1, 0, 0, 0, cos(a), -sin(a), 0, sin(a), cos(a) };
    double ry[9] = { cos(b), 0, sin(b), 0, 1, 0, -sin(b), 0, cos(b) };
    double rz[9] = { cos(g), -sin(g), 0, sin(g), cos(g), 0, 0, 0, 1 };
    double t[9];
    pcb_h_mul(rx, ry, t);
    pcb_h_mul(t, rz, r);
}

/* Photo px of board-frame point @p. */
static void
project(const Cam *cam, const double p[3], double *x, double *y)
{
    double d[3] = { p[0] - cam->c[0], p[1] - cam->c[1], p[2] - cam->c[2] }, q[3];
    for (int i = 0; i < 3; i++)
        q[i] = cam->r[3 * i] * d[0] + cam->r[3 * i + 1] * d[1] + cam->r[3 * i + 2] * d[2];
    *x = RW / 2.0 + FOCAL * q[0] / q[2];
    *y = RH / 2.0 + FOCAL * q[1] / q[2];
}

/* The homography photo -> reference of the board plane, from four points; the reference point
 * of one corner moved by @dx px (a registration that is that far off there). */
static void
plane_h_off(const Cam *cam, double dx, double h[9])
{
    double src[8], dst[8];
    const double corners[4][2] = { { -900, -600 }, { 900, -600 }, { 900, 600 }, { -900, 600 } };
    for (int i = 0; i < 4; i++) {
        double p[3] = { corners[i][0], corners[i][1], 0 };
        project(cam, p, &src[2 * i], &src[2 * i + 1]);
        dst[2 * i] = corners[i][0] + RW / 2.0 + (i == 0 ? dx : 0);
        dst[2 * i + 1] = corners[i][1] + RH / 2.0;
    }
    char msg[256];
    g_assert_cmpint(pcbcv_fit_homography(src, dst, 4, NULL, h, NULL, msg, sizeof msg), ==, 0);
}

/* The homography photo -> reference of the board plane. */
static void
plane_h(const Cam *cam, double h[9])
{
    plane_h_off(cam, 0, h);
}

static void
test_pose_and_field(void)
{
    Cam cam;
    rotation(-4.0, 5.0, 30.0, cam.r);
    cam.c[0] = 25 * PPM;
    cam.c[1] = -15 * PPM;
    cam.c[2] = -280 * PPM; /* 280 mm above the board; the golden is at FOCAL / PPM = 263 mm */
    double h[9];
    plane_h(&cam, h);
    RegPose pose;
    g_assert_true(pcb_reg_pose(h, RW, RH, RW, RH, &pose));
    g_assert_cmpfloat(fabs(pose.focal - FOCAL), <, 0.01 * FOCAL);
    for (int i = 0; i < 3; i++)
        g_assert_cmpfloat(fabs(pose.centre[i] - cam.c[i]), <, 0.01 * fabs(cam.c[2]));

    /* the field, with no tile measured: from the pose alone, per mm */
    TileGrid g = { .cols = 1, .rows = 1 };
    Tile t = { 0 };
    double zero = 0;
    gboolean no = FALSE;
    g.tiles = &t;
    g.res_x = g.res_y = &zero;
    g.good = g.measured = &no;
    PcbRegisterParams params;
    pcb_register_params_init(&params);
    params.px_per_mm = PPM;
    PcbParallax par;
    pcb_reg_parallax(&g, h, RW, RH, RW, RH, &params, NULL, &par);
    g_assert_true(par.valid && par.metric && par.pose_valid);
    g_assert_cmpfloat(fabs(par.camera[2] - 280), <, 3);
    /* a point 10 mm up: where the golden and the registered photo see it */
    const double hmm = 10;
    for (int k = 0; k < 9; k++) {
        double bx = -800 + 800 * (k % 3), by = -500 + 500 * (k / 3);
        double top[3] = { bx, by, -hmm * PPM }, px, py, wx, wy;
        project(&cam, top, &px, &py);
        g_assert_true(pcb_h_apply(h, px, py, &wx, &wy));
        double s = FOCAL / (FOCAL + top[2]); /* the golden camera at FOCAL over the centre */
        double gx = RW / 2.0 + bx * s, gy = RH / 2.0 + by * s;
        double ux, uy, smax;
        g_assert_true(pcb_parallax_at(&par, gx, gy, &ux, &uy, &smax));
        double dx = wx - gx, dy = wy - gy, len = hypot(dx, dy);
        g_assert_cmpfloat(len, >, 2);
        g_assert_cmpfloat((dx * ux + dy * uy) / len, >, cos(3 * G_PI / 180)); /* within 3 deg */
        double model = hmm * hypot(par.a * gx + par.bx, par.a * gy + par.by);
        g_assert_cmpfloat(fabs(model - len), <, 0.1 * len + 0.5);
        g_assert_cmpfloat(smax, >, len * par.max_height / hmm); /* 25 mm are searched */
    }
}

/* The probe's grid over the reference: 20 x 14 nodes, all measured with no residual but
 * @n tiles that a point 8 mm up moves (its true parallax times @sign[i]: +1 the field's way,
 * -1 the other) and 6 that chance moved (2.5 px, in turn along +-x and +-y). */
static void
probe_grid(const Cam *cam, const double h[9], int n, const int *sign, TileGrid *g)
{
    memset(g, 0, sizeof *g);
    g->cols = 20;
    g->rows = 14;
    const int nodes = g->cols * g->rows;
    g->step_x = (RW - 1.0) / (g->cols - 1);
    g->step_y = (RH - 1.0) / (g->rows - 1);
    g->tiles = g_new0(Tile, nodes);
    g->res_x = g_new0(double, nodes);
    g->res_y = g_new0(double, nodes);
    g->good = g_new0(gboolean, nodes);
    g->measured = g_new0(gboolean, nodes);
    g->raised = g_new0(gboolean, nodes);
    for (int k = 0; k < nodes; k++) {
        g->tiles[k].cx = (k % g->cols) * g->step_x;
        g->tiles[k].cy = (k / g->cols) * g->step_y;
        g->tiles[k].response = 0.8;
        g->measured[k] = TRUE;
    }
    for (int i = 0; i < n; i++) { /* the raised tiles spread over the board */
        const int k = (3 + 7 * i) % nodes;
        double bx = g->tiles[k].cx - RW / 2.0, by = g->tiles[k].cy - RH / 2.0;
        double top[3] = { bx, by, -8 * PPM }, px, py, wx, wy;
        project(cam, top, &px, &py);
        g_assert_true(pcb_h_apply(h, px, py, &wx, &wy));
        const double s = FOCAL / (FOCAL + top[2]);
        const double gx = RW / 2.0 + bx * s, gy = RH / 2.0 + by * s;
        g->res_x[k] = sign[i] * (wx - gx);
        g->res_y[k] = sign[i] * (wy - gy);
    }
    static const double chance[4][2] = { { 2.5, 0 }, { -2.5, 0 }, { 0, 2.5 }, { 0, -2.5 } };
    for (int i = 0; i < 6; i++) {
        const int k = (5 + 11 * i) % nodes;
        g->res_x[k] = chance[i % 4][0];
        g->res_y[k] = chance[i % 4][1];
    }
}

/* The probe sees parallax when its tiles move the pose's field's way, not when as many move
 * the other way (what chance and the aperture do), nor when too few move. */
static void
test_probe_one_way(void)
{
    Cam cam;
    rotation(-3.0, 2.0, 10.0, cam.r);
    cam.c[0] = 20 * PPM;
    cam.c[1] = -12 * PPM;
    cam.c[2] = -270 * PPM;
    double h[9];
    plane_h(&cam, h);
    PcbRegisterParams params;
    pcb_register_params_init(&params);
    params.px_per_mm = PPM;
    int one_way[16], both[16];
    for (int i = 0; i < 16; i++) {
        one_way[i] = 1;
        both[i] = i % 2 ? 1 : -1;
    }
    TileGrid g;
    PcbParallax par;
    probe_grid(&cam, h, 16, one_way, &g);
    g_assert_true(pcb_reg_parallax_probed(&g, h, RW, RH, RW, RH, &params, &par));
    g_assert_true(par.valid && par.seen && par.pose_valid);
    pcb_reg_tile_grid_free(&g);
    probe_grid(&cam, h, 16, both, &g);
    g_assert_false(pcb_reg_parallax_probed(&g, h, RW, RH, RW, RH, &params, &par));
    pcb_reg_tile_grid_free(&g);
    probe_grid(&cam, h, 3, one_way, &g);
    g_assert_false(pcb_reg_parallax_probed(&g, h, RW, RH, RW, RH, &params, &par));
    pcb_reg_tile_grid_free(&g);
}

/* A photo square to the board, its camera moved sideways at the golden's height: no pose (the
 * focal length is undetermined), so the field is that of a camera square to the board above
 * the point the photo's centre shows; the tiles moved its way are seen, the other way not, and a
 * photo centred where the golden is gives no direction. */
static void
test_probe_square_camera(void)
{
    Cam cam;
    rotation(0, 0, 15.0, cam.r);
    cam.c[0] = 22 * PPM;
    cam.c[1] = -15 * PPM;
    cam.c[2] = -FOCAL; /* the golden's height */
    double h[9];
    plane_h(&cam, h);
    RegPose pose;
    g_assert_false(pcb_reg_pose(h, RW, RH, RW, RH, &pose));
    PcbRegisterParams params;
    pcb_register_params_init(&params);
    params.px_per_mm = PPM;
    int one_way[16], other_way[16];
    for (int i = 0; i < 16; i++) {
        one_way[i] = 1;
        other_way[i] = -1;
    }
    TileGrid g;
    PcbParallax par;
    probe_grid(&cam, h, 16, one_way, &g);
    g_assert_true(pcb_reg_parallax_probed(&g, h, RW, RH, RW, RH, &params, &par));
    g_assert_true(par.valid && par.seen && !par.pose_valid);
    double ux, uy, smax;
    g_assert_true(pcb_parallax_at(&par, 600, 400, &ux, &uy, &smax));
    g_assert_cmpfloat(-(22 * ux - 15 * uy) / hypot(22, 15), >, cos(5 * G_PI / 180));
    pcb_reg_tile_grid_free(&g);
    probe_grid(&cam, h, 16, other_way, &g);
    g_assert_false(pcb_reg_parallax_probed(&g, h, RW, RH, RW, RH, &params, &par));
    pcb_reg_tile_grid_free(&g);
    cam.c[0] = cam.c[1] = 0; /* above the golden's centre: no direction */
    plane_h(&cam, h);
    probe_grid(&cam, h, 16, one_way, &g);
    g_assert_false(pcb_reg_parallax_probed(&g, h, RW, RH, RW, RH, &params, &par));
    pcb_reg_tile_grid_free(&g);
}

/* A photo a few degrees from square: a registration residual of a pixel or two moves the
 * focal length that fits the homography best far from the true one, and the camera's place
 * and the field's direction with it; the focal length whose camera the raised tiles follow is
 * taken instead, and the camera's height comes out right. */
static void
test_pose_focal_from_tiles(void)
{
    Cam cam;
    rotation(-3.5, 1.5, -120.0, cam.r);
    cam.c[0] = 8 * PPM;
    cam.c[1] = -18 * PPM;
    cam.c[2] = -300 * PPM;
    double h[9];
    plane_h_off(&cam, DX_OFF, h);
    RegPose pose;
    g_assert_true(pcb_reg_pose(h, RW, RH, RW, RH, &pose));
    g_test_message("best-fitting focal length %.0f px (true %.0f)", pose.focal, FOCAL);
    g_assert_cmpfloat(fabs(pose.focal - FOCAL), >, 0.1 * FOCAL);
    PcbRegisterParams params;
    pcb_register_params_init(&params);
    params.px_per_mm = PPM;
    int one_way[20];
    for (int i = 0; i < 20; i++)
        one_way[i] = 1;
    TileGrid g;
    probe_grid(&cam, h, 20, one_way, &g);
    PcbParallax par;
    g_assert_cmpint(pcb_reg_parallax(&g, h, RW, RH, RW, RH, &params, NULL, &par), >=, 18);
    g_assert_true(par.valid && par.pose_valid);
    g_assert_cmpfloat(fabs(par.camera[2] - 300), <, 30);
    pcb_reg_tile_grid_free(&g);
}

static void
test_invalid_field(void)
{
    PcbParallax par = { 0 };
    double ux, uy, smax;
    g_assert_false(pcb_parallax_at(&par, 10, 10, &ux, &uy, &smax));
    g_assert_cmpfloat(smax, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pcb_init(1);
    g_test_add_func("/parallax/pose-and-field-from-homography", test_pose_and_field);
    g_test_add_func("/parallax/invalid-field", test_invalid_field);
    g_test_add_func("/parallax/probe-one-way", test_probe_one_way);
    g_test_add_func("/parallax/probe-square-camera", test_probe_square_camera);
    g_test_add_func("/parallax/pose-focal-from-tiles", test_pose_focal_from_tiles);
    return g_test_run();
}
