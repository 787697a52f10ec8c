/*
 * NAME
 *	results - end-of-message header edits for Authentication-Results
 * SYNOPSIS
 *	See include/results.h.
 * DESCRIPTION
 *	Works on the headers the engine kept; writes nothing itself but edits
 *	that the glue (or -t) applies.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "msg_int.h"
#include "results.h"

/* results_remove_forged - delete our forged A-R headers, highest index first */
int results_remove_forged(struct conn *c, struct edits *e)
{
    const struct msgctx *m = c->m;
    const char *name = authres_header_name();
    int *forged, nforged = 0, occurrence = 0, rc = 0;
    size_t i;

    if ((forged = calloc(m->nhdrs + 1, sizeof(*forged))) == NULL)
        return -1;
    for (i = 0; i < m->nhdrs; i++) {
        if (strcasecmp(m->hdrs[i].name, name) != 0)
            continue;
        occurrence++;
        if (authres_is_ours(m->hdrs[i].value, c->authserv_id))
            forged[nforged++] = occurrence;
    }
    while (nforged > 0 && rc == 0) {
        nforged--;
        rc = edits_add(e, EDIT_DELETE, forged[nforged], name, NULL);
        msg_tracef(c, "authres: removing forged %s #%d", name, forged[nforged]);
    }
    free(forged);
    return rc;
}

/* results_insert_authres - our A-R at the top */
int results_insert_authres(struct conn *c, const struct authres *ar, struct edits *e)
{
    char *value = authres_format(c->authserv_id, ar);
    int rc;

    if (value == NULL)
        return -1;
    rc = edits_add(e, EDIT_INSERT, 0, authres_header_name(), value);
    free(value);
    return rc;
}
