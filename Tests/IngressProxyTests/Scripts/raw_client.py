#!/usr/bin/env python3
"""Sends raw bytes to 127.0.0.1:PORT and prints what comes back until the server closes or
TIMEOUT seconds pass, then a last line "CLOSED <seconds>" or "OPEN <seconds>".

Usage: raw_client.py PORT TIMEOUT MODE [ARG]
  MODE bytes HEX         send these bytes (hex) at once
  MODE header-line N     a request with one header line of N bytes
  MODE headers N         a request with N header lines of 1000 bytes each
  MODE slowloris         a partial request header, then nothing
  MODE idle              connect and send nothing
  MODE partial-body      a POST announcing 100 bytes that sends 10, then nothing
  MODE noread PATH       GET PATH (host a.example), then read nothing for TIMEOUT/2 seconds;
                         prints "BYTES n" (all that came) and "LAST s" (when the last of it
                         came) before the last line; "POST PATH" sends
                         a POST with a 1-byte body instead
  MODE tls-MODE ...      MODE over TLS (server name a.example, no ALPN, as wrk connects)
  MODE reset HEX,HEX...  send each part (hex) 0.3 s after the one before, then reset the
                         connection (RST)
  MODE tls-hello NAME[,PROTOCOL...]
                         a real ClientHello (Python's ssl) for server name NAME offering these
                         ALPN protocols (none when only NAME), then nothing: the handshake stalls
  MODE slowread PATH     GET PATH (host a.example) with a small receive buffer, reading 32 KiB
                         every 10 ms until the content-length is in; prints "BODY n" (body
                         bytes) and a last line "DONE <seconds>" (or "CLOSED"/"OPEN" when cut)
"""
import socket
import ssl
import struct
import sys
import time

from tls_hello import client_hello


def main():
    port, timeout, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    start = time.monotonic()
    if mode.startswith("tls-") and mode != "tls-hello":
        mode = mode[4:]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname="a.example")
    if mode == "bytes":
        sock.sendall(bytes.fromhex(arg))
    elif mode == "header-line":
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Long: " + b"a" * int(arg) + b"\r\n\r\n")
    elif mode == "headers":
        lines = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 990) for i in range(int(arg)))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a.example\r\n" + lines + b"\r\n")
    elif mode == "slowloris":
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a.example\r\nX-a: ")
    elif mode == "idle":
        pass
    elif mode == "partial-body":
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\n0123456789")
    elif mode == "noread":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        if arg.startswith("POST "):
            sock.sendall(b"POST " + arg[5:].encode() + b" HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1\r\n\r\nx")
        else:
            sock.sendall(b"GET " + arg.encode() + b" HTTP/1.1\r\nHost: a.example\r\n\r\n")
        time.sleep(timeout / 2)
    elif mode == "reset":
        # Each comma-separated part is sent 0.3 s after the one before.
        for part in arg.split(","):
            sock.sendall(bytes.fromhex(part))
            time.sleep(0.3)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        print("RESET %.2f" % (time.monotonic() - start))
        return
    elif mode == "tls-hello":
        name, *protocols = arg.split(",")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if protocols:
            context.set_alpn_protocols(protocols)
        sock.sendall(client_hello(context, name)[3])
    elif mode == "slowread":
        slow_read(sock, arg, start, timeout)
        return
    received = b""
    last = 0.0
    state = "OPEN"
    deadline = start + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ssl.SSLError):
            state = "CLOSED"
            break
        if not chunk:
            state = "CLOSED"
            break
        received += chunk
        last = time.monotonic() - start
    if mode == "noread":
        print("BYTES %d" % len(received))
        print("LAST %.2f" % last)
    else:
        sys.stdout.write(received.decode("latin-1"))
    print("\n%s %.2f" % (state, time.monotonic() - start))


def slow_read(sock, path, start, timeout):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a.example\r\n\r\n")
    received = b""
    state = "OPEN"
    length = None
    body = 0
    while time.monotonic() < start + timeout:
        try:
            chunk = sock.recv(32768)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            state = "CLOSED"
            break
        if length is None:
            received += chunk
            end = received.find(b"\r\n\r\n")
            if end < 0:
                continue
            for line in received[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            body = len(received) - end - 4
        else:
            body += len(chunk)
        if length is not None and body >= length:
            state = "DONE"
            break
        time.sleep(0.01)
    print("BODY %d" % body)
    print("%s %.2f" % (state, time.monotonic() - start))


if __name__ == "__main__":
    main()
