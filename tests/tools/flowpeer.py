#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Long-lived TCP and UDP flows for the flow-survival tests.

server PORT...      listen on every port (TCP and UDP, IPv4 and IPv6); say "ready".
                    A TCP line "ping X" gets "pong PORT X" (PORT: the server's own
                    port, so a test sees where its flow really goes); a TCP line
                    "bulk" starts an endless paced stream on that connection; a UDP
                    datagram X gets "pong PORT X".
client HOST PORT CTL  open an interactive and a bulk connection to HOST:PORT, then
                    obey lines written to the FIFO CTL: "check" pings and waits for
                    the bulk stream to move on, printing "ok PORT BULKPORT" or
                    "fail WHY"; "quit" closes both and exits.
udp HOST PORT CTL   one UDP socket; "check" sends a datagram (again if no answer
                    comes), prints "ok PORT" or "fail WHY".
Every wait is bounded (WAIT seconds), so a dead flow shows up as "fail", never a hang.
"""
import os
import select
import socket
import sys
import threading
import time

WAIT = float(os.environ.get("FLOWPEER_WAIT", "30"))


def serve_tcp(conn):
    port = conn.getsockname()[1]
    f = conn.makefile("rb")
    try:
        for line in f:
            words = line.decode(errors="replace").split()
            if words[:1] == ["ping"]:
                conn.sendall(("pong %d %s\n" % (port, " ".join(words[1:]))).encode())
            elif words[:1] == ["bulk"]:
                conn.sendall(("port %d\n" % port).encode())
                chunk = b"x" * 16384
                while True:
                    conn.sendall(chunk)
                    time.sleep(0.002)
    except OSError:
        pass
    finally:
        conn.close()


def accept_loop(lsock):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve_tcp, args=(conn,), daemon=True).start()


def udp_loop(usock):
    port = usock.getsockname()[1]
    while True:
        data, peer = usock.recvfrom(2048)
        usock.sendto(b"pong %d " % port + data, peer)


def server(ports):
    for port in ports:
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        t.bind(("::", port))
        t.listen(64)
        threading.Thread(target=accept_loop, args=(t,), daemon=True).start()
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        u.bind(("::", port))
        threading.Thread(target=udp_loop, args=(u,), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def commands(ctl):
    fd = os.open(ctl, os.O_RDWR)  # also a writer: no EOF between test steps
    buf = b""
    while True:
        while b"\n" not in buf:
            buf += os.read(fd, 256)
        line, buf = buf.split(b"\n", 1)
        yield line.decode().strip()


def readline(sock, deadline):
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise TimeoutError("no answer in %g s" % WAIT)
        got = sock.recv(1)
        if not got:
            raise ConnectionError("closed by peer")
        data += got
    return data.decode().split()


class Bulk(threading.Thread):
    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.bytes, self.error = sock, 0, None

    def run(self):
        try:
            while True:
                got = self.sock.recv(65536)
                if not got:
                    raise ConnectionError("bulk stream closed by peer")
                self.bytes += len(got)
        except OSError as e:
            self.error = str(e) or type(e).__name__


def client(host, port, ctl):
    try:
        inter = socket.create_connection((host, port), timeout=WAIT)
        bulk = socket.create_connection((host, port), timeout=WAIT)
        bulk.sendall(b"bulk\n")
        bulk_port = int(readline(bulk, time.monotonic() + WAIT)[1])
        bulk.settimeout(None)
    except (OSError, TimeoutError, ValueError, IndexError) as e:
        print("fail connect: %s" % e, flush=True)
        return 1
    reader = Bulk(bulk)
    reader.start()
    print("connected", flush=True)
    n = 0
    for cmd in commands(ctl):
        if cmd == "quit":
            inter.close()
            bulk.shutdown(socket.SHUT_RDWR)
            bulk.close()
            print("closed", flush=True)
            return 0
        n += 1
        try:
            deadline = time.monotonic() + WAIT
            inter.sendall(b"ping %d\n" % n)
            words = readline(inter, deadline)
            start = reader.bytes
            while reader.bytes < start + 65536 and reader.error is None:
                if time.monotonic() > deadline:
                    raise TimeoutError("bulk stream stalled")
                time.sleep(0.05)
            if reader.error:
                raise ConnectionError(reader.error)
            print("ok %s %d" % (words[1], bulk_port), flush=True)
        except (OSError, TimeoutError) as e:
            print("fail %s" % (str(e) or type(e).__name__), flush=True)
    return 0


def udp(host, port, ctl):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.connect((host, port))
    print("connected", flush=True)
    for cmd in commands(ctl):
        if cmd == "quit":
            return 0
        # A lost datagram is retried (up to WAIT s); a refusal (ICMP port
        # unreachable: nothing listens where it went) is the answer.
        result, deadline = "fail no reply in %g s" % WAIT, time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                s.send(b"hello")
                s.settimeout(3)
                result = "ok %s" % s.recv(2048).decode().split()[1]
                break
            except socket.timeout:
                continue
            except OSError as e:
                result = "fail %s" % (str(e) or type(e).__name__)
                break
        print(result, flush=True)
    return 0


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "server":
        server([int(p) for p in args])
    elif mode == "client":
        sys.exit(client(args[0], int(args[1]), args[2]))
    elif mode == "udp":
        sys.exit(udp(args[0], int(args[1]), args[2]))
    sys.exit(2)
