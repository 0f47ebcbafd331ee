import KubeAPI

/// Node allocatable: what pods may request, kubelet's formula
/// `allocatable = capacity - system-reserved - kube-reserved - hard eviction thresholds`,
/// never below zero, with huge pages also taken off memory.
/// See https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/ and
/// `GetNodeAllocatableReservation` in pkg/kubelet/cm/node_container_manager_linux.go.
public enum NodeAllocatable {
    /// What is kept off each resource: the two reservations summed, plus memory.available
    /// from memory and nodefs.available from ephemeral-storage (a percentage is of the capacity).
    public static func reservation(capacity: [String: Quantity], systemReserved: [String: Quantity],
                                   kubeReserved: [String: Quantity], evictionHard: NodeEvictionThresholds) -> [String: Quantity] {
        var units: [String: Int64] = [:]
        for (name, quantity) in systemReserved { units[name, default: 0] = add(units[name, default: 0], amount(name, quantity)) }
        for (name, quantity) in kubeReserved { units[name, default: 0] = add(units[name, default: 0], amount(name, quantity)) }
        if let threshold = evictionHard.memoryAvailable {
            let capacityBytes = capacity["memory"].map { amount("memory", $0) } ?? 0
            units["memory", default: 0] = add(units["memory", default: 0], threshold.amount(of: capacityBytes))
        }
        if let threshold = evictionHard.nodefsAvailable {
            let capacityBytes = capacity["ephemeral-storage"].map { amount("ephemeral-storage", $0) } ?? 0
            units["ephemeral-storage", default: 0] = add(units["ephemeral-storage", default: 0], threshold.amount(of: capacityBytes))
        }
        return units.reduce(into: [:]) { result, entry in
            result[entry.key] = quantity(entry.key, entry.value, format: format(of: entry.key, in: capacity))
        }
    }

    /// Capacity minus reservation per resource of the capacity, clamped at zero; then every
    /// `hugepages-*` capacity is taken off memory (huge pages are not available as normal memory).
    public static func allocatable(capacity: [String: Quantity], reservation: [String: Quantity]) -> [String: Quantity] {
        var result: [String: Quantity] = [:]
        for (name, total) in capacity {
            let reserved = reservation[name].map { amount(name, $0) } ?? 0
            result[name] = quantity(name, max(amount(name, total) &- reserved, 0), format: total.format)
        }
        if let memory = result["memory"] {
            let hugePages = capacity.filter { $0.key.hasPrefix("hugepages-") }.reduce(Int64(0)) { add($0, amount($1.key, $1.value)) }
            result["memory"] = quantity("memory", max(amount("memory", memory) &- hugePages, 0), format: memory.format)
        }
        return result
    }

    /// CPU is counted in millicores, everything else in whole units (bytes, pods, pids).
    static func amount(_ name: String, _ quantity: Quantity) -> Int64 {
        name == "cpu" ? quantity.milliValue : quantity.value
    }

    static func quantity(_ name: String, _ units: Int64, format: Quantity.Format) -> Quantity {
        name == "cpu" ? Quantity(milliValue: units, format: format) : Quantity(value: units, format: format)
    }

    /// Bytes print in powers of 1024 ("1Gi"), counts and cpu in decimal, as kubelet's lists do.
    private static func format(of name: String, in capacity: [String: Quantity]) -> Quantity.Format {
        if let known = capacity[name] { return known.format }
        return name == "memory" || name == "ephemeral-storage" || name.hasPrefix("hugepages-") ? .binarySI : .decimalSI
    }

    private static func add(_ lhs: Int64, _ rhs: Int64) -> Int64 {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        return overflow ? Int64.max : sum
    }
}
