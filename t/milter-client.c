/*
 * NAME
 *	milter-client - a milter protocol client for load tests and benchmarks
 * SYNOPSIS
 *	t/milter-client -s SOCKET [-n MESSAGES] [-c CONCURRENCY] [-M PER_CONN]
 *		[-d DAEMON_NAME] [-a CLIENT_IP] [-H HELO] [-f MAIL_FROM]
 *		[-r RCPT] [-l LOGIN] [-q QUEUE_ID] [-h 'Name: value']...
 *		[-b BODY | -B BYTES] [-t TIMEOUT] [-v]
 * DESCRIPTION
 *	Plays the MTA side of the milter protocol (version 6) against a
 *	daemon on SOCKET (unix:/path, local:/path or inet:PORT@HOST): option
 *	negotiation, connect, HELO, then per message MAIL, RCPT, DATA,
 *	headers, end of headers, body and end of message, then QUIT.  It
 *	honours what the filter negotiated: events the filter asked to skip
 *	(SMFIP_NO*) are not sent, events marked "no reply" (SMFIP_NR_*) are
 *	not waited for, and header values get a leading space unless
 *	SMFIP_HDR_LEADSPC was agreed.
 *
 *	MESSAGES messages (default 1) are sent over connections of PER_CONN
 *	messages each (default 1); CONCURRENCY threads (default 1) each run
 *	one connection at a time.  In -H, -f, -r, -l, -q and -h values "%n"
 *	becomes the message number (0 .. MESSAGES-1) and "%%" a percent sign,
 *	so every message can use its own DNS names and queue id.  Macros sent:
 *	{daemon_name} and j at connect, {auth_authen} (when -l) at MAIL, i
 *	(queue id) at end of message.
 *
 *	Every socket read and write has a TIMEOUT (seconds, default 30): a
 *	filter that never answers gives an "error" result, never a hang.
 *	On inet: sockets every packet goes out at once (TCP_NODELAY) and
 *	every reply is acknowledged at once (TCP_QUICKACK): otherwise Nagle's
 *	algorithm on either side waits for a delayed ACK, about 40 ms per
 *	message, and the numbers measure TCP instead of the filter.
 * OUTPUT
 *	With -v one line per message:
 *	    msg N action=ACTION ms=LATENCY mail_ms=M edits=K reply="TEXT"
 *	preceded by one line per header the filter adds, inserts or changes:
 *	    edit N ADD|INS|CHG Name: value
 *	(value cut at 400 bytes, CR, LF and TAB shown as spaces).
 *	ACTION is accept, continue, reject, tempfail, discard, quarantine or
 *	error (then reply= is the reason).  LATENCY runs from the start of the
 *	message (for the first message of a connection, from connect()) to
 *	the final answer; M is the same for the answer to MAIL.  Then one
 *	summary line:
 *	    messages=N accept=N continue=N reject=N tempfail=N discard=N
 *	    quarantine=N error=N elapsed=S msg/s=R lat_avg_ms=A lat_max_ms=M
 *	    mail_max_ms=L
 *	(L: the slowest answer to MAIL, which a filter that does no work
 *	before MAIL should give at once: a large L means sessions queued.)
 * DIAGNOSTICS
 *	Exit 0 when every message got a final answer, 1 when any ended in
 *	error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define MC_MAX_HEADERS 32
#define MC_MAX_FIELD 2048       /* one expanded template */
#define MC_MAX_PACKET (1 << 20) /* largest reply accepted */
#define MC_BODY_CHUNK 65535     /* libmilter's default chunk limit */
#define MC_THREAD_STACK (256 * 1024)
#define MC_SEND_COALESCE 16384 /* packets up to this size go in one write */

enum mc_action {
    MC_NONE,
    MC_ACCEPT,
    MC_CONTINUE,
    MC_REJECT,
    MC_TEMPFAIL,
    MC_DISCARD,
    MC_QUARANTINE,
    MC_ERROR,
    MC_NACTIONS
};

static const char *const mc_action_names[MC_NACTIONS] = {
    "none", "accept", "continue", "reject", "tempfail", "discard", "quarantine", "error"};

struct mc_options {
    const char *socket;
    unsigned long messages;
    unsigned long concurrency;
    unsigned long per_conn;
    const char *daemon_name;
    const char *client_ip;
    const char *helo;
    const char *mail_from;
    const char *rcpt;
    const char *login;
    const char *queue_id;
    const char *headers[MC_MAX_HEADERS];
    size_t nheaders;
    char *body;
    size_t body_len;
    int timeout;
    int verbose;
};

