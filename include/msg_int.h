/*
 * NAME
 *	msg_int - the engine's internal context layout (engine modules only)
 * DESCRIPTION
 *	struct conn and struct msgctx, shared by msg.c and the per-path
 *	modules that the engine calls.  Nothing outside the engine includes it.
 */
#ifndef AM_MSG_INT_H
#define AM_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "msg.h"

struct dkim_signer;
struct spf_outcome;
struct dkim_verifier;
struct dkim_sig_result;
struct dmarc_outcome;

struct hdr {
    char *name;
    char *value; /* raw text after the colon, LF folded */
};

struct msgctx {
    char *mail_from; /* parsed path, "" = null sender */
    char *login;     /* "" when none */
    char *from_addr; /* lower-cased first From: address (submission, allowed) */
    struct hdr *hdrs;
    size_t nhdrs, hdrs_size, hdr_bytes;
    bool too_big;
    bool eoh_done;          /* end of headers seen: the header verdict was made */
    struct verdict verdict; /* VERDICT_CONTINUE until decided */
    char why[512];          /* reason for the log line */
    char queue_id[64];
    struct dkim_signer *signer;         /* submission, authorised, keys apply */
    struct spf_outcome *spf;            /* inbound, after end of headers */
    struct dkim_verifier *verifier;     /* inbound */
    const struct dkim_sig_result *dkim; /* owned by the verifier */
    size_t ndkim;
    struct dmarc_outcome *dmarc; /* inbound, at end of message */
    char quarantine[300];        /* non-empty: hold the message, this reason */
    struct timespec deadline;    /* DNS deadline of this message */
    char signed_by[512];         /* "d=... s=... a=..." for the log */
};

struct conn {
    struct config *cfg;
    char *client_ip, *client_host, *daemon_name, *helo, *authserv_id;
    bool submission;
    bool tracing;
    struct msgctx *m;
    char **trace;
    size_t ntrace;
};

void msg_tracef(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_log(struct conn *c);
int edits_add(struct edits *e, enum edit_op op, int index, const char *name, const char *value);

#endif
