/*
 * NAME
 *	dns_local - the DNSZoneFile table and answers from it
 * SYNOPSIS
 *	#include "dns_int.h"
 *
 *	struct zone_node *dns_zone_node_get(struct zone *z, const char *name);
 *	int	dns_zone_node_add_ancestors(struct zone *z, const char *name);
 *	int	dns_zone_add_record(struct zone *z, const char *owner,
 *			struct dns_record *rr, const char **why);
 *	int	dns_zone_answer(const struct zone *z, char *name, int type,
 *			struct dns_answer *ans);
 *	void	dns_zone_free(struct zone *z);
 * DESCRIPTION
 *	A hash table (FNV-1a, doubled as it fills) of canonical owner
 *	names.  Every ancestor of an owner is entered too, without records,
 *	so that empty non-terminals are known.  It is filled once while the
 *	resolver is created and read-only afterwards: lookups from any
 *	number of threads need no lock.
 *
 *	dns_zone_answer() gives the semantics of include/dns.h: data in the
 *	file wins; a name under an SOA of the file that the file lacks is
 *	NXDOMAIN (NODATA for an empty non-terminal); CNAMEs are followed at
 *	most CNAME_DEPTH deep, and a target outside the file goes back to
 *	the caller for the network; a name marked by ";! TIMEOUT" or
 *	";! SERVFAIL" fails every type the file has no records of.
 * DIAGNOSTICS
 *	Out of memory comes back as NULL / -1 (table) or DNS_FAIL (answer).
 */
#include "am_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_int.h"

#define CNAME_DEPTH 8

/* xcalloc - calloc that never asks for zero bytes; NULL is handled by callers */
static void *xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size ? size : 1);
}

/* hash_name - FNV-1a over a canonical name */
static size_t hash_name(const char *name)
{
    uint32_t h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h;
}

/* zone_find - the node of a canonical name, or NULL */
static struct zone_node *zone_find(const struct zone *z, const char *name)
{
    struct zone_node *n;

    if (z->nbucket == 0)
        return NULL;
    for (n = z->bucket[hash_name(name) % z->nbucket]; n; n = n->next)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

/* zone_grow - double the bucket array */
static int zone_grow(struct zone *z)
{
    size_t nb = z->nbucket ? z->nbucket * 2 : 256, i;
    struct zone_node **b = xcalloc(nb, sizeof(*b)), *n, *next;

    if (b == NULL)
        return -1;
    for (i = 0; i < z->nbucket; i++)
        for (n = z->bucket[i]; n; n = next) {
            next = n->next;
            n->next = b[hash_name(n->name) % nb];
            b[hash_name(n->name) % nb] = n;
        }
    free(z->bucket);
    z->bucket = b;
    z->nbucket = nb;
    return 0;
}

/* dns_zone_node_get - find or add the node of a canonical name */
struct zone_node *dns_zone_node_get(struct zone *z, const char *name)
{
    struct zone_node *n = zone_find(z, name);
    size_t h;

