/// Environment checks: `ValidateEnv`, `validateEnvVarValueFrom`, `ValidateEnvFrom`.
extension PodValidator {
    /// Pod fields the downward API can put in an environment variable.
    private static let envFieldPaths = [
        "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
        "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
    ].sorted()

    /// Labels `ConvertDownwardAPIFieldLabel` accepts for v1 pods.
    private static let convertibleFieldPaths: Set<String> = [
        "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
        "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName", "status.phase",
        "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
    ]

    private static let resourceFieldPaths = [
        "limits.cpu", "limits.memory", "limits.ephemeral-storage",
        "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    ].sorted()

    mutating func validateEnv(_ variables: [EnvVar], path: String) {
        for (index, variable) in variables.enumerated() {
            let itemPath = path + "[\(index)]"
            if variable.name.isEmpty {
                add(.required(itemPath + ".name"))
            } else {
                check(NameRules.environmentVariableName(variable.name), itemPath + ".name", variable.name)
            }
            if let source = variable.valueFrom {
                validateValueFrom(source, value: variable.value ?? "", path: itemPath + ".valueFrom")
            }
        }
    }

    private mutating func validateValueFrom(_ source: EnvVarSource, value: String, path: String) {
        var count = 0
        if let selector = source.fieldRef {
            count += 1
            validateFieldSelector(selector, path: path + ".fieldRef")
        }
        if let selector = source.resourceFieldRef {
            count += 1
            validateResourceFieldSelector(selector, path: path + ".resourceFieldRef")
        }
        if let selector = source.configMapKeyRef {
            count += 1
            validateKeySelector(name: selector.name, key: selector.key, path: path + ".configMapKeyRef")
        }
        if let selector = source.secretKeyRef {
            count += 1
            validateKeySelector(name: selector.name, key: selector.key, path: path + ".secretKeyRef")
        }
        if count == 0 {
            add(.invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
        } else if !value.isEmpty {
            add(.invalid(path, "", "may not be specified when `value` is not empty"))
        } else if count > 1 {
            add(.invalid(path, "", "may not have more than one field specified at a time"))
        }
    }

    private mutating func validateFieldSelector(_ selector: ObjectFieldSelector, path: String) {
        let apiVersion = selector.apiVersion ?? ""
        guard !apiVersion.isEmpty else {
            add(.required(path + ".apiVersion"))
            return
        }
        guard !selector.fieldPath.isEmpty else {
            add(.required(path + ".fieldPath"))
            return
        }
        guard apiVersion == "v1" else {
            add(.invalid(path + ".fieldPath", selector.fieldPath, "error converting fieldPath: unsupported pod version: \(apiVersion)"))
            return
        }
        // `metadata.labels['app']`: a subscript is only allowed on labels and annotations.
        if let open = selector.fieldPath.firstIndex(of: "["), selector.fieldPath.hasSuffix("']"),
           selector.fieldPath[selector.fieldPath.index(after: open)...].hasPrefix("'") {
            let field = String(selector.fieldPath[..<open])
            let key = String(selector.fieldPath[selector.fieldPath.index(open, offsetBy: 2)...].dropLast(2))
            switch field {
            case "metadata.annotations": check(NameRules.qualifiedName(key.lowercased()), path, key.lowercased())
            case "metadata.labels": check(NameRules.qualifiedName(key), path, key)
            default:
                add(.invalid(path + ".fieldPath", selector.fieldPath,
                             "error converting fieldPath: field label does not support subscript: \(selector.fieldPath)"))
            }
            return
        }
        let field = selector.fieldPath == "spec.host" ? "spec.nodeName" : selector.fieldPath
        guard Self.convertibleFieldPaths.contains(field) else {
            add(.invalid(path + ".fieldPath", selector.fieldPath, "error converting fieldPath: field label not supported: \(field)"))
            return
        }
        if !Self.envFieldPaths.contains(field) {
            add(.notSupported(path + ".fieldPath", field, Self.envFieldPaths))
        }
    }

    private mutating func validateResourceFieldSelector(_ selector: ResourceFieldSelector, path: String) {
        let resource = selector.resource
        if resource.isEmpty {
            add(.required(path + ".resource"))
        } else if !Self.resourceFieldPaths.contains(resource),
                  !resource.hasPrefix("requests.hugepages-"), !resource.hasPrefix("limits.hugepages-") {
            add(.notSupported(path + ".resource", resource, Self.resourceFieldPaths))
        }
        guard let divisor = selector.divisor, !divisor.isZero else { return }
        let memoryDivisors = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"]
        let allowed = memoryDivisors.joined(separator: ", ")
        switch resource {
        case "limits.cpu", "requests.cpu":
            if !["1m", "1"].contains(divisor.description) {
                add(.invalid(path + ".divisor", resource, "only divisor's values 1m and 1 are supported with the cpu resource"))
            }
        case "limits.memory", "requests.memory":
            if !memoryDivisors.contains(divisor.description) {
                add(.invalid(path + ".divisor", resource, "only divisor's values \(allowed) are supported with the memory resource"))
            }
        case "limits.ephemeral-storage", "requests.ephemeral-storage":
            if !memoryDivisors.contains(divisor.description) {
                add(.invalid(path + ".divisor", resource,
                             "only divisor's values \(allowed) are supported with the local ephemeral storage resource"))
            }
        default:
            if resource.hasPrefix("requests.hugepages-") || resource.hasPrefix("limits.hugepages-"),
               !memoryDivisors.contains(divisor.description) {
                add(.invalid(path + ".divisor", resource, "only divisor's values \(allowed) are supported with the hugepages resource"))
            }
        }
    }

    /// `validateConfigMapKeySelector` / `validateSecretKeySelector`.
    private mutating func validateKeySelector(name: String?, key: String, path: String) {
        let name = name ?? ""
        check(NameRules.dns1123Subdomain(name), path + ".name", name)
        if key.isEmpty {
            add(.required(path + ".key"))
        } else {
            check(NameRules.configMapKey(key), path + ".key", key)
        }
    }

    mutating func validateEnvFrom(_ sources: [EnvFromSource], path: String) {
        for (index, source) in sources.enumerated() {
            let itemPath = path + "[\(index)]"
            if let prefix = source.prefix, !prefix.isEmpty {
                check(NameRules.environmentVariableName(prefix), itemPath + ".prefix", prefix)
            }
            var count = 0
            for (field, name) in [("configMapRef", source.configMapRef?.name), ("secretRef", source.secretRef?.name)] {
                let present = field == "configMapRef" ? source.configMapRef != nil : source.secretRef != nil
                guard present else { continue }
                count += 1
                let name = name ?? ""
                if name.isEmpty {
                    add(.required(itemPath + "." + field + ".name"))
                } else {
                    check(NameRules.dns1123Subdomain(prefix: name), itemPath + "." + field + ".name", name)
                }
            }
            // Upstream reports these two on the list, not the item.
            if count == 0 {
                add(.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
            } else if count > 1 {
                add(.invalid(path, "", "may not have more than one field specified at a time"))
            }
        }
    }
}
