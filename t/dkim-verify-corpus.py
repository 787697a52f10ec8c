#!/usr/bin/python3
"""dkim-verify-corpus - TAP test of dkim_verify against python3-dkim.

usage: dkim-verify-corpus.py DRIVER DATADIR [SEED]

Generates keys (RSA 2048/1024/512 with openssl, Ed25519 with nacl) and a
DNSZoneFile at test time, signs messages with Debian's python3-dkim
(relaxed and simple, l=, x= in the past, t= in the future, rsa-sha1, dual
signatures), tampers with them at random (body, signed and unsigned
headers, b=), runs t/dkim-verify-drv over the lot and checks every result
against the expected one and, for the plain pass/fail question, against
dkimpy's own verdict.  Also: the RFC 6376/8463 example shipped by
python3-dkim, DNS SERVFAIL/TIMEOUT, missing/revoked/broken keys, broken
signatures, max_sigs, 1-byte body chunks and 4 threads.

Must run under Debian's /usr/bin/python3 (python3-dkim, python3-nacl).
"""
import base64
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import dkim
import nacl.encoding
import nacl.signing

DOMAIN = b"dkim.test"
RFC_MSG = "/usr/lib/python3/dist-packages/dkim/tests/data/rfc6376.signed.msg"

tap_n = 0
tap_failed = 0


def ok(cond, name, diag=None):
    """Print one TAP line."""
    global tap_n, tap_failed
    tap_n += 1
    if not cond:
        tap_failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", tap_n, name))
    if not cond and diag:
        for line in str(diag).splitlines():
            print("# " + line)


# ---------------------------------------------------------------- keys, zone

def rsa_key(work, bits):
    """(private PEM bytes, public base64 str) from openssl."""
    path = os.path.join(work, "rsa%d.pem" % bits)
    subprocess.run(["openssl", "genrsa", "-out", path, str(bits)], check=True,
                   stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "rsa", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    with open(path, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


def ed_key():
    """(private seed base64 bytes, public base64 str) from nacl."""
    sk = nacl.signing.SigningKey.generate()
    return (sk.encode(encoder=nacl.encoding.Base64Encoder),
            base64.b64encode(bytes(sk.verify_key)).decode())


def txt(record):
    """A TXT record as quoted strings of at most 255 bytes."""
    return " ".join('"%s"' % record[i:i + 250] for i in range(0, len(record), 250))


def make_keys(work):
    keys = {}
    for bits in (2048, 1024, 512):
        keys["rsa%d" % bits] = rsa_key(work, bits)
    keys["ed"] = ed_key()
    return keys


def make_zone(work, keys):
    """Write the zone file; return the dict dkimpy's dnsfunc serves."""
    recs = {}
    for sel, (_, pub) in keys.items():
        k = "ed25519" if sel == "ed" else "rsa"
        recs[sel] = ["v=DKIM1; k=%s; p=%s" % (k, pub)]
    recs["revoked"] = ["v=DKIM1; k=rsa; p="]
    recs["multi"] = [recs["rsa2048"][0], recs["rsa2048"][0] + " "]
    recs["badkey"] = ["v=DKIM1; k=rsa; p=bm90IGEga2V5IGF0IGFsbA=="]
    recs["edasrsa"] = ["v=DKIM1; k=rsa; p=%s" % keys["ed"][1]]
    recs["notdkim"] = ["v=spf1 -all"]
    lines = ["dkim.test. 300 IN SOA ns.dkim.test. hostmaster.dkim.test. 1 3600 600 86400 300",
             "nodata._domainkey.dkim.test. 300 IN A 192.0.2.1",
             ";! SERVFAIL servfail._domainkey.dkim.test.",
             ";! TIMEOUT timeout._domainkey.dkim.test."]
    for sel, rrs in recs.items():
        for rr in rrs:
            lines.append("%s._domainkey.dkim.test. 300 IN TXT %s" % (sel, txt(rr)))
    path = os.path.join(work, "dkim.zone")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    served = {("%s._domainkey.dkim.test." % s).encode(): rrs[0].encode()
              for s, rrs in recs.items() if len(rrs) == 1}
    return path, served


# ---------------------------------------------------------------- messages

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua").split()


def make_message(rng, n):
    subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))
    if rng.random() < 0.5:  # folded Subject
        subject = subject + "\r\n\t" + " ".join(rng.choice(WORDS) for _ in range(3))
    hdrs = [
        b"Received: from mx.example.net by mx.dkim.test; Mon, 1 Jan 2024 00:00:00 +0000",
        b"From: Alice <alice@dkim.test>",
        b"To: Bob <bob@example.net>",
        ("Subject: %s %d" % (subject, n)).encode(),
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000",
        ("Message-ID: <%d.%d@dkim.test>" % (n, rng.randint(0, 10**9))).encode(),
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"X-Mailer: corpus 1.0",
    ]
    lines = [b"Hello,"]  # l= bodies need some signed text to tamper with
    for _ in range(rng.randint(0, 40)):
        kind = rng.random()
        if kind < 0.1:
            lines.append(b"")
        elif kind < 0.2:
            lines.append((" ".join(rng.choice(WORDS) for _ in range(5)) + "  \t").encode())
        elif kind < 0.25:
            lines.append(("x" * rng.randint(200, 990)).encode())
        elif kind < 0.3:
            lines.append("caf\u00e9 na\u00efve \u2603".encode())
        else:
            lines.append(" ".join(rng.choice(WORDS)
                                  for _ in range(rng.randint(1, 14))).encode())
    if rng.random() < 0.3:
        lines += [b"", b""]  # trailing empty lines: canonicalization matters
    return b"\r\n".join(hdrs) + b"\r\n\r\n" + b"\r\n".join(lines) + b"\r\n"