struct mc_result {
    enum mc_action action;
    unsigned edits;
    double ms;      /* start to final answer */
    double mail_ms; /* start to the answer to MAIL (0: none awaited) */
    double start;
    char reply[160];
};

/* one connection's state */
struct mc_conn {
    int fd;
    unsigned long pflags; /* SMFIP_* the filter agreed to */
    char pkt[MC_MAX_PACKET + 1];
    size_t pkt_len;
    char cmd;
};

static struct mc_options opt;
static struct mc_result *results;
static unsigned long next_conn;
static unsigned long nconns;
static pthread_mutex_t next_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* usage - print the synopsis and exit 2 */
static void usage(void)
{
    fprintf(stderr, "usage: milter-client -s SOCKET [-n MESSAGES] [-c CONCURRENCY] [-M PER_CONN]\n"
                    "       [-d DAEMON_NAME] [-a CLIENT_IP] [-H HELO] [-f MAIL_FROM] [-r RCPT]\n"
                    "       [-l LOGIN] [-q QUEUE_ID] [-h 'Name: value']... [-b BODY | -B BYTES]\n"
                    "       [-t TIMEOUT] [-v]\n");
    exit(2);
}

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* expand - a template with %n replaced by num; -1 when it does not fit */
static int expand(const char *tmpl, unsigned long num, char *buf, size_t size)
{
    size_t o = 0;

    for (; *tmpl; tmpl++) {
        char tmp[24];
        const char *add = tmp;

        if (tmpl[0] == '%' && tmpl[1] == 'n') {
            snprintf(tmp, sizeof(tmp), "%lu", num);
            tmpl++;
        } else if (tmpl[0] == '%' && tmpl[1] == '%') {
            tmp[0] = '%', tmp[1] = '\0';
            tmpl++;
        } else {
            tmp[0] = *tmpl, tmp[1] = '\0';
        }
        if (o + strlen(add) >= size)
            return -1;
        memcpy(buf + o, add, strlen(add));
        o += strlen(add);
    }
    buf[o] = '\0';
    return 0;
}

/* set_result - fill one message's result (first call wins) */
static void set_result(struct mc_result *r, enum mc_action action, const char *fmt, ...)
{
    va_list ap;

    if (r->action != MC_NONE)
        return;
    r->action = action;
    va_start(ap, fmt);
    vsnprintf(r->reply, sizeof(r->reply), fmt, ap);
    va_end(ap);
}

/* write_all - write len bytes; -1 on error or timeout */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* read_all - read exactly len bytes; -1 on error, timeout or EOF */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* send_cmd - one packet: length, command byte, data */
static int send_cmd(struct mc_conn *c, char cmd, const void *data, size_t len)
{
    unsigned char buf[5 + MC_SEND_COALESCE];
    uint32_t n = htonl((uint32_t)len + 1);

    memcpy(buf, &n, 4);
    buf[4] = (unsigned char)cmd;
    if (len <= MC_SEND_COALESCE) {
        /* one write per packet: no Nagle wait between head and data */
        if (len)
            memcpy(buf + 5, data, len);
        return write_all(c->fd, buf, 5 + len);
    }
    if (write_all(c->fd, buf, 5) < 0)
        return -1;
    return write_all(c->fd, data, len);
}

/* read_reply - one packet into c->cmd, c->pkt (NUL-terminated), c->pkt_len */
static int read_reply(struct mc_conn *c)
{
    uint32_t n;
    int one = 1;

    if (read_all(c->fd, &n, 4) < 0)
        return -1;
    /* libmilter writes each reply packet (edits, then the answer) with its
     * own write and no TCP_NODELAY: ACK at once so Nagle there does not
     * hold the next packet for our delayed ACK (~40 ms per message);
     * Linux clears TCP_QUICKACK by itself, hence once per packet */
    if (strncmp(opt.socket, "inet:", 5) == 0)
        setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    n = ntohl(n);
    if (n < 1 || n > MC_MAX_PACKET)
        return -1;
    if (read_all(c->fd, &c->cmd, 1) < 0)
        return -1;
    c->pkt_len = n - 1;
    if (c->pkt_len && read_all(c->fd, c->pkt, c->pkt_len) < 0)
        return -1;
    c->pkt[c->pkt_len] = '\0';
    return 0;
}

