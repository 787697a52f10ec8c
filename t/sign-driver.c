/*
 * NAME
 *	sign-driver - sign one message the way the milter would see it
 * SYNOPSIS
 *	t/sign-driver [-e native|libopendkim] [-c hdr/body] [-t time] [-x ttl]
 *		[-n chunk] [-L] [-R] [-U] [-H list] [-O list]
 *		KeyTable SigningTable from-address < message > signed
 * DESCRIPTION
 *	Plays Postfix and libmilter in front of dkim_sign: lines of the
 *	message may end in LF or CRLF; each header goes to
 *	dkim_signer_header() as name and value with LF folding and one
 *	leading space removed (-L: value kept as written, as with
 *	SMFIP_HDR_LEADSPC); the body goes in chunks of -n bytes (default
 *	65535) with CRLF line ends (-R: the body bytes exactly as given,
 *	for a body without final line end).  The output is the message as
 *	delivered: the DKIM-Signature headers (LF folding turned to CRLF, as
 *	the MTA writes them), the original headers and the body, all CRLF.
 *	-H and -O give colon-separated sign and oversign lists ("" for
 *	none), -U accepts key files with loose permissions.
 *
 *	Exit 0 signed, 1 no key applies, 2 error (on stderr).  The describe
 *	text goes to stderr as "describe: ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkim_sign.h"
#include "keys.h"

#define MAX_LIST 64

/* read_all - slurp a stream */
static char *read_all(FILE *fp, size_t *len_r)
{
    size_t cap = 65536, len = 0, n;
    char *buf = malloc(cap + 1);

    while (buf && (n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    if (buf == NULL) {
        fputs("out of memory\n", stderr);
        exit(2);
    }
    buf[len] = 0;
    *len_r = len;
    return buf;
}

/* split_list - "a:b:c" into a NULL-terminated array (modifies s) */
static const char **split_list(char *s, const char **out)
{
    size_t n = 0;
    char *tok, *save = NULL;

    for (tok = strtok_r(s, ":", &save); tok && n < MAX_LIST - 1; tok = strtok_r(NULL, ":", &save))
        out[n++] = tok;
    out[n] = NULL;
    return out;
}

/* out_crlf - write text turning each LF (not after CR) into CRLF */
static void out_crlf(FILE *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            fputc('\r', out);
        fputc(s[i], out);
    }
}

/* line_end - length of the line at p (without LF or CRLF), *next_r after it */
static size_t line_end(const char *p, const char *end, const char **next_r)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    size_t len;

    if (lf == NULL) {
        *next_r = end;
        return (size_t)(end - p);
    }
    *next_r = lf + 1;
    len = (size_t)(lf - p);
    if (len > 0 && p[len - 1] == '\r')
        len--;
    return len;
}

/* feed_headers - hand each header over as libmilter would; returns body start */
static const char *feed_headers(struct dkim_signer *s, const char *p, const char *end, bool leadsp,
                                char **hdr_text_r, size_t *hdr_len_r)
{
    char *value = malloc((size_t)(end - p) + 1), *name = malloc((size_t)(end - p) + 1);
    char *text = malloc(2 * (size_t)(end - p) + 3);
    size_t vlen = 0, tlen = 0, len;
    const char *next = end;
    bool have = false;

    for (;;) {
        len = (p < end) ? line_end(p, end, &next) : 0;
        if (p < end && len > 0 && (p[0] == ' ' || p[0] == '\t') && have) {
            value[vlen++] = '\n';
            memcpy(value + vlen, p, len);
            vlen += len;
        } else {
            if (have) {
                value[vlen] = 0;
                if (dkim_signer_header(s, name, value) < 0) {
                    fprintf(stderr, "header: %s\n", dkim_signer_error(s));
                    exit(2);
                }
                have = false;
            }
            if (p >= end || len == 0)
                break;
            {
                const char *colon = memchr(p, ':', len);
                size_t nlen = colon ? (size_t)(colon - p) : len, skip;

                memcpy(name, p, nlen);
                name[nlen] = 0;
                skip = colon ? nlen + 1 : len;
                if (!leadsp && skip < len && p[skip] == ' ')
                    skip++;
                memcpy(value, p + skip, len - skip);
                vlen = len - skip;
                have = true;
            }
        }
        memcpy(text + tlen, p, len);
        tlen += len;
        memcpy(text + tlen, "\r\n", 2);
        tlen += 2;
        p = next;
    }
    free(value);
    free(name);
    *hdr_text_r = text;
    *hdr_len_r = tlen;
    return (p < end) ? next : end;
}

