import CNIOBoringSSL
import CShims
import Glibc
import NIOCore

/// How a connection moves from the epoll data path to NIO (`IngressProxyServer.adopt`).
enum DataPathHandoff: Sendable {
    /// Plain HTTP/1: NIO's `ProxyHandler` serves the socket from the bytes given on.
    case http
    /// TLS before the handshake: NIO's TLS pipeline serves the socket from the ClientHello's bytes
    /// given on, as if it had accepted it, with HTTP/2 if ALPN picks it.
    case tls
    /// TLS after the handshake: NIO gets the loop's end of a socketpair and serves the plaintext
    /// the loop relays, as a connection from `origin` (the client's address, https).
    case relay(ForwardedHeaders.Origin)
}

/// HTTPS on the loop: the ClientHello is read to choose the certificate (SNI) and the path (a
/// client offering h2 goes to NIO, which serves HTTP/2); the handshake, reads and writes go through
/// BoringSSL on the loop (writing to the socket, reading through `DataPathTLSInput`), so a request
/// costs what plain HTTP costs plus the cipher. A request the loop does not serve, once TLS is up,
/// cannot move to NIO with the TLS session: the loop keeps the session and relays the plaintext
/// over a socketpair to NIO (`.relay`), for the rest of the connection.
extension DataPathLoop {
    // MARK: Reading and writing the client

