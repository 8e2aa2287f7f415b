/* synthboard: the truth homography (exact, or a least-squares fit when the lens distorts). */
#include "synthboard.h"

/* Solves the n x n system A x = b (A row-major, destroyed) by Gaussian elimination with partial
 * pivoting. */
static gboolean
solve(double *A, double *b, double *x, int n)
{
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[piv * n + c]))
                piv = r;
        if (fabs(A[piv * n + c]) < 1e-300)
            return FALSE;
        if (piv != c) {
            for (int k = 0; k < n; k++) {
                double t = A[c * n + k];
                A[c * n + k] = A[piv * n + k];
                A[piv * n + k] = t;
            }
            double t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (int r = c + 1; r < n; r++) {
            double f = A[r * n + c] / A[c * n + c];
            for (int k = c; k < n; k++)
                A[r * n + k] -= f * A[c * n + k];
            b[r] -= f * b[c];
        }
    }
    for (int r = n - 1; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < n; k++)
            s -= A[r * n + k] * x[k];
        x[r] = s / A[r * n + r];
    }
    return TRUE;
}

static void
normaliser(const double *pts, int n, double T[9])
{
    double mx = 0, my = 0, d = 0;
    for (int i = 0; i < n; i++) {
        mx += pts[2 * i] / n;
        my += pts[2 * i + 1] / n;
    }
    for (int i = 0; i < n; i++)
        d += hypot(pts[2 * i] - mx, pts[2 * i + 1] - my) / n;
    double s = d > 0 ? M_SQRT2 / d : 1;
    const double t[9] = { s, 0, -s * mx, 0, s, -s * my, 0, 0, 1 };
    memcpy(T, t, sizeof t);
}

/* The linear (DLT) estimate of h (h33 = 1) from @n normalised point pairs; @h is left alone
 * when the system is singular. */
static void
dlt(const double *s, const double *d, int n, double h[8])
{
    double A[64] = { 0 }, b[8] = { 0 };
    for (int i = 0; i < n; i++) {
        double x = s[2 * i], y = s[2 * i + 1], X = d[2 * i], Y = d[2 * i + 1];
        const double r1[8] = { x, y, 1, 0, 0, 0, -X * x, -X * y };
        const double r2[8] = { 0, 0, 0, x, y, 1, -Y * x, -Y * y };
        for (int a = 0; a < 8; a++) {
            for (int c = 0; c < 8; c++)
                A[a * 8 + c] += r1[a] * r1[c] + r2[a] * r2[c];
            b[a] += r1[a] * X + r2[a] * Y;
        }
    }
    double h0[8];
    if (solve(A, b, h0, 8))
        memcpy(h, h0, sizeof h0);
}

/* The homography src -> dst minimising the geometric error in dst: a normalised DLT, then
 * Levenberg-Marquardt. Returns the rms error; *max_err gets the largest. */
