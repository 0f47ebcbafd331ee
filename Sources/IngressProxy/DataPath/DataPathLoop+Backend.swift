import CShims
import Glibc
import NIOCore
import NIOHTTP1

/// The backend side of a `DataPathLoop`: connections from the loop's pool (or new ones), the
/// request written, the response read, rewritten and passed to the client, the connection back
/// into the pool; and the proxy's own answers when a backend fails.
extension DataPathLoop {
    func sendToBackend(_ client: DataPathClient, reuse: Bool) {
        guard let target = client.target else { return }
        let endpoint = target.endpoints[client.nextIndex % target.endpoints.count]
        client.nextIndex &+= 1
        client.attemptsLeft -= 1
        var backend: DataPathBackend?
        if reuse { backend = idle[endpoint]?.backends.popLast() }
        if backend == nil { backend = connect(endpoint) }
        guard let backend else {
            if client.attemptsLeft > 0 { sendToBackend(client, reuse: reuse) } else { respondLocal(client, .badGateway) }
            return
        }
        backend.client = client
        backend.requests += 1
        backend.reader = HTTP1ResponseReader()
        backend.reader.answersHEAD = client.method == .HEAD
        backend.unsent = client.requestOut
        client.backend = backend
        if backend.connected {
            backend.deadline = after(shared.config.backendTimeout)
            writeRequest(backend)
        } else {
            backend.deadline = after(shared.config.backendConnectTimeout)
        }
    }

