/// A resource qualified by its API group, printed as Kubernetes does: `pods`, `deployments.apps`.
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }
}
