#!/usr/bin/python3
# NAME
#	ar-parse.py - print every Authentication-Results header of a message
#	as python3-authres parses it
# SYNOPSIS
#	/usr/bin/python3 t/data/e2e/ar-parse.py MESSAGE
# DESCRIPTION
#	Reads the header of MESSAGE (LF or CRLF line ends), unfolds it, and
#	for each Authentication-Results header, in order, prints one line
#	    N AUTHSERV-ID; METHOD=RESULT [reason="R"] [PTYPE.PROP=VALUE]...; ...
#	(N counts from 1 over all header fields of the message), or
#	    N UNPARSABLE: error
#	when authres.AuthenticationResultsHeader.parse() refuses it.
#	Comments are dropped by the parser, so the output is independent of
#	the writer's folding and comments.
import sys

import authres


def fields(path):
    """Yield (name, unfolded value) for each header field of the message."""
    with open(path, 'rb') as fp:
        data = fp.read().decode('utf-8', 'replace').replace('\r\n', '\n')
    head = data.split('\n\n', 1)[0]
    cur = None
    for line in head.split('\n'):
        if line[:1] in (' ', '\t') and cur is not None:
            cur[1] += ' ' + line.strip()
            continue
        if cur is not None:
            yield cur
        name, _, value = line.partition(':')
        cur = [name, value.strip()]
    if cur is not None:
        yield cur


def show(res):
    out = '%s=%s' % (res.method, res.result)
    if res.reason is not None:
        out += ' reason="%s"' % res.reason
    for p in res.properties:
        out += ' %s.%s=%s' % (p.type, p.name, p.value)
    return out


def main():
    for i, (name, value) in enumerate(fields(sys.argv[1]), 1):
        if name.lower() != 'authentication-results':
            continue
        try:
            h = authres.AuthenticationResultsHeader.parse(
                'Authentication-Results: ' + value)
        except Exception as e:  # any refusal is reported, not fatal
            print('%d UNPARSABLE: %s' % (i, str(e).replace('\n', ' ')))
            continue
        parts = [h.authserv_id] + [show(r) for r in h.results]
        if not h.results:
            parts.append('none')
        print('%d %s' % (i, '; '.join(parts)))


main()