/* normalize_body - body lines with CRLF ends, as Postfix hands them over */
static char *normalize_body(const char *p, const char *end, size_t *len_r)
{
    char *out = malloc(2 * (size_t)(end - p) + 3);
    size_t len, o = 0;
    const char *next;

    while (p < end) {
        len = line_end(p, end, &next);
        memcpy(out + o, p, len);
        o += len;
        memcpy(out + o, "\r\n", 2);
        o += 2;
        p = next;
    }
    *len_r = o;
    return out;
}

/* main - parse options, sign, print */
int main(int argc, char **argv)
{
    struct dkim_sign_options opt;
    const char *hlist[MAX_LIST], *olist[MAX_LIST];
    const struct dkim_sig_header *sigs;
    size_t msg_len, body_len, hdr_len, chunk = 65535, nsigs, i, off;
    char *msg, *body, *hdr_text, *err = NULL;
    const char *body_start, *serr;
    bool leadsp = false, raw = false, safe = true;
    struct dkim_signer *s;
    struct keyset *ks;
    int ch;

    memset(&opt, 0, sizeof(opt));
    while ((ch = getopt(argc, argv, "e:c:t:x:n:LRUH:O:")) != -1) {
        switch (ch) {
        case 'e':
            opt.engine =
                strcmp(optarg, "libopendkim") == 0 ? DKIM_ENGINE_LIBOPENDKIM : DKIM_ENGINE_NATIVE;
            break;
        case 'c':
            opt.header_canon = strncmp(optarg, "simple", 6) == 0 ? DKIM_SIGN_CANON_SIMPLE
                                                                 : DKIM_SIGN_CANON_RELAXED;
            opt.body_canon =
                strstr(optarg, "/simple") ? DKIM_SIGN_CANON_SIMPLE : DKIM_SIGN_CANON_RELAXED;
            break;
        case 't':
            opt.fixed_time = (time_t)strtoll(optarg, NULL, 10);
            break;
        case 'x':
            opt.ttl = strtoul(optarg, NULL, 10);
            break;
        case 'n':
            chunk = strtoul(optarg, NULL, 10);
            if (chunk == 0)
                chunk = 1;
            break;
        case 'L':
            leadsp = true;
            break;
        case 'R':
            raw = true;
            break;
        case 'U':
            safe = false;
            break;
        case 'H':
            opt.sign_headers = split_list(optarg, hlist);
            break;
        case 'O':
            opt.oversign_headers = split_list(optarg, olist);
            break;
        default:
            return 2;
        }
    }
    opt.value_leadspace = leadsp;
    if (argc - optind != 3) {
        fputs("usage: sign-driver [options] KeyTable SigningTable from\n", stderr);
        return 2;
    }
    ks = keyset_load(argv[optind], argv[optind + 1], safe, &err);
    if (ks == NULL) {
        fprintf(stderr, "keys: %s\n", err);
        return 2;
    }
    s = dkim_signer_new(ks, argv[optind + 2], &opt, &serr);
    if (s == NULL) {
        fprintf(stderr, "signer: %s\n", serr ? serr : "no key applies");
        keyset_free(&ks);
        return serr ? 2 : 1;
    }
    msg = read_all(stdin, &msg_len);
    body_start = feed_headers(s, msg, msg + msg_len, leadsp, &hdr_text, &hdr_len);
    if (raw) {
        body_len = (size_t)(msg + msg_len - body_start);
        body = malloc(body_len + 1);
        memcpy(body, body_start, body_len);
    } else {
        body = normalize_body(body_start, msg + msg_len, &body_len);
    }
    if (dkim_signer_eoh(s) < 0) {
        fprintf(stderr, "eoh: %s\n", dkim_signer_error(s));
        return 2;
    }
    for (off = 0; off < body_len; off += chunk)
        if (dkim_signer_body(s, (unsigned char *)body + off,
                             body_len - off < chunk ? body_len - off : chunk) < 0) {
            fprintf(stderr, "body: %s\n", dkim_signer_error(s));
            return 2;
        }
    if (dkim_signer_finish(s, &sigs, &nsigs) < 0) {
        fprintf(stderr, "finish: %s\n", dkim_signer_error(s));
        return 2;
    }
    fprintf(stderr, "describe: %s\n", dkim_signer_describe(s));
    for (i = 0; i < nsigs; i++) {
        printf("%s: ", sigs[i].name);
        out_crlf(stdout, sigs[i].value, strlen(sigs[i].value));
        fputs("\r\n", stdout);
    }
    fwrite(hdr_text, 1, hdr_len, stdout);
    fputs("\r\n", stdout);
    fwrite(body, 1, body_len, stdout);
    dkim_signer_free(&s);
    keyset_free(&ks);
    free(msg);
    free(body);
    free(hdr_text);
    return 0;
}
