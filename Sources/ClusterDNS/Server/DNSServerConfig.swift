/// How the cluster DNS server listens and answers.
public struct DNSServerConfig: Sendable {
    /// Addresses to serve on, UDP and TCP each: the kube-dns Service's ClusterIP (k3s'
    /// `--cluster-dns`, 10.43.0.10 by default) on port 53. Port 0 picks a free port;
    /// `DNSServer.udpAddresses` tells which.
    public var listen: [SocketAddress]
    /// A network namespace file (e.g. /run/netns/NAME) to create the sockets in and forward
    /// from; nil: the agent's own.
    public var networkNamespace: String?
    /// UDP serving threads, each with its own SO_REUSEPORT socket.
    public var udpWorkers: Int
    /// Datagrams read (and replies sent) per recvmmsg/sendmmsg call.
    public var batchSize: Int
    public var tcp: TCPLimits
    public var resolver: ResolverConfig
    public var upstream: UpstreamConfig
    public var cache: ResponseCache.Limits

    /// Bounds that keep slow or hostile TCP clients from holding the server.
    public struct TCPLimits: Sendable {
        /// Open connections at once; more are accepted and closed at once.
        public var maxConnections: Int
        /// A connection with nothing to do is closed after this (RFC 7766 §6.2.3: seconds).
        public var idleTimeoutMs: Int
        /// A message begun must arrive whole within this (slow-loris clients are cut off).
        public var readTimeoutMs: Int
        /// Forwarded queries one connection may have waiting.
        public var maxPending: Int

        public init(maxConnections: Int = 128, idleTimeoutMs: Int = 8000, readTimeoutMs: Int = 2000, maxPending: Int = 16) {
            self.maxConnections = maxConnections
            self.idleTimeoutMs = idleTimeoutMs
            self.readTimeoutMs = readTimeoutMs
            self.maxPending = maxPending
        }
    }

    public init(listen: [SocketAddress], networkNamespace: String? = nil, udpWorkers: Int = 1, batchSize: Int = 32,
                tcp: TCPLimits = TCPLimits(), resolver: ResolverConfig = ResolverConfig(),
                upstream: UpstreamConfig = UpstreamConfig(), cache: ResponseCache.Limits = ResponseCache.Limits()) {
        self.listen = listen
        self.networkNamespace = networkNamespace
        self.udpWorkers = max(1, udpWorkers)
        self.batchSize = max(1, min(batchSize, 256))
        self.tcp = tcp
        self.resolver = resolver
        self.upstream = upstream
        self.cache = cache
    }
}
