/* Internal: 3x3 homography arithmetic (row-major double[9]). */
#ifndef PCB_REGISTER_HOMOGRAPHY_H
#define PCB_REGISTER_HOMOGRAPHY_H

#include <glib.h>

void pcb_h_mul(const double a[9], const double b[9], double out[9]);
gboolean pcb_h_invert(const double h[9], double out[9]);
void pcb_h_normalise(double h[9]);
/* FALSE when the point maps to infinity. */
gboolean pcb_h_apply(const double h[9], double x, double y, double *ox, double *oy);
/* Photo px per reference px around reference point (x, y), for h: photo -> reference;
 * negative when the mapping mirrors. */
double pcb_h_photo_scale(const double h[9], double x, double y);
/* The singular values of the reference -> photo map's Jacobian at reference (@x, @y): photo
 * px per reference px in the direction seen smallest (*@least: foreshortened) and largest. */
void pcb_h_photo_scales(const double h[9], double x, double y, double *least, double *most);
double pcb_h_rotation_deg(const double h[9], double x, double y);

/* The map from an image to its resized copy (pixel centres at integer coordinates, as OpenCV
 * resizes): x' = f (x + 0.5) - 0.5, per axis. */
void pcb_h_scaling(double fx, double fy, double out[9]);

#endif
