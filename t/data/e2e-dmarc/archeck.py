#!/usr/bin/python3
# archeck.py - parse the Authentication-Results of a message with python3-authres
#
# usage: /usr/bin/python3 archeck.py AUTHSERV-ID FILE
#
# Reads the header of FILE (a delivered message), parses every
# Authentication-Results header with authres (an independent RFC 8601
# parser) and prints one summary line for the ONE header carrying
# AUTHSERV-ID:
#     spf=RESULT dkim=RES:D:ALG[,RES:D:ALG...] dmarc=RES:FROM:POLICY [auth=RES:LOGIN]
# (the spf entry is smtp.mailfrom's; dkim entries sorted, a bare RES for a
# result without header.d/header.a such as dkim=none; "-" for an absent
# method or property; auth only when the header has an auth result).
# Exit 1 with the reason if a header does not parse, if no or several
# headers carry AUTHSERV-ID, or if a dkim pass/fail lacks its properties.
import sys

import authres


def headers(path):
    """the unfolded Authentication-Results values of the message header"""
    out, cur = [], None
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                break
            if line[:1] in (" ", "\t"):
                if cur is not None:
                    cur += " " + line.strip()
                continue
            if cur is not None:
                out.append(cur)
                cur = None
            if line.lower().startswith("authentication-results:"):
                cur = line.split(":", 1)[1].strip()
    if cur is not None:
        out.append(cur)
    return out


def prop(res, ptype, name):
    for p in res.properties:
        if p.type == ptype and p.name == name:
            return p.value
    return "-"


def main(argv):
    want_id, path = argv[1], argv[2]
    ours = []
    for value in headers(path):
        try:
            h = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value)
        except Exception as e:
            print("unparsable A-R (%s): %s" % (type(e).__name__, value))
            return 1
        if h.authserv_id.lower() == want_id.lower():
            ours.append(h)
    if len(ours) != 1:
        print("%d A-R headers with authserv-id %s" % (len(ours), want_id))
        return 1
    spf, dkims, dmarc, auth = "-", [], "-", ""
    for r in ours[0].results:
        if r.method == "spf" and prop(r, "smtp", "mailfrom") != "-":
            spf = r.result
        elif r.method == "dkim":
            d, a, b = prop(r, "header", "d"), prop(r, "header", "a"), prop(r, "header", "b")
            if r.result in ("pass", "fail") and "-" in (d, a, b):
                print("dkim=%s without header.d/a/b" % r.result)
                return 1
            dkims.append(r.result if d == a == "-" else "%s:%s:%s" % (r.result, d, a))
        elif r.method == "dmarc":
            dmarc = "%s:%s:%s" % (r.result, prop(r, "header", "from"), prop(r, "policy", "dmarc"))
        elif r.method == "auth":
            auth = " auth=%s:%s" % (r.result, prop(r, "smtp", "auth"))
    print("spf=%s dkim=%s dmarc=%s%s" % (spf, ",".join(sorted(dkims)) or "-", dmarc, auth))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
