#!/bin/bash
# NAME
#	authres-validate.sh - check every header authres writes with python3-authres
# SYNOPSIS
#	top_builddir=... top_srcdir=... t/authres-validate.sh
# DESCRIPTION
#	Runs t/test-authres --dump FILE, which writes each Authentication-Results
#	value it formats together with what our own parser read from it, then
#	parses each value with Debian's python3-authres (an independent RFC 8601
#	parser) and prints one TAP line per header: "not ok" when python cannot
#	parse it or finds another authserv-id, other results, reasons or
#	properties.  t/data/authres/foreign.txt holds headers written by other
#	implementations; our parser and python must agree on those too (a line
#	starting with "!" is not RFC 8601 and our parser must refuse it).
#
#	Known python3-authres 1.2.0 limitation, tolerated and reported as a
#	diagnostic: a property whose value is a bare quoted string is dropped
#	when another property follows it in the same result (its look-ahead
#	wants ";" or the end).  The writer puts such properties last, so this
#	only happens with two quoted values in one result.
#
#	Skips (1..0) when python3-authres is not installed.
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
PY=/usr/bin/python3

if ! $PY -c 'import authres' 2>/dev/null; then
    echo "1..0 # SKIP python3-authres not installed (apt-get install python3-authres)"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/authres-validate.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

"$top_builddir/t/test-authres" --dump "$tmp/dump.jsonl" >"$tmp/tap.out" 2>&1
status=$?

exec $PY - "$tmp/dump.jsonl" "$status" "$top_builddir/t/test-authres" \
    "$top_srcdir/t/data/authres/foreign.txt" <<'EOF'
import json, re, signal, subprocess, sys
import authres

dump_path, status, program, foreign_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = authres.all_features()
n = 0
failed = 0
tolerated = 0


def tap(ok, name, diag=None):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if diag and not ok:
        for line in str(diag).splitlines():
            print("# " + line)


def unescape(value):
    """python3-authres keeps quoted-pairs of quoted strings; an addr-spec
    with a quoted local part stays as written."""
    if value is None or value.startswith('"'):
        return value
    return re.sub(r'\\(.)', r'\1', value)


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, on_alarm)


def python_parse(value):
    signal.alarm(10)
    try:
        return ctx.parse('Authentication-Results: ' + value)
    finally:
        signal.alarm(0)


def compare(rec):
    """Return None when python3-authres reads rec['value'] as our parser did,
    else the difference."""
    global tolerated
    value = rec['value']
    if 'error' in rec:
        try:
            python_parse(value)
            theirs = 'python3-authres parses it'
        except Exception as e:
            theirs = 'python3-authres: %s' % e
        return 'our parser refuses our header: %s; %s' % (rec['error'], theirs)
    try:
        h = python_parse(value)
    except Timeout:
        return 'python3-authres did not finish in 10 s'
    except Exception as e:
        return 'python3-authres: %s: %s' % (type(e).__name__, e)
    if h.authserv_id != rec['id'].lower():
        return 'authserv-id %r, ours %r' % (h.authserv_id, rec['id'])
    if len(h.results) != len(rec['results']):
        return '%d results, ours %d' % (len(h.results), len(rec['results']))
    unfolded = re.sub(r'\r?\n', '', value)
    for i, (r, ours) in enumerate(zip(h.results, rec['results'])):
        if (r.method, r.result) != (ours['method'], ours['result']):
            return 'result %d: %s=%s, ours %s=%s' % (i, r.method, r.result,
                                                    ours['method'], ours['result'])
        if unescape(r.reason) != ours['reason']:
            return 'result %d: reason %r, ours %r' % (i, unescape(r.reason), ours['reason'])
        theirs = [('%s.%s' % (p.type, p.name), unescape(p.value)) for p in r.properties]
        mine = [tuple(p) for p in ours['props']]
        j = 0
        for k, (name, val) in enumerate(mine):
            if j < len(theirs) and theirs[j] == (name, val):
                j += 1
                continue
            # a bare quoted string (not a quoted local part) followed by
            # another property: python3-authres drops it
            followed = k + 1 < len(mine)
            if followed and re.search(r'(?:^|[\s;)])' + re.escape(name)
                                      + r'="(?:[^"\\]|\\.)*"(?!@)', unfolded):
                tolerated += 1
                if tolerated <= 5:
                    print('# %s: python3-authres dropped quoted %s (known limitation)'
                          % (rec['name'], name))
                continue
            return 'result %d: properties %r, ours %r' % (i, theirs, mine)
        if j != len(theirs):
            return 'result %d: properties %r, ours %r' % (i, theirs, mine)
    return None


# 1. the C program ran and wrote the dump
tap(status == 0, 't/test-authres --dump exited 0', 'exit status %d' % status)
records = []
try:
    with open(dump_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
except Exception as e:
    tap(False, 'dump readable', e)
tap(len(records) >= 50, 'dump holds %d headers' % len(records))

# 2. every header we formatted
for rec in records:
    diff = compare(rec)
    tap(diff is None, 'python3-authres agrees: %s' % rec['name'], diff)

# 3. headers written by other implementations: our parser (through the C
#    program's --parse mode) and python agree
try:
    with open(foreign_path) as f:
        foreign = [l.rstrip('\n').replace('\\n', '\n').replace('\\t', '\t')
                   for l in f if l.strip() and not l.startswith('#')]
except OSError as e:
    foreign = []
    tap(False, 'foreign headers readable', e)
for i, value in enumerate(foreign):
    refuse = value.startswith('!')
    value = value[1:] if refuse else value
    p = subprocess.run([program, '--parse'], input=value, capture_output=True, text=True)
    if refuse:
        tap(p.returncode == 1 and p.stdout.startswith('parse error:'),
            'our parser refuses non-RFC foreign header %d (%s)' % (i + 1, p.stdout.strip()),
            p.stdout + p.stderr)
        continue
    if p.returncode != 0:
        tap(False, 'our parser reads foreign header %d' % (i + 1), p.stdout + p.stderr)
        continue
    rec = json.loads(p.stdout)
    rec['name'] = 'foreign %d' % (i + 1)
    diff = compare(rec)
    tap(diff is None, 'python3-authres agrees on foreign header %d' % (i + 1), diff)

if tolerated:
    print('# %d properties dropped by python3-authres (known limitation)' % tolerated)
print('1..%d' % n)
sys.exit(1 if failed else 0)
EOF
