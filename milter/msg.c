/*
 * NAME
 *	msg - connection and message contexts (the engine)
 * SYNOPSIS
 *	See include/msg.h.
 * DESCRIPTION
 *	The message context lives from MAIL to end of message or abort and is
 *	owned by its connection.  Headers are kept (bounded: MSG_MAX_HEADERS
 *	headers, MSG_MAX_HEADER_BYTES in all) because the submission verdict,
 *	the signer and the verifiers need them at end of headers; bodies are
 *	streamed, never kept.  A message over the header bounds is refused
 *	with 552 5.3.4: a defined answer, never a silent accept.
 *
 *	The verdict for header-based refusals is made at end of headers but
 *	given at end of message, so the MTA needs no answer before then.
 * DIAGNOSTICS
 *	Out of memory and internal errors become 451 4.3.0.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "authres.h"
#include "log.h"
#include "msg.h"
#include "dkim_verify.h"
#include "dmarc.h"
#include "inbound.h"
#include "inbound_dmarc.h"
#include "msg_int.h"
#include "outbound.h"
#include "results.h"
#include "spf.h"
#include "submit.h"

#define MSG_MAX_HEADERS 10000
#define MSG_MAX_HEADER_BYTES (4 * 1024 * 1024)
#define MSG_MAX_TRACE 400

/* xstrdup0 - strdup that maps NULL to "" */
static char *xstrdup0(const char *s)
{
    return strdup(s ? s : "");
}

/* conn_new - a connection context holding one config reference */
struct conn *conn_new(struct config *cfg, const char *client_ip, const char *client_host,
                      const char *daemon_name, const char *host_macro)
{
    struct conn *c = calloc(1, sizeof(*c));
    char host[256];

    if (c == NULL)
        return NULL;
    c->cfg = config_ref(cfg);
    c->client_ip = xstrdup0(client_ip);
    c->client_host = xstrdup0(client_host);
    c->daemon_name = xstrdup0(daemon_name);
    c->helo = xstrdup0(NULL);
    c->submission = config_list_has(cfg->submission_daemons, daemon_name);
    if (cfg->authserv_id) {
        c->authserv_id = strdup(cfg->authserv_id);
    } else {
        if (host_macro && *host_macro)
            snprintf(host, sizeof(host), "%s", host_macro);
        else if (gethostname(host, sizeof(host)) != 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        if (*host && host[strlen(host) - 1] == '.')
            host[strlen(host) - 1] = '\0';
        c->authserv_id = strdup(authres_id_valid(host) ? host : "localhost");
    }
    return c;
}

/* conn_helo - remember the HELO/EHLO argument */
void conn_helo(struct conn *c, const char *helo)
{
    free(c->helo);
    c->helo = xstrdup0(helo);
}

/* verdict_set - fill a verdict; the text is made SMTP-safe */
void verdict_set(struct verdict *v, enum verdict_action action, const char *rcode,
                 const char *xcode, const char *fmt, ...)
{
    va_list ap;
    char *p;

    v->action = action;
    snprintf(v->rcode, sizeof(v->rcode), "%s", rcode ? rcode : "");
    snprintf(v->xcode, sizeof(v->xcode), "%s", xcode ? xcode : "");
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
    for (p = v->text; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '%')
            *p = '?';
}

/* conn_set_tracing - keep decision lines for -t */
void conn_set_tracing(struct conn *c, bool on)
{
    c->tracing = on;
}

/* conn_is_submission - is this a submission listener? */
bool conn_is_submission(const struct conn *c)
{
    return c->submission;
}

/* trace_clear - drop the decision trace */
static void trace_clear(struct conn *c)
{
    size_t i;

    for (i = 0; i < c->ntrace; i++)
        free(c->trace[i]);
    free(c->trace);
    c->trace = NULL;
    c->ntrace = 0;
}

/* msg_tracef - add one line to the decision trace (-t prints it) */
void msg_tracef(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    char *line;
    char **nt;

    if (!c->tracing || c->ntrace >= MSG_MAX_TRACE)
        return;
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (line == NULL || (nt = realloc(c->trace, (c->ntrace + 2) * sizeof(*nt))) == NULL) {
        free(line);
        return;
    }
    c->trace = nt;
    c->trace[c->ntrace++] = line;
    c->trace[c->ntrace] = NULL;
}

/* msg_trace - the trace lines, NULL-terminated */
const char *const *msg_trace(const struct conn *c)
{
    static const char *const none[] = {NULL};

    return c->trace ? (const char *const *)c->trace : none;
}

/* msg_free - release the message context */
static void msg_free(struct conn *c)
{
    struct msgctx *m = c->m;
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nhdrs; i++) {
        free(m->hdrs[i].name);
        free(m->hdrs[i].value);
    }
    free(m->hdrs);
    free(m->mail_from);
    free(m->login);
    free(m->from_addr);
    outbound_free(m);
    inbound_free(m);
    free(m);
    c->m = NULL;
}