def sign(msg, sel, keys, canon=(b"relaxed", b"relaxed"), alg=None, length=False,
         t=None, x=None, identity=None, domain=DOMAIN):
    """One DKIM-Signature header (bytes, CRLF folded) by dkimpy."""
    keysel = sel if sel in keys else "rsa2048"
    priv = keys[keysel][0]
    if alg is None:
        alg = b"ed25519-sha256" if keysel == "ed" else b"rsa-sha256"
    orig = dkim.DKIM.gen_header

    def gen_header(self, fields, *args, **kw):
        fields = list(fields)
        if t is not None:
            fields = [(k, str(t).encode()) if k == b"t" else (k, v) for k, v in fields]
        if x is not None:
            fields.insert(len(fields) - 2, (b"x", str(x).encode()))
        return orig(self, fields, *args, **kw)

    dkim.DKIM.gen_header = gen_header
    try:
        d = dkim.DKIM(msg)
        return d.sign(sel.encode(), domain, priv, signature_algorithm=alg, canonicalize=canon,
                      length=length, identity=identity)
    finally:
        dkim.DKIM.gen_header = orig


# ---------------------------------------------------------------- mutations

def split(msg):
    head, body = msg.split(b"\r\n\r\n", 1)
    return head, body


def alnum_swap(rng, data, lo=0, hi=None):
    """Replace one alphanumeric byte in data[lo:hi] by a different one."""
    hi = len(data) if hi is None else hi
    pos = [i for i in range(lo, hi) if chr(data[i]).isalnum()]
    if not pos:
        return data + b"Z"
    i = rng.choice(pos)
    c = data[i]
    new = ord("q") if c != ord("q") else ord("z")
    return data[:i] + bytes([new]) + data[i + 1:]


def header_line(head, name):
    m = re.search(rb"(?im)^" + name + rb":.*(\r\n[ \t].*)*", head)
    return m.start(), m.end()


def mutate(rng, msg, kind, lval=None):
    head, body = split(msg)
    if kind == "body":
        if lval is not None:
            return head + b"\r\n\r\n" + alnum_swap(rng, body, 0, min(lval, len(body)))
        return head + b"\r\n\r\n" + alnum_swap(rng, body)
    if kind == "body-append":
        return msg + b"appended after the signed length\r\n"
    if kind == "subject":
        s, e = header_line(head, b"Subject")
        return head[:s] + alnum_swap(rng, head, s + 9, e)[s:e] + head[e:] + b"\r\n\r\n" + body
    if kind == "to":
        s, e = header_line(head, b"To")
        return head[:s] + alnum_swap(rng, head, s + 4, e)[s:e] + head[e:] + b"\r\n\r\n" + body
    if kind == "subject-space":
        s, e = header_line(head, b"Subject")
        line = head[s:e].replace(b" ", b"   ", 1)
        return head[:s] + line + head[e:] + b"\r\n\r\n" + body
    if kind == "add-from":
        return b"From: Mallory <mallory@evil.example>\r\n" + msg
    if kind == "del-date":
        s, e = header_line(head, b"Date")
        return head[:s] + head[e + 2:] + b"\r\n\r\n" + body
    if kind == "unsigned":
        s, e = header_line(head, b"X-Mailer")
        return (b"Received: from another.hop by here\r\n" + head[:s] + b"X-Mailer: changed" +
                head[e:] + b"\r\n\r\n" + body)
    if kind == "b":
        m = re.search(rb"\bb=([A-Za-z0-9+/]{10})", msg)
        i = m.start(1) + rng.randint(0, 9)
        return msg[:i] + (b"A" if msg[i:i + 1] != b"A" else b"B") + msg[i + 1:]
    raise ValueError(kind)


