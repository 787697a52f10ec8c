#!/usr/bin/python3
# NAME
#	sign-corpus.py - write the awkward test messages for t/test-sign-verify.sh
# SYNOPSIS
#	/usr/bin/python3 t/sign-corpus.py DIR
# DESCRIPTION
#	One file per case, named after it.  Line ends are what a client may
#	send (LF, CRLF or both); t/sign-driver turns them into what Postfix
#	hands a milter.  Body lines stay under 998 characters (Postfix folds
#	longer ones when it relays, which breaks any signature).
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

BASE = [
    b'From: Alice Example <alice@example.com>',
    b'To: Bob <bob@example.org>',
    b'Subject: test message',
    b'Date: Mon, 1 Jan 2024 10:00:00 +0000',
    b'Message-ID: <corpus-1@example.com>',
]


def msg(name, headers, body, eol=b'\r\n', sep=True):
    data = eol.join(headers) + eol
    if sep:
        data += eol + body
    with open(os.path.join(out, name), 'wb') as fp:
        fp.write(data)


msg('plain', BASE, b'Hello Bob.\r\n\r\nRegards,\r\nAlice\r\n')
msg('lf-only', BASE, b'Hello Bob.\n\nAll LF.\n', eol=b'\n')
msg('folded', BASE[:1] + [
    b'To: Bob <bob@example.org>,\r\n\tCarol <carol@example.org>,\r\n   Dave <dave@example.org>',
    b'Subject: a subject that is folded\r\n over   several\r\n\t\tlines  ',
    b'Cc:   lots   of   space   <cc@example.org>   ',
    b'References: <a@example.com>\r\n <b@example.com>\r\n <c@example.com>',
] + BASE[3:], b'folded headers\r\n')
msg('long-lines', BASE + [b'X-Long: ' + b'x' * 900, b'References: ' + b' '.join(
    b'<ref-%03d@example.com>' % i for i in range(40))],
    (b'A' * 997 + b'\r\n') + (b'word ' * 199 + b'\r\n') + b'end\r\n')
msg('8bit', BASE[:2] + [b'Subject: caf\xc3\xa9 \xe2\x82\xac 8bit', b'Content-Type: text/plain; '
    b'charset=utf-8', b'Content-Transfer-Encoding: 8bit', b'MIME-Version: 1.0'] + BASE[3:],
    'Grüße aus Köln — ünïcödé\r\n'.encode() + b'latin1 \xe9\xe8\r\n\xff\xfe\x80\r\n')
msg('empty-body', BASE, b'')
msg('no-separator', BASE, b'', sep=False)
msg('only-blank-lines', BASE, b'\r\n\r\n\r\n\r\n')
msg('trailing-blanks', BASE, b'text\r\n\r\n\r\n   \r\n\t\r\n\r\n')
msg('whitespace', BASE, b'  leading\r\ninner   \t  runs\r\ntrailing  \t \r\n\t\r\n x \r\nend\r\n')
msg('no-final-newline', BASE, b'first line\r\nlast line without end')
msg('many-received', [b'Received: from relay%d.example.net (relay%d [192.0.2.%d])\r\n\tby mx.example.org '
    b'with ESMTP id %d;\r\n\tMon, 1 Jan 2024 10:00:%02d +0000' % (i, i, i, i, i % 60)
    for i in range(60)] + BASE, b'many hops\r\n')
msg('duplicates', BASE[:1] + [b'To: first@example.org', b'Subject: first subject',
    b'To: second@example.org', b'Reply-To: r1@example.com', b'Subject: second subject',
    b'Reply-To: r2@example.com', b'Cc: c@example.org'] + BASE[3:], b'duplicate headers\r\n')
msg('mixed-eol', BASE[:2] + [b'Subject: mixed\n line ends'] + BASE[3:],
    b'crlf line\r\nlf line\nanother crlf\r\n\nlast lf\n', eol=b'\n')
msg('bare-cr', BASE, b'a bare\rCR inside\r\nand at end\r\r\n')
msg('dots-and-space', BASE, b'.\r\n..\r\n. leading dot\r\n \r\nFrom the start\r\n')
msg('header-oddities', [b'FROM: Upper Case <alice@example.com>', b'to:lower@example.org',
    b'Subject:', b'X-Tab:\tafter colon', b'Date: Mon, 1 Jan 2024 10:00:00 +0000'], b'odd\r\n')
msg('large-body', BASE, b''.join(b'line %06d of a large body with some text in it\r\n' % i
                                 for i in range(6000)))
msg('unsigned-from-missing', BASE[1:], b'no From header at all\r\n')
