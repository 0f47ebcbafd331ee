import APIMachinery
import KubeAPI

/// Columns of core/v1's legacy workload types as Kubernetes 1.32 prints them
/// (`printReplicationController`, `printPodTemplate` in pkg/printers/internalversion/printers.go).
enum CoreWorkloadTablePrinters {
    /// NAME, DESIRED, CURRENT, READY, AGE; wide: CONTAINERS, IMAGES, SELECTOR (the selector map
    /// as `labels.FormatLabels` writes it).
    static let replicationControllers = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Desired", type: "integer", description: "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"),
            TableColumn(name: "Current", type: "integer", description: "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"),
            TableColumn(name: "Ready", type: "integer", description: "The number of ready replicas for this replication controller."),
            .age,
            TableColumn(name: "Containers", type: "string", description: "Names of each container in the template.", priority: 1),
            TableColumn(name: "Images", type: "string", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn(name: "Selector", type: "string", description: "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", priority: 1),
        ],
        cells: { object, context in
            TableConverter.replicaCells(object, context: context,
                                        selector: TableConverter.formatLabels(object.value(at: ["spec", "selector"])?.objectValue))
        }
    )

    /// TEMPLATE, CONTAINERS, IMAGES, POD LABELS (no AGE column, as upstream).
    static let podTemplates = TablePrinter(
        columns: [
            TableColumn(name: "Template", type: "string", format: "name", description: TableColumn.nameDescription),
            TableColumn(name: "Containers", type: "string", description: "Names of each container in the template."),
            TableColumn(name: "Images", type: "string", description: "Images referenced by each container in the template."),
            TableColumn(name: "Pod Labels", type: "string", description: "The labels for the pod template."),
        ],
        cells: { object, _ in
            let (names, images) = TableConverter.containerCells(object.value(at: ["template", "spec"]))
            return [
                .string(object.name ?? ""), .string(names), .string(images),
                .string(TableConverter.formatLabels(object.value(at: ["template", "metadata", "labels"])?.objectValue)),
            ]
        }
    )
}