# ---------------------------------------------------------------- corpus

def build(rng, keys, outdir):
    """Write the messages; return [(path, [expected results], note)]."""
    cases = []
    n = [0]

    def add(msg, expect, note, reason=None):
        n[0] += 1
        path = os.path.join(outdir, "m%03d.eml" % n[0])
        with open(path, "wb") as f:
            f.write(msg)
        cases.append((path, expect, note, reason))

    now = int(time.time())
    canons = [(b"relaxed", b"relaxed"), (b"simple", b"simple"),
              (b"relaxed", b"simple"), (b"simple", b"relaxed")]
    bases = []
    for sel in ("rsa2048", "rsa1024", "ed"):
        for c in canons:
            bases.append((sel, c, False))
    bases.append(("rsa2048", (b"relaxed", b"relaxed"), True))
    bases.append(("ed", (b"simple", b"simple"), True))

    for sel, canon, length in bases:
        msg = make_message(rng, n[0])
        signed = sign(msg, sel, keys, canon=canon, length=length) + msg
        note = "%s %s%s" % (sel, b"/".join(canon).decode(), " l=" if length else "")
        add(signed, ["pass"], note + " unmodified")
        lval = None
        if length:
            lval = int(re.search(rb"\bl=(\d+)", signed).group(1))
        kinds = ["body", "subject", "to", "add-from", "del-date", "b", "unsigned"]
        kinds.append("subject-space")
        if length:
            kinds.append("body-append")
        for kind in kinds:
            want = "fail"
            if kind in ("unsigned", "body-append"):
                want = "pass"
            if kind == "subject-space" and canon[0] == b"relaxed":
                want = "pass"
            reason = None
            if want == "fail":
                reason = "body hash mismatch" if kind == "body" else "signature does not verify"
            add(mutate(rng, signed, kind, lval), [want], note + " mutated " + kind, reason)

    # dual-signed (RFC 8463 style): Ed25519 + RSA, then tampered
    msg = make_message(rng, n[0])
    dual = sign(msg, "rsa2048", keys) + msg
    dual = sign(dual, "ed", keys) + dual
    add(dual, ["pass", "pass"], "dual ed25519+rsa unmodified")
    add(mutate(rng, dual, "body"), ["fail", "fail"], "dual mutated body")
    add(mutate(rng, dual, "b"), ["fail", "pass"], "dual mutated first b=")

    # key and algorithm policy
    msg = make_message(rng, n[0])
    add(sign(msg, "rsa512", keys) + msg, ["policy"], "RSA-512 key (RFC 8301)",
        "RSA key of 512 bits, under 1024 (RFC 8301)")
    add(sign(msg, "rsa2048", keys, alg=b"rsa-sha1") + msg, ["policy"], "rsa-sha1 (RFC 8301)")
    day = 86400  # dkimpy allows 10 hours of clock drift, we allow 300 s
    add(sign(msg, "rsa2048", keys, t=now - 2 * day, x=now - day) + msg, ["fail"],
        "x= in the past")
    add(sign(msg, "ed", keys, t=now - 2 * day, x=now - day) + msg, ["fail"],
        "ed25519 x= in the past")
    add(sign(msg, "rsa2048", keys, x=now + day) + msg, ["pass"], "x= in the future")
    add(sign(msg, "rsa2048", keys, t=now + 2 * day) + msg, ["policy"], "t= two days ahead")
    bad = sign(msg, "rsa2048", keys, t=now + 2 * day)
    add(bad + mutate(rng, msg, "body"), ["fail"], "t= two days ahead, body changed")
    add(sign(msg, "rsa2048", keys, t=now + 60) + msg, ["pass"], "t= 60 s ahead (clock drift)")
    add(sign(msg, "rsa2048", keys, t=now - 100, x=now - 200) + msg, ["permerror"],
        "x= before t= (nopy: dkimpy never checks it)")

    # key lookup outcomes (signed with the RSA-2048 key under other selectors)
    reasons = {"servfail": "key lookup failed: SERVFAIL (DNSZoneFile)",
               "timeout": "key lookup failed: timed out (DNSZoneFile)",
               "nosuch": "no key record (nxdomain)", "nodata": "no key record (nodata)",
               "revoked": "key revoked", "multi": "2 key records"}
    for sel, want in (("servfail", "temperror"), ("timeout", "temperror"),
                      ("nosuch", "permerror"), ("nodata", "permerror"),
                      ("revoked", "permerror"), ("multi", "permerror"),
                      ("badkey", "permerror"), ("edasrsa", "permerror"),
                      ("notdkim", "permerror")):
        add(sign(msg, sel, keys) + msg, [want], "key selector %s" % sel, reasons.get(sel))

    # a temporary DNS failure for one signature leaves the other alone
    two = sign(msg, "servfail", keys) + msg
    add(sign(two, "ed", keys) + two, ["pass", "temperror"], "ed25519 ok above a SERVFAIL key")
    two = sign(msg, "ed", keys) + msg
    add(sign(two, "timeout", keys) + two, ["temperror", "pass"], "TIMEOUT key above ed25519 ok")
    two = sign(msg, "nosuch", keys) + msg
    add(sign(two, "rsa1024", keys) + two, ["pass", "permerror"], "rsa ok above a missing key")

    # a key outside the zone goes to the network (127.0.0.1 port 9: nothing
    # answers) and runs into the message deadline
    add(sign(msg, "rsa2048", keys, domain=b"nowhere.example") + msg, ["temperror"],
        "key lookup on the network times out (selector, deadline)")

    # l= larger than the body that arrived
    lsig = sign(msg, "rsa2048", keys, length=True)
    head, body = split(msg)
    add(lsig + head + b"\r\n\r\n" + body[:len(body) // 2], ["fail"], "body shorter than l=",
        "body shorter than l=")

    # broken signatures
    good = sign(msg, "rsa2048", keys)
    add(re.sub(rb"bh=[^;]*;", b"", good) + msg, ["permerror"], "signature without bh=")
    add(good.replace(b"v=1;", b"v=2;") + msg, ["permerror"], "signature v=2")
    add(good.replace(b"a=rsa-sha256", b"a=rsa-sha512") + msg, ["permerror"], "unknown a=")
    add(good.replace(b"i=@dkim.test", b"i=@evil.example") + msg, ["permerror"],
        "i= outside d=")
    add(b"DKIM-Signature: this is not a signature\r\n" + msg, ["permerror"],
        "garbage signature")
    add(b"DKIM-Signature: garbage\r\n" + good + msg, ["permerror", "pass"],
        "garbage signature above a good one")
    add(msg, [], "unsigned message")
    return cases


def dkimpy_verdicts(path, served):
    """dkimpy's verify() per signature, in header order."""
    with open(path, "rb") as f:
        msg = f.read()

    def dnsfunc(name, timeout=5):
        return served.get(name)

    d = dkim.DKIM(msg)
    count = len([1 for k, _ in d.headers if k.lower() == b"dkim-signature"])
    out = []
    for i in range(count):
        try:
            out.append(bool(dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)))
        except Exception:
            out.append(False)
    return out