/* conn_free - release a connection and its config reference */
void conn_free(struct conn **cp)
{
    struct conn *c = *cp;

    *cp = NULL;
    if (c == NULL)
        return;
    msg_free(c);
    trace_clear(c);
    config_unref(&c->cfg);
    free(c->client_ip);
    free(c->client_host);
    free(c->daemon_name);
    free(c->helo);
    free(c->authserv_id);
    free(c);
}

/* msg_mail - start a message; may refuse at MAIL */
void msg_mail(struct conn *c, const char *mail_from, const char *login, struct verdict *v)
{
    struct msgctx *m;
    const char *error = "";
    char *path = NULL;

    msg_free(c);
    trace_clear(c);
    v->action = VERDICT_CONTINUE;
    if ((m = c->m = calloc(1, sizeof(*m))) == NULL) {
        verdict_set(v, VERDICT_TEMPFAIL, "451", "4.3.0", "Out of memory, try again later");
        return;
    }
    m->login = xstrdup0(login);
    if (addr_parse_path(mail_from ? mail_from : "", &path, &error) < 0) {
        m->mail_from = xstrdup0(mail_from);
        if (c->submission) {
            verdict_set(v, VERDICT_REJECT, "553", "5.1.7", "Malformed sender address: %s", error);
            snprintf(m->why, sizeof(m->why), "MAIL FROM does not parse: %s", error);
        }
    } else {
        m->mail_from = path;
    }
    msg_tracef(c, "connect: client=%s daemon=%s path=%s", c->client_ip, c->daemon_name,
               c->submission ? "submission" : "inbound");
    msg_tracef(c, "mail: from=<%s> login=%s", m->mail_from, *m->login ? m->login : "(none)");
    if (c->submission && v->action == VERDICT_CONTINUE)
        submit_check_mail(c->cfg, m->login, m->mail_from, v, m->why, sizeof(m->why));
    if (!c->submission)
        inbound_mail(c);
    if (v->action != VERDICT_CONTINUE) {
        m->verdict = *v;
        msg_tracef(c, "mail: %s %s %s", v->rcode, v->xcode, v->text);
        msg_log(c);
    }
}

/* msg_rcpt - recipients change no decision (the milter negotiates them
 *	away); -t shows them in its trace */
void msg_rcpt(struct conn *c, const char *rcpt)
{
    msg_tracef(c, "rcpt: <%s>", rcpt ? rcpt : "");
}

/* msg_header - keep a header, bounded */
void msg_header(struct conn *c, const char *name, const char *value)
{
    struct msgctx *m = c->m;
    size_t len;

    if (m == NULL || m->too_big || m->verdict.action != VERDICT_CONTINUE)
        return;
    len = strlen(name) + strlen(value) + 2;
    if (m->nhdrs >= MSG_MAX_HEADERS || m->hdr_bytes + len > MSG_MAX_HEADER_BYTES) {
        m->too_big = true;
        return;
    }
    if (m->nhdrs == m->hdrs_size) {
        size_t nsize = m->hdrs_size ? m->hdrs_size * 2 : 32;
        struct hdr *nh = realloc(m->hdrs, nsize * sizeof(*nh));

        if (nh == NULL) {
            msg_fail(c, "out of memory keeping headers");
            return;
        }
        m->hdrs = nh;
        m->hdrs_size = nsize;
    }
    m->hdrs[m->nhdrs].name = strdup(name);
    m->hdrs[m->nhdrs].value = strdup(value);
    if (m->hdrs[m->nhdrs].name == NULL || m->hdrs[m->nhdrs].value == NULL) {
        free(m->hdrs[m->nhdrs].name);
        free(m->hdrs[m->nhdrs].value);
        msg_fail(c, "out of memory keeping headers");
        return;
    }
    m->nhdrs++;
    m->hdr_bytes += len;
}

/* msg_fail - an internal error inside a message: 451 4.3.0 at the next answer
 *	(events negotiated as "no reply" cannot answer themselves) */
