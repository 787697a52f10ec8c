#!/usr/bin/python3
# sign.py - DKIM-sign a message with dkimpy (an independent signer) for t/e2e-dmarc.sh
#
# usage: /usr/bin/python3 sign.py IN OUT DOMAIN:SELECTOR:KEYFILE ...
#
# Signs IN once per DOMAIN:SELECTOR:KEYFILE, in order (each new signature on
# top, covering From/To/Subject/Date/Message-ID), and writes OUT with CRLF
# line ends.  KEYFILE is a PKCS#8 PEM from contrib/keygen: RSA keys sign
# rsa-sha256, Ed25519 keys ed25519-sha256 (dkimpy wants the raw 32-byte seed,
# which is the last 32 bytes of the PKCS#8 DER).  Canonicalization
# relaxed/relaxed.  Exit 0, or 1 with the reason on stderr.
import base64
import re
import sys

import dkim

HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


def load_key(path):
    """(algorithm, key bytes as dkimpy wants them) for a PKCS#8 PEM file"""
    pem = open(path, "rb").read()
    m = re.search(rb"-----BEGIN PRIVATE KEY-----(.*?)-----END", pem, re.S)
    if m is None:
        raise ValueError("%s: not a PKCS#8 PEM private key" % path)
    der = base64.b64decode(b"".join(m.group(1).split()))
    # Ed25519 PKCS#8 carries OID 1.3.101.112 (06 03 2B 65 70) and is 48 bytes
    if b"\x06\x03\x2b\x65\x70" in der[:16] and len(der) == 48:
        return b"ed25519-sha256", base64.b64encode(der[-32:])
    return b"rsa-sha256", pem


def main(argv):
    if len(argv) < 4:
        sys.stderr.write("usage: sign.py IN OUT DOMAIN:SELECTOR:KEYFILE ...\n")
        return 1
    msg = open(argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    for spec in argv[3:]:
        domain, selector, keyfile = spec.split(":", 2)
        alg, key = load_key(keyfile)
        sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        signature_algorithm=alg, include_headers=HEADERS)
        if not sig:
            raise ValueError("dkimpy made no signature for " + spec)
        msg = sig + msg
    open(argv[2], "wb").write(msg)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # one clear line for the TAP diagnostics
        sys.stderr.write("sign.py: %s\n" % e)
        sys.exit(1)