/* pack - NUL-terminated strings (NULL ends the list) into buf; length or -1 */
static long pack(char *buf, size_t size, ...)
{
    va_list ap;
    const char *s;
    size_t o = 0;

    va_start(ap, size);
    while ((s = va_arg(ap, const char *)) != NULL) {
        size_t len = strlen(s) + 1;

        if (o + len > size) {
            va_end(ap);
            return -1;
        }
        memcpy(buf + o, s, len);
        o += len;
    }
    va_end(ap);
    return (long)o;
}

/* send_macros - one D packet for command cmd: name/value pairs, NULL-ended
 * (a later D packet for the same command replaces the whole set) */
static int send_macros(struct mc_conn *c, char cmd, ...)
{
    char buf[MC_MAX_FIELD * 4 + 8];
    const char *s;
    size_t o = 1;
    va_list ap;

    buf[0] = cmd;
    va_start(ap, cmd);
    while ((s = va_arg(ap, const char *)) != NULL) {
        size_t len = strlen(s) + 1;

        if (o + len > sizeof(buf)) {
            va_end(ap);
            return -1;
        }
        memcpy(buf + o, s, len);
        o += len;
    }
    va_end(ap);
    return send_cmd(c, SMFIC_MACRO, buf, o);
}

/* classify - the action of a final reply, MC_NONE for continue-like ones */
static enum mc_action classify(const struct mc_conn *c)
{
    switch (c->cmd) {
    case SMFIR_ACCEPT:
        return MC_ACCEPT;
    case SMFIR_REJECT:
        return MC_REJECT;
    case SMFIR_TEMPFAIL:
        return MC_TEMPFAIL;
    case SMFIR_DISCARD:
        return MC_DISCARD;
    case SMFIR_REPLYCODE:
        return c->pkt[0] == '4' ? MC_TEMPFAIL : c->pkt[0] == '5' ? MC_REJECT : MC_ERROR;
    default:
        return MC_NONE;
    }
}

/* step - send one event and, unless "no reply" was agreed, wait for it:
 * 0 continue, 1 the message got its final answer (in r), -1 error (in r) */
static int step(struct mc_conn *c, struct mc_result *r, const char *what, char cmd,
                const void *data, size_t len, unsigned long nr_flag)
{
    enum mc_action a;

    errno = 0;
    if (send_cmd(c, cmd, data, len) < 0) {
        set_result(r, MC_ERROR, "write %s: %s", what, errno ? strerror(errno) : "failed");
        return -1;
    }
    if (nr_flag && (c->pflags & nr_flag))
        return 0;
    errno = 0;
    if (read_reply(c) < 0) {
        set_result(r, MC_ERROR, "no reply to %s: %s", what,
                   errno == EAGAIN ? "timeout"
                   : errno         ? strerror(errno)
                                   : "closed");
        return -1;
    }
    if (c->cmd == SMFIR_CONTINUE || c->cmd == SMFIR_SKIP)
        return 0;
    if ((a = classify(c)) == MC_NONE || a == MC_ERROR) {
        set_result(r, MC_ERROR, "unexpected reply '%c' to %s", c->cmd, what);
        return -1;
    }
    set_result(r, a, "%.150s", c->cmd == SMFIR_REPLYCODE ? c->pkt : "");
    return 1;
}

/* print_edit - with -v, one line per header edit of message num:
 *	edit N ADD|INS|CHG Name: value
 * (the value cut at 400 bytes, CR/LF/TAB shown as spaces) */
static void print_edit(const struct mc_conn *c, unsigned long num)
{
    const char *p = c->pkt, *end = c->pkt + c->pkt_len, *kind;
    char value[401];
    size_t i, vlen;

    if (c->cmd == SMFIR_ADDHEADER) {
        kind = "ADD";
    } else {
        kind = c->cmd == SMFIR_INSHEADER ? "INS" : "CHG";
        if (c->pkt_len < 4)
            return;
        p += 4; /* header index */
    }
    vlen = strnlen(p, (size_t)(end - p));
    if (p + vlen >= end)
        return;
    for (i = 0; i < sizeof(value) - 1 && p + vlen + 1 + i < end && p[vlen + 1 + i]; i++) {
        char ch = p[vlen + 1 + i];

        value[i] = ch == '\r' || ch == '\n' || ch == '\t' ? ' ' : ch;
    }
    value[i] = '\0';
    pthread_mutex_lock(&out_lock);
    printf("edit %lu %s %s: %s\n", num, kind, p, value);
    pthread_mutex_unlock(&out_lock);
}

