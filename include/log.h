/*
 * NAME
 *	log - the only writer of log lines (syslog or stderr)
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void	log_open(const char *ident, bool to_stderr, const char *facility);
 *	void	log_info(const char *fmt, ...);	(also log_warn, log_err, log_debug)
 *	void	log_warn_errno(const char *fmt, ...);
 *	char	*log_escape(char *buf, size_t size, const char *src, size_t max);
 * DESCRIPTION
 *	One line per call.  In the foreground (-f, -t, -n) lines go to stderr
 *	with a level prefix; otherwise to syslog.  log_warn_errno() appends
 *	": strerror(errno)" (the OpenSMTPD warn/warnx pairing).
 *
 *	log_escape() copies at most max bytes of untrusted src into buf
 *	(size bytes), escaping control characters, 8-bit bytes, backslash,
 *	double quote and space as \xHH so that one value stays one
 *	key=value token; a cut value ends in "...".  It returns buf.
 */
#ifndef AM_LOG_H
#define AM_LOG_H

#include <stdbool.h>
#include <stddef.h>

void log_open(const char *ident, bool to_stderr, const char *facility);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *log_escape(char *buf, size_t size, const char *src, size_t max);

#define LOG_ESC_MAX 200
#define LOG_ESC_BUF (LOG_ESC_MAX * 4 + 8)

#endif