static double
fit_homography(const double *src, const double *dst, int n, double H[9], double *max_err)
{
    double Ts[9], Td[9], Tdi[9];
    normaliser(src, n, Ts);
    normaliser(dst, n, Td);
    mat3_inv(Td, Tdi);
    double *s = g_new(double, 2 * (size_t) n), *d = g_new(double, 2 * (size_t) n);
    for (int i = 0; i < n; i++) {
        mat3_apply(Ts, src[2 * i], src[2 * i + 1], &s[2 * i], &s[2 * i + 1]);
        mat3_apply(Td, dst[2 * i], dst[2 * i + 1], &d[2 * i], &d[2 * i + 1]);
    }
    double h[8] = { 1, 0, 0, 0, 1, 0, 0, 0 };
    dlt(s, d, n, h);
    double lambda = 1e-6;
    for (int it = 0; it < 30; it++) {
        double JtJ[64] = { 0 }, Jte[8] = { 0 }, err = 0;
        for (int i = 0; i < n; i++) {
            double x = s[2 * i], y = s[2 * i + 1];
            double w = h[6] * x + h[7] * y + 1, u = (h[0] * x + h[1] * y + h[2]) / w,
                   v = (h[3] * x + h[4] * y + h[5]) / w;
            double eu = u - d[2 * i], ev = v - d[2 * i + 1];
            const double ju[8] = { x / w, y / w, 1 / w, 0, 0, 0, -u * x / w, -u * y / w };
            const double jv[8] = { 0, 0, 0, x / w, y / w, 1 / w, -v * x / w, -v * y / w };
            for (int a = 0; a < 8; a++) {
                for (int c = 0; c < 8; c++)
                    JtJ[a * 8 + c] += ju[a] * ju[c] + jv[a] * jv[c];
                Jte[a] -= ju[a] * eu + jv[a] * ev;
            }
            err += eu * eu + ev * ev;
        }
        for (int a = 0; a < 8; a++)
            JtJ[a * 9] *= 1 + lambda;
        double delta[8];
        if (!solve(JtJ, Jte, delta, 8))
            break;
        double hn[8], err2 = 0;
        for (int a = 0; a < 8; a++)
            hn[a] = h[a] + delta[a];
        for (int i = 0; i < n; i++) {
            double x = s[2 * i], y = s[2 * i + 1], w = hn[6] * x + hn[7] * y + 1;
            double eu = (hn[0] * x + hn[1] * y + hn[2]) / w - d[2 * i];
            double ev = (hn[3] * x + hn[4] * y + hn[5]) / w - d[2 * i + 1];
            err2 += eu * eu + ev * ev;
        }
        if (err2 < err) {
            memcpy(h, hn, sizeof h);
            lambda *= 0.3;
            if (err - err2 < 1e-16 * (1 + err))
                break;
        }
        else {
            lambda *= 10;
        }
    }
    const double Hn[9] = { h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1 };
    mat3_mul(Tdi, Hn, H);
    mat3_mul(H, Ts, H);
    mat3_normalise(H);
    double sum = 0, mx = 0;
    for (int i = 0; i < n; i++) {
        double x, y;
        mat3_apply(H, src[2 * i], src[2 * i + 1], &x, &y);
        double e = hypot(x - dst[2 * i], y - dst[2 * i + 1]);
        sum += e * e;
        mx = MAX(mx, e);
    }
    g_free(s);
    g_free(d);
    *max_err = mx;
    return sqrt(sum / n);
}

/* homography_photo_to_reference: exact without lens distortion, else the best fit over a 30 x 30
 * grid of board points (their exact photo positions -> reference). */
void
truth_homography(const Camera *cam, int w, int h, double H[9], double *rms, double *max_err)
{
    const int g = 30;
    double *src = g_new(double, 2 * g * g), *dst = g_new(double, 2 * g * g);
    for (int j = 0; j < g; j++)
        for (int i = 0; i < g; i++) {
            int k = j * g + i;
            dst[2 * k] = (w - 1) * i / (double) (g - 1);
            dst[2 * k + 1] = (h - 1) * j / (double) (g - 1);
            ref_to_photo(cam, dst[2 * k], dst[2 * k + 1], &src[2 * k], &src[2 * k + 1]);
        }
    if (cam->o.k1 == 0.0) {
        memcpy(H, cam->H_pr, 9 * sizeof(double));
        double sum = 0, mx = 0;
        for (int k = 0; k < g * g; k++) {
            double x, y;
            mat3_apply(H, src[2 * k], src[2 * k + 1], &x, &y);
            double e = hypot(x - dst[2 * k], y - dst[2 * k + 1]);
            sum += e * e;
            mx = MAX(mx, e);
        }
        *rms = sqrt(sum / (g * g));
        *max_err = mx;
    }
    else {
        *rms = fit_homography(src, dst, g * g, H, max_err);
    }
    g_free(src);
    g_free(dst);
}