void msg_fail(struct conn *c, const char *why)
{
    struct msgctx *m = c->m;

    if (m == NULL || m->verdict.action != VERDICT_CONTINUE)
        return;
    verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0", "Internal error, try again later");
    snprintf(m->why, sizeof(m->why), "%s", why);
}

/* msg_collect - pointers to every value of one header name */
static size_t msg_collect(const struct msgctx *m, const char *name, const char **out, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < m->nhdrs; i++)
        if (strcasecmp(m->hdrs[i].name, name) == 0) {
            if (n < max)
                out[n] = m->hdrs[i].value;
            n++;
        }
    return n;
}

/* msg_eoh - end of headers: the header-based verdict */
void msg_eoh(struct conn *c)
{
    struct msgctx *m = c->m;
    const char *from[2], *sender[2];
    size_t nfrom, nsender;

    if (m == NULL)
        return;
    m->eoh_done = true;
    if (m->verdict.action != VERDICT_CONTINUE)
        return;
    if (m->too_big) {
        verdict_set(&m->verdict, VERDICT_REJECT, "552", "5.3.4", "Message header too large");
        snprintf(m->why, sizeof(m->why), "header over %d headers or %d bytes", MSG_MAX_HEADERS,
                 MSG_MAX_HEADER_BYTES);
        return;
    }
    if (!c->submission) {
        inbound_eoh(c);
        return;
    }
    nfrom = msg_collect(m, "From", from, 2);
    nsender = msg_collect(m, "Sender", sender, 2);
    submit_check_headers(c->cfg, m->login, from, nfrom > 2 ? 2 : nfrom, sender,
                         nsender > 2 ? 2 : nsender, &m->verdict, m->why, sizeof(m->why),
                         &m->from_addr);
    if (m->verdict.action == VERDICT_CONTINUE && m->from_addr == NULL) {
        msg_tracef(c, "headers: From: not the login's (HeaderFromCheck no): passes, not signed");
    } else if (m->verdict.action == VERDICT_CONTINUE) {
        msg_tracef(c, "headers: From: %s allowed for login %s", m->from_addr, m->login);
        outbound_eoh(c);
    } else
        msg_tracef(c, "headers: %s %s %s", m->verdict.rcode, m->verdict.xcode, m->verdict.text);
}

/* msg_body - stream a body chunk to whoever needs it */
void msg_body(struct conn *c, const unsigned char *buf, size_t len)
{
    if (c->m == NULL || c->m->verdict.action != VERDICT_CONTINUE)
        return;
    if (c->submission)
        outbound_body(c, buf, len);
    else
        inbound_dkim_body(c, buf, len);
}

/* msg_edits - the header edits of an accepted message */
static int msg_edits(struct conn *c, struct edits *e)
{
    struct msgctx *m = c->m;
    struct authres *ar;
    int rc;

    if (results_remove_forged(c, e) < 0)
        return -1;
    if (c->submission && outbound_eom(c, e) < 0)
        return -1;
    if (m->verdict.action != VERDICT_CONTINUE)
        return 0;
    if ((ar = authres_new()) == NULL)
        return -1;
    if (c->submission)
        rc = authres_add_prop(authres_add(ar, "auth", "pass"), "smtp.auth", m->login);
    else
        rc = inbound_results(c, ar);
    if (rc == 0)
        rc = results_insert_authres(c, ar, e);
    authres_free(&ar);
    return rc;
}

/* msg_eom - the final verdict and header edits */
void msg_eom(struct conn *c, const char *queue_id, struct verdict *v, struct edits *e)
{
    struct msgctx *m = c->m;

    e->n = 0;
    if (m == NULL) {
        verdict_set(v, VERDICT_TEMPFAIL, "451", "4.3.0", "Internal error: no message context");
        log_err("end of message without a message context");
        return;
    }
    snprintf(m->queue_id, sizeof(m->queue_id), "%s", queue_id ? queue_id : "");
    if (!m->eoh_done)
        msg_fail(c, "end of message without end of headers");
    if (!c->submission && m->verdict.action == VERDICT_CONTINUE)
        inbound_dmarc_eom(c);
    if (m->verdict.action == VERDICT_CONTINUE && msg_edits(c, e) < 0) {
        edits_clear(e);
        verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0",
                    "Internal error, try again later");
        snprintf(m->why, sizeof(m->why), "out of memory building header edits");
    }
    if (m->verdict.action == VERDICT_CONTINUE && *m->quarantine)
        verdict_set(&m->verdict, VERDICT_QUARANTINE, "", "", "%s", m->quarantine);
    if (m->verdict.action == VERDICT_CONTINUE)
        m->verdict.action = VERDICT_ACCEPT;
    *v = m->verdict;
    if (v->action == VERDICT_ACCEPT)
        msg_tracef(c, "decision: accept");
    else if (v->action == VERDICT_QUARANTINE)
        msg_tracef(c, "decision: quarantine (%s)", v->text);
    else
        msg_tracef(c, "decision: %s %s %s", v->rcode, v->xcode, v->text);
    msg_log(c);
    msg_free(c);
}

