/*
 * NAME
 *	spf_int - evaluation context shared by the spf files (internal to spf)
 * SYNOPSIS
 *	#include "spf_int.h"
 *
 *	void	spf_trace(struct spf_ctx *ctx, const char *fmt, ...);
 *	void	spf_stop_eval(struct spf_ctx *ctx, enum spf_stop why,
 *			const char *fmt, ...);
 *
 *	int	spf_valid_domain(const char *domain);
 *	enum spf_fetch spf_fetch_record(struct spf_ctx *ctx,
 *			const char *domain, char **text_r);
 *
 *	SPF_errcode_t spf_compile_record(struct spf_ctx *ctx,
 *			SPF_server_t *server, SPF_response_t *resp,
 *			const char *domain, const char *text,
 *			SPF_record_t **rec);
 *
 *	void	spf_dns_layer_init(SPF_dns_server_t *layer,
 *			struct spf_ctx *ctx);
 * DESCRIPTION
 *	Internal to spf: only milter/spf.c, spf_record.c, spf_rewrite.c and
 *	spf_dns.c include it.  struct spf_ctx is the state of one
 *	check_host() evaluation (one identity): the DNS handle and deadline,
 *	the outcome whose trace it fills, the lookup and void-lookup counts,
 *	why the evaluation stopped (first reason wins), the names an MX or
 *	PTR answer just gave, the a/0 and mx/0 rules and the exp= of every
 *	record compiled.  It belongs to one thread and is freed by spf.c.
 *
 *	spf_trace() (spf.c) adds one line to ctx->out's trace when tracing,
 *	control and non-ASCII bytes replaced by '?'.  spf_stop_eval()
 *	(spf.c) stops the evaluation with a reason in ctx->problem, unless
 *	it was stopped already.
 *
 *	spf_valid_domain() (spf_record.c) is RFC 7208 4.3: a usable FQDN.
 *	spf_fetch_record() (spf_record.c) fetches the TXT records of domain,
 *	selects the SPF record and checks it against the RFC 7208 ABNF; on
 *	FETCH_OK *text_r is a malloc'd copy, otherwise ctx->problem says why.
 *
 *	spf_compile_record() (spf_rewrite.c) rewrites a checked record into
 *	the form libspf2 evaluates right and compiles it; a failure stops
 *	the evaluation (STOP_SYNTAX) and leaves *rec NULL.
 *
 *	spf_dns_layer_init() (spf_dns.c) makes layer our SPF_dns_server_t:
 *	lookup(), get_spf() and get_exp() working on ctx.
 * DIAGNOSTICS
 *	Problems are recorded in the context, never printed.
 */
#ifndef AM_SPF_INT_H
#define AM_SPF_INT_H

#include <stddef.h>
#include <time.h>

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>

#include "dns.h"
#include "spf.h"

#define SPF_MAX_RECORD 4096 /* bytes of one SPF record */
#define SPF_PENDING 10      /* names kept from an MX/PTR answer */
#define SPF_MAX_EXPS 24     /* records compiled per evaluation */
#define SPF_EXP_SENTINEL ".exp.authmilter.invalid"

enum spf_stop { STOP_NONE, STOP_TERMS, STOP_VOID, STOP_SYNTAX, STOP_DNS };

enum spf_fetch { FETCH_OK, FETCH_NONE, FETCH_TEMP, FETCH_PERM };

struct spf_ctx {
    struct dns_resolver *dns;
    const struct timespec *deadline;
    struct spf_outcome *out;
    int tracing;
    unsigned int terms;
    unsigned int voids;
    int records; /* get_spf calls so far */
    enum spf_stop stop;
    char problem[300];
    char pending[SPF_PENDING][256]; /* names from the last MX/PTR answer */
    size_t npending;
    size_t ipending;
    int pending_ptr;        /* pending names came from a PTR answer */
    char pending_from[256]; /* the name the MX/PTR lookup was for */
    int client_v6;
    unsigned char client[16];
    struct {
        int mx;
        char name[256];
    } zero[16]; /* a/0, mx/0 rewritten (deviation 11) */
    size_t nzero;
    struct {
        char *domain;     /* the record's domain: %{d} of its explanation */
        char *spec;       /* its exp= domain-spec, or NULL */
    } exps[SPF_MAX_EXPS]; /* every record compiled (deviation 10) */
    size_t nexps;
    int exp_last; /* exps[] entry of the last explanation libspf2 asked for, or -1 */
};

void spf_trace(struct spf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spf_stop_eval(struct spf_ctx *ctx, enum spf_stop why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int spf_valid_domain(const char *domain);
enum spf_fetch spf_fetch_record(struct spf_ctx *ctx, const char *domain, char **text_r);

SPF_errcode_t spf_compile_record(struct spf_ctx *ctx, SPF_server_t *server, SPF_response_t *resp,
                                 const char *domain, const char *text, SPF_record_t **rec);

void spf_dns_layer_init(SPF_dns_server_t *layer, struct spf_ctx *ctx);

#endif
