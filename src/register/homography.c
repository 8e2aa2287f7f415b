#include <math.h>
#include "register/homography.h"

void
pcb_h_mul(const double a[9], const double b[9], double out[9])
{
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    for (int i = 0; i < 9; i++)
        out[i] = t[i];
}

gboolean
pcb_h_invert(const double m[9], double out[9])
{
    double c0 = m[4] * m[8] - m[5] * m[7];
    double c1 = m[5] * m[6] - m[3] * m[8];
    double c2 = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * c0 + m[1] * c1 + m[2] * c2;
    if (!isfinite(det) || fabs(det) < 1e-15)
        return FALSE;
    double t[9] = { c0, m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
                    c1, m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
                    c2, m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3] };
    for (int i = 0; i < 9; i++)
        out[i] = t[i] / det;
    pcb_h_normalise(out);
    return TRUE;
}

void
pcb_h_normalise(double h[9])
{
    if (fabs(h[8]) > 1e-15) {
        double s = h[8];
        for (int i = 0; i < 9; i++)
            h[i] /= s;
    }
}

gboolean
pcb_h_apply(const double h[9], double x, double y, double *ox, double *oy)
{
    double w = h[6] * x + h[7] * y + h[8];
    if (fabs(w) < 1e-12 || w < 0)
        return FALSE;
    *ox = (h[0] * x + h[1] * y + h[2]) / w;
    *oy = (h[3] * x + h[4] * y + h[5]) / w;
    return TRUE;
}

/* Jacobian of the reference -> photo map at reference (x, y). */
static void
jacobian_ref_to_photo(const double h[9], double x, double y, double j[4])
{
    double inv[9];
    if (!pcb_h_invert(h, inv)) {
        j[0] = j[1] = j[2] = j[3] = 0;
        return;
    }
    double w = inv[6] * x + inv[7] * y + inv[8];
    double u = inv[0] * x + inv[1] * y + inv[2], v = inv[3] * x + inv[4] * y + inv[5];
    j[0] = (inv[0] * w - u * inv[6]) / (w * w);
    j[1] = (inv[1] * w - u * inv[7]) / (w * w);
    j[2] = (inv[3] * w - v * inv[6]) / (w * w);
    j[3] = (inv[4] * w - v * inv[7]) / (w * w);
}

double
pcb_h_photo_scale(const double h[9], double x, double y)
{
    double j[4];
    jacobian_ref_to_photo(h, x, y, j);
    double det = j[0] * j[3] - j[1] * j[2];
    return det >= 0 ? sqrt(det) : -sqrt(-det);
}

void
pcb_h_photo_scales(const double h[9], double x, double y, double *least, double *most)
{
    double j[4];
    jacobian_ref_to_photo(h, x, y, j);
    double t = j[0] * j[0] + j[1] * j[1] + j[2] * j[2] + j[3] * j[3];
    double d = fabs(j[0] * j[3] - j[1] * j[2]);
    double r = sqrt(MAX(0.0, t * t - 4 * d * d));
    *least = sqrt(MAX(0.0, (t - r) / 2));
    *most = sqrt((t + r) / 2);
}

double
pcb_h_rotation_deg(const double h[9], double x, double y)
{
    double j[4];
    jacobian_ref_to_photo(h, x, y, j);
    /* rotation of the photo relative to the reference */
    return atan2(j[2] - j[1], j[0] + j[3]) * 180.0 / G_PI;
}

void
pcb_h_scaling(double fx, double fy, double out[9])
{
    double m[9] = { fx, 0, 0.5 * fx - 0.5, 0, fy, 0.5 * fy - 0.5, 0, 0, 1 };
    for (int i = 0; i < 9; i++)
        out[i] = m[i];
}
