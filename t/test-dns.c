/*
 * NAME
 *	test-dns - unit tests of the DNS layer
 * DESCRIPTION
 *	Zone file parsing (every error as file:line), NXDOMAIN vs NODATA,
 *	multi-string TXT, SOA authority, CNAMEs, the failure directives, the
 *	deadline against a loopback server that never answers, and 200
 *	threads at once against a slow loopback server (answers, fd count,
 *	nothing left behind).  No traffic leaves 127.0.0.1.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-dns.XXXXXX";

/* write_file - a file in the temporary directory with this content */
static const char *write_file(const char *name, const char *content)
{
    static char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    if ((fp = fopen(path, "w")) == NULL || fputs(content, fp) < 0 || fclose(fp) != 0) {
        perror(path);
        exit(2);
    }
    return path;
}

/* count_fds - open descriptors of this process */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR itself */
}

/* elapsed_ms - milliseconds since a CLOCK_MONOTONIC start */
static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* deadline_in - an absolute deadline ms from now */
static void deadline_in(struct timespec *d, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, d);
    d->tv_sec += ms / 1000;
    d->tv_nsec += (ms % 1000) * 1000000L;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
}

static const struct {
    const char *content;
    int line;
    const char *reason;
} bad_zones[] = {
    {"a.example. 300 IN TXT \"x\"\nb.example. 300 IN A 1.2.3\n", 2, "bad IPv4 address"},
    {"a.example 300 IN TXT \"x\"\n", 1, "not fully qualified"},
    {"\n\na.example. 300 IN FOO bar\n", 3, "unknown or unsupported record type"},
    {"a.example. 300 IN TXT \"unterminated\n", 1, "unterminated quoted string"},
    {"a.example. 300 IN SOA ( ns.example. host.example. 1 2 3 4 5 )\n", 1, "parentheses"},
    {"a.example. 300 CH TXT \"x\"\n", 1, "only class IN"},
    {"a.example. 300 IN AAAA 1.2.3.4\n", 1, "bad IPv6 address"},
    {"a.example. 300 IN MX mail.example.\n", 1, "MX needs a preference and a name"},
    {"a.example. 300 IN MX 70000 mail.example.\n", 1, "bad MX preference"},
    {"a.example. 300 IN MX 10 mail.example\n", 1, "not fully qualified"},
    {"a.example. 300 IN A 1.2.3.4 5.6.7.8\n", 1, "trailing garbage"},
    {"a.example. 300 IN TXT\n", 1, "missing text"},
    {"a.example. 300 IN\n", 1, "missing type"},
    {"a.example. IN CNAME b.example.\na.example. IN A 1.2.3.4\n", 2, "CNAME and other data"},
    {"a.example. IN CNAME b.example.\na.example. IN CNAME c.example.\n", 2, "more than one CNAME"},
    {"a.example. IN SOA ns.example. h.example. 1 2 3\n", 1, "SOA needs"},
    {"a.example. IN TXT \"\\25x\"\n", 1, "bad \\DDD escape"},
    {"a.example. IN TXT \"\\300\"\n", 1, "above 255"},
    {"a..example. IN A 1.2.3.4\n", 1, "empty label"},
    {"a12345678901234567890123456789012345678901234567890123456789012345.example. IN A 1.2.3.4\n",
     1, "label longer than 63"},
    {"$ORIGIN example.\n", 1, "unsupported directive"},
    {"$TTL x\n", 1, "bad $TTL"},
    {";! TIMEOUT\n", 1, "bad directive"},
    {";! SLOW a.example.\n", 1, "bad directive"},
    {"   IN A 1.2.3.4\n", 1, "missing owner name"},
    {"a.example. IN TXT \"ab\"cd\n", 1, "text after a closing quote"},
};

