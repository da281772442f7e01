/* tests/c/check.h: a tiny test harness. Each test prints "PASS name" or
 * "FAIL name" (with the failed checks on stderr); main returns the number of
 * failed tests. Usage:
 *   TEST(test_wrap) { CHECK(x == 1); CHECK_CLOSE(e, -4.3, 1e-10, 0); }
 *   int main(void) { RUN(test_wrap); return check_summary(); } */
#ifndef KILN_CHECK_H
#define KILN_CHECK_H
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_cur_fail_ = 0, check_nfail_ = 0, check_npass_ = 0;
static const char *check_cur_name_ = "";

#define TEST(name) static void name(void)
#define RUN(name) check_run_(#name, name)

static inline void check_run_(const char *name, void (*fn)(void)) {
  check_cur_fail_ = 0;
  check_cur_name_ = name;
  fn();
  if (check_cur_fail_) { check_nfail_++; printf("FAIL %s\n", name); }
  else { check_npass_++; printf("PASS %s\n", name); }
  fflush(stdout);
}

static inline int check_summary(void) { return check_nfail_ > 255 ? 255 : check_nfail_; }

#define CHECK(c) do { if (!(c)) { check_cur_fail_ = 1; \
  fprintf(stderr, "  %s:%d: %s: check failed: %s\n", __FILE__, __LINE__, check_cur_name_, #c); } } while (0)

/* |a-b| <= abs_tol or |a-b| <= rel*max(|a|,|b|) */
#define CHECK_CLOSE(a, b, rel, abs_tol) do { double ca_ = (a), cb_ = (b); \
  double d_ = fabs(ca_ - cb_), m_ = fmax(fabs(ca_), fabs(cb_)); \
  if (!(d_ <= (abs_tol) || d_ <= (rel) * m_)) { check_cur_fail_ = 1; \
    fprintf(stderr, "  %s:%d: %s: %s = %.17g vs %s = %.17g (diff %.3g)\n", __FILE__, __LINE__, \
            check_cur_name_, #a, ca_, #b, cb_, d_); } } while (0)

/* expr returns kiln_status; err is a kiln_error in scope */
#define CHECK_OK(expr) do { kiln_status cs_ = (expr); if (cs_ != KILN_OK) { check_cur_fail_ = 1; \
  fprintf(stderr, "  %s:%d: %s: %s -> status %d: %s\n", __FILE__, __LINE__, check_cur_name_, \
          #expr, (int)cs_, err.msg); } } while (0)

/* expect a given status and a substring of the message */
#define CHECK_ERR(expr, code, substr) do { kiln_status cs_ = (expr); \
  if (cs_ != (code) || !strstr(err.msg, (substr))) { check_cur_fail_ = 1; \
    fprintf(stderr, "  %s:%d: %s: %s -> status %d msg '%s' (wanted %d, '%s')\n", __FILE__, __LINE__, \
            check_cur_name_, #expr, (int)cs_, err.msg, (int)(code), (substr)); } } while (0)
#endif
