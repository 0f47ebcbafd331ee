#!/usr/bin/env python3
"""A WebSocket client for the ingress proxy tests: connects to 127.0.0.1:PORT with Host HOST,
upgrades /ws, checks Sec-WebSocket-Accept, sends a text frame, a 200 KB binary frame and a
close, and prints "OK <X-Served-By>" when every echo matches.

Usage: ws_client.py PORT HOST [tls]
  tls: over TLS (SNI HOST, no ALPN, as most WebSocket libraries connect)
"""
import base64
import hashlib
import os
import socket
import ssl
import sys


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SystemExit("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def send_frame(sock, opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(head + mask + masked)


def read_frame(sock):
    head = read_exact(sock, 2)
    n = head[1] & 0x7F
    if n == 126:
        n = int.from_bytes(read_exact(sock, 2), "big")
    elif n == 127:
        n = int.from_bytes(read_exact(sock, 8), "big")
    return head[0] & 0x0F, read_exact(sock, n)


def main():
    port, host = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    if len(sys.argv) > 3 and sys.argv[3] == "tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname=host)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((
        "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (host, key)).encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("closed during the handshake: %r" % response)
        response += chunk
    head, _, rest = response.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    if not lines[0].startswith("HTTP/1.1 101"):
        raise SystemExit("no upgrade: %s" % lines[0])
    headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    if headers.get("sec-websocket-accept") != expected:
        raise SystemExit("bad Sec-WebSocket-Accept: %r" % headers)
    if rest:
        raise SystemExit("unexpected bytes after the 101: %r" % rest)
    send_frame(sock, 1, b"hello through the ingress")
    opcode, payload = read_frame(sock)
    if (opcode, payload) != (1, b"hello through the ingress"):
        raise SystemExit("text echo differs: %r" % ((opcode, payload),))
    big = os.urandom(200_000)
    send_frame(sock, 2, big)
    opcode, payload = read_frame(sock)
    if (opcode, payload) != (2, big):
        raise SystemExit("binary echo differs (%d bytes back)" % len(payload))
    send_frame(sock, 8, b"")
    opcode, _ = read_frame(sock)
    if opcode != 8:
        raise SystemExit("no close frame back")
    print("OK", headers.get("x-served-by", ""))


if __name__ == "__main__":
    main()