/* test_bad_zones - every parse error names file and line */
static void test_bad_zones(void)
{
    struct dns_options opt = {0};
    struct dns_resolver *r;
    char *err, want[600];
    size_t i;

    for (i = 0; i < sizeof(bad_zones) / sizeof(bad_zones[0]); i++) {
        opt.zone_file = write_file("bad.zone", bad_zones[i].content);
        r = dns_resolver_new(&opt, &err);
        snprintf(want, sizeof(want), "%s:%d: ", opt.zone_file, bad_zones[i].line);
        tap_ok(r == NULL && err && strncmp(err, want, strlen(want)) == 0 &&
                   strstr(err, bad_zones[i].reason) != NULL,
               "bad zone %zu: \"%s\" (got \"%s\")", i, bad_zones[i].reason, err ? err : "NULL");
        free(err);
        dns_resolver_free(&r);
    }
    opt.zone_file = "/nonexistent/zone";
    r = dns_resolver_new(&opt, &err);
    tap_ok(r == NULL && err && strstr(err, "/nonexistent/zone: ") == err, "missing zone file: %s",
           err ? err : "NULL");
    free(err);
}

static const char good_zone[] =
    "; a comment line\n"
    "$TTL 600\n"
    "example.com. 300 IN TXT \"v=spf1 \" \"-all\"\n"
    "example.com. IN TXT \"second rr\"\n"
    "example.com. 300 IN A 192.0.2.1\n"
    "example.com. IN MX 10 mail.example.com.\n"
    "Mail.Example.COM. 300 IN AAAA 2001:db8::1 ; trailing comment\n"
    "odd.example.com. TXT \"a\\\"b\\\\c\\000d;e\" bare\n"
    "sp\\032ace.example.com. TXT \"spaced\"\n"
    "alias.example.com. CNAME example.com.\n"
    "zone.test. 300 IN SOA ns.zone.test. hostmaster.zone.test. 1 3600 600 86400 60\n"
    "a.b.zone.test. 300 IN A 192.0.2.9\n"
    "1.2.0.192.in-addr.arpa. PTR host.zone.test.\n"
    "foo.invalid. TXT \"file wins\"\n"
    ";! TIMEOUT slow.zone.test.\n"
    "slow.zone.test. TXT \"present\"\n"
    ";! SERVFAIL broken.zone.test.\n";

