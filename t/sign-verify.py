#!/usr/bin/python3
# NAME
#	sign-verify.py - verify every DKIM-Signature of a message with dkimpy
# SYNOPSIS
#	/usr/bin/python3 t/sign-verify.py ZONEFILE MESSAGE...
# DESCRIPTION
#	Public keys come from ZONEFILE (zone lines as contrib/keygen prints
#	them: NAME. IN TXT "a" "b"), never from DNS.  Prints one line per
#	signature, "MESSAGE pass d=D s=S a=A" or "MESSAGE fail d=D s=S a=A",
#	and "MESSAGE nosig" for a message without any.
import re
import sys

import dkim

zone = {}
with open(sys.argv[1]) as fp:
    for line in fp:
        m = re.match(r'^(\S+)\s+(?:\d+\s+)?IN\s+TXT\s+(.*)$', line.strip())
        if m:
            zone[m.group(1).lower().rstrip('.')] = ''.join(re.findall(r'"([^"]*)"', m.group(2)))


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    txt = zone.get(name.lower().rstrip('.'))
    return txt.encode() if txt is not None else None


def verify_file(path):
    msg = open(path, 'rb').read()
    d = dkim.DKIM(msg)
    sigs = [v for (k, v) in d.headers if k.lower() == b'dkim-signature']
    if not sigs:
        print('%s nosig' % path)
    for i, raw in enumerate(sigs):
        tags = dict(re.findall(rb'\s*([a-z]+)\s*=\s*([^;]*)', raw))
        info = 'd=%s s=%s a=%s' % (tags.get(b'd', b'?').decode(), tags.get(b's', b'?').decode(),
                                   tags.get(b'a', b'?').decode())
        try:
            ok = dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
        except Exception as e:  # a verifier error is a failure, with the reason
            ok = False
            info += ' error=%s' % str(e).replace(' ', '_')[:80]
        print('%s %s %s' % (path, 'pass' if ok else 'fail', info))


for path in sys.argv[2:]:
    verify_file(path)
