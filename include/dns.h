/*
 * NAME
 *	dns - one shared resolver (libunbound + DNSZoneFile) with deadlines
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	struct dns_resolver *dns_resolver_new(const struct dns_options *opt,
 *			char **error_r);
 *	void	dns_resolver_free(struct dns_resolver **r);
 *	void	dns_deadline(const struct dns_resolver *r, struct timespec *deadline_r);
 *	enum dns_status dns_query(struct dns_resolver *r, const char *name,
 *			int type, const struct timespec *deadline,
 *			struct dns_answer *ans);
 *	void	dns_answer_clear(struct dns_answer *ans);
 *	const char *dns_status_name(enum dns_status status);
 *	const char *dns_sec_name(enum dns_sec sec);
 *	const char *dns_type_name(int type);
 * DESCRIPTION
 *	One resolver serves the whole process (SPF, DKIM, DMARC).  It is
 *	immutable after dns_resolver_new() and dns_query() may be called from
 *	any number of threads at once.  Network lookups go through ONE
 *	libunbound context (threaded mode, with its cache); a single
 *	dispatcher thread, started on the first network lookup (so the
 *	resolver may be created before the daemon forks), delivers answers to
 *	the waiting threads.  A lookup that outlives its deadline is cancelled
 *	inside libunbound: no thread, fd or memory stays behind it.
 *
 *	dns_query() has three outcomes, kept apart: DNS_OK (ans->count
 *	records), DNS_NXDOMAIN and DNS_NODATA (the name does not exist / has
 *	no record of that type), and DNS_FAIL (timeout, SERVFAIL, DNSSEC
 *	bogus, refused, bad name ...; ans->reason says which).  A deadline
 *	is absolute on CLOCK_MONOTONIC (one per message: dns_deadline() gives
 *	now + DNSTimeout); NULL means now + DNSTimeout.  ans->sec records the
 *	DNSSEC state when known.  CNAMEs are followed (for network lookups by
 *	libunbound, for file data here, at most 8 deep).
 *
 *	Records: A/AAAA in addr[] (4 or 16 bytes); TXT strings of one RR
 *	concatenated into data (len bytes, NUL-terminated; RRs kept apart);
 *	MX pref + exchange name, PTR/CNAME target name in data (no trailing
 *	dot, as in the wire data).
 * DNSZoneFile
 *	RFC 1035 master-file lines, one record per line:
 *	    owner. [ttl] [IN] type rdata
 *	Owner and target names must be fully qualified (end in "."); \DDD and
 *	\X escapes are honoured in names and strings.  Types: A, AAAA, TXT,
 *	SPF (kept, never asked for), MX, PTR, CNAME, NS, SOA.  TXT takes one
 *	or more quoted (or bare) strings of at most 255 bytes each, which
 *	concatenate.  "$TTL n" sets the default TTL; ";" starts a comment;
 *	parentheses (multi-line records) and $ORIGIN/$INCLUDE are refused.
 *	Every error is reported as "file:line: reason".
 *
 *	Semantics: names with data in the file are answered from it, before
 *	any network lookup, and win over libunbound's built-in special-use
 *	zones (test., invalid., TEST-NET reverse zones); a name with data but
 *	not of the type asked is NODATA.  A name that has an SOA record is an
 *	authoritative zone: every name under it that the file lacks is
 *	NXDOMAIN (NODATA for an empty non-terminal) and is never asked on the
 *	network.  Other names go to the network.
 *
 *	Test-only failure simulation (a comment to every other parser):
 *	    ;! TIMEOUT owner.
 *	    ;! SERVFAIL owner.
 *	make every query for owner that the file has no record of that type
 *	for fail at once (DNS_FAIL, reason "timed out (DNSZoneFile)" or
 *	"SERVFAIL (DNSZoneFile)"); a query of a type the file has records
 *	of is still answered.  The RFC 7208 test suite needs this.
 * DIAGNOSTICS
 *	dns_resolver_new() returns NULL and a malloc'd "file:line: reason"
 *	(zone file) or "reason" (libunbound set-up) in *error_r.
 */
#ifndef AM_DNS_H
#define AM_DNS_H

#include <stddef.h>
#include <time.h>

/* RR types, numbered as on the wire */
#define DNS_T_A 1
#define DNS_T_NS 2
#define DNS_T_CNAME 5
#define DNS_T_SOA 6
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_T_SPF 99

#define DNS_DEFAULT_TIMEOUT_MS 5000

struct dns_options {
    const char *const *nameservers; /* "ip[@port]", NULL-terminated; NULL: /etc/resolv.conf */
    const char *zone_file;          /* DNSZoneFile or NULL */
    const char *trust_anchor_file;  /* DNSSEC trust anchor or NULL (no validation) */
    long timeout_ms;                /* DNSTimeout per message; <= 0: 5000 */
};

enum dns_status {
    DNS_OK,       /* ans->count >= 1 records */
    DNS_NXDOMAIN, /* no such name */
    DNS_NODATA,   /* the name exists, no record of this type */
    DNS_FAIL      /* timeout, SERVFAIL, bogus, ...: temporary */
};

enum dns_sec {
    DNS_SEC_UNKNOWN,  /* not validated (no trust anchor, or DNSZoneFile data) */
    DNS_SEC_INSECURE, /* validated: no DNSSEC on this name */
    DNS_SEC_SECURE,   /* validated: signed and correct */
    DNS_SEC_BOGUS     /* validated: signed and broken (status is DNS_FAIL) */
};

struct dns_record {
    int type;
    unsigned int ttl;
    unsigned int pref;      /* MX preference */
    unsigned char addr[16]; /* A: 4 bytes, AAAA: 16 bytes */
    char *data;             /* TXT text / MX, PTR, CNAME target; NUL-terminated */
    size_t len;             /* bytes in data */
};

struct dns_answer {
    enum dns_status status;
    enum dns_sec sec;
    int local; /* answered from the DNSZoneFile */
    size_t count;
    struct dns_record *rr;
    char reason[128]; /* DNS_FAIL (and NXDOMAIN/NODATA): what happened */
};

struct dns_resolver;

struct dns_resolver *dns_resolver_new(const struct dns_options *opt, char **error_r);
void dns_resolver_free(struct dns_resolver **r);
void dns_deadline(const struct dns_resolver *r, struct timespec *deadline_r);
enum dns_status dns_query(struct dns_resolver *r, const char *name, int type,
                          const struct timespec *deadline, struct dns_answer *ans);
void dns_answer_clear(struct dns_answer *ans);
const char *dns_status_name(enum dns_status status);
const char *dns_sec_name(enum dns_sec sec);
const char *dns_type_name(int type);

#endif
