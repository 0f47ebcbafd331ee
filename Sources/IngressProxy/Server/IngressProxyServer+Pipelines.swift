import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// How the proxy's connections are put together on NIO, for the connections the epoll data path
/// hands over (`IngressProxyServer.adopt`).
///
/// Plain HTTP: `ProxyHandler` alone, which reads and writes the connection's HTTP/1 bytes itself
/// (`HTTP1RequestReader` with nginx's header limits, `HTTP1MessageWriter`).
///
/// TLS (clients offering h2, hellos the data path does not read): the handshake deadline, then
/// NIO's SNIHandler reads the ClientHello's server name and the TLS handler is added with the
/// certificate of that host (the current table's, or the default); after the handshake ALPN picks
/// HTTP/2 (NIOHTTP2, each stream an HTTP/1 codec and a `ProxyHandler`) or HTTP/1.1 (as plain HTTP).
enum ProxyPipelines {
    /// `origin`: who the client is when the channel is not its socket (the data path's TLS relay).
    static func configureHTTP1(_ channel: Channel, shared: ProxyShared, scheme: String, origin: ForwardedHeaders.Origin? = nil) throws {
        try channel.pipeline.syncOperations.addHandler(
            ProxyHandler(shared: shared, isHTTP2: false, scheme: scheme, eventLoop: channel.eventLoop, origin: origin))
    }

    static func configureTLS(_ channel: Channel, shared: ProxyShared) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(HandshakeDeadlineHandler(timeout: shared.config.clientHeaderTimeout),
                                name: HandshakeDeadlineHandler.name)
        try pipeline.addHandler(ByteToMessageHandler(SNIHandler { result in
            let context: NIOSSLContext
            switch result {
            case .hostname(let name):
                context = shared.table.certificates.context(serverName: name) ?? shared.defaultTLS
            case .fallback:
                context = shared.defaultTLS
            }
            return channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(NIOSSLServerHandler(context: context))
                try pipeline.addHandler(ApplicationProtocolNegotiationHandler { alpn in
                    channel.eventLoop.makeCompletedFuture {
                        if let deadline = try? channel.pipeline.syncOperations.context(name: HandshakeDeadlineHandler.name) {
                            channel.pipeline.syncOperations.removeHandler(context: deadline, promise: nil)
                        }
                        switch alpn {
                        case .negotiated("h2"):
                            try configureHTTP2(channel, shared: shared)
                        default:
                            try configureHTTP1(channel, shared: shared, scheme: "https")
                        }
                    }
                })
            }
        }))
    }

    static func configureHTTP2(_ channel: Channel, shared: ProxyShared) throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: shared.config.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: shared.config.maxHeaderBytes),
        ]
        let stream = NIOHTTP2Handler.StreamConfiguration()
        let idle = HTTP2IdleTracker(channel: channel, timeout: shared.config.keepAliveTimeout)
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream, streamDelegate: idle
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let proxy = ProxyHandler(shared: shared, isHTTP2: true, scheme: "https", eventLoop: streamChannel.eventLoop)
                try streamChannel.pipeline.syncOperations.addHandlers([
                    HTTP2FramePayloadToHTTP1ServerCodec(),
                    HTTP2StreamAdapter(proxy: proxy),
                    proxy,
                ])
            }
        }
    }
}