/* test_zone_answers - the file's answers and the three outcomes */
static void test_zone_answers(void)
{
    struct dns_options opt = {0};
    struct dns_resolver *r;
    struct dns_answer ans;
    struct timespec d;
    char *err = NULL;
    static const char *const ns[] = {"127.0.0.1@9", NULL};

    opt.zone_file = write_file("good.zone", good_zone);
    opt.nameservers = ns; /* discard port: nothing may leave the file here */
    opt.timeout_ms = 300;
    r = dns_resolver_new(&opt, &err);
    tap_ok(r != NULL, "good zone loads (%s)", err ? err : "ok");
    free(err);
    if (r == NULL)
        return;
    deadline_in(&d, 300);

    tap_is_int(dns_query(r, "example.com", DNS_T_TXT, &d, &ans), DNS_OK, "TXT answer");
    tap_is_int((long)ans.count, 2, "two TXT RRs kept apart");
    tap_is_str(ans.count ? ans.rr[0].data : "", "v=spf1 -all", "strings of one RR concatenate");
    tap_is_str(ans.count > 1 ? ans.rr[1].data : "", "second rr", "second RR");
    tap_ok(ans.local && ans.rr[0].ttl == 300 && ans.count > 1 && ans.rr[1].ttl == 600,
           "TTLs: explicit 300, $TTL 600");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "EXAMPLE.com.", DNS_T_MX, &d, &ans), DNS_OK, "MX, case-insensitive");
    tap_ok(ans.count == 1 && ans.rr[0].pref == 10 &&
               strcmp(ans.rr[0].data, "mail.example.com") == 0,
           "MX pref and exchange");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "mail.example.com", DNS_T_AAAA, &d, &ans), DNS_OK, "AAAA answer");
    tap_ok(ans.count == 1 && ans.rr[0].addr[0] == 0x20 && ans.rr[0].addr[15] == 1, "AAAA bytes");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "odd.example.com", DNS_T_TXT, &d, &ans), DNS_OK, "odd TXT");
    tap_ok(ans.count == 1 && ans.rr[0].len == 13 &&
               memcmp(ans.rr[0].data, "a\"b\\c\0d;ebare", 14) == 0,
           "escapes, NUL byte and ';' inside quotes kept (len %zu)", ans.count ? ans.rr[0].len : 0);
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "sp ace.example.com", DNS_T_TXT, &d, &ans), DNS_OK,
               "owner with \\032 matches a name with a space");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "alias.example.com", DNS_T_A, &d, &ans), DNS_OK, "CNAME followed");
    tap_ok(ans.count == 1 && ans.rr[0].addr[3] == 1, "CNAME target's A");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "mail.example.com", DNS_T_TXT, &d, &ans), DNS_NODATA,
               "name with data, other type: NODATA");
    tap_ok(ans.count == 0 && ans.local, "NODATA has no records, local");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "nothere.zone.test", DNS_T_A, &d, &ans), DNS_NXDOMAIN,
               "under SOA, missing: NXDOMAIN");
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "b.zone.test", DNS_T_A, &d, &ans), DNS_NODATA,
               "empty non-terminal under SOA: NODATA");
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "zone.test", DNS_T_TXT, &d, &ans), DNS_NODATA, "zone apex: NODATA");
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "1.2.0.192.in-addr.arpa", DNS_T_PTR, &d, &ans), DNS_OK,
               "PTR in a TEST-NET reverse zone: the file wins");
    tap_ok(ans.count == 1 && strcmp(ans.rr[0].data, "host.zone.test") == 0, "PTR target");
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "foo.invalid", DNS_T_TXT, &d, &ans), DNS_OK,
               "invalid. data: the file wins over libunbound");
    dns_answer_clear(&ans);

    tap_is_int(dns_query(r, "slow.zone.test", DNS_T_TXT, &d, &ans), DNS_OK,
               "TIMEOUT name still answers a type it has");
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "slow.zone.test", DNS_T_A, &d, &ans), DNS_FAIL,
               "TIMEOUT name fails other types");
    tap_ok(strstr(ans.reason, "timed out") != NULL, "reason: %s", ans.reason);
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "broken.zone.test", DNS_T_A, &d, &ans), DNS_FAIL, "SERVFAIL name");
    tap_ok(strstr(ans.reason, "SERVFAIL") != NULL, "reason: %s", ans.reason);
    dns_answer_clear(&ans);
    tap_is_int(dns_query(r, "a..b", DNS_T_A, &d, &ans), DNS_NXDOMAIN,
               "a name DNS cannot carry is NXDOMAIN");
    dns_answer_clear(&ans);
    dns_resolver_free(&r);
    tap_ok(r == NULL, "free sets the pointer to NULL");
}

/* A loopback DNS server: answers A queries with 192.0.2.<qname length> after a delay. */
struct server {
    int fd;
    int port;
    long delay_ms; /* < 0: never answer */
    int stop;
    pthread_t thread;
    long queries;
};

struct due {
    struct timespec when;
    struct sockaddr_in peer;
    unsigned char buf[512];
    size_t len;
};

