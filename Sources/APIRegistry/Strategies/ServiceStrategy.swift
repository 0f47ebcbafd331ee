import APIMachinery
import KubeAPI

/// Services: the v1 defaults (type ClusterIP, sessionAffinity None, TCP, targetPort = port,
/// single-stack IPv4, Cluster traffic policies), a cluster IP and node ports allocated on
/// create and kept on update, and the basic port checks of `ValidateService`.
struct ServiceStrategy: ResourceStrategy {
    var returnsDeletedObject: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.set(.object(["loadBalancer": .object([:])]), at: ["status"])
        try applyDefaults(&object)
        try validate(object)
        let type = object.string(at: ["spec", "type"]) ?? "ClusterIP"
        if type != "ExternalName" {
            let requested = object.string(at: ["spec", "clusterIP"])
            if requested != "None" {
                let address = try await context.services.allocateIP(requested: (requested ?? "").isEmpty ? nil : requested)
                object.set(.string(address), at: ["spec", "clusterIP"])
                object.set(.array([.string(address)]), at: ["spec", "clusterIPs"])
            } else {
                object.set(.array([.string("None")]), at: ["spec", "clusterIPs"])
            }
        }
        if type == "NodePort" || type == "LoadBalancer" {
            var ports = object.value(at: ["spec", "ports"])?.arrayValue ?? []
            for index in ports.indices {
                let requested = ports[index]["nodePort"]?.intValue
                let port = try await context.services.allocateNodePort(requested: (requested ?? 0) == 0 ? nil : requested)
                ports[index].set(.int(port), at: ["nodePort"])
            }
            object.set(.array(ports), at: ["spec", "ports"])
        }
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.set(old.fields["status"], at: ["status"])
        // The allocated addresses stay unless the client names them (`kubectl apply` omits them).
        for key in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] where object.value(at: ["spec", key]) == nil {
            object.set(old.value(at: ["spec", key]), at: ["spec", key])
        }
        if object.value(at: ["spec", "clusterIP"]) != old.value(at: ["spec", "clusterIP"]) {
            throw APIError.invalid(kind: "Service", group: "", name: object.name ?? "", errors: [
                ValidationError(type: .invalid, field: "spec.clusterIPs[0]", badValue: .string(object.string(at: ["spec", "clusterIP"]) ?? ""),
                                detail: "may not change once set"),
            ])
        }
        try applyDefaults(&object)
        try validate(object)
        let type = object.string(at: ["spec", "type"]) ?? "ClusterIP"
        if type == "NodePort" || type == "LoadBalancer" {
            let oldPorts = old.value(at: ["spec", "ports"])?.arrayValue ?? []
            var ports = object.value(at: ["spec", "ports"])?.arrayValue ?? []
            for index in ports.indices where (ports[index]["nodePort"]?.intValue ?? 0) == 0 {
                // Keep the node port of the same port number; allocate for new ones.
                let kept = oldPorts.first { $0["port"] == ports[index]["port"] && $0["protocol"] == ports[index]["protocol"] }?["nodePort"]?.intValue
                let port = try await context.services.allocateNodePort(requested: nil)
                ports[index].set(.int(kept ?? port), at: ["nodePort"])
            }
            object.set(.array(ports), at: ["spec", "ports"])
        }
        return []
    }

    private func applyDefaults(_ object: inout KubeObject) throws(APIError) {
        if object.string(at: ["spec", "type"]) == nil { object.set(.string("ClusterIP"), at: ["spec", "type"]) }
        let type = object.string(at: ["spec", "type"]) ?? "ClusterIP"
        if object.string(at: ["spec", "sessionAffinity"]) == nil { object.set(.string("None"), at: ["spec", "sessionAffinity"]) }
        if type != "ExternalName" {
            if object.value(at: ["spec", "internalTrafficPolicy"]) == nil {
                object.set(.string("Cluster"), at: ["spec", "internalTrafficPolicy"])
            }
            if object.value(at: ["spec", "ipFamilies"]) == nil { object.set(.array([.string("IPv4")]), at: ["spec", "ipFamilies"]) }
            if object.value(at: ["spec", "ipFamilyPolicy"]) == nil { object.set(.string("SingleStack"), at: ["spec", "ipFamilyPolicy"]) }
        }
        if (type == "NodePort" || type == "LoadBalancer"), object.value(at: ["spec", "externalTrafficPolicy"]) == nil {
            object.set(.string("Cluster"), at: ["spec", "externalTrafficPolicy"])
        }
        var ports = object.value(at: ["spec", "ports"])?.arrayValue ?? []
        for index in ports.indices {
            if ports[index]["protocol"] == nil { ports[index].set(.string("TCP"), at: ["protocol"]) }
            if ports[index]["targetPort"] == nil, let port = ports[index]["port"] {
                ports[index].set(port, at: ["targetPort"])
            }
        }
        if !ports.isEmpty { object.set(.array(ports), at: ["spec", "ports"]) }
    }

    private func validate(_ object: KubeObject) throws(APIError) {
        var errors: [ValidationError] = []
        let type = object.string(at: ["spec", "type"]) ?? "ClusterIP"
        let supported = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
        if !supported.contains(type) {
            errors.append(ValidationError(type: .notSupported, field: "spec.type", badValue: .string(type),
                                          detail: "supported values: " + supported.map { ObjectValidation.quote($0) }.joined(separator: ", ")))
        }
        let ports = object.value(at: ["spec", "ports"])?.arrayValue ?? []
        let headless = object.string(at: ["spec", "clusterIP"]) == "None"
        if ports.isEmpty, type != "ExternalName", !headless {
            errors.append(ValidationError(type: .required, field: "spec.ports"))
        }
        var names: Set<String> = []
        for (index, port) in ports.enumerated() {
            let path = "spec.ports[\(index)]"
            let name = port["name"]?.stringValue ?? ""
            if ports.count > 1, name.isEmpty {
                errors.append(ValidationError(type: .required, field: path + ".name"))
            } else if !name.isEmpty, !names.insert(name).inserted {
                errors.append(ValidationError(type: .duplicate, field: path + ".name", badValue: .string(name)))
            }
            let number = port["port"]?.intValue ?? 0
            if !(1...65535).contains(number) {
                errors.append(ValidationError(type: .invalid, field: path + ".port", badValue: .int(number),
                                              detail: "must be between 1 and 65535, inclusive"))
            }
            let proto = port["protocol"]?.stringValue ?? "TCP"
            if !["TCP", "UDP", "SCTP"].contains(proto) {
                errors.append(ValidationError(type: .notSupported, field: path + ".protocol", badValue: .string(proto),
                                              detail: "supported values: \"SCTP\", \"TCP\", \"UDP\""))
            }
        }
        if !errors.isEmpty {
            throw APIError.invalid(kind: "Service", group: "", name: object.name ?? "", errors: errors)
        }
    }
}
