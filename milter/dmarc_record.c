/*
 * NAME
 *	dmarc_record - DMARC record syntax (RFC 7489 6.3, 6.4; RFC 9091 np=)
 * SYNOPSIS
 *	See include/dmarc_record.h.
 * DESCRIPTION
 *	What libopendmarc 1.4.2's opendmarc_policy_parse_dmarc() gets wrong
 *	and how it is kept away from it here:
 *	 1. "foo v=DMARC1; p=reject", "p=reject; v=DMARC1", "V=dmarc1" all
 *	    parse: dmarc_record_is_dmarc() demands the record start with
 *	    v=DMARC1 (6.4, 6.6.3 step 5) before anything else looks at it.
 *	 2. Any prefix of a keyword is taken ("p=r" is reject, "adkim=s" and
 *	    "adkim=st" alike), "pct=50abc" is 50, parts without "=" and
 *	    empty values are skipped silently: every tag is checked here
 *	    against the ABNF first.
 *	 3. Tag values are copied into 512-byte buffers whose length check
 *	    lets a 512-byte value through unterminated: the library only
 *	    ever sees a canonical copy made of the short, validated policy
 *	    tags (p, sp, adkim, aspf, pct) in their original spelling.
 *	 4. No np= (RFC 9091): read here.
 *	 5. Missing p= with a valid rua= is an error to it; RFC 7489 6.6.3
 *	    step 6.1 says act as p=none: the canonical copy says p=none.
 * DIAGNOSTICS
 *	Reasons (at most whysize bytes, untrusted text cut) in why.
 */
#include "am_config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <opendmarc/dmarc.h>

#include "dmarc_record.h"

#define CANON_MAX 160

enum tag_id { T_V, T_P, T_SP, T_NP, T_ADKIM, T_ASPF, T_PCT, T_RI, T_FO, T_RF, T_RUA, T_RUF, T_N };

static const char *const tag_names[T_N] = {"v",   "p",  "sp", "np", "adkim", "aspf",
                                           "pct", "ri", "fo", "rf", "rua",   "ruf"};

struct span {
    const char *s;
    size_t len;
};

struct parse_state {
    struct span tag[T_N], val[T_N];
    unsigned int seen;
    int policy_bad;       /* p missing/invalid, sp or np invalid */
    char policy_why[120]; /* why, for the permerror without rua */
};

/* say - format a reason into why */
static int say(char *why, size_t whysize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int say(char *why, size_t whysize, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whysize, fmt, ap);
    va_end(ap);
    return -1;
}

/* is_wsp - RFC 5234 WSP */
static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* trim - a span without leading and trailing WSP */
static struct span trim(const char *s, size_t len)
{
    struct span sp;

    while (len > 0 && is_wsp(*s))
        s++, len--;
    while (len > 0 && is_wsp(s[len - 1]))
        len--;
    sp.s = s;
    sp.len = len;
    return sp;
}

/* span_is - case-insensitive comparison of a span with a word */
static int span_is(struct span sp, const char *word)
{
    return sp.len == strlen(word) && strncasecmp(sp.s, word, sp.len) == 0;
}

/* dmarc_record_is_dmarc - does the TXT string start with v=DMARC1 */
int dmarc_record_is_dmarc(const char *txt, size_t len)
{
    size_t i = 1;

    if (len < 8 || (txt[0] != 'v' && txt[0] != 'V'))
        return 0;
    while (i < len && is_wsp(txt[i]))
        i++;
    if (i >= len || txt[i++] != '=')
        return 0;
    while (i < len && is_wsp(txt[i]))
        i++;
    if (len - i < 6 || memcmp(txt + i, "DMARC1", 6) != 0)
        return 0;
    i += 6;
    return i == len || txt[i] == ';' || is_wsp(txt[i]);
}

/* policy_value - 'n', 'q', 'r', or 0 for an invalid value */
static char policy_value(struct span v)
{
    if (span_is(v, "none"))
        return 'n';
    if (span_is(v, "quarantine"))
        return 'q';
    if (span_is(v, "reject"))
        return 'r';
    return 0;
}

/* digits_ok - 1..max ASCII digits */
static int digits_ok(struct span v, size_t max)
{
    size_t i;

    if (v.len == 0 || v.len > max)
        return 0;
    for (i = 0; i < v.len; i++)
        if (!isdigit((unsigned char)v.s[i]))
            return 0;
    return 1;
}

/* span_number - value of a span of at most 9 digits */
static int span_number(struct span v)
{
    int n = 0;
    size_t i;

    for (i = 0; i < v.len && i < 9; i++)
        n = n * 10 + (v.s[i] - '0');
    return n;
}