    if (n)
        return n;
    if (z->nnode >= z->nbucket && zone_grow(z) < 0)
        return NULL;
    if ((n = xcalloc(1, sizeof(*n))) == NULL || (n->name = strdup(name)) == NULL) {
        free(n);
        return NULL;
    }
    h = hash_name(name) % z->nbucket;
    n->next = z->bucket[h];
    z->bucket[h] = n;
    z->nnode++;
    return n;
}

/* dns_zone_node_add_ancestors - enter the ancestors of name as empty nodes */
int dns_zone_node_add_ancestors(struct zone *z, const char *name)
{
    const char *p;

    for (p = strchr(name, '.'); p; p = strchr(p + 1, '.'))
        if (dns_zone_node_get(z, p + 1) == NULL)
            return -1;
    return 0;
}

/* dns_zone_free - release the table */
void dns_zone_free(struct zone *z)
{
    struct zone_node *n, *next;
    size_t i, j;

    for (i = 0; i < z->nbucket; i++)
        for (n = z->bucket[i]; n; n = next) {
            next = n->next;
            for (j = 0; j < n->nrr; j++)
                free(n->rr[j].data);
            free(n->rr);
            free(n->name);
            free(n);
        }
    free(z->bucket);
    memset(z, 0, sizeof(*z));
}

/* dns_zone_add_record - attach one parsed record to its owner */
int dns_zone_add_record(struct zone *z, const char *owner, struct dns_record *rr, const char **why)
{
    struct zone_node *n = dns_zone_node_get(z, owner);
    struct dns_record *grown;
    size_t i;

    if (n == NULL || dns_zone_node_add_ancestors(z, owner) < 0) {
        *why = "out of memory";
        return -1;
    }
    for (i = 0; i < n->nrr; i++)
        if ((n->rr[i].type == DNS_T_CNAME) != (rr->type == DNS_T_CNAME)) {
            *why = "CNAME and other data at the same name";
            return -1;
        } else if (rr->type == DNS_T_CNAME) {
            *why = "more than one CNAME at the same name";
            return -1;
        }
    if ((grown = realloc(n->rr, (n->nrr + 1) * sizeof(*grown))) == NULL) {
        *why = "out of memory";
        return -1;
    }
    n->rr = grown;
    n->rr[n->nrr++] = *rr;
    if (rr->type == DNS_T_SOA)
        n->soa = 1;
    return 0;
}

/* zone_under_soa - is a canonical name in (or at) an authoritative zone of the file? */
static int zone_under_soa(const struct zone *z, const char *name)
{
    const struct zone_node *n;
    const char *p = name;

    for (;;) {
        if ((n = zone_find(z, p)) != NULL && n->soa)
            return 1;
        if (*p == '\0')
            return 0;
        p = strchr(p, '.');
        p = p ? p + 1 : ""; /* ... and finally the root */
    }
}

/*
 * dns_zone_answer - answer from the file: 1 answered, 0 ask the network for
 * *name (which may have become a CNAME target).
 */
int dns_zone_answer(const struct zone *z, char *name, int type, struct dns_answer *ans)
{
    const struct zone_node *n;
    size_t i;
    int depth;

    for (depth = 0;; depth++) {
        n = zone_find(z, name);
        if (n == NULL || (n->nrr == 0 && n->fail == ZONE_FAIL_NONE)) {
            if (!zone_under_soa(z, name))
                return 0;
            ans->local = 1;
            if (n)
                dns_answer_set(ans, DNS_NODATA, "no %s data (DNSZoneFile)", dns_type_name(type));
            else
                dns_answer_set(ans, DNS_NXDOMAIN, "no such name (DNSZoneFile)");
            return 1;
        }
        ans->local = 1;
        if (type != DNS_T_CNAME && n->nrr > 0 && n->rr[0].type == DNS_T_CNAME) {
            if (depth >= CNAME_DEPTH) {
                dns_answer_set(ans, DNS_FAIL, "CNAME chain too long (DNSZoneFile)");
                return 1;
            }
            snprintf(name, DNS_NAME_MAX, "%s", n->rr[0].data);
            continue;
        }
        for (i = 0; i < n->nrr; i++)
            if (n->rr[i].type == type && dns_answer_add(ans, &n->rr[i]) < 0) {
                dns_answer_set(ans, DNS_FAIL, "out of memory");
                return 1;
            }
        if (ans->count > 0)
            dns_answer_set(ans, DNS_OK, "answer (DNSZoneFile)");
        else if (n->fail == ZONE_FAIL_TIMEOUT)
            dns_answer_set(ans, DNS_FAIL, "timed out (DNSZoneFile)");
        else if (n->fail == ZONE_FAIL_SERVFAIL)
            dns_answer_set(ans, DNS_FAIL, "SERVFAIL (DNSZoneFile)");
        else
            dns_answer_set(ans, DNS_NODATA, "no %s data (DNSZoneFile)", dns_type_name(type));
        return 1;
    }
}
