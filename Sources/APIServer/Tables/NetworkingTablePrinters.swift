import APIMachinery
import KubeAPI

/// Table columns of networking.k8s.io/v1, as pkg/printers/internalversion/printers.go prints
/// them (`printIngress`, `printIngressClass`).
enum NetworkingTablePrinters {
    /// `loadBalancerWidth`: ADDRESS is cut to this many bytes when not wide (never, served).
    static let loadBalancerWidth = 16

    /// NAME CLASS HOSTS ADDRESS PORTS AGE.
    static let ingresses = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Class", type: "string", description: "The name of the IngressClass resource that should be used for additional configuration"),
            TableColumn(name: "Hosts", type: "string", description: "Hosts that incoming requests are matched against before the ingress rule"),
            TableColumn(name: "Address", type: "string", description: "Address is a list containing ingress points for the load-balancer"),
            TableColumn(name: "Ports", type: "string", description: "Ports of TLS configurations that open"),
            .age,
        ],
        cells: { ingress, context in
            let spec = ingress.fields["spec"]
            let className = spec?["ingressClassName"]?.stringValue ?? "<none>"
            let tls = spec?["tls"]?.arrayValue ?? []
            // kube-apiserver's TableConvertor always prints with Wide (pkg/printers/storage):
            // the address is not clipped.
            return [
                .string(ingress.name ?? ""), .string(className), .string(hosts(spec?["rules"]?.arrayValue ?? [])),
                .string(address(ingress.value(at: ["status", "loadBalancer", "ingress"])?.arrayValue ?? [], wide: true)),
                .string(tls.isEmpty ? "80" : "80, 443"), .string(context.age(ingress.creationTimestamp)),
            ]
        }
    )

    /// NAME CONTROLLER PARAMETERS AGE.
    static let ingressClasses = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Controller", type: "string", description: "Controller that is responsible for handling this class"),
            TableColumn(name: "Parameters", type: "string", description: "A reference to a resource with additional parameters"),
            .age,
        ],
        cells: { ingressClass, context in
            var parameters = "<none>"
            if let reference = ingressClass.value(at: ["spec", "parameters"]), reference.objectValue != nil {
                parameters = reference["kind"]?.stringValue ?? ""
                if let group = reference["apiGroup"]?.stringValue { parameters += "." + group }
                parameters += "/" + (reference["name"]?.stringValue ?? "")
            }
            return [
                .string(ingressClass.name ?? ""), .string(ingressClass.string(at: ["spec", "controller"]) ?? ""),
                .string(parameters), .string(context.age(ingressClass.creationTimestamp)),
            ]
        }
    )

    /// `formatHosts`: the first three hosts, `*` when no rule names one, `+ N more...` after.
    static func hosts(_ rules: [JSONValue]) -> String {
        var list: [String] = []
        let maximum = 3
        var more = false
        for rule in rules {
            if list.count == maximum { more = true }
            if !more, let host = rule["host"]?.stringValue, !host.isEmpty { list.append(host) }
        }
        if list.isEmpty { return "*" }
        let joined = list.joined(separator: ",")
        return more ? "\(joined) + \(rules.count - maximum) more..." : joined
    }

    /// `ingressLoadBalancerStatusStringer`: the IPs (or hostnames) sorted as strings, without
    /// duplicates, comma-separated, clipped to 16 bytes unless wide.
    static func address(_ ingress: [JSONValue], wide: Bool) -> String {
        var values: Set<String> = []
        for entry in ingress {
            if let ip = entry["ip"]?.stringValue, !ip.isEmpty {
                values.insert(ip)
            } else if let hostname = entry["hostname"]?.stringValue, !hostname.isEmpty {
                values.insert(hostname)
            }
        }
        let text = values.sorted().joined(separator: ",")
        if !wide, text.utf8.count > loadBalancerWidth {
            return String(decoding: Array(text.utf8)[..<(loadBalancerWidth - 3)], as: UTF8.self) + "..."
        }
        return text
    }
}
