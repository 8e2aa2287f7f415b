/* synthboard: seeded random streams (xorshift64* seeded through splitmix64). */
#include "synthboard.h"

static guint64
splitmix64(guint64 *x)
{
    guint64 z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void
rng_init(Rng *r, guint64 seed, guint64 stream)
{
    guint64 x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    splitmix64(&x);
    r->s = splitmix64(&x);
    if (r->s == 0)
        r->s = 0x2545F4914F6CDD1Dull;
}

double
rng_uniform(Rng *r)
{
    return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

double
rng_range(Rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

int
rng_int(Rng *r, int n)
{
    return (int) ((rng_next(r) >> 33) % (guint64) n);
}

double
rng_normal(Rng *r)
{
    double u = 1.0 - rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * G_PI * v);
}
