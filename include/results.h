/*
 * NAME
 *	results - end-of-message header edits: forged A-R removal, our A-R
 * SYNOPSIS
 *	#include "results.h"
 *
 *	int	results_remove_forged(struct conn *c, struct edits *e);
 *	int	results_insert_authres(struct conn *c, const struct authres *ar,
 *			struct edits *e);
 * DESCRIPTION
 *	results_remove_forged() adds a deletion for every incoming
 *	Authentication-Results header that carries our authserv-id (any case,
 *	comments before it, garbage after it) or from which no authserv-id
 *	can be read at all, highest occurrence index first, so that each
 *	deletion leaves the indexes of the ones still to delete unchanged
 *	(OpenDKIM's forward deletion removed the wrong headers,
 *	CVE-2022-48521).  A-R headers of other authserv-ids stay.
 *
 *	results_insert_authres() formats ar under our authserv-id and adds it
 *	as an insertion at index 0 (above Received).
 *
 *	Both return 0, or -1 when memory ran out (the caller tempfails).
 */
#ifndef AM_RESULTS_H
#define AM_RESULTS_H

#include "authres.h"
#include "msg.h"

int results_remove_forged(struct conn *c, struct edits *e);
int results_insert_authres(struct conn *c, const struct authres *ar, struct edits *e);

#endif
