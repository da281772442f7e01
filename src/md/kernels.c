/* src/md/kernels.c: the O(N) loops every integrator shares: kicks, drifts,
 * kinetic energy and velocity scaling, and the velocity-Verlet step built from
 * them. Element-wise loops are threaded for large systems (results do not depend on the thread count); the kinetic-energy
 * sum is serial so that runs are reproducible bit for bit. */
#include "md_internal.h"
#include "kiln/units.h"

#define KILN_MD_OMP_MIN 16384 /* atoms below which threading does not pay */

void kilni_md_kick(kiln_atoms *a, double h) {
  const double c = h / KILN_MVV2E;
  const long n = (long)a->n;
  double (*v)[3] = a->v;
  const double (*f)[3] = (const double (*)[3])a->f;
  const double *m = a->mass;
#pragma omp parallel for schedule(static) if (n >= KILN_MD_OMP_MIN)
  for (long i = 0; i < n; i++) {
    double s = c / m[i];
    v[i][0] += s * f[i][0];
    v[i][1] += s * f[i][1];
    v[i][2] += s * f[i][2];
  }
}

void kilni_md_drift(kiln_atoms *a, double h) {
  const long n = (long)a->n;
  double (*x)[3] = a->x;
  const double (*v)[3] = (const double (*)[3])a->v;
#pragma omp parallel for schedule(static) if (n >= KILN_MD_OMP_MIN)
  for (long i = 0; i < n; i++) {
    x[i][0] += h * v[i][0];
    x[i][1] += h * v[i][1];
    x[i][2] += h * v[i][2];
  }
}

double kilni_md_mvv(const kiln_atoms *a) {
  double s = 0.0;
  for (size_t i = 0; i < a->n; i++) {
    const double *v = a->v[i];
    s += a->mass[i] * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  }
  return KILN_MVV2E * s;
}

void kilni_md_scale(kiln_atoms *a, double s) {
  const long n = (long)a->n;
  double (*v)[3] = a->v;
#pragma omp parallel for schedule(static) if (n >= KILN_MD_OMP_MIN)
  for (long i = 0; i < n; i++) {
    v[i][0] *= s;
    v[i][1] *= s;
    v[i][2] *= s;
  }
}

/* kilni_md_kick(a, hk) then kilni_md_drift(a, hd) in one pass (the same arithmetic) */
static void kick_drift(kiln_atoms *a, double hk, double hd) {
  const double c = hk / KILN_MVV2E;
  const long n = (long)a->n;
  double (*x)[3] = a->x;
  double (*v)[3] = a->v;
  const double (*f)[3] = (const double (*)[3])a->f;
  const double *m = a->mass;
#pragma omp parallel for schedule(static) if (n >= KILN_MD_OMP_MIN)
  for (long i = 0; i < n; i++) {
    double s = c / m[i];
    v[i][0] += s * f[i][0];
    v[i][1] += s * f[i][1];
    v[i][2] += s * f[i][2];
    x[i][0] += hd * v[i][0];
    x[i][1] += hd * v[i][1];
    x[i][2] += hd * v[i][2];
  }
}

kiln_status kilni_md_verlet_pre(kiln_md *md, kiln_atoms *a, kilni_md_vop op, kiln_error *err) {
  if (op) {
    kiln_status st = op(md, a, 0.5 * md->dt, err);
    if (st) return st;
  }
  kick_drift(a, 0.5 * md->dt, md->dt);
  return KILN_OK;
}

kiln_status kilni_md_verlet_post(kiln_md *md, kiln_atoms *a, kilni_md_vop op, kiln_error *err) {
  kilni_md_kick(a, 0.5 * md->dt);
  return op ? op(md, a, 0.5 * md->dt, err) : KILN_OK;
}