/* build_reply - turn a query into an answer in place; 0 on a bad query */
static size_t build_reply(unsigned char *b, size_t len)
{
    size_t off = 12, qend, namelen = 0;
    int qtype;

    if (len < 17)
        return 0;
    while (off < len && b[off] != 0) {
        namelen += b[off] + 1u;
        off += b[off] + 1u;
    }
    if (off + 5 > len)
        return 0;
    qend = off + 5;
    qtype = b[off + 1] << 8 | b[off + 2];
    b[2] = 0x81;                     /* QR, RD */
    b[3] = 0x80;                     /* RA, NOERROR */
    b[6] = 0, b[7] = qtype == 1;     /* ANCOUNT */
    b[8] = b[9] = b[10] = b[11] = 0; /* no authority, no additional (drops EDNS) */
    if (qtype != 1)
        return qend;
    if (qend + 16 > 512)
        return 0;
    memcpy(b + qend, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02", 15);
    b[qend + 15] = (unsigned char)namelen;
    return qend + 16;
}

/* server_main - receive queries, answer each after the delay (or never) */
static void *server_main(void *arg)
{
    struct server *s = arg;
    static struct due q[4096];
    size_t nq = 0, i;
    struct pollfd pfd;
    socklen_t sl;
    ssize_t n;
    struct timespec now;
    long wait;

    pfd.fd = s->fd;
    pfd.events = POLLIN;
    while (!s->stop) {
        wait = 50;
        if (s->delay_ms < 0) {
            poll(NULL, 0, 50); /* never read: queries pile up in the socket */
            continue;
        }
        if (poll(&pfd, 1, nq ? 5 : wait) > 0 && nq < 4096) {
            sl = sizeof(q[nq].peer);
            n = recvfrom(s->fd, q[nq].buf, sizeof(q[nq].buf), 0, (struct sockaddr *)&q[nq].peer,
                         &sl);
            if (n > 0) {
                s->queries++;
                q[nq].len = (size_t)n;
                clock_gettime(CLOCK_MONOTONIC, &q[nq].when);
                q[nq].when.tv_nsec += s->delay_ms * 1000000L;
                while (q[nq].when.tv_nsec >= 1000000000L) {
                    q[nq].when.tv_sec++;
                    q[nq].when.tv_nsec -= 1000000000L;
                }
                nq++;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (i = 0; i < nq;) {
            if (now.tv_sec > q[i].when.tv_sec ||
                (now.tv_sec == q[i].when.tv_sec && now.tv_nsec >= q[i].when.tv_nsec)) {
                size_t rl = build_reply(q[i].buf, q[i].len);
                if (rl)
                    sendto(s->fd, q[i].buf, rl, 0, (struct sockaddr *)&q[i].peer,
                           sizeof(q[i].peer));
                q[i] = q[--nq];
            } else {
                i++;
            }
        }
    }
    return NULL;
}

/* server_start - bind 127.0.0.1:0 and run the server thread */
static void server_start(struct server *s, long delay_ms)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    memset(s, 0, sizeof(*s));
    s->delay_ms = delay_ms;
    s->fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("server socket");
        exit(2);
    }
    s->port = ntohs(sa.sin_port);
    pthread_create(&s->thread, NULL, server_main, s);
}

/* server_stop - stop the thread, close the socket */
static void server_stop(struct server *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    close(s->fd);
}

struct worker {
    struct dns_resolver *r;
    char name[64];
    long timeout_ms;
    enum dns_status status;
    int addr_ok;
    long took_ms;
};

/* worker_main - one lookup with its own deadline */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct dns_answer ans;
    struct timespec start, d;

    clock_gettime(CLOCK_MONOTONIC, &start);
    deadline_in(&d, w->timeout_ms);
    w->status = dns_query(w->r, w->name, DNS_T_A, &d, &ans);
    w->took_ms = elapsed_ms(&start);
    w->addr_ok = ans.count == 1 && ans.rr[0].addr[0] == 192 &&
                 ans.rr[0].addr[3] == (unsigned char)(strlen(w->name) + 1);
    dns_answer_clear(&ans);
    return NULL;
}

#define NTHREADS 200

/* run_threads - NTHREADS lookups at once; returns how many met want */
static int run_threads(struct dns_resolver *r, const char *tag, long timeout_ms,
                       enum dns_status want, long *max_ms)
{
    static struct worker w[NTHREADS];
    pthread_t th[NTHREADS];
    int i, good = 0;

    *max_ms = 0;
    for (i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].r = r;
        w[i].timeout_ms = timeout_ms;
        snprintf(w[i].name, sizeof(w[i].name), "h%d.%s.example", i, tag);
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0) {
            tap_diag("pthread_create %d failed", i);
            return -1;
        }
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].status == want && (want != DNS_OK || w[i].addr_ok))
            good++;
        if (getenv("DNS_DEBUG"))
            tap_diag("%s %d %ld %d", tag, i, w[i].took_ms, w[i].status);
        if (w[i].took_ms > *max_ms)
            *max_ms = w[i].took_ms;
    }
    return good;
}

