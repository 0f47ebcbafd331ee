#!/usr/bin/env python3
"""HTTP/2 over TLS to 127.0.0.1:PORT (SNI HOST, ALPN h2) with python3-h2: prints the server's
SETTINGS_MAX_CONCURRENT_STREAMS, then opens N streams to PATH without ending them and prints how
many the server refused (RST_STREAM) and whether the connection survived.

Usage: h2_streams.py PORT HOST PATH N
"""
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings


def main():
    port, host, path, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname=host)
    if sock.selected_alpn_protocol() != "h2":
        raise SystemExit("ALPN chose %r" % sock.selected_alpn_protocol())
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    max_streams = None
    while max_streams is None:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("closed before SETTINGS")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RemoteSettingsChanged):
                setting = event.changed_settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS)
                if setting is not None:
                    max_streams = setting.new_value
        sock.sendall(conn.data_to_send())
    print("MAX_CONCURRENT_STREAMS", max_streams)
    # Open streams beyond the limit: h2 itself refuses to send more than the peer allows, so
    # lift its local view of the limit to send them anyway, as a hostile client would.
    conn.remote_settings._settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = [count + 10]
    headers = [(":method", "POST"), (":path", path), (":scheme", "https"), (":authority", host)]
    for _ in range(count):
        conn.send_headers(conn.get_next_available_stream_id(), headers, end_stream=False)
    sock.sendall(conn.data_to_send())
    refused = 0
    closed = False
    sock.settimeout(3)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                closed = True
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.StreamReset):
                    refused += 1
                if isinstance(event, h2.events.ConnectionTerminated):
                    closed = True
            sock.sendall(conn.data_to_send())
    except socket.timeout:
        pass
    except Exception as error:  # a protocol error the server caused is reported, not hidden
        print("ERROR", type(error).__name__, error)
    print("REFUSED", refused)
    print("CLOSED" if closed else "ALIVE")


if __name__ == "__main__":
    main()
