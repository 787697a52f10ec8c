/*
 * NAME
 *	dkim-verify-drv - verify messages the way the milter would see them
 * SYNOPSIS
 *	t/dkim-verify-drv -z zonefile [-m max_sigs] [-n chunk] [-j threads]
 *		[-T] message...
 * DESCRIPTION
 *	Plays Postfix and libmilter in front of dkim_verify: lines of each
 *	message may end in LF or CRLF; each header goes to
 *	dkim_verifier_header() as name and raw value (leading space kept,
 *	LF folding, as with SMFIP_HDR_LEADSPC); the body goes in chunks of
 *	-n bytes (default 65535) with CRLF line ends.  All lookups are
 *	answered from the zone file; anything else goes to 127.0.0.1 port 9,
 *	which answers nothing.  -j verifies the messages from that many
 *	threads at once, all sharing one resolver.
 *
 *	Output, in argument order, one line per result (tab-separated):
 *	    R file index result d s a i b8 reason
 *	then "N file count"; -T adds "T file line" trace lines.
 *	Exit 0, or 2 on a usage or set-up error.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkim_verify.h"
#include "dns.h"

struct job {
    const char *path;
    char *out; /* the job's output lines */
    size_t outlen;
};

static struct dns_resolver *drv_dns;
static unsigned int drv_max_sigs;
static size_t drv_chunk = 65535;
static int drv_trace;
static struct job *drv_jobs;
static size_t drv_njobs, drv_next;
static pthread_mutex_t drv_lock = PTHREAD_MUTEX_INITIALIZER;

/* read_file - slurp a file, NUL-terminated */
static char *read_file(const char *path, size_t *len_r)
{
    FILE *fp = fopen(path, "rb");
    size_t cap = 65536, len = 0, n;
    char *buf;

    if (fp == NULL)
        return NULL;
    buf = malloc(cap + 1);
    while (buf && (n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            char *grown = realloc(buf, (cap *= 2) + 1);

            if (grown == NULL)
                abort();
            buf = grown;
        }
    }
    fclose(fp);
    if (buf != NULL)
        buf[len] = 0;
    *len_r = len;
    return buf;
}

/* next_line - the line at *pos without its LF/CRLF; *pos moves past it */
static size_t next_line(const char *msg, size_t len, size_t *pos, size_t *end_r)
{
    size_t start = *pos, e = start;

    while (e < len && msg[e] != '\n')
        e++;
    *pos = e < len ? e + 1 : e;
    if (e > start && msg[e - 1] == '\r')
        e--;
    *end_r = e;
    return start;
}

/* feed_header - one unfolded-as-LF header to the verifier */
static void feed_header(struct dkim_verifier *v, const char *h, size_t len)
{
    const char *colon = memchr(h, ':', len);
    char *name, *value;

    if (colon == NULL)
        return;
    name = strndup(h, (size_t)(colon - h));
    value = strndup(colon + 1, len - (size_t)(colon - h) - 1);
    if (name && value)
        dkim_verifier_header(v, name, value);
    free(name);
    free(value);
}

/* feed_message - headers, end of headers, body in CRLF chunks */
static void feed_message(struct dkim_verifier *v, const char *msg, size_t len)
{
    size_t pos = 0, start, end, hlen = 0, blen = 0;
    char *hdr = malloc(len + 1), *body = malloc(2 * len + 1);

    if (hdr == NULL || body == NULL)
        abort();
    while (pos < len) {
        start = next_line(msg, len, &pos, &end);
        if (end == start) /* empty line: end of headers */
            break;
        if ((msg[start] == ' ' || msg[start] == '\t') && hlen > 0) {
            hdr[hlen++] = '\n';
        } else if (hlen > 0) {
            feed_header(v, hdr, hlen);
            hlen = 0;
        }
        memcpy(hdr + hlen, msg + start, end - start);
        hlen += end - start;
    }
    if (hlen > 0)
        feed_header(v, hdr, hlen);
    dkim_verifier_eoh(v);
    while (pos < len) {
        start = next_line(msg, len, &pos, &end);
        memcpy(body + blen, msg + start, end - start);
        blen += end - start;
        if (pos > end) {
            body[blen++] = '\r';
            body[blen++] = '\n';
        }
    }
    for (size_t off = 0; off < blen; off += drv_chunk)
        dkim_verifier_body(v, (unsigned char *)body + off,
                           blen - off < drv_chunk ? blen - off : drv_chunk);
    free(hdr);
    free(body);
}