    /// Reads what the client sent (decrypted for TLS) into `buffer`.
    func readClient(_ client: DataPathClient, into buffer: inout ByteBuffer) -> DataPathSocket.IOResult {
        guard let ssl = client.ssl else { return DataPathSocket.read(client.fd, into: &buffer) }
        var result = DataPathSocket.IOResult.done(0)
        var total = 0
        // Until BoringSSL wants more: then nothing is left in the loop's input (one socket read's
        // worth at most, `DataPathTLSInput`) and epoll reports what the kernel holds.
        tlsInput.begin(client.fd)
        while case .done = result {
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4096) { raw in
                let n = SSL_read(ssl, raw.baseAddress, Int32(min(raw.count, Int(Int32.max))))
                if n > 0 {
                    total += Int(n)
                    return Int(n)
                }
                result = sslStatus(ssl, n, client: client)
                return 0
            }
        }
        // Nothing after a close counts: what is left of the read goes.
        if isClosed(result) { tlsInput.forget(client.fd) }
        // Bytes before a close are served first (as a plain read returns them before the 0).
        return total > 0 ? .done(total) : result
    }

    /// Reads what the client sent into the loop's `scratch`: false when nothing came, or the
    /// client closed (then it is closed).
    func readIntoScratch(_ client: DataPathClient) -> Bool {
        scratch.clear()
        switch readClient(client, into: &scratch) {
        case .closed:
            closeClient(client)
            return false
        case .wouldBlock:
            return false
        case .done:
            return true
        }
    }

    /// Writes as much of `buffer` as the client's socket takes (encrypted for TLS).
    func writeClient(_ client: DataPathClient, _ buffer: inout ByteBuffer) -> DataPathSocket.IOResult {
        guard let ssl = client.ssl else { return DataPathSocket.write(client.fd, &buffer) }
        var written = 0
        while buffer.readableBytes > 0 {
            let n = buffer.withUnsafeReadableBytes { raw in SSL_write(ssl, raw.baseAddress, Int32(min(raw.count, Int(Int32.max)))) }
            if n > 0 {
                buffer.moveReaderIndex(forwardBy: Int(n))
                written += Int(n)
                continue
            }
            let status = sslStatus(ssl, n, client: nil)
            if isClosed(status) { return .closed }
            return written > 0 ? .done(written) : .wouldBlock
        }
        return .done(written)
    }

    private func isClosed(_ result: DataPathSocket.IOResult) -> Bool {
        if case .closed = result { return true }
        return false
    }

    /// What a failed SSL call means for the loop. A read that needs the socket writable says so on
    /// `client` (it is read again once the socket is).
    private func sslStatus(_ ssl: OpaquePointer, _ rc: Int32, client: DataPathClient?) -> DataPathSocket.IOResult {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            return .wouldBlock
        case SSL_ERROR_WANT_WRITE:
            if let client {
                client.readWantsWrite = true
                watch(client.fd, .client, &client.interest, read: false, write: true)
            }
            return .wouldBlock
        default:
            // close_notify, a reset, a bad record: the connection is over. The error queue is per
            // thread and SSL_get_error reads it, so nothing may be left in it for the next call.
            ERR_clear_error()
            return .closed
        }
    }

    // MARK: The ClientHello and the handshake

    /// Reads the ClientHello and picks the path and certificate. The hello's bytes are kept until
    /// its record is whole (a large one, with a post-quantum key share, takes two TCP segments);
    /// they then go to BoringSSL through the loop's input, or to NIO with the socket. NIO gets
    /// the connection when the client offers h2, or when the hello is not one this loop reads
    /// (split over records, malformed, SSLv2, not TLS).
    func readHello(_ client: DataPathClient) {
        scratch.clear()
        switch DataPathSocket.read(client.fd, into: &scratch, limit: TLSClientHello.maxRecord - client.hello.readableBytes) {
        case .closed: return closeClient(client)
        case .wouldBlock: return
        case .done: break
        }
        // Most hellos come whole in one read: they are parsed where they were read.
        if client.hello.readableBytes > 0 { client.hello.writeImmutableBuffer(scratch) }
        let bytes = client.hello.readableBytes > 0 ? client.hello : scratch
        let parse = bytes.withUnsafeReadableBytes { TLSClientHello.parse($0) }
        // Incomplete: wait for the rest (the header timeout runs). The record's length is at most
        // `maxRecord`, so a whole one always fits.
        if parse == .incomplete, bytes.readableBytes < TLSClientHello.maxRecord {
            if client.hello.readableBytes == 0 { client.hello = ByteBuffer(bytes: scratch.readableBytesView) }
            return
        }
        client.hello = ByteBuffer()
        guard case .hello(let hello) = parse, hello.staysOnLoop else {
            // Copied: NIO keeps what it is given, and the loop's buffer is reused at once.
            return handOffTLS(client, bytes: ByteBuffer(bytes: bytes.readableBytesView))
        }
        let certificate = hello.serverName.flatMap { shared.table.certificates.certificate(serverName: $0) } ?? shared.defaultCertificate
        guard let context = certificate.dataPath, let ssl = context.connection(fd: client.fd, input: tlsInput) else {
            return handOffTLS(client, bytes: ByteBuffer(bytes: bytes.readableBytesView))
        }
        client.ssl = ssl
        client.state = .handshaking
        bytes.withUnsafeReadableBytes { tlsInput.preload(client.fd, $0) }
        continueHandshake(client)
    }

    /// The socket goes to NIO's TLS pipeline with the hello's bytes read so far.
    private func handOffTLS(_ client: DataPathClient, bytes: ByteBuffer) {
        forget(client)
        adopt(client.fd, bytes, .tls)
    }

    func continueHandshake(_ client: DataPathClient) {
        guard let ssl = client.ssl else { return }
        tlsInput.begin(client.fd)
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            counters.withLockedValue { $0.handshakes += 1 }
            client.state = .idle
            client.deadline = after(shared.config.clientHeaderTimeout)
            watch(client.fd, .client, &client.interest, read: true, write: false)
            // The request that came with the client's Finished is in the loop's input: read it now.
            if tlsInput.hasBytes(for: client.fd) || SSL_has_pending(ssl) == 1 { clientReadable(client) }
            return
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            watch(client.fd, .client, &client.interest, read: true, write: false)
        case SSL_ERROR_WANT_WRITE:
            watch(client.fd, .client, &client.interest, read: false, write: true)
        default:
            // A failed handshake: BoringSSL sent its alert, if it could.
            ERR_clear_error()
            closeClient(client)
        }
    }

    /// Ends a TLS session: close_notify if the handshake finished (nginx sends it too), and the
    /// connection object freed. Best effort: the socket closes right after.
    func endTLS(_ client: DataPathClient) {
        guard let ssl = client.ssl else { return }
        client.ssl = nil
        tlsInput.forget(client.fd)
        if SSL_in_init(ssl) == 0 { _ = SSL_shutdown(ssl) }
        ERR_clear_error()
        SSL_free(ssl)
    }

    // MARK: Relaying the plaintext to NIO

    /// The rest of a TLS connection goes to NIO through a socketpair: NIO gets one end with the
    /// bytes of the request under way, the loop keeps the other and the TLS session.
    func relayToNIO(_ client: DataPathClient) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            closeClient(client)
            return
        }
        guard sl_epoll_add(epoll, pair[0], token(.relay, pair[0]), 1, 0) == 0 else {
            close(pair[0])
            close(pair[1])
            closeClient(client)
            return
        }
        counters.withLockedValue { $0.relays += 1 }
        client.relay = pair[0]
        client.state = .relaying
        relays[pair[0]] = client
        let bytes = client.requestBytes
        client.requestBytes = ByteBuffer()
        // What the reader held went to NIO with `bytes`: its buffer is let go.
        client.reader = HTTP1RequestReader(limits: limits)
        adopt(pair[1], bytes, .relay(client.origin))
        watch(client.fd, .client, &client.interest, read: true, write: false)
        if let ssl = client.ssl, SSL_has_pending(ssl) == 1 { relayFromClient(client) }
    }

    /// The client's next bytes to NIO; while NIO's end is full they wait, and so do the client's.
    func relayFromClient(_ client: DataPathClient) {
        guard client.toRelay.readableBytes == 0 else {
            watch(client.fd, .client, &client.interest, read: false, write: client.isWaitingToSend)
            return
        }
        guard readIntoScratch(client) else { return }
        if case .closed = DataPathSocket.write(client.relay, &scratch) {
            closeClient(client)
            return
        }
        if scratch.readableBytes > 0 {
            client.toRelay = scratch
            watch(client.fd, .client, &client.interest, read: false, write: client.isWaitingToSend)
            watchRelay(client, read: client.relayInterest & 1 != 0, write: true)
        }
    }

    /// NIO's end is readable (its response bytes) or writable (room for what the client sent).
    func relayReady(_ fd: Int32, readable: Bool, writable: Bool) {
        guard let client = relays[fd] else { return }
        if writable, client.toRelay.readableBytes > 0 {
            if case .closed = DataPathSocket.write(fd, &client.toRelay) {
                closeClient(client)
                return
            }
            if client.toRelay.readableBytes == 0 {
                client.toRelay = ByteBuffer()
                watchRelay(client, read: client.relayInterest & 1 != 0, write: false)
                watch(client.fd, .client, &client.interest, read: true, write: client.isWaitingToSend)
                if let ssl = client.ssl, SSL_has_pending(ssl) == 1 { relayFromClient(client) }
            }
        }
        guard readable, relays[fd] === client else { return }
        relayToClient(client)
    }

    /// NIO's bytes to the client; while the client does not take them, NIO's end is not read
    /// (NIO's own send timeout then runs).
    func relayToClient(_ client: DataPathClient) {
        guard !client.isWaitingToSend else {
            watchRelay(client, read: false, write: client.toRelay.readableBytes > 0)
            return
        }
        client.output.clear()
        switch DataPathSocket.read(client.relay, into: &client.output) {
        case .wouldBlock:
            return
        case .closed:
            // NIO is done with the connection (Connection: close, a timeout, shutdown), and what
            // it sent before is out: its end is read only while nothing waits for the client.
            return closeClient(client)
        case .done:
            break
        }
        // Once this waits for the client, the next readable event on NIO's end stops its reads.
        flush(client)
    }

    /// The client took what was waiting for it: NIO's end is read again.
    func relayResume(_ client: DataPathClient) {
        watchRelay(client, read: true, write: client.toRelay.readableBytes > 0)
        watch(client.fd, .client, &client.interest, read: client.toRelay.readableBytes == 0, write: false)
        relayToClient(client)
    }

    /// Like `watch`, except that nothing asked means out of the epoll set: once NIO closes its
    /// end, HUP is reported on it whatever is asked, and a paused end would wake the loop for it
    /// on every wait.
    private func watchRelay(_ client: DataPathClient, read: Bool, write: Bool) {
        let wanted: UInt8 = (read ? 1 : 0) | (write ? 2 : 0)
        guard client.relay >= 0, wanted != client.relayInterest else { return }
        if wanted == 0 {
            sl_epoll_remove(epoll, client.relay)
        } else if client.relayInterest == 0 {
            sl_epoll_add(epoll, client.relay, token(.relay, client.relay), read ? 1 : 0, write ? 1 : 0)
        } else {
            sl_epoll_modify(epoll, client.relay, token(.relay, client.relay), read ? 1 : 0, write ? 1 : 0)
        }
        client.relayInterest = wanted
    }

    func closeRelay(_ client: DataPathClient) {
        guard client.relay >= 0 else { return }
        if client.relayInterest != 0 { sl_epoll_remove(epoll, client.relay) }
        relays[client.relay] = nil
        close(client.relay)
        client.relay = -1
    }
}