/* msg_abort - the MTA dropped the message */
void msg_abort(struct conn *c)
{
    msg_free(c);
}

/* edits_clear - release header edits */
void edits_clear(struct edits *e)
{
    size_t i;

    for (i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].value);
    }
    free(e->v);
    e->v = NULL;
    e->n = e->size = 0;
}

/* edits_add - append one edit (copies name and value) */
int edits_add(struct edits *e, enum edit_op op, int index, const char *name, const char *value)
{
    if (e->n == e->size) {
        size_t nsize = e->size ? e->size * 2 : 8;
        struct edit *nv = realloc(e->v, nsize * sizeof(*nv));

        if (nv == NULL)
            return -1;
        e->v = nv;
        e->size = nsize;
    }
    e->v[e->n].op = op;
    e->v[e->n].index = index;
    e->v[e->n].name = strdup(name);
    e->v[e->n].value = value ? strdup(value) : NULL;
    if (e->v[e->n].name == NULL || (value && e->v[e->n].value == NULL)) {
        free(e->v[e->n].name);
        free(e->v[e->n].value);
        return -1;
    }
    e->n++;
    return 0;
}

/* msg_log_dkim - " dkim=d:result,..." for the log line, or "" */
static const char *msg_log_dkim(const struct msgctx *m, char *buf, size_t size)
{
    char esc[LOG_ESC_BUF];
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < m->ndkim && o + 1 < size; i++) {
        int n = snprintf(buf + o, size - o, "%s%s:%s",
                         i ? "," : " dkim=", log_escape(esc, sizeof(esc), m->dkim[i].d, 100),
                         m->dkim[i].result);

        if (n < 0 || (size_t)n >= size - o)
            break;
        o += (size_t)n;
    }
    return buf;
}

/* msg_log - the one log line of a message */
void msg_log(struct conn *c)
{
    struct msgctx *m = c->m;
    char eq[LOG_ESC_BUF], el[LOG_ESC_BUF], ef[LOG_ESC_BUF], ew[LOG_ESC_BUF], eh[LOG_ESC_BUF];
    char ed[LOG_ESC_BUF], efr[LOG_ESC_BUF], dk[600];
    const struct verdict *v = &m->verdict;
    const char *action = v->action == VERDICT_ACCEPT       ? "accept"
                         : v->action == VERDICT_REJECT     ? "reject"
                         : v->action == VERDICT_TEMPFAIL   ? "tempfail"
                         : v->action == VERDICT_QUARANTINE ? "quarantine"
                                                           : "continue";

    log_info("%s: client=%s daemon=%s path=%s login=%s mail_from=<%s> from=%s action=%s%s%s%s%s "
             "reason=%s%s%s%s%s%s%s%s",
             *m->queue_id ? log_escape(eq, sizeof(eq), m->queue_id, 32) : "NOQUEUE",
             log_escape(eh, sizeof(eh), c->client_ip, 64),
             *c->daemon_name ? log_escape(ed, sizeof(ed), c->daemon_name, 64) : "-",
             c->submission ? "submission" : "inbound",
             *m->login ? log_escape(el, sizeof(el), m->login, LOG_ESC_MAX) : "-",
             log_escape(ef, sizeof(ef), m->mail_from, LOG_ESC_MAX),
             m->from_addr ? log_escape(efr, sizeof(efr), m->from_addr, LOG_ESC_MAX) : "-", action,
             *v->rcode ? " code=" : "", v->rcode, *v->xcode ? " dsn=" : "", v->xcode,
             *m->why ? log_escape(ew, sizeof(ew), m->why, LOG_ESC_MAX) : "-",
             *m->signed_by ? " signed=" : "", m->signed_by, m->spf ? " spf=" : "",
             m->spf ? spf_result_name(m->spf->result) : "", msg_log_dkim(m, dk, sizeof(dk)),
             m->dmarc ? " dmarc=" : "", m->dmarc ? m->dmarc->result : "");
}