/* end_of_message - send E and read edits until the final answer */
static int end_of_message(struct mc_conn *c, struct mc_result *r)
{
    int quarantined = 0;

    if (send_cmd(c, SMFIC_BODYEOB, NULL, 0) < 0) {
        set_result(r, MC_ERROR, "write end of message failed");
        return -1;
    }
    for (;;) {
        enum mc_action a;

        errno = 0;
        if (read_reply(c) < 0) {
            set_result(r, MC_ERROR, "no reply to end of message: %s",
                       errno == EAGAIN ? "timeout"
                       : errno         ? strerror(errno)
                                       : "closed");
            return -1;
        }
        switch (c->cmd) {
        case SMFIR_PROGRESS:
            continue;
        case SMFIR_QUARANTINE:
            quarantined = 1;
            r->edits++;
            continue;
        case SMFIR_ADDHEADER:
        case SMFIR_INSHEADER:
        case SMFIR_CHGHEADER:
            if (opt.verbose)
                print_edit(c, (unsigned long)(r - results));
            r->edits++;
            continue;
        case SMFIR_ADDRCPT:
        case SMFIR_DELRCPT:
        case SMFIR_ADDRCPT_PAR:
        case SMFIR_CHGFROM:
        case SMFIR_REPLBODY:
            r->edits++;
            continue;
        case SMFIR_CONTINUE:
            set_result(r, quarantined ? MC_QUARANTINE : MC_CONTINUE, "");
            return 1;
        default:
            break;
        }
        if ((a = classify(c)) == MC_NONE || a == MC_ERROR) {
            set_result(r, MC_ERROR, "unexpected reply '%c' to end of message", c->cmd);
            return -1;
        }
        if (a == MC_ACCEPT && quarantined)
            a = MC_QUARANTINE;
        set_result(r, a, "%.150s", c->cmd == SMFIR_REPLYCODE ? c->pkt : "");
        return 1;
    }
}

/* connect_socket - a connected socket with read/write timeouts, or -1 */
static int connect_socket(const char *spec, int timeout)
{
    struct timeval tv = {timeout, 0};
    int fd, one = 1;

    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        const char *path = strchr(spec, ':') + 1;
        struct sockaddr_un sun;

        if (strlen(path) >= sizeof(sun.sun_path))
            return -1;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, path, strlen(path) + 1);
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
            return fd;
    } else if (strncmp(spec, "inet:", 5) == 0) {
        struct sockaddr_in sin;
        const char *at = strchr(spec, '@');
        char *end;
        unsigned long port = strtoul(spec + 5, &end, 10);

        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)port);
        if (port == 0 || port > 65535 || (at && end != at) ||
            inet_pton(AF_INET, at ? at + 1 : "127.0.0.1", &sin.sin_addr) != 1)
            return -1;
        if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        /* macros and command are two packets: without this, Nagle holds
         * the second until the delayed ACK of the first (~40 ms) */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
            return fd;
    } else {
        return -1;
    }
    close(fd);
    return -1;
}

/* negotiate - offer everything, remember what the filter agreed to */
static int negotiate(struct mc_conn *c, struct mc_result *r)
{
    uint32_t o[3] = {htonl(6), htonl(SMFI_CURR_ACTS),
                     htonl(SMFI_CURR_PROT | SMFIP_MDS_256K | SMFIP_MDS_1M)};
    uint32_t v;

    if (send_cmd(c, SMFIC_OPTNEG, o, sizeof(o)) < 0 || read_reply(c) < 0) {
        set_result(r, MC_ERROR, "option negotiation: no answer");
        return -1;
    }
    if (c->cmd != SMFIC_OPTNEG || c->pkt_len < 12) {
        set_result(r, MC_ERROR, "option negotiation: bad answer '%c'", c->cmd);
        return -1;
    }
    memcpy(&v, c->pkt + 8, 4);
    c->pflags = ntohl(v);
    return 0;
}

