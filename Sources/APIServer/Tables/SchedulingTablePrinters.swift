import APIMachinery
import KubeAPI

/// The scheduling.k8s.io group's columns, as Kubernetes 1.32 prints them
/// (pkg/printers/internalversion/printers.go `printPriorityClass`).
enum SchedulingTablePrinters {
    /// NAME, VALUE, GLOBAL-DEFAULT, AGE, PREEMPTIONPOLICY (PreemptLowerPriority when unset);
    /// the descriptions are the v1 type's field docs.
    static let priorityClasses = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Value", type: "integer", description: """
                value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.
                """),
            TableColumn(name: "Global-Default", type: "boolean", description: """
                globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.
                """),
            .age,
            TableColumn(name: "PreemptionPolicy", type: "string", description: """
                preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.
                """),
        ],
        cells: { object, context in
            [.string(object.name ?? ""), .int(object.value(at: ["value"])?.intValue ?? 0),
             .bool(object.value(at: ["globalDefault"])?.boolValue ?? false),
             .string(context.age(object.creationTimestamp)),
             .string(object.string(at: ["preemptionPolicy"]) ?? PriorityClass.preemptLowerPriority)]
        }
    )
}
