/*
 * NAME
 *	log - the only module that writes log lines
 * SYNOPSIS
 *	See include/log.h.
 * DESCRIPTION
 *	Lines go to syslog (daemon mode) or to stderr with a level prefix
 *	(foreground, -n and -t).  The destination is chosen once at start-up
 *	by log_open(); until then lines go to stderr.  Thread safe: syslog(3)
 *	and stdio lock internally and each line is written by one call.
 * DIAGNOSTICS
 *	None: logging never fails the caller.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "log.h"

static bool log_to_stderr = true;
static const char *log_ident = "authmilter";

static const struct {
    const char *name;
    int facility;
} log_facilities[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

/* log_facility_code - map a facility name, default mail */
static int log_facility_code(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
        if (strcasecmp(name, log_facilities[i].name) == 0)
            return log_facilities[i].facility;
    return LOG_MAIL;
}

/* log_open - choose the destination */
void log_open(const char *ident, bool to_stderr, const char *facility)
{
    log_ident = ident ? ident : "authmilter";
    log_to_stderr = to_stderr;
    if (!to_stderr)
        openlog(log_ident, LOG_PID | LOG_NDELAY, log_facility_code(facility));
}

/* log_vwrite - write one line at a level, with an optional suffix */
static void log_vwrite(int level, const char *suffix, const char *fmt, va_list ap)
{
    char line[4096];
    static const char *const names[] = {"emerg", "alert", "crit", "error",
                                        "warn",  "note",  "info", "debug"};

    vsnprintf(line, sizeof(line), fmt, ap);
    if (log_to_stderr)
        fprintf(stderr, "%s: %s: %s%s%s\n", log_ident, names[level & 7], line, suffix ? ": " : "",
                suffix ? suffix : "");
    else
        syslog(level, "%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "");
}

#define LOG_FUNC(fn, level)                                                                        \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vwrite(level, NULL, fmt, ap);                                                          \
        va_end(ap);                                                                                \
    }

/* log_info, log_warn, log_err, log_debug - one line at that level */
LOG_FUNC(log_info, LOG_INFO)
LOG_FUNC(log_warn, LOG_WARNING)
LOG_FUNC(log_err, LOG_ERR)
LOG_FUNC(log_debug, LOG_DEBUG)

/* log_warn_errno - a warning line with strerror(errno) appended */
void log_warn_errno(const char *fmt, ...)
{
    va_list ap;
    char ebuf[256];
    const char *etext;
    int saved = errno;

    etext = strerror_r(saved, ebuf, sizeof(ebuf));
    va_start(ap, fmt);
    log_vwrite(LOG_WARNING, etext, fmt, ap);
    va_end(ap);
    errno = saved;
}

/* log_escape - copy an untrusted value, escaped and cut */
char *log_escape(char *buf, size_t size, const char *src, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;

    if (size == 0)
        return buf;
    if (src == NULL)
        src = "";
    for (i = 0; src[i] != '\0' && i < max; i++) {
        unsigned char c = (unsigned char)src[i];

        if (o + 5 >= size)
            break;
        if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '"' || c == '=') {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    if (src[i] != '\0' && o + 4 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}