/* send_connect - macros, connect and HELO; 0, 1 (final answer) or -1 */
static int send_connect(struct mc_conn *c, struct mc_result *r, unsigned long num)
{
    char buf[MC_MAX_FIELD * 2 + 16], helo[MC_MAX_FIELD];
    unsigned char a6[16];
    long len;
    int rc;

    if (send_macros(c, SMFIC_CONNECT, "{daemon_name}", opt.daemon_name, "j", "mx.test.example",
                    (const char *)NULL) < 0) {
        set_result(r, MC_ERROR, "write connect macros failed");
        return -1;
    }
    if (!(c->pflags & SMFIP_NOCONNECT)) {
        uint16_t port = htons(25);
        char fam = inet_pton(AF_INET6, opt.client_ip, a6) == 1 ? SMFIA_INET6 : SMFIA_INET;

        len = pack(buf, sizeof(buf), "client.test.example", (const char *)NULL);
        buf[len++] = fam;
        memcpy(buf + len, &port, 2);
        len += 2;
        len += pack(buf + len, sizeof(buf) - (size_t)len, opt.client_ip, (const char *)NULL);
        if ((rc = step(c, r, "connect", SMFIC_CONNECT, buf, (size_t)len, SMFIP_NR_CONN)) != 0)
            return rc;
    }
    if (!(c->pflags & SMFIP_NOHELO)) {
        if (expand(opt.helo, num, helo, sizeof(helo)) < 0) {
            set_result(r, MC_ERROR, "HELO too long");
            return -1;
        }
        if ((rc = step(c, r, "HELO", SMFIC_HELO, helo, strlen(helo) + 1, SMFIP_NR_HELO)) != 0)
            return rc;
    }
    return 0;
}

