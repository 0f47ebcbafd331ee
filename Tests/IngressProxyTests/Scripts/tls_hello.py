"""A TLS client's first flight without a socket, for the tests that send it by hand."""
import ssl


def client_hello(context, host):
    """Starts a handshake over memory BIOs: returns the SSLObject, its incoming and outgoing
    BIOs, and the ClientHello's bytes (what to send first)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return tls, incoming, outgoing, outgoing.read()