    func connect(_ endpoint: BackendEndpoint) -> DataPathBackend? {
        guard let (fd, connected) = DataPathSocket.connect(endpoint.address) else { return nil }
        guard sl_epoll_add(epoll, fd, token(.backend, fd), 1, connected ? 0 : 1) == 0 else {
            close(fd)
            return nil
        }
        let backend = DataPathBackend(fd: fd, endpoint: endpoint, connected: connected)
        if Int(fd) >= backends.count { backends.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - backends.count + 64)) }
        backends[Int(fd)] = backend
        counters.withLockedValue { $0.backendsOpened += 1 }
        return backend
    }

    func writeRequest(_ backend: DataPathBackend) {
        switch DataPathSocket.write(backend.fd, &backend.unsent) {
        case .closed:
            backendClosed(backend)
        case .wouldBlock, .done:
            // Sent: the client's request buffer is its own again, reused for its next request.
            if backend.unsent.readableBytes == 0 { backend.unsent = ByteBuffer() }
            watch(backend.fd, .backend, &backend.interest, read: !backend.readsPaused, write: backend.unsent.readableBytes > 0)
        }
    }

    func backendWritable(_ backend: DataPathBackend) {
        if !backend.connected {
            guard DataPathSocket.connectSucceeded(backend.fd) else {
                let client = backend.client
                backend.client = nil
                dropBackend(backend)
                if let client {
                    client.backend = nil
                    if client.attemptsLeft > 0 { sendToBackend(client, reuse: false) } else { respondLocal(client, .badGateway) }
                }
                return
            }
            backend.connected = true
            backend.deadline = after(shared.config.backendTimeout)
        }
        writeRequest(backend)
    }

    func backendReadable(_ backend: DataPathBackend) {
        guard !backend.readsPaused else { return }
        scratch.clear()
        let result = DataPathSocket.read(backend.fd, into: &scratch)
        guard let client = backend.client else {
            // An idle pooled connection that speaks or closes is done.
            if case .wouldBlock = result { return }
            dropBackend(backend)
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .closed:
            backendClosed(backend)
            return
        case .done:
            break
        }
        backend.deadline = after(shared.config.backendTimeout)
        backend.reader.append(scratch)
        while backend.client === client {
            let part: ProxyResponsePart?
            do {
                part = try backend.reader.next()
            } catch {
                backendFailed(client, backend: backend, status: .badGateway)
                return
            }
            guard let part else { break }
            deliver(part, to: client, from: backend)
        }
        if backend.client === client { flush(client) }
    }

    func deliver(_ part: ProxyResponsePart, to client: DataPathClient, from backend: DataPathBackend) {
        switch part {
        case .head(let head):
            if head.status == .switchingProtocols {
                // No upgrade was asked for: a 101 cannot be relayed.
                backendFailed(client, backend: backend, status: .badGateway)
                return
            }
            responseFields.removeAll()
            let framing = ForwardedHeaders.response(head, requestMethod: client.method, clientVersion: client.version,
                                                    clientKeepAlive: client.keepAlive, isHTTP2: false, into: &responseFields)
            if head.status.code >= 200 {
                client.responseStarted = true
                client.bodyless = framing.bodyless
                client.closeAfter = framing.closeAfter
                client.backendKeepAlive = head.isKeepAlive
            }
            client.writer.writeHead(ProxyResponseHead(version: client.version, status: head.status, fields: responseFields),
                                    into: &client.output)
        case .body(let body):
            guard !client.bodyless else { return }
            client.writer.write(ProxyResponsePart.body(body), allocator: allocator, promise: nil) { bytes, _ in
                client.output.writeImmutableBuffer(bytes)
            }
        case .end:
            client.writer.write(ProxyResponsePart.end(nil), allocator: allocator, promise: nil) { bytes, _ in
                client.output.writeImmutableBuffer(bytes)
            }
            client.backend = nil
            backend.client = nil
            if client.backendKeepAlive, !backend.reader.hasBytes {
                release(backend)
            } else {
                dropBackend(backend)
            }
            client.state = .idle
            flush(client)
            responseDone(client)
        }
    }

    /// A backend connection that closed (or failed) while serving `client`.
    func backendClosed(_ backend: DataPathBackend) {
        guard let client = backend.client else {
            dropBackend(backend)
            return
        }
        // The close ends a body without length (RFC 9112 §6.3).
        if client.responseStarted, let end = try? backend.reader.finish() {
            deliver(end, to: client, from: backend)
            return
        }
        backend.client = nil
        client.backend = nil
        dropBackend(backend)
        if client.responseStarted {
            closeClient(client)
        } else if backend.requests > 1, !client.retriedReused {
            // A reused connection the backend closed as the request went out: once more on a new one.
            client.retriedReused = true
            client.attemptsLeft += 1
            client.nextIndex &-= 1
            sendToBackend(client, reuse: false)
        } else {
            respondLocal(client, .badGateway)
        }
    }

    func backendFailed(_ client: DataPathClient, backend: DataPathBackend, status: HTTPResponseStatus) {
        backend.client = nil
        client.backend = nil
        dropBackend(backend)
        if client.responseStarted { closeClient(client) } else { respondLocal(client, status) }
    }

    func release(_ backend: DataPathBackend) {
        guard backends[Int(backend.fd)] === backend else { return }
        let list: DataPathIdleList
        if let existing = idle[backend.endpoint] {
            list = existing
        } else {
            list = DataPathIdleList()
            idle[backend.endpoint] = list
        }
        guard list.backends.count < shared.config.maxIdleConnectionsPerEndpoint, !draining else {
            dropBackend(backend)
            return
        }
        backend.deadline = after(shared.config.backendIdleTimeout)
        list.backends.append(backend)
    }

    func dropBackend(_ backend: DataPathBackend) {
        guard backends[Int(backend.fd)] === backend else { return }
        if let list = idle[backend.endpoint], let index = list.backends.firstIndex(where: { $0 === backend }) {
            list.backends.remove(at: index)
        }
        sl_epoll_remove(epoll, backend.fd)
        backends[Int(backend.fd)] = nil
        close(backend.fd)
    }

    /// Answers from the proxy (502, 504), and closes the connection after it (nginx keeps it;
    /// a failing backend is rare enough not to matter).
    func respondLocal(_ client: DataPathClient, _ status: HTTPResponseStatus) {
        client.closeAfter = true
        client.state = .idle
        for part in LocalResponse.parts(status, version: client.version, close: true, headOnly: client.method == .HEAD,
                                        allocator: allocator) {
            client.writer.write(part, allocator: allocator, promise: nil) { bytes, _ in
                client.output.writeImmutableBuffer(bytes)
            }
        }
        flush(client)
        responseDone(client)
    }
}