/* uri_ok - dmarc-uri: URI ["!" 1*DIGIT ["k"/"m"/"g"/"t"]] */
static int uri_ok(struct span u)
{
    const char *bang = memchr(u.s, '!', u.len);
    size_t len = bang ? (size_t)(bang - u.s) : u.len, i;
    struct span size;

    if (bang) {
        size.s = bang + 1;
        size.len = u.len - len - 1;
        if (size.len > 0 && strchr("kmgtKMGT", size.s[size.len - 1]) != NULL)
            size.len--;
        if (!digits_ok(size, 20))
            return 0;
    }
    if (len == 0 || !isalpha((unsigned char)u.s[0]))
        return 0;
    for (i = 1; i < len && u.s[i] != ':'; i++)
        if (!isalnum((unsigned char)u.s[i]) && strchr("+-.", u.s[i]) == NULL)
            return 0;
    if (i >= len - 1) /* no ":" or nothing after it */
        return 0;
    for (; i < len; i++)
        if ((unsigned char)u.s[i] <= ' ' || (unsigned char)u.s[i] >= 0x7f)
            return 0;
    return 1;
}

/* list_ok - a sep-separated list whose trimmed items all pass item_ok */
static int list_ok(struct span v, char sep, int (*item_ok)(struct span))
{
    const char *p = v.s, *end = v.s + v.len, *next;

    if (v.len == 0)
        return 0;
    for (; p <= end; p = next + 1) {
        next = memchr(p, sep, (size_t)(end - p));
        if (next == NULL)
            next = end;
        if (!item_ok(trim(p, (size_t)(next - p))))
            return 0;
    }
    return 1;
}

/* fo_item_ok - one fo= option */
static int fo_item_ok(struct span v)
{
    return v.len == 1 && strchr("01dsDS", v.s[0]) != NULL;
}

/* rf_item_ok - one rf= keyword */
static int rf_item_ok(struct span v)
{
    size_t i;

    if (v.len == 0)
        return 0;
    for (i = 0; i < v.len; i++)
        if (!isalnum((unsigned char)v.s[i]) && v.s[i] != '-')
            return 0;
    return 1;
}

/* value_ok - syntax of one known tag's value */
static int value_ok(enum tag_id id, struct span v)
{
    switch (id) {
    case T_V:
        return v.len == 6 && memcmp(v.s, "DMARC1", 6) == 0;
    case T_P:
    case T_SP:
    case T_NP:
        return policy_value(v) != 0;
    case T_ADKIM:
    case T_ASPF:
        return span_is(v, "r") || span_is(v, "s");
    case T_PCT:
        return digits_ok(v, 3) && span_number(v) <= 100;
    case T_RI:
        return digits_ok(v, 10);
    case T_FO:
        return list_ok(v, ':', fo_item_ok);
    case T_RF:
        return list_ok(v, ':', rf_item_ok);
    case T_RUA:
    case T_RUF:
        return list_ok(v, ',', uri_ok);
    default:
        return 0;
    }
}

/* parse_part - check one tag=value part; -1 with a reason */
static int parse_part(struct parse_state *st, size_t index, struct span part, char *why,
                      size_t whysize)
{
    const char *eq = memchr(part.s, '=', part.len);
    struct span tag, val;
    size_t i;
    int id;

    if (eq == NULL)
        return say(why, whysize, "\"%.40s\" is not tag=value", part.s);
    tag = trim(part.s, (size_t)(eq - part.s));
    val = trim(eq + 1, part.len - (size_t)(eq - part.s) - 1);
    if (tag.len == 0 || !isalpha((unsigned char)tag.s[0]))
        return say(why, whysize, "\"%.40s\" is not tag=value", part.s);
    for (i = 1; i < tag.len; i++)
        if (!isalnum((unsigned char)tag.s[i]) && tag.s[i] != '_')
            return say(why, whysize, "bad tag name \"%.*s\"", (int)(tag.len > 40 ? 40 : tag.len),
                       tag.s);
    for (id = 0; id < T_N; id++)
        if (span_is(tag, tag_names[id]))
            break;
    if ((index == 0) != (id == T_V))
        return say(why, whysize, "v=DMARC1 must be the first tag and only there");
    if (id == T_N)
        return 0; /* unknown tags are ignored (6.3) */
    if (st->seen & (1u << id))
        return say(why, whysize, "duplicate %s= tag", tag_names[id]);
    st->seen |= 1u << id;
    st->tag[id] = tag;
    st->val[id] = val;
    if (value_ok((enum tag_id)id, val))
        return 0;
    if (id == T_P || id == T_SP || id == T_NP) {
        st->policy_bad = 1;
        snprintf(st->policy_why, sizeof(st->policy_why), "invalid %s=%.*s", tag_names[id],
                 (int)(val.len > 40 ? 40 : val.len), val.s);
        return 0;
    }
    return say(why, whysize, "invalid %s=%.*s", tag_names[id], (int)(val.len > 40 ? 40 : val.len),
               val.s);
}

