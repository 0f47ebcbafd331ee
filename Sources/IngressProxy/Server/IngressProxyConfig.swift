import NIOCore

/// Where the proxy listens and its limits. Defaults follow nginx (and so ingress-nginx) where it
/// has a matching setting, named next to each.
public struct IngressProxyConfig: Sendable {
    /// An address and port to listen on.
    public struct Listener: Sendable, Hashable {
        public var host: String
        /// 0 lets the kernel pick one (tests); `IngressProxyServer` reports the bound ports.
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Plain HTTP listeners (`--ingress-http-port`, default :80); empty serves no plain HTTP.
    public var http: [Listener]
    /// TLS listeners (`--ingress-https-port`, default :443); empty serves no TLS.
    public var https: [Listener]

    /// Time to connect to a backend before trying the next endpoint (nginx proxy_connect_timeout
    /// is 60 s; pods are on the node's own network, where a connect either answers at once or
    /// the pod is gone, so a long wait only delays the retry).
    public var backendConnectTimeout: TimeAmount = .seconds(5)
    /// Time a backend may stay silent while a response is due before the request answers 504
    /// (nginx proxy_read_timeout, 60 s).
    public var backendTimeout: TimeAmount = .seconds(60)
    /// Time for a client to send a request's header (nginx client_header_timeout, 60 s), also the
    /// limit for a TLS handshake.
    public var clientHeaderTimeout: TimeAmount = .seconds(60)
    /// Time a client may pause while sending a request body (nginx client_body_timeout, 60 s).
    public var clientBodyTimeout: TimeAmount = .seconds(60)
    /// Time an idle keep-alive connection stays open (nginx keepalive_timeout, 75 s).
    public var keepAliveTimeout: TimeAmount = .seconds(75)
    /// Time a client may leave a response unread (nginx send_timeout, 60 s).
    public var clientSendTimeout: TimeAmount = .seconds(60)
    /// Idle backend connections are closed after this (nginx upstream keepalive_timeout, 60 s).
    public var backendIdleTimeout: TimeAmount = .seconds(60)
    /// Idle connections kept per endpoint and event loop (ingress-nginx upstream-keepalive-connections
    /// is 320 per worker for all upstreams).
    public var maxIdleConnectionsPerEndpoint: Int = 32

    /// Longest header line, request line included (nginx large_client_header_buffers 4 8k).
    public var maxHeaderLineBytes: Int = 8 * 1024
    /// Largest request header in all (nginx: 4 buffers of 8k).
    public var maxHeaderBytes: Int = 32 * 1024
    /// Concurrent HTTP/2 streams per connection (nginx http2_max_concurrent_streams, 128).
    public var maxConcurrentStreams: Int = 128

    public init(http: [Listener] = [Listener(host: "0.0.0.0", port: 80)],
                https: [Listener] = [Listener(host: "0.0.0.0", port: 443)]) {
        self.http = http
        self.https = https
    }
}
