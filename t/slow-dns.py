#!/usr/bin/python3
"""t/slow-dns.py - a slow authoritative DNS server for the concurrency tests.

SYNOPSIS
    /usr/bin/python3 t/slow-dns.py --zone slow.test --drop drop.test \
        --delay 0.3 --port-file FILE [--stats-file FILE] [--port N] [--ttl 0]

DESCRIPTION
    Listens on 127.0.0.1 (UDP and TCP, same port; --port 0 picks one and
    writes it to --port-file once both sockets are bound) and answers every
    query only after --delay seconds.  Delays overlap: a receiver thread
    queues each UDP answer with its due time and one sender thread sends it
    when due, TCP connections get a thread each, so 200 queries in flight
    are each late by --delay, not by 200 x --delay.

    Names at or under --zone exist (a wildcard):
        TXT   _dmarc.*: "v=DMARC1; p=none"; others: "v=spf1 ip4:192.0.2.0/24 -all"
        A     192.0.2.1        AAAA 2001:db8::1        MX 10 mx.<zone>.
        other types: NODATA (SOA in the authority section)
    Every record has TTL --ttl (default 0: resolvers cannot cache, every
    message really waits for this server, and a repeated batch finds the
    same cache state).
    Names at or under --drop are never answered (the query is dropped).
    Every other name is NXDOMAIN.

    --stats-file is rewritten every 0.2 s with "queries=N dropped=N
    inflight_max=N": the largest number of answers that were waiting for
    their delay at one time (the proof that queries overlapped).

    Uses Debian's python3-dnspython: run it with /usr/bin/python3.
"""
import argparse
import heapq
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.flags


class Stats:
    """counters shared by all threads"""

    def __init__(self):
        self.lock = threading.Lock()
        self.queries = 0
        self.dropped = 0
        self.inflight = 0
        self.inflight_max = 0

    def begin(self, dropped):
        with self.lock:
            self.queries += 1
            if dropped:
                self.dropped += 1
                return
            self.inflight += 1
            self.inflight_max = max(self.inflight_max, self.inflight)

    def end(self):
        with self.lock:
            self.inflight -= 1

    def line(self):
        with self.lock:
            return "queries=%d dropped=%d inflight_max=%d\n" % (
                self.queries, self.dropped, self.inflight_max)


def answer(wire, zone, drop, ttl):
    """the response bytes for one query, or None to drop it"""
    try:
        q = dns.message.from_wire(wire)
    except Exception:
        return None
    if not q.question:
        return None
    qname = q.question[0].name
    qtype = q.question[0].rdtype
    if qname.is_subdomain(drop):
        return None
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA | dns.flags.RA
    IN = dns.rdataclass.IN
    if not qname.is_subdomain(zone):
        r.set_rcode(dns.rcode.NXDOMAIN)
        return r.to_wire()
    data = None
    if qtype == dns.rdatatype.TXT:
        if qname.labels[0].lower() == b"_dmarc":
            data = '"v=DMARC1; p=none"'
        else:
            data = '"v=spf1 ip4:192.0.2.0/24 -all"'
    elif qtype == dns.rdatatype.A:
        data = "192.0.2.1"
    elif qtype == dns.rdatatype.AAAA:
        data = "2001:db8::1"
    elif qtype == dns.rdatatype.MX:
        data = "10 mx.%s" % zone.to_text()
    if data is None:
        soa = r.find_rrset(r.authority, zone, IN, dns.rdatatype.SOA, create=True)
        soa.add(dns.rdata.from_text(IN, dns.rdatatype.SOA,
                                    "ns.%s hostmaster.%s 1 3600 600 86400 %d"
                                    % (zone.to_text(), zone.to_text(), ttl)), ttl)
    else:
        rrset = r.find_rrset(r.answer, qname, IN, qtype, create=True)
        rrset.add(dns.rdata.from_text(IN, qtype, data), ttl)
    return r.to_wire()


class UdpSide:
    """receiver thread + one sender thread working off a due-time heap"""

    def __init__(self, sock, zone, drop, delay, ttl, stats):
        self.sock, self.zone, self.drop, self.ttl = sock, zone, drop, ttl
        self.delay, self.stats = delay, stats
        self.heap = []
        self.seq = 0
        self.cond = threading.Condition()

    def receive(self):
        while True:
            wire, addr = self.sock.recvfrom(65535)
            resp = answer(wire, self.zone, self.drop, self.ttl)
            self.stats.begin(resp is None)
            if resp is None:
                continue
            with self.cond:
                self.seq += 1
                heapq.heappush(self.heap, (time.monotonic() + self.delay, self.seq, resp, addr))
                self.cond.notify()

    def send(self):
        while True:
            with self.cond:
                while not self.heap or self.heap[0][0] > time.monotonic():
                    self.cond.wait(self.heap[0][0] - time.monotonic() if self.heap else None)
                _, _, resp, addr = heapq.heappop(self.heap)
            try:
                self.sock.sendto(resp, addr)
            except OSError:
                pass
            self.stats.end()


def tcp_handler(zone, drop, delay, ttl, stats):
    """a StreamRequestHandler class answering length-prefixed queries"""

    class Handler(socketserver.BaseRequestHandler):
        def recv_exact(self, n):
            buf = b""
            while len(buf) < n:
                chunk = self.request.recv(n - len(buf))
                if not chunk:
                    return None
                buf += chunk
            return buf

        def handle(self):
            while True:
                head = self.recv_exact(2)
                if head is None:
                    return
                wire = self.recv_exact(struct.unpack("!H", head)[0])
                if wire is None:
                    return
                resp = answer(wire, zone, drop, ttl)
                stats.begin(resp is None)
                if resp is None:
                    continue
                time.sleep(delay)
                stats.end()
                self.request.sendall(struct.pack("!H", len(resp)) + resp)

    return Handler


class TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def bind_pair(port):
    """a UDP socket and a TCP server on the same 127.0.0.1 port"""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        udp.bind(("127.0.0.1", port))
        try:
            return udp, TcpServer(("127.0.0.1", udp.getsockname()[1]), None)
        except OSError:
            udp.close()
            if port:
                raise
    raise OSError("no free port for UDP and TCP")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats-file")
    ap.add_argument("--zone", default="slow.test")
    ap.add_argument("--drop", default="drop.test")
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--ttl", type=int, default=0)
    a = ap.parse_args()
    zone = dns.name.from_text(a.zone)
    drop = dns.name.from_text(a.drop)
    stats = Stats()
    udp, tcp = bind_pair(a.port)
    tcp.RequestHandlerClass = tcp_handler(zone, drop, a.delay, a.ttl, stats)
    side = UdpSide(udp, zone, drop, a.delay, a.ttl, stats)
    for fn in (side.receive, side.send, tcp.serve_forever):
        threading.Thread(target=fn, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % udp.getsockname()[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    last = None
    while True:
        time.sleep(0.2)
        if a.stats_file and stats.line() != last:
            last = stats.line()
            with open(a.stats_file + ".tmp", "w") as f:
                f.write(last)
            os.rename(a.stats_file + ".tmp", a.stats_file)


if __name__ == "__main__":
    main()