/* canon_add - append "; tag=value" in its original spelling */
static void canon_add(char *canon, const struct parse_state *st, int id)
{
    size_t len = strlen(canon);

    if (!(st->seen & (1u << id)))
        return;
    snprintf(canon + len, CANON_MAX - len, "; %.*s=%.*s", (int)st->tag[id].len, st->tag[id].s,
             (int)st->val[id].len, st->val[id].s);
}

/* library_parse - have libopendmarc parse the canonical copy */
static int library_parse(const char *canon, struct dmarc_record *rec, char *why, size_t whysize)
{
    DMARC_POLICY_T *pctx;
    int status, p = 0, sp = 0, adkim = 0, aspf = 0, pct = 0;

    if ((pctx = opendmarc_policy_connect_init((u_char *)"0.0.0.0", 0)) == NULL)
        return say(why, whysize, "out of memory");
    status = opendmarc_policy_parse_dmarc(pctx, (u_char *)"dmarc.invalid", (u_char *)canon);
    if (status == DMARC_PARSE_OKAY) {
        opendmarc_policy_fetch_p(pctx, &p);
        opendmarc_policy_fetch_sp(pctx, &sp);
        opendmarc_policy_fetch_adkim(pctx, &adkim);
        opendmarc_policy_fetch_aspf(pctx, &aspf);
        opendmarc_policy_fetch_pct(pctx, &pct);
    }
    opendmarc_policy_connect_shutdown(pctx);
    if (status != DMARC_PARSE_OKAY)
        return say(why, whysize, "libopendmarc: %s", opendmarc_policy_status_to_str(status));
    if (strchr("nqr", p) == NULL || (sp != 0 && strchr("nqr", sp) == NULL) ||
        strchr("rs", adkim) == NULL || strchr("rs", aspf) == NULL || pct < 0 || pct > 100)
        return say(why, whysize, "libopendmarc: unexpected values");
    rec->p = (char)p;
    rec->sp = (char)sp;
    rec->adkim = (char)adkim;
    rec->aspf = (char)aspf;
    rec->pct = pct;
    return 0;
}

/* dmarc_record_parse - validate a DMARC record and extract its policy */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec, char *why,
                       size_t whysize)
{
    struct parse_state st;
    const char *p = txt, *end = txt + len, *semi;
    char canon[CANON_MAX];
    struct span part;
    size_t index = 0;

    memset(&st, 0, sizeof(st));
    memset(rec, 0, sizeof(*rec));
    if (len > DMARC_MAX_RECORD)
        return say(why, whysize, "record longer than %d bytes", DMARC_MAX_RECORD);
    if (memchr(txt, 0, len) != NULL)
        return say(why, whysize, "record contains a NUL byte");
    if (!dmarc_record_is_dmarc(txt, len))
        return say(why, whysize, "record does not start with v=DMARC1");
    for (; p <= end; p = semi + 1) {
        if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
            semi = end;
        part = trim(p, (size_t)(semi - p));
        if (part.len == 0)
            continue;
        if (parse_part(&st, index++, part, why, whysize) < 0)
            return -1;
    }
    if (!(st.seen & (1u << T_P)) && !st.policy_bad) {
        st.policy_bad = 1;
        snprintf(st.policy_why, sizeof(st.policy_why), "no p= tag");
    }
    snprintf(canon, sizeof(canon), "v=DMARC1");
    if (st.policy_bad) {
        if (!(st.seen & (1u << T_RUA)))
            return say(why, whysize, "%s and no valid rua=", st.policy_why);
        rec->fallback = 1;
        snprintf(canon + strlen(canon), sizeof(canon) - strlen(canon), "; p=none");
    } else {
        canon_add(canon, &st, T_P);
        canon_add(canon, &st, T_SP);
    }
    canon_add(canon, &st, T_ADKIM);
    canon_add(canon, &st, T_ASPF);
    canon_add(canon, &st, T_PCT);
    if (library_parse(canon, rec, why, whysize) < 0)
        return -1;
    if (rec->fallback)
        rec->sp = rec->np = 'n';
    else if (st.seen & (1u << T_NP))
        rec->np = policy_value(st.val[T_NP]);
    return 0;
}

/* dmarc_policy_name - "none", "quarantine", "reject" for a policy value */
const char *dmarc_policy_name(char policy)
{
    switch (policy) {
    case 'q':
        return "quarantine";
    case 'r':
        return "reject";
    default:
        return "none";
    }
}
