import APIMachinery
import KubeAPI

/// Columns of StatefulSets and ControllerRevisions as kubectl 1.32 prints them
/// (`printStatefulSet`, `printControllerRevision` in pkg/printers/internalversion/printers.go).
enum AppsTablePrinters {
    /// NAME, READY (`ready/spec.replicas`), AGE; wide: CONTAINERS, IMAGES (no SELECTOR).
    static let statefulSets = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Ready", type: "string", description: "Number of the pod with ready state"),
            .age,
            TableColumn(name: "Containers", type: "string", description: "Names of each container in the template.", priority: 1),
            TableColumn(name: "Images", type: "string", description: "Images referenced by each container in the template.", priority: 1),
        ],
        cells: { object, context in
            let (names, images) = TableConverter.containerCells(object.value(at: ["spec", "template", "spec"]))
            let ready = object.value(at: ["status", "readyReplicas"])?.intValue ?? 0
            let desired = object.value(at: ["spec", "replicas"])?.intValue ?? 0
            return [
                .string(object.name ?? ""), .string("\(ready)/\(desired)"), .string(context.age(object.creationTimestamp)),
                .string(names), .string(images),
            ]
        }
    )

    /// NAME, CONTROLLER (`statefulset.apps/web`, `<none>` without a controller), REVISION, AGE.
    static let controllerRevisions = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Controller", type: "string", description: "Controller of the object"),
            TableColumn(name: "Revision", type: "number", description: "Revision indicates the revision of the state represented by Data."),
            .age,
        ],
        cells: { object, context in
            let owner = (object.metadata["ownerReferences"]?.arrayValue ?? []).first { $0["controller"]?.boolValue == true }
            var controller = "<none>"
            if let owner, let kind = owner["kind"]?.stringValue, let name = owner["name"]?.stringValue {
                // `formatResourceName(gvk.GroupKind(), name, true)`: "kind.group/name", lower case.
                let apiVersion = owner["apiVersion"]?.stringValue ?? ""
                let group = apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
                controller = (group.isEmpty ? kind : "\(kind).\(group)").lowercased() + "/" + name
            }
            return [
                .string(object.name ?? ""), .string(controller), .int(object.fields["revision"]?.intValue ?? 0),
                .string(context.age(object.creationTimestamp)),
            ]
        }
    )
}
