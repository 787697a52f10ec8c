/*
 * NAME
 *	tap - minimal TAP producer (see tap.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static int tap_count;
static int tap_failed;

/* tap_vreport - print one result line */
static void tap_vreport(int cond, const char *fmt, va_list ap)
{
    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
}

/* tap_ok - report a boolean result */
void tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_vreport(cond, fmt, ap);
    va_end(ap);
}

/* tap_is_str - report string equality, NULL-safe */
void tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
    va_list ap;
    int cond = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);

    va_start(ap, fmt);
    tap_vreport(cond, fmt, ap);
    va_end(ap);
    if (!cond)
        printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

/* tap_is_int - report integer equality */
void tap_is_int(long got, long want, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_vreport(got == want, fmt, ap);
    va_end(ap);
    if (got != want)
        printf("#   got:  %ld\n#   want: %ld\n", got, want);
}

/* tap_diag - print a diagnostic comment */
void tap_diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* tap_done - print the plan and return the exit status */
int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}
