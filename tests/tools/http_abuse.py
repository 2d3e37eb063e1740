#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bad HTTP clients against a listener on HOST:PORT, for tests/integration.

  slowloris N SECONDS  N connections each start a request and then send one
                       header byte per second, never finishing; prints
                       "closed C of N, max_open_s S": how many the server
                       closed within SECONDS and the longest any stayed open.
  concurrent N         N threads scrape GET /metrics at once; prints
                       "ok A error E garbled G": complete 200 answers (body
                       ends in a newline and has the build_info series),
                       refused/reset/other errors, and 200s with a bad body.
  bigheader BYTES      one GET /metrics with a header of BYTES; prints
                       "status CODE" or "status dropped".
Only ever connects to the address given (the tests give 127.0.0.1).
"""
import http.client
import socket
import sys
import threading
import time


def slowloris(host, port, n, seconds):
    socks, opened, closed_at = [], [], {}
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((host, port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        except OSError:
            closed_at[len(socks)] = 0.0  # refused or dropped at once
        socks.append(s)
        opened.append(time.monotonic())
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(closed_at) < n:
        for i, s in enumerate(socks):
            if i in closed_at:
                continue
            try:
                s.setblocking(False)
                try:
                    if s.recv(4096) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                s.sendall(b"a")
            except OSError:
                closed_at[i] = time.monotonic() - opened[i]
        time.sleep(1)
    for s in socks:
        s.close()
    longest = max(closed_at.values(), default=0.0)
    print("closed %d of %d, max_open_s %d" % (len(closed_at), n, int(longest + 0.999)))


def concurrent(host, port, n):
    counts = {"ok": 0, "error": 0, "garbled": 0}
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one():
        kind = "error"
        try:
            start.wait(30)
            c = http.client.HTTPConnection(host, port, timeout=60)
            c.request("GET", "/metrics")
            r = c.getresponse()
            body = r.read()
            if r.status == 200:
                good = body.endswith(b"\n") and b"\nxdp_portredir_build_info{" in b"\n" + body
                kind = "ok" if good else "garbled"
            c.close()
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError):
            pass
        with lock:
            counts[kind] += 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    print("ok %d error %d garbled %d" % (counts["ok"], counts["error"], counts["garbled"]))


def bigheader(host, port, size):
    try:
        c = http.client.HTTPConnection(host, port, timeout=30)
        c.putrequest("GET", "/metrics")
        c.putheader("X-Big", "a" * size)
        c.endheaders()
        print("status %d" % c.getresponse().status)
    except (OSError, http.client.HTTPException):
        print("status dropped")


def main():
    host, port, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = [int(a) for a in sys.argv[4:]]
    if what == "slowloris":
        slowloris(host, port, *args)
    elif what == "concurrent":
        concurrent(host, port, *args)
    elif what == "bigheader":
        bigheader(host, port, *args)
    else:
        sys.exit("usage: http_abuse.py HOST PORT slowloris N SECONDS|concurrent N|bigheader BYTES")


main()