/* send_headers - every -h header; 0, 1 or -1 like step() */
static int send_headers(struct mc_conn *c, struct mc_result *r, unsigned long num)
{
    char field[MC_MAX_FIELD], buf[MC_MAX_FIELD + 8];
    size_t i;
    int rc;

    for (i = 0; i < opt.nheaders && !(c->pflags & SMFIP_NOHDRS); i++) {
        char *colon;
        size_t nlen;
        const char *value;

        if (expand(opt.headers[i], num, field, sizeof(field)) < 0 ||
            (colon = strchr(field, ':')) == NULL) {
            set_result(r, MC_ERROR, "bad header template %s", opt.headers[i]);
            return -1;
        }
        nlen = (size_t)(colon - field);
        value = colon + 1;
        if (!(c->pflags & SMFIP_HDR_LEADSPC))
            value += strspn(value, " \t");
        memcpy(buf, field, nlen);
        buf[nlen] = '\0';
        memcpy(buf + nlen + 1, value, strlen(value) + 1);
        rc = step(c, r, "header", SMFIC_HEADER, buf, nlen + 1 + strlen(value) + 1, SMFIP_NR_HDR);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* send_body - the body in chunks, then end of message */
static int send_body(struct mc_conn *c, struct mc_result *r)
{
    size_t off;
    int rc;

    for (off = 0; off < opt.body_len && !(c->pflags & SMFIP_NOBODY); off += MC_BODY_CHUNK) {
        size_t len = opt.body_len - off < MC_BODY_CHUNK ? opt.body_len - off : MC_BODY_CHUNK;

        if ((rc = step(c, r, "body", SMFIC_BODY, opt.body + off, len, SMFIP_NR_BODY)) != 0)
            return rc;
        if (c->cmd == SMFIR_SKIP && !(c->pflags & SMFIP_NR_BODY))
            break;
    }
    return end_of_message(c, r);
}

/* send_message - one transaction MAIL .. end of message; -1 when the
 * connection cannot go on */
static int send_message(struct mc_conn *c, struct mc_result *r, unsigned long num)
{
    char from[MC_MAX_FIELD], rcpt[MC_MAX_FIELD], qid[MC_MAX_FIELD], login[MC_MAX_FIELD];
    int rc;

    if (expand(opt.mail_from, num, from, sizeof(from)) < 0 ||
        expand(opt.rcpt, num, rcpt, sizeof(rcpt)) < 0 ||
        expand(opt.queue_id, num, qid, sizeof(qid)) < 0 ||
        expand(opt.login ? opt.login : "", num, login, sizeof(login)) < 0) {
        set_result(r, MC_ERROR, "template too long");
        return -1;
    }
    if (send_macros(c, SMFIC_MAIL, "i", qid, *login ? "{auth_authen}" : (const char *)NULL, login,
                    (const char *)NULL) < 0) {
        set_result(r, MC_ERROR, "write MAIL macros failed");
        return -1;
    }
    if (!(c->pflags & SMFIP_NOMAIL) &&
        (rc = step(c, r, "MAIL", SMFIC_MAIL, from, strlen(from) + 1, SMFIP_NR_MAIL)) != 0)
        return rc > 0 ? 0 : -1;
    if (!(c->pflags & (SMFIP_NOMAIL | SMFIP_NR_MAIL)))
        r->mail_ms = now_ms() - r->start;
    if (!(c->pflags & SMFIP_NORCPT) &&
        (rc = step(c, r, "RCPT", SMFIC_RCPT, rcpt, strlen(rcpt) + 1, SMFIP_NR_RCPT)) != 0)
        return rc > 0 ? 0 : -1;
    if (!(c->pflags & SMFIP_NODATA) &&
        (rc = step(c, r, "DATA", SMFIC_DATA, NULL, 0, SMFIP_NR_DATA)) != 0)
        return rc > 0 ? 0 : -1;
    if ((rc = send_headers(c, r, num)) != 0)
        return rc > 0 ? 0 : -1;
    if (!(c->pflags & SMFIP_NOEOH) &&
        (rc = step(c, r, "end of headers", SMFIC_EOH, NULL, 0, SMFIP_NR_EOH)) != 0)
        return rc > 0 ? 0 : -1;
    if (send_macros(c, SMFIC_BODYEOB, "i", qid, (const char *)NULL) < 0) {
        set_result(r, MC_ERROR, "write end-of-message macros failed");
        return -1;
    }
    return send_body(c, r) < 0 ? -1 : 0;
}

/* run_connection - connection number k: its messages, then QUIT */
static void run_connection(struct mc_conn *c, unsigned long k)
{
    unsigned long first = k * opt.per_conn, num;
    unsigned long last = first + opt.per_conn < opt.messages ? first + opt.per_conn : opt.messages;
    double t0 = now_ms();
    int rc = 0;

    c->fd = connect_socket(opt.socket, opt.timeout);
    if (c->fd < 0)
        set_result(&results[first], MC_ERROR, "connect %s: %s", opt.socket, strerror(errno));
    else if (negotiate(c, &results[first]) < 0 ||
             (rc = send_connect(c, &results[first], first)) < 0)
        rc = -1;
    for (num = first; num < last; num++) {
        struct mc_result *r = &results[num];

        if (num > first)
            t0 = now_ms();
        r->start = t0;
        if (c->fd < 0 || rc < 0)
            set_result(r, MC_ERROR, "connection failed before this message");
        else if (rc > 0)
            set_result(r, results[first].action, "%s", results[first].reply);
        else if (send_message(c, r, num) < 0)
            rc = -1;
        r->ms = now_ms() - t0;
        if (opt.verbose) {
            pthread_mutex_lock(&out_lock);
            printf("msg %lu action=%s ms=%.0f mail_ms=%.0f edits=%u reply=\"%s\"\n", num,
                   mc_action_names[r->action], r->ms, r->mail_ms, r->edits, r->reply);
            pthread_mutex_unlock(&out_lock);
        }
    }
    if (c->fd >= 0) {
        if (rc >= 0)
            send_cmd(c, SMFIC_QUIT, NULL, 0);
        close(c->fd);
    }
}

/* worker - take connections until none are left */
static void *worker(void *arg)
{
    struct mc_conn *c = malloc(sizeof(*c));

    (void)arg;
    if (c == NULL)
        return NULL;
    for (;;) {
        unsigned long k;

        pthread_mutex_lock(&next_lock);
        k = next_conn++;
        pthread_mutex_unlock(&next_lock);
        if (k >= nconns)
            break;
        run_connection(c, k);
    }
    free(c);
    return NULL;
}

/* number - a positive decimal option value */
static unsigned long number(const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v == 0 || v > 10000000)
        usage();
    return v;
}

/* make_body - -B: BYTES of 76-character text lines */
static void make_body(size_t bytes)
{
    size_t i;

    if ((opt.body = malloc(bytes + 1)) == NULL)
        exit(1);
    for (i = 0; i < bytes; i++)
        opt.body[i] = i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : (char)('a' + i % 26);
    opt.body[bytes] = '\0';
    opt.body_len = bytes;
}

/* parse_options - fill opt from argv */
static void parse_options(int argc, char **argv)
{
    int ch;

    opt = (struct mc_options){.messages = 1,
                              .concurrency = 1,
                              .per_conn = 1,
                              .daemon_name = "smtpd",
                              .client_ip = "192.0.2.10",
                              .helo = "client.test.example",
                              .mail_from = "<sender@test.example>",
                              .rcpt = "<rcpt@test.example>",
                              .queue_id = "Q%n",
                              .timeout = 30};
    while ((ch = getopt(argc, argv, "s:n:c:M:d:a:H:f:r:l:q:h:b:B:t:v")) != -1) {
        switch (ch) {
        case 's':
            opt.socket = optarg;
            break;
        case 'n':
            opt.messages = number(optarg);
            break;
        case 'c':
            opt.concurrency = number(optarg);
            break;
        case 'M':
            opt.per_conn = number(optarg);
            break;
        case 'd':
            opt.daemon_name = optarg;
            break;
        case 'a':
            opt.client_ip = optarg;
            break;
        case 'H':
            opt.helo = optarg;
            break;
        case 'f':
            opt.mail_from = optarg;
            break;
        case 'r':
            opt.rcpt = optarg;
            break;
        case 'l':
            opt.login = optarg;
            break;
        case 'q':
            opt.queue_id = optarg;
            break;
        case 'h':
            if (opt.nheaders == MC_MAX_HEADERS || strchr(optarg, ':') == NULL)
                usage();
            opt.headers[opt.nheaders++] = optarg;
            break;
        case 'b':
            free(opt.body);
            opt.body = strdup(optarg);
            opt.body_len = strlen(optarg);
            break;
        case 'B':
            free(opt.body);
            make_body(number(optarg));
            break;
        case 't':
            opt.timeout = (int)number(optarg);
            break;
        case 'v':
            opt.verbose = 1;
            break;
        default:
            usage();
        }
    }
    if (opt.socket == NULL || optind != argc || opt.concurrency > 5000)
        usage();
    if (opt.body == NULL) {
        opt.body = strdup("hello\r\n");
        opt.body_len = strlen(opt.body);
    }
}

int main(int argc, char **argv)
{
    unsigned long counts[MC_NACTIONS] = {0}, i;
    pthread_t *tids;
    pthread_attr_t attr;
    double t0, elapsed, lat_sum = 0, lat_max = 0, mail_max = 0;
    unsigned long nthreads;

    parse_options(argc, argv);
    nconns = (opt.messages + opt.per_conn - 1) / opt.per_conn;
    nthreads = opt.concurrency < nconns ? opt.concurrency : nconns;
    results = calloc(opt.messages, sizeof(*results));
    tids = calloc(nthreads, sizeof(*tids));
    if (results == NULL || tids == NULL)
        return 1;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, MC_THREAD_STACK);
    t0 = now_ms();
    for (i = 0; i < nthreads; i++)
        if (pthread_create(&tids[i], &attr, worker, NULL) != 0) {
            fprintf(stderr, "milter-client: cannot start thread %lu\n", i);
            return 1;
        }
    for (i = 0; i < nthreads; i++)
        pthread_join(tids[i], NULL);
    elapsed = (now_ms() - t0) / 1000.0;
    for (i = 0; i < opt.messages; i++) {
        counts[results[i].action]++;
        lat_sum += results[i].ms;
        if (results[i].ms > lat_max)
            lat_max = results[i].ms;
        if (results[i].mail_ms > mail_max)
            mail_max = results[i].mail_ms;
    }
    printf("messages=%lu accept=%lu continue=%lu reject=%lu tempfail=%lu discard=%lu "
           "quarantine=%lu error=%lu elapsed=%.3f msg/s=%.1f lat_avg_ms=%.0f lat_max_ms=%.0f "
           "mail_max_ms=%.0f\n",
           opt.messages, counts[MC_ACCEPT], counts[MC_CONTINUE], counts[MC_REJECT],
           counts[MC_TEMPFAIL], counts[MC_DISCARD], counts[MC_QUARANTINE],
           counts[MC_ERROR] + counts[MC_NONE], elapsed,
           elapsed > 0 ? (double)opt.messages / elapsed : 0.0, lat_sum / (double)opt.messages,
           lat_max, mail_max);
    free(results);
    free(tids);
    free(opt.body);
    return counts[MC_ERROR] + counts[MC_NONE] ? 1 : 0;
}