/* test_deadline - a server that never answers: failure within the deadline */
static void test_deadline(void)
{
    struct server s;
    struct dns_options opt = {0};
    struct dns_resolver *r;
    struct dns_answer ans;
    struct timespec start, d;
    char ns[64], *err = NULL;
    const char *nsl[2] = {ns, NULL};
    long took, max_ms;
    int fds0, good;

    fds0 = count_fds();
    server_start(&s, -1);
    snprintf(ns, sizeof(ns), "127.0.0.1@%d", s.port);
    opt.nameservers = nsl;
    opt.timeout_ms = 400;
    r = dns_resolver_new(&opt, &err);
    tap_ok(r != NULL, "resolver with a silent loopback server (%s)", err ? err : "ok");
    free(err);
    if (r == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &start);
    deadline_in(&d, 400);
    tap_is_int(dns_query(r, "never.example", DNS_T_A, &d, &ans), DNS_FAIL,
               "silent server: failure");
    took = elapsed_ms(&start);
    tap_ok(took >= 350 && took < 900, "failure at the deadline (%ld ms for 400)", took);
    tap_ok(strstr(ans.reason, "timed out") != NULL, "reason: %s", ans.reason);
    dns_answer_clear(&ans);

    clock_gettime(CLOCK_MONOTONIC, &start);
    tap_is_int(dns_query(r, "never2.example", DNS_T_TXT, NULL, &ans), DNS_FAIL,
               "NULL deadline uses DNSTimeout");
    took = elapsed_ms(&start);
    tap_ok(took >= 350 && took < 900, "DNSTimeout 400 ms honoured (%ld ms)", took);
    dns_answer_clear(&ans);

    deadline_in(&d, -10);
    clock_gettime(CLOCK_MONOTONIC, &start);
    tap_is_int(dns_query(r, "never3.example", DNS_T_A, &d, &ans), DNS_FAIL,
               "past deadline fails at once");
    tap_ok(elapsed_ms(&start) < 50, "without waiting");
    dns_answer_clear(&ans);

    good = run_threads(r, "silent", 300, DNS_FAIL, &max_ms);
    tap_is_int(good, NTHREADS, "%d threads against a silent server all fail", NTHREADS);
    tap_ok(max_ms < 1500, "slowest failure %ld ms (deadline 300)", max_ms);
    dns_resolver_free(&r);
    server_stop(&s);
    tap_is_int(count_fds(), fds0, "fd count back to %d after free", fds0);
}

/* test_concurrency - 200 threads at once against a slow server */
static void test_concurrency(void)
{
    struct server s;
    struct dns_options opt = {0};
    struct dns_resolver *r;
    char ns[64], *err = NULL;
    const char *nsl[2] = {ns, NULL};
    long max_ms;
    int fds0, fds1, fds2, good;

    fds0 = count_fds();
    server_start(&s, 200);
    snprintf(ns, sizeof(ns), "127.0.0.1@%d", s.port);
    opt.nameservers = nsl;
    r = dns_resolver_new(&opt, &err);
    tap_ok(r != NULL, "resolver with a slow loopback server (%s)", err ? err : "ok");
    free(err);
    if (r == NULL)
        return;
    good = run_threads(r, "round1", 3000, DNS_OK, &max_ms);
    tap_is_int(good, NTHREADS, "round 1: %d threads got the right answer", NTHREADS);
    tap_ok(max_ms >= 200 && max_ms < 1500, "round 1 slowest %ld ms (server delay 200)", max_ms);
    usleep(300000);
    fds1 = count_fds();
    good = run_threads(r, "round2", 3000, DNS_OK, &max_ms);
    tap_is_int(good, NTHREADS, "round 2: %d threads got the right answer", NTHREADS);
    usleep(300000);
    fds2 = count_fds();
    tap_ok(fds2 <= fds1, "no fd growth between rounds (%d -> %d)", fds1, fds2);
    good = run_threads(r, "round1", 3000, DNS_OK, &max_ms);
    tap_ok(good == NTHREADS && max_ms < 150, "round 3 (same names) from cache: %d ok, %ld ms", good,
           max_ms);
    tap_ok(s.queries >= 2 * NTHREADS && s.queries < 3 * NTHREADS + 20,
           "server saw %ld queries (the cache answered round 3)", s.queries);
    dns_resolver_free(&r);
    server_stop(&s);
    tap_is_int(count_fds(), fds0, "fd count back to %d after free", fds0);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_bad_zones();
    test_zone_answers();
    test_deadline();
    test_concurrency();
    unlink(write_file("bad.zone", ""));
    unlink(write_file("good.zone", ""));
    rmdir(tmpdir);
    return tap_done();
}
