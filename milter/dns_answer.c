/*
 * NAME
 *	dns_answer - building, releasing and naming DNS answers
 * SYNOPSIS
 *	#include "dns.h"
 *	#include "dns_int.h"
 *
 *	void	dns_answer_clear(struct dns_answer *ans);
 *	const char *dns_status_name(enum dns_status status);
 *	const char *dns_sec_name(enum dns_sec sec);
 *
 *	enum dns_status dns_answer_set(struct dns_answer *ans,
 *			enum dns_status st, const char *fmt, ...);
 *	int	dns_answer_add(struct dns_answer *ans,
 *			const struct dns_record *rr);
 * DESCRIPTION
 *	The answers of both sources (DNSZoneFile table and libunbound) are
 *	built here: dns_answer_set() records the status and a reason (cut to
 *	the size of ans->reason), dns_answer_add() appends a copy of one
 *	record, its data NUL-terminated.  dns_answer_clear() frees the
 *	records; the answer may be reused.  An answer belongs to the thread
 *	that asked.
 * DIAGNOSTICS
 *	dns_answer_add() returns -1 when out of memory; the answer stays
 *	valid for dns_answer_clear().
 */
#include "am_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_int.h"

/* dns_answer_set - set the status of an answer and its reason */
enum dns_status dns_answer_set(struct dns_answer *ans, enum dns_status st, const char *fmt, ...)
{
    va_list ap;

    ans->status = st;
    va_start(ap, fmt);
    vsnprintf(ans->reason, sizeof(ans->reason), fmt, ap);
    va_end(ap);
    return st;
}

/* dns_answer_add - append one record (data copied) */
int dns_answer_add(struct dns_answer *ans, const struct dns_record *rr)
{
    struct dns_record *grown = realloc(ans->rr, (ans->count + 1) * sizeof(*grown));

    if (grown == NULL)
        return -1;
    ans->rr = grown;
    grown[ans->count] = *rr;
    if ((grown[ans->count].data = malloc(rr->len + 1)) == NULL)
        return -1;
    if (rr->data)
        memcpy(grown[ans->count].data, rr->data, rr->len);
    grown[ans->count].data[rr->len] = '\0';
    ans->count++;
    return 0;
}

/* dns_answer_clear - free the records of an answer */
void dns_answer_clear(struct dns_answer *ans)
{
    size_t i;

    for (i = 0; i < ans->count; i++)
        free(ans->rr[i].data);
    free(ans->rr);
    ans->rr = NULL;
    ans->count = 0;
}

/* dns_status_name - text of a status */
const char *dns_status_name(enum dns_status status)
{
    switch (status) {
    case DNS_OK:
        return "answer";
    case DNS_NXDOMAIN:
        return "nxdomain";
    case DNS_NODATA:
        return "nodata";
    case DNS_FAIL:
        return "failure";
    }
    return "?";
}

/* dns_sec_name - text of a DNSSEC state */
const char *dns_sec_name(enum dns_sec sec)
{
    switch (sec) {
    case DNS_SEC_UNKNOWN:
        return "unknown";
    case DNS_SEC_INSECURE:
        return "insecure";
    case DNS_SEC_SECURE:
        return "secure";
    case DNS_SEC_BOGUS:
        return "bogus";
    }
    return "?";
}
