#!/usr/bin/env python3
"""HTTP/1.1 requests over one TLS connection to 127.0.0.1:PORT (SNI and Host HOST, no ALPN, as
wrk and most API clients connect), for the epoll data path's TLS: two GETs pipelined in one write
and a GET (served on the loop), a POST (relayed to NIO), then a GET of BIG bytes and a PUT of BIG
bytes (relayed too). Prints one line per response: "STATUS SERVER BODYLENGTH", then "DONE".

Usage: tls_requests.py PORT HOST BIG [split]
  split: the ClientHello goes out in two TCP segments 0.2 s apart (as a large, post-quantum hello
  does), the handshake driven by hand over memory BIOs
"""
import json
import socket
import ssl
import sys
import time

from tls_hello import client_hello


class Pumped:
    """An SSLObject over memory BIOs, read and written like an SSL socket."""

    def __init__(self, sock, tls, incoming, outgoing):
        self.sock, self.tls, self.incoming, self.outgoing = sock, tls, incoming, outgoing

    def sendall(self, data):
        self.tls.write(data)
        self.sock.sendall(self.outgoing.read())

    def recv(self, n):
        while True:
            try:
                return self.tls.read(n)
            except ssl.SSLWantReadError:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return b""
                self.incoming.write(chunk)


def split_handshake(context, sock, host):
    tls, incoming, outgoing, hello = client_hello(context, host)
    sock.sendall(hello[: len(hello) // 2])
    time.sleep(0.2)
    sock.sendall(hello[len(hello) // 2 :])
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                sock.sendall(pending)
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("closed during the handshake")
            incoming.write(chunk)
    sock.sendall(outgoing.read())
    return Pumped(sock, tls, incoming, outgoing)


def read_response(tls, buffered):
    while b"\r\n\r\n" not in buffered:
        chunk = tls.recv(65536)
        if not chunk:
            raise SystemExit("closed before a response head: %r" % buffered[:200])
        buffered += chunk
    head, _, buffered = buffered.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    length = int(headers.get("content-length", "-1"))
    if length < 0:
        raise SystemExit("no content-length: %s" % lines)
    while len(buffered) < length:
        chunk = tls.recv(1 << 20)
        if not chunk:
            raise SystemExit("closed after %d of %d body bytes" % (len(buffered), length))
        buffered += chunk
    body, buffered = buffered[:length], buffered[length:]
    status = lines[0].split(" ")[1]
    server = json.loads(body).get("server", "-") if body.startswith(b"{") else "-"
    return "%s %s %d" % (status, server, len(body)), body, buffered


def main():
    port, host, big = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    if len(sys.argv) > 4 and sys.argv[4] == "split":
        tls = split_handshake(context, sock, host)
    else:
        tls = context.wrap_socket(sock, server_hostname=host)
    buffered = b""
    tls.sendall(b"GET /p1 HTTP/1.1\r\nHost: %s\r\n\r\nGET /p2 HTTP/1.1\r\nHost: %s\r\n\r\n" % (host.encode(), host.encode()))
    for _ in range(2):
        line, _, buffered = read_response(tls, buffered)
        print(line)
    requests = [
        b"GET /first HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode(),
        b"POST /order HTTP/1.1\r\nHost: %s\r\nContent-Length: 7\r\n\r\nitem=42" % host.encode(),
        b"GET /big?bytes=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (big, host.encode()),
        b"PUT /up HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n" % (host.encode(), big) + b"u" * big,
    ]
    for request in requests:
        tls.sendall(request)
        line, body, buffered = read_response(tls, buffered)
        print(line)
        if request.startswith(b"POST") or request.startswith(b"PUT"):
            echoed = json.loads(body)
            print("SENT %s %s" % (echoed.get("method"), echoed.get("bodyLength")))
    print("DONE")


if __name__ == "__main__":
    main()
