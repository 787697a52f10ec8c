/*
 * NAME
 *	testmode - the offline run of -t: one message file through the engine
 * SYNOPSIS
 *	#include "testmode.h"
 *
 *	int	testmode_run(struct config *cfg, const struct testmode_args *a);
 * DESCRIPTION
 *	Reads the message (headers up to the first line that is not a header,
 *	LF or CRLF line ends), feeds it to the engine exactly as the libmilter
 *	glue would (values with their leading space, LF folding; body with
 *	CRLF line ends, the last line terminated as Postfix does, in 64 KB
 *	chunks) and prints to stdout every decision,
 *	the reply, and then the exact header edits, each inserted header in
 *	full with its continuation lines.  Returns the exit status: 0 when
 *	the message was processed (whatever the verdict), 1 on error.
 */
#ifndef AM_TESTMODE_H
#define AM_TESTMODE_H

#include "config.h"

#define TESTMODE_MAX_RCPT 100
#define TESTMODE_MAX_MESSAGE (64 * 1024 * 1024)

struct testmode_args {
    const char *file;
    const char *client_ip;
    const char *client_host;
    const char *helo;
    const char *mail_from;
    const char *rcpt[TESTMODE_MAX_RCPT];
    int nrcpt;
    const char *login;
    const char *daemon_name;
    const char *queue_id;
};

int testmode_run(struct config *cfg, const struct testmode_args *a);

#endif
