import APIMachinery
import KubeAPI

/// Table columns of ResourceQuotas as pkg/printers/internalversion/printers.go prints them
/// (`printResourceQuota`). LimitRanges have no printer upstream: kubectl shows the default
/// NAME / CREATED AT table (`ResourceTablePrinters.fallback`).
enum QuotaTablePrinters {
    /// NAME AGE REQUEST LIMIT: `pods: 1/2, requests.cpu: 500m/1` under REQUEST, the `limits.*`
    /// resources under LIMIT; resources in name order, from status.hard with the used value
    /// (`0` until the controller has counted).
    static let resourceQuotas = TablePrinter(
        columns: [
            .name, .age,
            TableColumn(name: "Request", type: "string", description: "Request represents a minimum amount of cpu/memory that a container may consume."),
            TableColumn(name: "Limit", type: "string", description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
        ],
        cells: { quota, context in
            let hard = quota.value(at: ["status", "hard"])?.objectValue ?? [:]
            let used = quota.value(at: ["status", "used"])?.objectValue ?? [:]
            var requests: [String] = [], limits: [String] = []
            for name in hard.keys.sorted() {
                let cell = "\(name): \(canonical(used[name]))/\(canonical(hard[name]))"
                if name.hasPrefix("limits.") {
                    limits.append(cell)
                } else {
                    requests.append(cell)
                }
            }
            return [
                .string(quota.name ?? ""), .string(context.age(quota.creationTimestamp)),
                .string(requests.joined(separator: ", ")), .string(limits.joined(separator: ", ")),
            ]
        }
    )

    /// A stored quantity as `Quantity.String()` prints it (a missing one is Go's zero, `0`).
    private static func canonical(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, let quantity = try? Quantity(text) else { return "0" }
        return quantity.description
    }
}
