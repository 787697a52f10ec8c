#!/usr/bin/python3
# spf-suite-zones - turn the RFC 7208 test suite (YAML) into DNSZoneFiles
#
# usage: /usr/bin/python3 t/spf-suite-zones.py rfc7208-tests.yml OUTDIR
#
# For scenario N writes OUTDIR/NN.zone (the zonedata as DNSZoneFile lines)
# and OUTDIR/NN.cases (one case a line: name helo host mailfrom results
# explanation, tab separated, bytes outside 0x21-0x7e and "%" written %XX,
# an empty field as %E;
# results comma separated; "-" for no explanation).
#
# Suite conventions (as the openspf drivers apply them): SPF-type data is
# copied to TXT unless the name has TXT data or "TXT: NONE"; TIMEOUT makes
# every lookup of the name that has no data of its type time out (our
# ";! TIMEOUT" directive); names the zonedata lacks do not exist, so the
# file carries a root SOA and nothing is asked on the network.
import os
import sys

import yaml


def esc_name(name):
    """a name in master-file form, fully qualified, odd bytes as \\DDD"""
    if name == '' or name == '.':
        return '.'
    out = []
    for b in name.encode('utf-8'):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in '.-_'):
            out.append(c)
        else:
            out.append('\\%03d' % b)
    s = ''.join(out)
    return s if s.endswith('.') else s + '.'


def raw_bytes(s):
    """YAML "\\xNN" escapes are bytes: latin-1 when possible"""
    try:
        return s.encode('latin-1')
    except UnicodeEncodeError:
        return s.encode('utf-8')


def esc_text(s):
    """one character-string, quoted, odd bytes as \\DDD"""
    out = []
    for b in raw_bytes(s):
        if 0x20 <= b < 0x7f and chr(b) not in '"\\':
            out.append(chr(b))
        else:
            out.append('\\%03d' % b)
    return '"' + ''.join(out) + '"'


def txt_rdata(value):
    """TXT rdata: a string, or a list of strings that concatenate"""
    if isinstance(value, list):
        parts = value if value else ['']
    else:
        parts = [value]
    chunks = []
    for p in parts:
        p = str(p)
        while len(raw_bytes(p)) > 255:
            chunks.append(p[:200])
            p = p[200:]
        chunks.append(p)
    return ' '.join(esc_text(c) for c in chunks)


def esc_field(s):
    """a cases-file field"""
    out = []
    for b in str(s).encode('utf-8'):
        if 0x21 <= b <= 0x7e and b != 0x25:
            out.append(chr(b))
        else:
            out.append('%%%02X' % b)
    return ''.join(out) if out else '%E'


def zone_lines(zonedata):
    lines = ['. 300 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 60']
    for name, records in zonedata.items():
        owner = esc_name(name)
        kinds = set()
        for r in records:
            kinds.add(r if isinstance(r, str) else list(r)[0])
        for r in records:
            if r == 'TIMEOUT':
                lines.append(';! TIMEOUT %s' % owner)
                continue
            (k, v), = r.items()
            if k in ('SPF', 'TXT'):
                if v == 'NONE':
                    continue
                if k == 'SPF':
                    lines.append('%s 300 IN SPF %s' % (owner, txt_rdata(v)))
                    if 'TXT' in kinds:
                        continue
                lines.append('%s 300 IN TXT %s' % (owner, txt_rdata(v)))
            elif k == 'MX':
                lines.append('%s 300 IN MX %d %s' % (owner, v[0], esc_name(v[1])))
            elif k in ('PTR', 'CNAME'):
                lines.append('%s 300 IN %s %s' % (owner, k, esc_name(v)))
            elif k in ('A', 'AAAA'):
                for a in (v if isinstance(v, list) else [v]):
                    lines.append('%s 300 IN %s %s' % (owner, k, a))
            else:
                sys.exit('unknown zonedata type %s' % k)
    return lines


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(src, 'rb') as fp:
        docs = list(yaml.safe_load_all(fp))
    for n, doc in enumerate(docs):
        with open(os.path.join(outdir, '%02d.zone' % n), 'w') as fp:
            fp.write('\n'.join(zone_lines(doc.get('zonedata') or {})) + '\n')
        with open(os.path.join(outdir, '%02d.cases' % n), 'w') as fp:
            for name, t in doc['tests'].items():
                res = t['result']
                res = ','.join(res) if isinstance(res, list) else res
                expl = t.get('explanation')
                fields = [name, t.get('helo', ''), t['host'], t.get('mailfrom', ''), res,
                          '-' if expl is None else expl]
                fp.write('\t'.join(esc_field(f) for f in fields))
                fp.write('\n')


if __name__ == '__main__':
    main()
