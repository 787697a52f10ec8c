/*
 * NAME
 *	milter - the libmilter glue: the only module that calls smfi_*
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	int	milter_setup(const char *socket, mode_t umask, char **error_r);
 *	int	milter_run(void);
 *	void	milter_stop(void);
 * DESCRIPTION
 *	milter_setup() registers the filter, raises libmilter's packet limit
 *	(so a 100 KB header does not drop the connection) and opens the
 *	socket: a stale unix socket is removed, a live one is an error.  It
 *	runs as root, before privileges are dropped.  milter_run() runs
 *	smfi_main() until milter_stop().
 *
 *	Negotiation asks only for the events the engine uses and, for all but
 *	MAIL and end of message, the matching "no reply" flags, so the MTA
 *	waits for an answer only twice per message.  Header values are taken
 *	with their leading space (SMFIP_HDR_LEADSPC) when the MTA offers it.
 * DIAGNOSTICS
 *	Any internal error inside a callback becomes a temporary failure.
 */
#ifndef AM_MILTER_H
#define AM_MILTER_H

#include <sys/types.h>

int milter_setup(const char *socket, mode_t umask, char **error_r);
int milter_run(void);
void milter_stop(void);
const char *milter_socket_path(const char *socket);

#endif
