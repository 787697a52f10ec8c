/*
 * NAME
 *	test-sender - sender_login_allowed() against a real login map
 * DESCRIPTION
 *	The real map t/data/maps/sender_login is opened once with map_open();
 *	each row names the login, the address, the delimiter set,
 *	bare_localpart and the expected verdict (and for some, the reason).  A second table feeds
 *	From: header values through addr_parse_list() first, as the engine
 *	does.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "maps.h"
#include "sender.h"
#include "tap.h"

struct sender_row {
    const char *login;
    const char *address;
    const char *delimiters;
    bool bare;
    enum sender_verdict want;
    const char *reason; /* NULL: not checked */
};

#define ALLOW SENDER_ALLOWED
#define DENY SENDER_DENIED

static const struct sender_row rows[] = {
    /* the owner and someone else */
    {"alice", "alice@example.net", "+", false, ALLOW, "address owned by login"},
    {"bob", "alice@example.net", "+", false, DENY, "address owned by another login"},
    {"alice", "bob@example.net", "+", false, DENY, "address owned by another login"},
    {"alice", "nobody@example.net", "+", false, DENY, "address not owned by login"},
    /* extensions */
    {"alice", "alice+tag@example.net", "+", false, ALLOW, NULL},
    {"bob", "alice+tag@example.net", "+", false, DENY, NULL},
    {"alice", "alice+tag@example.net", "", false, DENY, "address not owned by login"},
    {"alice", "alice+tag@example.net", NULL, false, DENY, NULL},
    {"alice", "alice-tag@example.net", "+", false, DENY, NULL},
    {"alice", "alice-tag@example.net", "-", false, ALLOW, NULL},
    {"alice", "alice-tag@example.net", "+-", false, ALLOW, NULL},
    {"alice", "alice+a-b@example.net", "-+", false, ALLOW, NULL},
    {"alice", "+alice@example.net", "+", false, DENY, NULL},
    {"announce", "announce-x@example.net", "-", false, ALLOW, NULL},
    {"announce", "announce-request@example.net", "-", false, DENY, NULL},
    {"announce", "owner-announce@example.net", "-", false, DENY, NULL},
    {"mailer", "mailer-daemon@example.net", "-", false, DENY, NULL},
    {"mailer", "mailer-x@example.net", "-", false, ALLOW, NULL},
    /* case */
    {"ALICE", "alice@example.net", "+", false, ALLOW, NULL},
    {"alice", "ALICE@EXAMPLE.NET", "+", false, ALLOW, NULL},
    {"Alice", "Alice+Tag@Example.Net", "+", false, ALLOW, NULL},
    {"mixed", "mixed.case@example.net", "+", false, ALLOW, NULL},
    {"carol@example.net", "carol@example.net", "+", false, ALLOW, NULL},
    {"carol", "carol@example.net", "+", false, DENY, NULL},
    /* login lists */
    {"alice", "shared@example.net", "+", false, ALLOW, NULL},
    {"bob", "shared@example.net", "+", false, ALLOW, NULL},
    {"carol", "shared@example.net", "+", false, DENY, NULL},
    {"carol", "team@example.net", "+", false, ALLOW, NULL},
    {"dave", "team@example.net", "+", false, ALLOW, NULL},
    {"erin", "team@example.net", "+", false, ALLOW, NULL},
    {"dav", "team@example.net", "+", false, DENY, NULL},
    {"dave,erin", "team@example.net", "+", false, DENY, NULL},
    /* @domain, and the explicit entry that wins over it */
    {"alice", "anyone@example.org", "+", false, ALLOW, NULL},
    {"alice", "ANYONE+x@Example.ORG", "+", false, ALLOW, NULL},
    {"bob", "anyone@example.org", "+", false, DENY, NULL},
    {"alice", "bob@example.org", "+", false, DENY, "address owned by another login"},
    {"bob", "bob@example.org", "+", false, ALLOW, NULL},
    {"alice", "bob+x@example.org", "+", false, DENY, NULL},
    /* bare local part */
    {"admin", "root@example.com", "+", true, ALLOW, NULL},
    {"admin", "root@example.com", "+", false, DENY, NULL},
    {"admin", "root+x@example.com", "+", true, ALLOW, NULL},
    {"alice", "root@example.com", "+", true, DENY, NULL},
    /* bad input */
    {"", "alice@example.net", "+", false, DENY, "empty login"},
    {NULL, "alice@example.net", "+", false, DENY, "empty login"},
    {"alice", "alice", "+", false, DENY, "address has no domain"},
    {"admin", "root", "+", true, DENY, "address has no domain"},
    {"alice", "alice@", "+", false, DENY, "address has no domain"},
    {"alice", "", "+", false, DENY, "null sender has no owner"},
    {"alice", NULL, "+", false, DENY, NULL},
    {"alice", "\"alice\"@example.net", "+", false, DENY, NULL},
};

