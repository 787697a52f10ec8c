/*
 * NAME
 *	testmode - offline run of one message (-t)
 * SYNOPSIS
 *	See include/testmode.h.
 * DESCRIPTION
 *	Production code paths only: the engine cannot tell -t from libmilter.
 *	The output is a contract that operators and tests read:
 *
 *	    trace: <one line per decision>
 *	    action: accept | reject | tempfail | quarantine
 *	    reply: <code> <dsn> <text>          (unless accepted)
 *	    edits: <count>
 *	    delete: <Name> <index>
 *	    insert: <index>
 *	    <Name>: <value line>
 *	    <continuation lines, TAB first>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "testmode.h"

#define TESTMODE_CHUNK 65536

/* testmode_read - the whole file, NUL-terminated, bounded */
static char *testmode_read(const char *path, size_t *len_r)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, size = 0, n;

    if (fp == NULL) {
        fprintf(stderr, "authmilter: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    do {
        if (len + 65536 + 1 > size) {
            char *nb;

            size = size ? size * 2 : 131072;
            if (size > TESTMODE_MAX_MESSAGE + 65536 || (nb = realloc(buf, size)) == NULL) {
                fprintf(stderr, "authmilter: %s: message larger than %d bytes\n", path,
                        TESTMODE_MAX_MESSAGE);
                free(buf);
                buf = NULL;
                goto out;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, 65536, fp);
        len += n;
    } while (n > 0);
    if (ferror(fp)) {
        fprintf(stderr, "authmilter: %s: read error\n", path);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[len] = '\0';
    *len_r = len;
out:
    if (fp != stdin)
        fclose(fp);
    return buf;
}

/* header_name_len - length of a header name at p, 0 when not a header line */
static size_t header_name_len(const char *p, const char *end)
{
    const char *q = p;

    while (q<end && * q> 0x20 && *q < 0x7f && *q != ':')
        q++;
    return q < end && *q == ':' && q > p ? (size_t)(q - p) : 0;
}

/* line_end - end of the line at p (at the LF or at end) */
static const char *line_end(const char *p, const char *end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));

    return lf ? lf : end;
}

/* feed_headers - pass headers to the engine; returns where the body starts */
static const char *feed_headers(struct conn *c, const char *p, const char *end)
{
    while (p < end) {
        const char *e = line_end(p, end), *vstart, *next;
        size_t nlen = header_name_len(p, e);
        char *name, *value, *o;

        if (nlen == 0)
            break;
        vstart = p + nlen + 1;
        next = e < end ? e + 1 : end;
        while (next < end && (*next == ' ' || *next == '\t'))
            next = line_end(next, end) < end ? line_end(next, end) + 1 : end;
        name = strndup(p, nlen);
        value = malloc((size_t)(next - vstart) + 1);
        if (name == NULL || value == NULL) {
            free(name);
            free(value);
            return end;
        }
        for (o = value; vstart < next; vstart++)
            if (*vstart != '\r')
                *o++ = *vstart;
        while (o > value && o[-1] == '\n')
            o--;
        *o = '\0';
        msg_header(c, name, value);
        free(name);
        free(value);
        p = next;
    }
    if (p < end && *p == '\r')
        p++;
    if (p < end && *p == '\n')
        p++;
    return p;
}

/* feed_body - pass the body with CRLF line ends, in chunks, as Postfix does */
static void feed_body(struct conn *c, const char *p, const char *end)
{
    unsigned char chunk[TESTMODE_CHUNK + 2];
    size_t n = 0;
    char prev = '\0'; /* the previous input byte, across chunks */

    for (; p < end; prev = *p++) {
        if (*p == '\n' && prev != '\r')
            chunk[n++] = '\r';
        chunk[n++] = (unsigned char)*p;
        if (n >= TESTMODE_CHUNK) {
            msg_body(c, chunk, n);
            n = 0;
        }
    }
    if (prev != '\0' && prev != '\n') { /* Postfix ends the last line too */
        chunk[n++] = '\r';
        chunk[n++] = '\n';
    }
    if (n)
        msg_body(c, chunk, n);
}

/* print_result - the verdict and the edits */
static void print_result(struct conn *c, const struct verdict *v, const struct edits *e)
{
    static const char *const names[] = {"continue", "accept", "reject", "tempfail", "quarantine"};
    const char *const *t;
    size_t i;

    for (t = msg_trace(c); *t; t++)
        printf("trace: %s\n", *t);
    printf("action: %s\n", names[v->action]);
    if (v->action == VERDICT_REJECT || v->action == VERDICT_TEMPFAIL)
        printf("reply: %s %s %s\n", v->rcode, v->xcode, v->text);
    printf("edits: %zu\n", e->n);
    for (i = 0; i < e->n; i++) {
        if (e->v[i].op == EDIT_DELETE)
            printf("delete: %s %d\n", e->v[i].name, e->v[i].index);
        else
            printf("insert: %d\n%s: %s\n", e->v[i].index, e->v[i].name, e->v[i].value);
    }
}

/* testmode_run - run one message through the engine */
int testmode_run(struct config *cfg, const struct testmode_args *a)
{
    struct edits e = {0, 0, NULL};
    struct verdict v;
    struct conn *c;
    const char *body;
    size_t len;
    char *text;
    int i;

    if ((text = testmode_read(a->file, &len)) == NULL)
        return 1;
    if (memchr(text, '\0', len) != NULL)
        fprintf(stderr, "authmilter: %s: warning: NUL bytes in message\n", a->file);
    c = conn_new(cfg, a->client_ip, a->client_host, a->daemon_name, NULL);
    if (c == NULL) {
        free(text);
        return 1;
    }
    conn_set_tracing(c, true);
    conn_helo(c, a->helo);
    msg_mail(c, a->mail_from, a->login, &v);
    if (v.action == VERDICT_CONTINUE) {
        for (i = 0; i < a->nrcpt; i++)
            msg_rcpt(c, a->rcpt[i]);
        body = feed_headers(c, text, text + strlen(text));
        msg_eoh(c);
        feed_body(c, body, text + strlen(text));
        msg_eom(c, a->queue_id, &v, &e);
    }
    print_result(c, &v, &e);
    edits_clear(&e);
    conn_free(&c);
    free(text);
    return 0;
}
