#!/usr/bin/env python3
"""A pod for the ingress proxy tests: an HTTP/1.1 keep-alive server on ADDRESS (port 0: the
kernel picks, printed as "PORT n" on stdout) that answers every request with JSON naming itself
and what it got, and has a few special paths:

  /slow?ms=N       answers after N milliseconds
  /stream?chunks=N answers with N chunks (chunked transfer encoding), 10 ms apart
  /big?bytes=N     answers with N bytes (content-length)
  /close           closes the connection without answering
  /stats           {"connections": accepted connections so far, "slow": /slow requests in progress}
  /ws              a WebSocket echo (RFC 6455): text and binary frames come back, close ends it

Usage: echo_backend.py ADDRESS [PORT]
"""
import base64
import hashlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCEPTED = 0
SLOW = 0
LOCK = threading.Lock()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        global ACCEPTED
        conn, addr = super().get_request()
        with LOCK:
            ACCEPTED += 1
        return conn, addr


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status=200, payload=None, extra=None):
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        global SLOW
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        body = self.body()
        me = "%s:%d" % self.server.server_address[:2]
        if url.path == "/close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if url.path == "/stats":
            with LOCK:
                self.answer(payload={"server": me, "connections": ACCEPTED, "slow": SLOW})
            return
        if url.path == "/ws":
            return self.websocket()
        if url.path == "/slow":
            with LOCK:
                SLOW += 1
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
            with LOCK:
                SLOW -= 1
        if url.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(int(query.get("chunks", ["3"])[0])):
                piece = ("chunk %d from %s\n" % (i, me)).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
            return
        if url.path == "/big":
            size = int(query.get("bytes", ["1048576"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                return
            block = b"x" * 65536
            left = size
            while left > 0:
                n = min(left, len(block))
                self.wfile.write(block[:n])
                left -= n
            return
        self.answer(payload={
            "server": me,
            "method": self.command,
            "path": self.path,
            "version": self.request_version,
            "headers": [[k.lower(), v] for k, v in self.headers.items()],
            "bodyLength": len(body),
            "bodySHA256": hashlib.sha256(body).hexdigest(),
        })

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("X-Served-By", "%s:%d" % self.server.server_address[:2])
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        rfile = self.rfile
        while True:
            header = rfile.read(2)
            if len(header) < 2:
                return
            opcode = header[0] & 0x0F
            length = header[1] & 0x7F
            if length == 126:
                length = int.from_bytes(rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(rfile.read(8), "big")
            mask = rfile.read(4) if header[1] & 0x80 else b"\0\0\0\0"
            payload = bytearray(rfile.read(length))
            for i in range(len(payload)):
                payload[i] ^= mask[i % 4]
            if opcode == 8:
                self.wfile.write(bytes([0x88, 0]))
                self.wfile.flush()
                return
            if length < 126:
                frame = bytes([0x80 | opcode, length])
            elif length < 65536:
                frame = bytes([0x80 | opcode, 126]) + length.to_bytes(2, "big")
            else:
                frame = bytes([0x80 | opcode, 127]) + length.to_bytes(8, "big")
            self.wfile.write(frame + bytes(payload))
            self.wfile.flush()


def main():
    address = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = Server((address, port), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
