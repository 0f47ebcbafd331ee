import APIMachinery
import KubeAPI

/// `kubectl get nodes` columns: NAME STATUS ROLES AGE VERSION, and for `-o wide`
/// INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME (Kubernetes' `printNode`).
enum NodeTablePrinter {
    static let printer = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Status", type: "string", description: "The status of the node"),
            TableColumn(name: "Roles", type: "string", description: "The roles of the node"),
            .age,
            TableColumn(name: "Version", type: "string", description: "Kubelet Version reported by the node."),
            TableColumn(name: "Internal-IP", type: "string", description: addressesDescription, priority: 1),
            TableColumn(name: "External-IP", type: "string", description: addressesDescription, priority: 1),
            TableColumn(name: "OS-Image", type: "string", description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
            TableColumn(name: "Kernel-Version", type: "string", description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
            TableColumn(name: "Container-Runtime", type: "string", description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1),
        ],
        cells: cells
    )

    static let addressesDescription = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses"

    /// Label prefix and legacy label naming a node's roles.
    static let rolePrefix = "node-role.kubernetes.io/"
    static let roleLabel = "kubernetes.io/role"

    static func cells(_ node: KubeObject, _ context: TableContext) -> [JSONValue] {
        let status = node.fields["status"]
        var states: [String] = []
        if let ready = status?["conditions"]?.arrayValue?.last(where: { $0["type"]?.stringValue == "Ready" }) {
            states.append(ready["status"]?.stringValue == "True" ? "Ready" : "NotReady")
        }
        if states.isEmpty { states.append("Unknown") }
        if node.value(at: ["spec", "unschedulable"])?.boolValue == true {
            states.append("SchedulingDisabled")
        }
        var roles: Set<String> = []
        for (key, value) in node.labels {
            if key.hasPrefix(rolePrefix) {
                let role = String(key.dropFirst(rolePrefix.count))
                if !role.isEmpty { roles.insert(role) }
            } else if key == roleLabel, !value.isEmpty {
                roles.insert(value)
            }
        }
        let info = status?["nodeInfo"]
        func address(_ type: String) -> String {
            status?["addresses"]?.arrayValue?.first { $0["type"]?.stringValue == type }?["address"]?.stringValue ?? "<none>"
        }
        func known(_ key: String) -> String {
            let value = info?[key]?.stringValue ?? ""
            return value.isEmpty ? "<unknown>" : value
        }
        return [
            .string(node.name ?? ""),
            .string(states.joined(separator: ",")),
            .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")),
            .string(context.age(node.creationTimestamp)),
            .string(info?["kubeletVersion"]?.stringValue ?? ""),
            .string(address("InternalIP")),
            .string(address("ExternalIP")),
            .string(known("osImage")),
            .string(known("kernelVersion")),
            .string(known("containerRuntimeVersion")),
        ]
    }
}
