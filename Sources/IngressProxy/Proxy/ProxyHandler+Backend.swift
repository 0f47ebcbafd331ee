import Logging
import NIOCore
import NIOHTTP1

extension ProxyHandler: BackendExchange {
    /// Takes a pooled connection to the next endpoint (round-robin) or opens one; a connection
    /// that fails to open moves on to the next endpoint before anything was sent (nginx's
    /// proxy_next_upstream error), and 502 answers when every endpoint failed.
    func connectBackend(reuse: Bool) {
        guard let target, let context else { return }
        let endpoints = target.endpoints
        let endpoint = endpoints[nextIndex % endpoints.count]
        nextIndex &+= 1
        attemptsLeft -= 1
        let pool = shared.pool(for: context.eventLoop)
        if reuse, let connection = pool.acquire(endpoint) {
            attach(connection)
            return
        }
        let upgrade = isUpgrade
        pool.connect(endpoint).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard let connection = try? channel.pipeline.syncOperations.handler(type: BackendConnection.self) else {
                    channel.close(promise: nil)
                    connectFailed(endpoint, reason: "the backend connection lost its handler", reuse: reuse)
                    return
                }
                guard phase == .connecting else {
                    // The client left or was answered meanwhile: the new connection serves others.
                    if upgrade { connection.close() } else { pool.release(connection) }
                    return
                }
                attach(connection)
            case .failure(let error):
                connectFailed(endpoint, reason: "\(error)", reuse: reuse)
            }
        }
    }

    private func connectFailed(_ endpoint: BackendEndpoint, reason: String, reuse: Bool) {
        guard phase == .connecting else { return }
        shared.logger.debug("ingress backend connect failed",
                            metadata: ["endpoint": "\(endpoint)", "backend": "\(target.map { "\($0)" } ?? "")", "error": "\(reason)"])
        if attemptsLeft > 0 {
            connectBackend(reuse: reuse)
        } else {
            shared.logger.info("ingress backend unreachable: answering 502",
                               metadata: ["backend": "\(target.map { "\($0)" } ?? "")", "error": "\(reason)"])
            respondLocal(.badGateway)
        }
    }

    private func attach(_ connection: BackendConnection) {
        backend = connection
        connection.attach(self, timeout: config.backendTimeout)
        phase = .forwarding
        pumpQueue()
        if connection.isWritable { resumeReads() }
        if !requestComplete, !readsPaused { timer.set(in: config.clientBodyTimeout) }
    }

    func backendRead(_ part: ProxyResponsePart, from connection: BackendConnection) {
        guard connection === backend, let context else { return }
        switch part {
        case .head(let head):
            if head.status == .switchingProtocols {
                if isUpgrade {
                    beginTunnel(head, connection: connection)
                } else {
                    // A 101 nobody asked for cannot be relayed.
                    backendFailed(connection, status: .badGateway)
                }
                return
            }
            backendKeepAlive = head.isKeepAlive && !isUpgrade
            // A declined upgrade leaves the client's request reader stopped after the upgrade
            // request (it expects the protocol to change), so that connection ends after this response.
            let response = ForwardedHeaders.response(head, requestMethod: method, clientVersion: clientVersion,
                                                     clientKeepAlive: clientKeepAlive && !isUpgrade, isHTTP2: isHTTP2)
            framing = response.framing
            responseStarted = true
            sendHeadToClient(response.head)
        case .body(let buffer):
            guard phase == .forwarding || phase == .local, !framing.bodyless else { return }
            sendToClient(.body(buffer))
            if !context.channel.isWritable {
                connection.pauseReads()
                timer.set(in: config.clientSendTimeout)
            }
        case .end(let trailers):
            guard phase == .forwarding || phase == .local else { return }
            backend = nil
            if backendKeepAlive, endSent {
                shared.pool(for: context.eventLoop).release(connection)
            } else {
                // The request was not all sent (the backend answered early) or the backend closes:
                // the connection cannot carry another request.
                connection.detach(idleTimeout: nil)
                connection.close()
            }
            writeEnd(isHTTP2 ? trailers : nil, close: framing.closeAfter)
        }
    }

    func backendReadComplete(from connection: BackendConnection) {
        guard connection === backend || backend == nil else { return }
        flushClient()
    }

    func backendWritabilityChanged(_ connection: BackendConnection) {
        guard connection === backend else { return }
        if connection.isWritable {
            if phase == .forwarding { resumeReads() }
        } else {
            pauseReads()
        }
    }

    func backendClosed(_ connection: BackendConnection) {
        guard connection === backend else { return }
        backend = nil
        guard phase == .forwarding || phase == .connecting else { return }
        if !responseStarted {
            // A reused keep-alive connection the backend closed just as the request went out (its
            // idle timeout racing ours): nothing reached the backend's application if no body was
            // sent, so the request goes once more over a new connection, as nginx and Go retry.
            if connection.requests > 1, !retriedReused, !bodySent {
                retriedReused = true
                queue.removeAll()
                if endSent { queue.append(.end(nil)) }
                headSent = false
                endSent = false
                phase = .connecting
                attemptsLeft += 1
                nextIndex &-= 1
                connectBackend(reuse: false)
                return
            }
            shared.logger.info("ingress backend closed before responding: answering 502",
                               metadata: ["endpoint": "\(connection.endpoint)"])
            respondLocal(.badGateway)
        } else {
            abortClient()
        }
    }

    func backendTimedOut(_ connection: BackendConnection) {
        guard connection === backend else { return }
        shared.logger.info("ingress backend timed out", metadata: ["endpoint": "\(connection.endpoint)"])
        backendFailed(connection, status: .gatewayTimeout)
    }

    /// Gives up on the backend: `status` when the client has no response yet, else a cut response.
    private func backendFailed(_ connection: BackendConnection, status: HTTPResponseStatus) {
        backend = nil
        connection.detach(idleTimeout: nil)
        connection.close()
        if responseStarted { abortClient() } else { respondLocal(status) }
    }
}
