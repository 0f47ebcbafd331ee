import APIMachinery
import KubeAPI

/// The policy group's columns, as Kubernetes 1.32 prints them (pkg/printers/internalversion/printers.go).
enum PolicyTablePrinters {
    /// `printPodDisruptionBudget`: MIN AVAILABLE and MAX UNAVAILABLE as written (`5`, `50%`)
    /// or `N/A`, ALLOWED DISRUPTIONS from the status.
    static let podDisruptionBudgets = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Min Available", type: "string", description: "The minimum number of pods that must be available."),
            TableColumn(name: "Max Unavailable", type: "string", description: "The maximum number of pods that may be unavailable."),
            TableColumn(name: "Allowed Disruptions", type: "integer", description: "Calculated number of pods that may be disrupted at this time."),
            .age,
        ],
        cells: { object, context in
            [.string(object.name ?? ""), .string(intOrString(object.value(at: ["spec", "minAvailable"]))),
             .string(intOrString(object.value(at: ["spec", "maxUnavailable"]))),
             .int(object.value(at: ["status", "disruptionsAllowed"])?.intValue ?? 0),
             .string(context.age(object.creationTimestamp))]
        }
    )

    /// `IntOrString.String()`, or `N/A` when unset.
    static func intOrString(_ value: JSONValue?) -> String {
        guard let value, value != .null else { return "N/A" }
        if let number = value.intValue { return String(number) }
        return value.stringValue ?? "N/A"
    }
}
