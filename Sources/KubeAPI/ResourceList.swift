/// A `core/v1.ResourceList`: resource names and their quantities, with the arithmetic of
/// k8s.io/apiserver/pkg/quota/v1/resources.go (`Add`, `Subtract`, `Mask`, `LessThanOrEqual`,
/// `RemoveZeros`, `IsNegative`) that the resource quota controller and admission plugin use.
public typealias ResourceList = [String: Quantity]

public enum ResourceLists {
    /// `quota.Add`: every key of either list, summed where both have it.
    public static func add(_ lhs: ResourceList, _ rhs: ResourceList) -> ResourceList {
        var result = lhs
        for (name, quantity) in rhs {
            result[name] = result[name].map { $0 + quantity } ?? quantity
        }
        return result
    }

    /// `quota.Subtract`: every key of either list, `lhs - rhs` (a key only in rhs is negated).
    public static func subtract(_ lhs: ResourceList, _ rhs: ResourceList) -> ResourceList {
        var result = lhs
        for (name, quantity) in rhs {
            result[name] = (result[name] ?? .zero) - quantity
        }
        return result
    }

    /// `quota.SubtractWithNonNegativeResult`: as `subtract`, negative results become zero.
    public static func subtractWithNonNegativeResult(_ lhs: ResourceList, _ rhs: ResourceList) -> ResourceList {
        subtract(lhs, rhs).mapValues { $0.isNegative ? Quantity.zero : $0 }
    }

    /// `quota.Mask`: only the named keys.
    public static func mask(_ list: ResourceList, _ names: some Sequence<String>) -> ResourceList {
        var result: ResourceList = [:]
        for name in names { if let quantity = list[name] { result[name] = quantity } }
        return result
    }

    /// `quota.LessThanOrEqual`: whether every key of `lhs` that `rhs` also has is at most
    /// `rhs`'s, and the keys that are not (sorted).
    public static func lessThanOrEqual(_ lhs: ResourceList, _ rhs: ResourceList) -> (Bool, [String]) {
        var exceeded: [String] = []
        for (name, quantity) in lhs {
            if let limit = rhs[name], quantity > limit { exceeded.append(name) }
        }
        return (exceeded.isEmpty, exceeded.sorted())
    }

    /// `quota.RemoveZeros`.
    public static func removeZeros(_ list: ResourceList) -> ResourceList {
        list.filter { !$0.value.isZero }
    }

    /// `quota.IsNegative`: the names whose quantity is below zero, sorted.
    public static func negativeNames(_ list: ResourceList) -> [String] {
        list.filter { $0.value.isNegative }.map(\.key).sorted()
    }

    /// `quota.Equals`: the same keys with equal values.
    public static func equals(_ lhs: ResourceList, _ rhs: ResourceList) -> Bool {
        lhs.count == rhs.count && lhs.allSatisfy { rhs[$0.key] == $0.value }
    }

    /// `prettyPrint` of the ResourceQuota admission plugin: `name=value` sorted by name,
    /// joined by commas (`pods=1,requests.cpu=500m`).
    public static func prettyPrint(_ list: ResourceList) -> String {
        list.keys.sorted().map { "\($0)=\(list[$0]?.description ?? "0")" }.joined(separator: ",")
    }
}