def run(driver, zone, paths, *opts):
    p = subprocess.run([driver, "-z", zone] + list(opts) + list(paths),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        print("# driver exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    res, counts, traces = {}, {}, {}
    for line in p.stdout.decode(errors="replace").splitlines():
        f = line.split("\t")
        if f[0] == "R":
            res.setdefault(f[1], []).append(f[3:])
        elif f[0] == "N":
            counts[f[1]] = int(f[2])
        elif f[0] == "T":
            traces.setdefault(f[1], []).append(f[2])
    return res, counts, traces, p.stdout


def main():
    driver, datadir = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("SEED", time.time()))
    print("# seed %d (rerun: SEED=%d)" % (seed, seed))
    rng = random.Random(seed)

    # (1) the RFC 6376 / RFC 8463 example shipped by python3-dkim
    zone = os.path.join(datadir, "rfc.zone")
    res, counts, _, _ = run(driver, zone, [RFC_MSG])
    got = res.get(RFC_MSG, [])
    ok(counts.get(RFC_MSG) == 2, "RFC 8463 example: two results", counts)
    ok(len(got) == 2 and got[0][0] == "pass" and got[0][3] == "ed25519-sha256",
       "RFC 8463 example: Ed25519 signature (brisbane) passes", got)
    ok(len(got) == 2 and got[1][0] == "pass" and got[1][3] == "rsa-sha256",
       "RFC 8463 example: RSA signature (test) passes", got)
    ok(len(got) == 2 and got[0][1] == "football.example.com" and got[0][2] == "brisbane" and
       got[0][5] == "9/dsDChY" and got[1][5] == "icKcLSEZ",
       "RFC 8463 example: d=, s=, header.b reported", got)

    with tempfile.TemporaryDirectory(prefix="dkim-verify.") as work:
        keys = make_keys(work)
        zone, served = make_zone(work, keys)
        with open(RFC_MSG, "rb") as f:
            rfc = f.read()
        tampered = os.path.join(work, "rfc-tampered.eml")
        with open(tampered, "wb") as f:
            f.write(rfc.replace(b"hungry yet", b"hungry now"))
        res, _, _, _ = run(driver, os.path.join(datadir, "rfc.zone"), [tampered])
        ok([r[0] for r in res.get(tampered, [])] == ["fail", "fail"],
           "RFC 8463 example with a changed body: both fail", res)
        ok(all(r[6] == "body hash mismatch" for r in res.get(tampered, [])),
           "RFC 8463 example with a changed body: reason is the body hash", res)

        # (2) the generated corpus
        cases = build(rng, keys, work)
        paths = [c[0] for c in cases]
        res, counts, traces, raw = run(driver, zone, paths, "-T")
        for path, expect, note, reason in cases:
            got = [r[0] for r in res.get(path, [])]
            name = os.path.basename(path)
            ok(got == expect and counts.get(path) == len(expect),
               "%s %s: %s" % (name, note, " ".join(expect) or "no result"),
               "got %s\n%s" % (res.get(path), "\n".join(traces.get(path, []))))
            if reason is not None:
                ok([r[6] for r in res.get(path, [])] == [reason],
                   "%s reason: %s" % (name, reason), res.get(path))
            if expect and not re.search("selector|sha1|nopy", note):
                py = dkimpy_verdicts(path, served)
                ours = [g == "pass" for g in got]
                ok(ours == py, "%s agrees with dkimpy on pass/not pass" % name,
                   "ours %s dkimpy %s" % (got, py))

        # (3) max_sigs, chunking, threads
        three = os.path.join(work, "three.eml")
        msg = make_message(rng, 999)
        m3 = sign(msg, "rsa2048", keys) + msg
        m3 = sign(m3, "rsa1024", keys) + m3
        m3 = sign(m3, "ed", keys) + m3
        with open(three, "wb") as f:
            f.write(m3)
        res, counts, traces, _ = run(driver, zone, [three], "-m", "2", "-T")
        ok(counts.get(three) == 2 and [r[2] for r in res[three]] == ["ed", "rsa1024"],
           "max_sigs 2: the two topmost signatures evaluated", res)
        ok(any("beyond max_sigs" in t for t in traces.get(three, [])),
           "max_sigs 2: the third is named in the trace", traces)
        res, counts, _, _ = run(driver, zone, [three])
        ok(counts.get(three) == 3 and all(r[0] == "pass" for r in res[three]),
           "default max_sigs: all three pass", res)

        base = run(driver, zone, paths)[3]
        ok(run(driver, zone, paths, "-n", "7", "-j", "4")[3] == base,
           "7-byte body chunks from 4 threads give the same results")
        ok(run(driver, zone, paths[:24], "-n", "1")[3] == run(driver, zone, paths[:24])[3],
           "1-byte body chunks give the same results")

    print("1..%d" % tap_n)
    return 1 if tap_failed else 0


if __name__ == "__main__":
    sys.exit(main())
