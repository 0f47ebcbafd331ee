import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// The backend accepted an upgrade (WebSocket or other): the 101 goes to the client, then both
    /// connections lose their HTTP handlers and carry raw bytes until either closes. The pipeline
    /// surgery waits for the next event-loop tick: this runs inside the backend decoder's callback.
    func beginTunnel(_ head: ProxyResponseHead, connection: BackendConnection) {
        guard let context, let backendChannel = connection.channel else { return }
        phase = .upgrading
        backend = nil
        connection.releaseForTunnel()
        timer.cancel()
        let response = ForwardedHeaders.upgradeResponse(head, clientVersion: clientVersion)
        context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
        let clientChannel = context.channel
        context.eventLoop.assumeIsolated().execute { [self] in
            splice(client: clientChannel, backend: backendChannel)
        }
    }

    private func splice(client: Channel, backend: Channel) {
        do {
            let clientTunnel = TunnelHandler()
            let backendTunnel = TunnelHandler()
            // Client: the HTTP handlers go, this handler too; the decoder goes last, handing the
            // bytes it holds (the first frames) to the tunnel behind it.
            let clientPipeline = client.pipeline.syncOperations
            try remove(HTTP1ResponseEncoder.self, from: clientPipeline)
            if let context { clientPipeline.removeHandler(context: context, promise: nil) }
            try clientPipeline.addHandler(clientTunnel)
            try remove(ByteToMessageHandler<HTTP1RequestDecoder>.self, from: clientPipeline)
            // Backend: likewise.
            let backendPipeline = backend.pipeline.syncOperations
            try remove(BackendConnection.self, from: backendPipeline)
            try remove(HTTP1RequestEncoder.self, from: backendPipeline)
            try backendPipeline.addHandler(backendTunnel)
            try remove(ByteToMessageHandler<HTTP1ResponseDecoder>.self, from: backendPipeline)
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
