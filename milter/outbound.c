/*
 * NAME
 *	outbound - DKIM signing of authorised submissions
 * SYNOPSIS
 *	See include/outbound.h.
 * DESCRIPTION
 *	The signer options were built once with the configuration snapshot
 *	(config_load.c); keys were parsed then too.  Per message there is one
 *	signer holding one signature per key that applies.
 */
#include <stdio.h>
#include <string.h>

#include "dkim_sign.h"
#include "log.h"
#include "outbound.h"

/* outbound_fail - a signing error: tempfail, never send unsigned */
static void outbound_fail(struct conn *c, const char *what, const char *error)
{
    struct msgctx *m = c->m;

    verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0",
                "Temporary signing failure, try again later");
    snprintf(m->why, sizeof(m->why), "DKIM %s failed: %s", what, error ? error : "?");
    msg_tracef(c, "sign: %s failed: %s", what, error ? error : "?");
    dkim_signer_free(&m->signer);
}

/* outbound_eoh - start the signer and feed it the headers */
void outbound_eoh(struct conn *c)
{
    struct msgctx *m = c->m;
    const char *error = NULL;
    size_t i;

    if (c->cfg->keys == NULL || m->from_addr == NULL)
        return;
    m->signer = dkim_signer_new(c->cfg->keys, m->from_addr, c->cfg->sign_opts, &error);
    if (m->signer == NULL) {
        if (error != NULL)
            outbound_fail(c, "start", error);
        else
            msg_tracef(c, "sign: no SigningTable entry for %s", m->from_addr);
        return;
    }
    for (i = 0; i < m->nhdrs; i++)
        if (dkim_signer_header(m->signer, m->hdrs[i].name, m->hdrs[i].value) < 0) {
            outbound_fail(c, "header", dkim_signer_error(m->signer));
            return;
        }
    if (dkim_signer_eoh(m->signer) < 0)
        outbound_fail(c, "end of headers", dkim_signer_error(m->signer));
}

/* outbound_body - stream a body chunk into the signer */
void outbound_body(struct conn *c, const unsigned char *buf, size_t len)
{
    struct msgctx *m = c->m;

    if (m->signer && dkim_signer_body(m->signer, buf, len) < 0)
        outbound_fail(c, "body", dkim_signer_error(m->signer));
}

/* outbound_compact - "d=D s=S a=A, ..." as "D/S/A,..." for the log line */
static void outbound_compact(char *buf, size_t size, const char *desc)
{
    size_t o = 0;

    for (; *desc && o + 1 < size; desc++) {
        if (strncmp(desc, "d=", 2) == 0 && (desc++, 1))
            continue;
        if (strncmp(desc, " s=", 3) == 0 || strncmp(desc, " a=", 3) == 0) {
            buf[o++] = '/';
            desc += 2;
            continue;
        }
        if (*desc != ' ')
            buf[o++] = *desc;
    }
    buf[o] = '\0';
}

/* outbound_eom - the signature headers, on top */
int outbound_eom(struct conn *c, struct edits *e)
{
    struct msgctx *m = c->m;
    const struct dkim_sig_header *sigs;
    size_t n, i;

    if (m->signer == NULL)
        return 0;
    if (dkim_signer_finish(m->signer, &sigs, &n) < 0) {
        outbound_fail(c, "signing", dkim_signer_error(m->signer));
        return 0;
    }
    for (i = 0; i < n; i++)
        if (edits_add(e, EDIT_INSERT, 0, sigs[i].name, sigs[i].value) < 0)
            return -1;
    msg_tracef(c, "sign: %s", dkim_signer_describe(m->signer));
    outbound_compact(m->signed_by, sizeof(m->signed_by), dkim_signer_describe(m->signer));
    return 0;
}

/* outbound_free - drop the signer */
void outbound_free(struct msgctx *m)
{
    dkim_signer_free(&m->signer);
}
