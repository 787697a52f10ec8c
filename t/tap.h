/*
 * NAME
 *	tap - minimal Test Anything Protocol output for the C unit tests
 * SYNOPSIS
 *	#include "tap.h"
 *
 *	void	tap_ok(int cond, const char *fmt, ...);
 *	void	tap_is_str(const char *got, const char *want, const char *fmt, ...);
 *	void	tap_is_int(long got, long want, const char *fmt, ...);
 *	int	tap_done(void);
 * DESCRIPTION
 *	Each call prints one "ok N - name" or "not ok N - name" line (with a
 *	diagnostic on failure).  tap_done() prints the plan "1..N" and returns
 *	the exit status for main(): 0 when every test passed.
 */
#ifndef TAP_H
#define TAP_H

void tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tap_is_int(long got, long want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);

#endif
