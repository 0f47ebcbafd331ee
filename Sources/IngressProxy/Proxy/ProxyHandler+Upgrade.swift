import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// The backend accepted an upgrade (WebSocket or other): the 101 goes to the client, then both
    /// connections lose their HTTP handlers and carry raw bytes until either closes. The pipeline
    /// surgery waits for the next event-loop tick: this runs inside the backend connection's read.
    func beginTunnel(_ head: ProxyResponseHead, connection: BackendConnection) {
        guard let context, let backendChannel = connection.channel else { return }
        phase = .upgrading
        backend = nil
        connection.releaseForTunnel()
        timer.cancel()
        let response = ForwardedHeaders.upgradeResponse(head, clientVersion: clientVersion)
        sendToClient(.head(response))
        flushClient()
        let clientChannel = context.channel
        context.eventLoop.assumeIsolated().execute { [self] in
            splice(client: clientChannel, backend: backendChannel, connection: connection)
        }
    }

    private func splice(client: Channel, backend: Channel, connection: BackendConnection) {
        do {
            // What either side sent after its HTTP part (the first frames: a client may send them
            // before it sees the 101) goes through the tunnel first.
            let clientTunnel = TunnelHandler(early: reader.takeRemaining())
            let backendTunnel = TunnelHandler(early: connection.takeTunnelBytes())
            // Client: this handler gives its place to the tunnel.
            let clientPipeline = client.pipeline.syncOperations
            if let context { clientPipeline.removeHandler(context: context, promise: nil) }
            try clientPipeline.addHandler(clientTunnel)
            // Backend: likewise.
            let backendPipeline = backend.pipeline.syncOperations
            try remove(BackendConnection.self, from: backendPipeline)
            try backendPipeline.addHandler(backendTunnel)
            TunnelHandler.join(clientTunnel, backendTunnel)
            clientTunnel.start()
            backendTunnel.start()
        } catch {
            shared.logger.info("ingress upgrade failed", metadata: ["error": "\(error)"])
            client.close(promise: nil)
            backend.close(promise: nil)
        }
    }

    private func remove<Handler: RemovableChannelHandler>(_ type: Handler.Type,
                                                          from pipeline: ChannelPipeline.SynchronousOperations) throws {
        let handler = try pipeline.handler(type: type)
        pipeline.removeHandler(handler, promise: nil)
    }
}
