/*
 * NAME
 *	dns_int - the DNSZoneFile table shared by the dns files (internal to dns)
 * SYNOPSIS
 *	#include "dns_int.h"
 *
 *	int	dns_zone_load(struct zone *z, const char *path, char **error_r);
 *	int	dns_canon_name(const char *in, size_t inlen, int escapes,
 *			int fqdn, char *out, const char **why);
 *
 *	struct zone_node *dns_zone_node_get(struct zone *z, const char *name);
 *	int	dns_zone_node_add_ancestors(struct zone *z, const char *name);
 *	int	dns_zone_add_record(struct zone *z, const char *owner,
 *			struct dns_record *rr, const char **why);
 *	int	dns_zone_answer(const struct zone *z, char *name, int type,
 *			struct dns_answer *ans);
 *	void	dns_zone_free(struct zone *z);
 *
 *	enum dns_status dns_answer_set(struct dns_answer *ans,
 *			enum dns_status st, const char *fmt, ...);
 *	int	dns_answer_add(struct dns_answer *ans,
 *			const struct dns_record *rr);
 * DESCRIPTION
 *	Internal to dns: only milter/dns.c, dns_zone.c, dns_local.c and
 *	dns_answer.c include it.  struct zone is the DNSZoneFile as a hash
 *	table of canonical owner names (lower case, no trailing dot); it is
 *	filled once by dns_resolver_new() and read-only afterwards, so any
 *	number of threads may look names up in it at once.
 *
 *	dns_zone_load() (dns_zone.c) parses a DNSZoneFile into z; on error
 *	*error_r is a malloc'd "file:line: reason".  dns_canon_name()
 *	(dns_zone.c) checks a name (escapes: decode \X and \DDD; fqdn: a
 *	trailing dot is required) and writes its canonical form, at most
 *	DNS_NAME_MAX bytes, to out; on error *why says what is wrong.
 *
 *	dns_zone_node_get() (dns_local.c) finds or adds the node of a
 *	canonical name, NULL when out of memory;
 *	dns_zone_node_add_ancestors() enters every ancestor as an empty node.
 *	dns_zone_add_record() attaches a parsed record (its data now owned
 *	by the table) and refuses CNAME and other data at one name.
 *	dns_zone_answer() answers a query from the table: 1 answered (ans
 *	filled, ans->local set), 0 ask the network for name, which may have
 *	become a CNAME target (name has room for DNS_NAME_MAX bytes).
 *	dns_zone_free() releases the table.
 *
 *	dns_answer_set() (dns_answer.c) sets the status and reason of an
 *	answer and returns the status; dns_answer_add() appends a copy of
 *	one record, -1 when out of memory.
 * DIAGNOSTICS
 *	Returned as described; nothing is logged.
 */
#ifndef AM_DNS_INT_H
#define AM_DNS_INT_H

#include <stddef.h>

#include "dns.h"

#define DNS_NAME_MAX 256    /* canonical name bytes incl. NUL */
#define ZONE_LINE_MAX 65536 /* longest DNSZoneFile line */

enum zone_fail { ZONE_FAIL_NONE, ZONE_FAIL_TIMEOUT, ZONE_FAIL_SERVFAIL };

struct zone_node {
    char *name; /* canonical: lower case, no trailing dot */
    struct dns_record *rr;
    size_t nrr;
    int soa;
    enum zone_fail fail;
    struct zone_node *next;
};

struct zone {
    struct zone_node **bucket;
    size_t nbucket;
    size_t nnode;
};

int dns_zone_load(struct zone *z, const char *path, char **error_r);
int dns_canon_name(const char *in, size_t inlen, int escapes, int fqdn, char *out,
                   const char **why);

struct zone_node *dns_zone_node_get(struct zone *z, const char *name);
int dns_zone_node_add_ancestors(struct zone *z, const char *name);
int dns_zone_add_record(struct zone *z, const char *owner, struct dns_record *rr, const char **why);
int dns_zone_answer(const struct zone *z, char *name, int type, struct dns_answer *ans);
void dns_zone_free(struct zone *z);

enum dns_status dns_answer_set(struct dns_answer *ans, enum dns_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int dns_answer_add(struct dns_answer *ans, const struct dns_record *rr);

#endif