struct header_row {
    const char *login;
    const char *from; /* From: value; every mailbox must be allowed */
    bool allowed;
};

static const struct header_row header_rows[] = {
    {"alice", "Alice <ALICE+news@Example.NET>", true},
    {"alice", "\"Bob <bob@example.net>\" <alice@example.net>", true},
    {"alice", "alice@example.net (Bob <bob@example.net>)", true},
    {"alice", "alice@example.net, bob@example.net", false},
    {"bob", "=?utf-8?q?B=C3=B6b?= <bob@example.net>", true},
    {"alice", "team: alice@example.net, x@example.org;", true},
};

static const char *verdict_name[] = {"ALLOWED", "DENIED", "ERROR"};

/* test_rows - the main table */
static void test_rows(const struct map *map)
{
    size_t r;

    for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        const struct sender_row *row = &rows[r];
        struct sender_policy pol = {map, row->delimiters, row->bare};
        const char *reason = NULL;
        enum sender_verdict got;

        got = sender_login_allowed(&pol, row->login, row->address, &reason);
        tap_ok(got == row->want, "row %zu: %s as <%s> delim=\"%s\" bare=%d: %s (got %s, %s)", r,
               row->login ? row->login : "(null)", row->address ? row->address : "(null)",
               row->delimiters ? row->delimiters : "(null)", row->bare, verdict_name[row->want],
               verdict_name[got], reason ? reason : "no reason");
        if (row->reason != NULL)
            tap_is_str(reason, row->reason, "row %zu reason", r);
    }
}

/* test_headers - From: values through the parser, then the policy */
static void test_headers(const struct map *map)
{
    struct sender_policy pol = {map, "+", false};
    size_t r, i;

    for (r = 0; r < sizeof(header_rows) / sizeof(header_rows[0]); r++) {
        struct addr_list list = {0, NULL};
        const char *error = NULL, *reason = NULL;
        bool allowed = true;

        if (addr_parse_list(header_rows[r].from, &list, &error) < 0) {
            tap_ok(0, "header row %zu parses: %s", r, error);
            continue;
        }
        for (i = 0; i < list.n; i++)
            if (sender_login_allowed(&pol, header_rows[r].login, list.v[i].addr, &reason) !=
                SENDER_ALLOWED)
                allowed = false;
        tap_ok(list.n > 0 && allowed == header_rows[r].allowed, "header row %zu: %s in From: %s", r,
               header_rows[r].login, header_rows[r].from);
        addr_list_free(&list);
    }
}

/* test_no_map - no map is a lookup failure, never a denial */
static void test_no_map(void)
{
    struct sender_policy pol = {NULL, "+", false};
    const char *reason = NULL;

    tap_is_int(sender_login_allowed(&pol, "alice", "alice@example.net", &reason), SENDER_ERROR,
               "no map: SENDER_ERROR");
    tap_is_str(reason, "no login map", "no map reason");
    tap_is_int(sender_login_allowed(NULL, "alice", "alice@example.net", &reason), SENDER_ERROR,
               "no policy: SENDER_ERROR");
}

/* test_long_address - an address longer than any key is never owned */
static void test_long_address(const struct map *map)
{
    struct sender_policy pol = {map, "+", true};
    const char *reason = NULL;
    char addr[3000];

    memset(addr, 'a', sizeof(addr) - 20);
    strcpy(addr + sizeof(addr) - 20, "+x@example.org");
    tap_is_int(sender_login_allowed(&pol, "alice", addr, &reason), SENDER_DENIED,
               "2,994-byte address denied, not overflowed");
    tap_is_str(reason, "address too long", "long address reason");
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    char path[4200], *error = NULL;
    struct map *map;

    snprintf(path, sizeof(path), "%s/t/data/maps/sender_login", top ? top : AM_TOP_SRCDIR);
    map = map_open(path, &error);
    tap_ok(map != NULL, "login map loads: %s", error ? error : path);
    if (map == NULL) {
        free(error);
        return tap_done();
    }
    test_rows(map);
    test_headers(map);
    test_no_map();
    test_long_address(map);
    map_free(&map);
    return tap_done();
}
