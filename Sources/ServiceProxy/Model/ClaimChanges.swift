/// Which service holds each map key (a ClusterIP·protocol·port, a node port), with the changes
/// of one sync kept beside the committed index until the transaction went through. Lookups and
/// changes cost what the sync touches, not what the node has: a sync never copies the index.
struct ClaimChanges {
    private let committed: [ElementKey: ServiceName]
    private var overlay: [ElementKey: ServiceName?] = [:]

    init(_ committed: [ElementKey: ServiceName]) {
        self.committed = committed
    }

    subscript(key: ElementKey) -> ServiceName? {
        get { overlay[key] ?? committed[key] }
        set { overlay[key] = .some(newValue) }
    }

    /// Whether a key a service held is free now (a refused service may fit).
    var releasesKeys: Bool {
        overlay.contains { key, owner in owner == nil && committed[key] != nil }
    }

    /// The committed index with these changes applied.
    func apply(to index: inout [ElementKey: ServiceName]) {
        for (key, owner) in overlay { index[key] = owner }
    }
}