/* out_add - append one formatted line to a job's output */
static void __attribute__((format(printf, 2, 3))) out_add(struct job *j, const char *fmt, ...)
{
    va_list ap;
    char *line, *grown;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if ((grown = realloc(j->out, j->outlen + (size_t)n + 1)) == NULL)
        abort();
    j->out = grown;
    memcpy(j->out + j->outlen, line, (size_t)n + 1);
    j->outlen += (size_t)n;
    free(line);
}

/* run_job - verify one message file */
static void run_job(struct job *j)
{
    const struct dkim_sig_result *res;
    const char *const *trace;
    struct dkim_verifier *v;
    const char *err;
    size_t len, n, ntrace;
    char *msg = read_file(j->path, &len);

    if (msg == NULL) {
        out_add(j, "E\t%s\tcannot read\n", j->path);
        return;
    }
    if ((v = dkim_verifier_new(drv_dns, NULL, drv_max_sigs, &err)) == NULL) {
        out_add(j, "E\t%s\t%s\n", j->path, err);
        free(msg);
        return;
    }
    feed_message(v, msg, len);
    if (dkim_verifier_finish(v, &res, &n) < 0)
        out_add(j, "E\t%s\tfinish failed\n", j->path);
    for (size_t k = 0; k < n; k++)
        out_add(j, "R\t%s\t%zu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j->path, k, res[k].result, res[k].d,
                res[k].s, res[k].a, res[k].i, res[k].b8, res[k].reason);
    out_add(j, "N\t%s\t%zu\n", j->path, n);
    trace = dkim_verifier_trace(v, &ntrace);
    for (size_t k = 0; drv_trace && k < ntrace; k++)
        out_add(j, "T\t%s\t%s\n", j->path, trace[k]);
    dkim_verifier_free(&v);
    free(msg);
}

/* worker - take jobs until none is left */
static void *worker(void *arg)
{
    size_t n;

    (void)arg;
    for (;;) {
        pthread_mutex_lock(&drv_lock);
        n = drv_next++;
        pthread_mutex_unlock(&drv_lock);
        if (n >= drv_njobs)
            return NULL;
        run_job(drv_jobs + n);
    }
}

int main(int argc, char **argv)
{
    static const char *const ns[] = {"127.0.0.1@9", NULL};
    struct dns_options opt = {ns, NULL, NULL, 1000};
    pthread_t tid[64];
    int c, nthreads = 1;
    char *err = NULL;

    while ((c = getopt(argc, argv, "z:m:n:j:T")) != -1) {
        switch (c) {
        case 'z':
            opt.zone_file = optarg;
            break;
        case 'm':
            drv_max_sigs = (unsigned int)atoi(optarg);
            break;
        case 'n':
            drv_chunk = (size_t)atol(optarg);
            break;
        case 'j':
            nthreads = atoi(optarg);
            break;
        case 'T':
            drv_trace = 1;
            break;
        default:
            fprintf(stderr, "usage: %s -z zone [-m max] [-n chunk] [-j threads] [-T] msg...\n",
                    argv[0]);
            return 2;
        }
    }
    if (drv_chunk == 0 || nthreads < 1 || nthreads > 64) {
        fputs("bad -n or -j\n", stderr);
        return 2;
    }
    if ((drv_dns = dns_resolver_new(&opt, &err)) == NULL) {
        fprintf(stderr, "resolver: %s\n", err);
        return 2;
    }
    drv_njobs = (size_t)(argc - optind);
    drv_jobs = calloc(drv_njobs + 1, sizeof(*drv_jobs));
    for (size_t n = 0; n < drv_njobs; n++)
        drv_jobs[n].path = argv[optind + (int)n];
    for (int t = 0; t < nthreads; t++)
        pthread_create(tid + t, NULL, worker, NULL);
    for (int t = 0; t < nthreads; t++)
        pthread_join(tid[t], NULL);
    for (size_t n = 0; n < drv_njobs; n++) {
        if (drv_jobs[n].out)
            fputs(drv_jobs[n].out, stdout);
        free(drv_jobs[n].out);
    }
    free(drv_jobs);
    dns_resolver_free(&drv_dns);
    dkim_verify_shutdown();
    return 0;
}
