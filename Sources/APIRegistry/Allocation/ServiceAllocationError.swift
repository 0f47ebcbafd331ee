/// Why a cluster IP or node port could not be handed out, in the words of kube-apiserver's
/// `ipallocator` and `portallocator` (`ErrNotInRange`, `ErrAllocated`, `ErrFull`). The Service
/// strategy turns these into field errors naming the Service.
enum ServiceAllocationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The requested IP lies outside the service CIDR (or is its network or broadcast address).
    case ipNotInRange(ip: String, range: String)
    case ipAllocated
    /// The requested node port lies outside --service-node-port-range.
    case portNotInRange(range: String)
    case portAllocated
    /// Nothing is free.
    case full
    /// The stored allocations could not be read or written (the store failed, or other servers
    /// kept changing them); a server error, not the request's fault.
    case storage(String)

    var description: String {
        switch self {
        case .ipNotInRange(let ip, let range):
            return "the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(range)"
        case .ipAllocated:
            return "provided IP is already allocated"
        case .portNotInRange(let range):
            return "provided port is not in the valid range. The range of valid ports is \(range)"
        case .portAllocated:
            return "provided port is already allocated"
        case .full:
            return "range is full"
        case .storage(let message):
            return message
        }
    }

    /// Whether the store, not the request, is at fault.
    var isStorageFailure: Bool {
        if case .storage = self { return true }
        return false
    }
}
