import APIMachinery
import Foundation
import KubeAPI

/// One column of a `meta.k8s.io/v1` Table.
struct TableColumn: Sendable {
    let name: String
    let type: String
    var format: String = ""
    let description: String
    var priority: Int = 0

    var json: JSONValue {
        .object([
            "name": .string(name), "type": .string(type), "format": .string(format),
            "description": .string(description), "priority": .int(Int64(priority)),
        ])
    }

    static let nameDescription = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    static let ageDescription = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

    static let name = TableColumn(name: "Name", type: "string", format: "name", description: nameDescription)
    static let age = TableColumn(name: "Age", type: "string", description: ageDescription)
}

/// How a resource is shown by `kubectl get`: its columns and the cells of one object,
/// computed on the server as Kubernetes' printers do (pkg/printers/internalversion).
/// Cells are always computed for `-o wide`; kubectl hides priority-1 columns otherwise.
struct TablePrinter: Sendable {
    let columns: [TableColumn]
    let cells: @Sendable (KubeObject, TableContext) -> [JSONValue]
    /// Row conditions (`Completed` for finished pods).
    var conditions: @Sendable (KubeObject) -> [JSONValue] = { _ in [] }
}

/// What cells may depend on besides the object.
struct TableContext: Sendable {
    let now: Date

    /// The AGE of a timestamp: `5m`, or `<unknown>` when unset.
    func age(_ timestamp: String?) -> String {
        guard let timestamp, let time = Time(rfc3339: timestamp) else { return "<unknown>" }
        return HumanDuration.format(seconds: now.timeIntervalSince(time.date))
    }
}

/// Which object a Table row carries (`includeObject` of `TableOptions`).
public enum IncludeObjectPolicy: String, Sendable {
    case none = "None"
    case metadata = "Metadata"
    case object = "Object"
}

/// Builds `meta.k8s.io/v1` Table responses.
enum TableConverter {
    static func printer(for resource: APIResource) -> TablePrinter {
        switch (resource.group, resource.name) {
        case ("", "pods"): return PodTablePrinter.printer
        case ("", "nodes"): return NodeTablePrinter.printer
        default: return ResourceTablePrinters.printer(for: resource)
        }
    }

    /// A Table of `objects`. `listMetadata` is the list's (resourceVersion, continue, ...).
    static func table(for resource: APIResource, objects: [KubeObject], listMetadata: [String: JSONValue],
                      include: IncludeObjectPolicy, apiVersion: String, includeColumns: Bool = true,
                      now: Date = Date()) -> JSONValue {
        let printer = printer(for: resource)
        let context = TableContext(now: now)
        let rows: [JSONValue] = objects.map { object in
            var row: [String: JSONValue] = ["cells": .array(printer.cells(object, context))]
            let conditions = printer.conditions(object)
            if !conditions.isEmpty { row["conditions"] = .array(conditions) }
            switch include {
            case .none: break
            case .object: row["object"] = object.json
            case .metadata:
                row["object"] = .object([
                    "kind": .string("PartialObjectMetadata"),
                    "apiVersion": .string(apiVersion),
                    "metadata": .object(object.metadata),
                ])
            }
            return .object(row)
        }
        var table: [String: JSONValue] = [
            "kind": .string("Table"),
            "apiVersion": .string(apiVersion),
            "metadata": .object(listMetadata),
            "rows": .array(rows),
        ]
        if includeColumns {
            table["columnDefinitions"] = .array(printer.columns.map(\.json))
        }
        return .object(table)
    }

    // MARK: - Helpers shared by printers

    /// `labels.FormatLabels`: sorted `k=v` pairs, or `<none>`.
    static func formatLabels(_ labels: [String: JSONValue]?) -> String {
        guard let labels, !labels.isEmpty else { return "<none>" }
        return labels.keys.sorted().map { "\($0)=\(labels[$0]?.stringValue ?? "")" }.joined(separator: ",")
    }

    /// `metav1.FormatLabelSelector`.
    static func formatLabelSelector(_ selector: JSONValue?) -> String {
        guard let selector else { return "<none>" }
        guard let parsed = try? LabelSelector(object: selector) else { return "<error>" }
        let text = parsed.description
        return text.isEmpty ? "<none>" : text
    }

    /// Container names and images of a pod template, comma-separated.
    static func containerCells(_ spec: JSONValue?) -> (names: String, images: String) {
        let containers = spec?["containers"]?.arrayValue ?? []
        return (containers.map { $0["name"]?.stringValue ?? "" }.joined(separator: ","),
                containers.map { $0["image"]?.stringValue ?? "" }.joined(separator: ","))
    }

    /// The cells of a replica-managing workload (`printReplicaSet`, `printReplicationController`):
    /// name, desired, current, ready, age, containers, images, and the selector as formatted.
    static func replicaCells(_ object: KubeObject, context: TableContext, selector: String) -> [JSONValue] {
        let status = object.fields["status"]
        let (names, images) = containerCells(object.value(at: ["spec", "template", "spec"]))
        return [
            .string(object.name ?? ""), int(object.value(at: ["spec", "replicas"])),
            int(status?["replicas"]), int(status?["readyReplicas"]),
            .string(context.age(object.creationTimestamp)), .string(names), .string(images), .string(selector),
        ]
    }

    static func int(_ value: JSONValue?) -> JSONValue {
        .int(value?.intValue ?? 0)
    }
}
