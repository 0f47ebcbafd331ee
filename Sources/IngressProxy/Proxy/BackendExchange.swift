import NIOHTTP1

/// The client side of a request a backend connection is serving: `ProxyHandler` on the same
/// event loop, so the calls are plain method calls.
protocol BackendExchange: AnyObject {
    func backendRead(_ part: ProxyResponsePart, from connection: BackendConnection)
    func backendReadComplete(from connection: BackendConnection)
    func backendWritabilityChanged(_ connection: BackendConnection)
    func backendClosed(_ connection: BackendConnection)
    func backendTimedOut(_ connection: BackendConnection)
}
