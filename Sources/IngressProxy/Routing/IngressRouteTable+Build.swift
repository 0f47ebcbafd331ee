import Foundation
import KubeAPI

extension IngressRouteTable {
    /// Builds the table for the Ingresses of swiftlet's class(es) and reports what is wrong with
    /// them. Never fails: a broken rule, backend or certificate is a problem of its Ingress and the
    /// rest is served (a broken backend answers 503, a broken certificate leaves its hosts on the
    /// default certificate).
    ///
    /// An Ingress is served when its `ingressClassName` names an IngressClass whose controller is
    /// `swiftlet.io/ingress`, or when it names no class and carries the legacy annotation
    /// `kubernetes.io/ingress.class: swiftlet` (the API server's admission fills in the default
    /// class, so an Ingress without either belongs to no class and is not served).
    ///
    /// Conflicts (the same host, path and type from two Ingresses) go to the oldest Ingress, by
    /// creationTimestamp and then namespace/name, as ingress-nginx orders them.
    ///
    /// - Parameter previous: the table in use; certificates of unchanged Secrets are reused from it.
    public static func build(_ inputs: IngressRouteInputs, reusing previous: IngressRouteTable? = nil)
        -> (table: IngressRouteTable, problems: [IngressProblem]) {
        var builder = RouteTableBuilder(inputs: inputs, previous: previous)
        return builder.build()
    }

    /// Whether an Ingress belongs to one of `classes` (the names of classes whose controller is
    /// swiftlet's).
    public static func isServed(_ ingress: Ingress, classes: Set<String>) -> Bool {
        // One rule with the server's ingress-status controller (IngressClass.servedBySwiftlet), so
        // the proxy serves exactly the Ingresses whose status lists the node.
        IngressClass.servedBySwiftlet(className: ingress.spec.ingressClassName,
                                      legacyAnnotation: ingress.metadata.annotations?[IngressClass.legacyClassAnnotation]) {
            classes.contains($0) ? IngressClass.swiftletController : nil
        }
    }
}

/// The state of one `build`: the targets made so far (one per Service port), the rules merged per
/// host, the problems in the order found.
private struct RouteTableBuilder {
    let inputs: IngressRouteInputs
    let previous: IngressRouteTable?
    var services: [String: Service] = [:]
    var slicesByService: [String: [EndpointSlice]] = [:]
    var targets: [String: IngressBackendTarget] = [:]
    var problems: [IngressProblem] = []
    var reported: Set<IngressProblem> = []

    /// Rules of one host while merging: the owner of each key decides conflicts.
    struct HostRules {
        var exact: [String: (target: IngressBackendTarget, owner: String, path: String)] = [:]
        var prefixes: [String: (target: IngressBackendTarget, owner: String, path: String, type: String)] = [:]
        var fallback: IngressBackendTarget?
    }

    init(inputs: IngressRouteInputs, previous: IngressRouteTable?) {
        self.inputs = inputs
        self.previous = previous
        for service in inputs.services {
            services[key(service.metadata.namespace, service.metadata.name)] = service
        }
        for slice in inputs.endpointSlices {
            guard let serviceName = slice.serviceName else { continue }
            slicesByService[key(slice.metadata.namespace, serviceName), default: []].append(slice)
        }
    }

    mutating func build() -> (table: IngressRouteTable, problems: [IngressProblem]) {
        let classes = Set(inputs.ingressClasses.filter { $0.spec.controller == IngressClass.swiftletController }
            .compactMap { $0.metadata.name })
        let served = inputs.ingresses.filter { IngressRouteTable.isServed($0, classes: classes) }.sorted(by: Self.older)

        var hosts: [String: HostRules] = [:]
        var defaultBackend: (target: IngressBackendTarget, owner: String)?
        for ingress in served {
            let namespace = ingress.metadata.namespace ?? "default"
            let owner = key(namespace, ingress.metadata.name)
            let ingressDefault = ingress.spec.defaultBackend.map { resolve($0, of: ingress) }
            for rule in ingress.spec.rules ?? [] {
                let host = (rule.host ?? "").lowercased()
                var rules = hosts[host] ?? HostRules()
                for path in rule.http?.paths ?? [] {
                    add(path, host: host, of: ingress, owner: owner, to: &rules)
                }
                if rules.fallback == nil, let ingressDefault { rules.fallback = ingressDefault }
                hosts[host] = rules
            }
            if let ingressDefault {
                if let existing = defaultBackend {
                    if (ingress.spec.rules ?? []).isEmpty {
                        report(ingress, IngressProblem.defaultBackendConflict,
                               "the defaultBackend of the older Ingress \(existing.owner) already serves requests no rule matches; this Ingress's defaultBackend \(ingressDefault) is not used")
                    }
                } else {
                    defaultBackend = (ingressDefault, owner)
                }
            }
        }

        var exactHosts: [String: HostRoutes] = [:]
        var wildcardHosts: [String: HostRoutes] = [:]
        var anyHost: HostRoutes?
        for (host, rules) in hosts {
            let routes = HostRoutes(exact: rules.exact.mapValues { $0.target },
                                    prefixes: rules.prefixes.map { (key: $0.key, target: $0.value.target) },
                                    fallback: rules.fallback)
            if host.isEmpty {
                anyHost = routes
            } else if host.hasPrefix("*.") {
                wildcardHosts[String(host.dropFirst(2))] = routes
            } else {
                exactHosts[host] = routes
            }
        }
        let certificates = buildCertificates(served)
        let table = IngressRouteTable(hosts: exactHosts, wildcards: wildcardHosts, anyHost: anyHost,
                                      defaultBackend: defaultBackend?.target, certificates: certificates)
        return (table, problems)
    }

    /// Oldest first: creationTimestamp, then namespace/name (an Ingress without a timestamp,
    /// which the API server always sets, sorts last).
    static func older(_ a: Ingress, _ b: Ingress) -> Bool {
        let aTime = a.metadata.creationTimestamp?.date ?? .distantFuture
        let bTime = b.metadata.creationTimestamp?.date ?? .distantFuture
        if aTime != bTime { return aTime < bTime }
        let aName = (a.metadata.namespace ?? "", a.metadata.name ?? "")
        let bName = (b.metadata.namespace ?? "", b.metadata.name ?? "")
        return aName < bName
    }

    static func ownerText(_ existing: String, _ owner: String) -> String {
        existing == owner ? "an earlier rule of this Ingress" : "the older Ingress \(existing)"
    }

    private mutating func add(_ path: HTTPIngressPath, host: String, of ingress: Ingress, owner: String,
                              to rules: inout HostRules) {
        let pathType = path.pathType ?? "ImplementationSpecific"
        let text = path.path.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let hostText = host.isEmpty ? "every host" : "host \"\(host)\""
        guard text.hasPrefix("/") else {
            report(ingress, IngressProblem.invalidRule, "path \"\(text)\" of \(hostText) does not start with \"/\"; the rule is ignored")
            return
        }
        switch pathType {
        case "Exact":
            let target = resolve(path.backend, of: ingress)
            if let existing = rules.exact[text] {
                if existing.owner != owner || existing.target !== target {
                    report(ingress, IngressProblem.pathConflict,
                           "\(hostText) path \"\(text)\" (Exact) is already served by \(Self.ownerText(existing.owner, owner)); this rule is ignored")
                }
                return
            }
            rules.exact[text] = (target, owner, text)
        case "Prefix", "ImplementationSpecific":
            // ImplementationSpecific is served as Prefix (Traefik and ingress-nginx without regex
            // annotations match it as a prefix too).
            let prefixKey = RequestPath.prefixKey(text)
            let target = resolve(path.backend, of: ingress)
            if let existing = rules.prefixes[prefixKey] {
                if existing.owner != owner || existing.target !== target {
                    let same = existing.path == text && existing.type == pathType
                        ? "is already served by"
                        : "matches the same requests as \"\(existing.path)\" (\(existing.type)) of"
                    report(ingress, IngressProblem.pathConflict,
                           "\(hostText) path \"\(text)\" (\(pathType)) \(same) \(Self.ownerText(existing.owner, owner)); this rule is ignored")
                }
                return
            }
            rules.prefixes[prefixKey] = (target, owner, text, pathType)
        default:
            report(ingress, IngressProblem.invalidRule,
                   "path \"\(text)\" of \(hostText) has pathType \"\(pathType)\"; expected Exact, Prefix or ImplementationSpecific; the rule is ignored")
        }
    }

    /// The target of a backend, shared by every rule naming the same Service port. A Service or
    /// port that does not exist is a problem of the Ingress and a target that answers 503.
    private mutating func resolve(_ backend: IngressBackend, of ingress: Ingress) -> IngressBackendTarget {
        let namespace = ingress.metadata.namespace ?? "default"
        guard let serviceBackend = backend.service else {
            let what = backend.resource.map { "\($0.kind) \($0.name)" } ?? "nothing"
            report(ingress, IngressProblem.unsupportedBackend,
                   "a backend names \(what) instead of a Service; resource backends are not served, requests for it answer 503")
            return IngressBackendTarget(namespace: namespace, serviceName: "", servicePort: "", endpoints: [],
                                        unavailableReason: "resource backends are not served",
                                        unavailableCode: IngressProblem.unsupportedBackend)
        }
        let portText = serviceBackend.port?.name ?? serviceBackend.port?.number.map(String.init) ?? ""
        let targetKey = "\(namespace)/\(serviceBackend.name):\(portText)"
        if let existing = targets[targetKey] {
            if let reason = existing.unavailableReason { reportUnavailable(ingress, existing, reason) }
            return existing
        }
        let target = makeTarget(namespace: namespace, backend: serviceBackend, portText: portText)
        targets[targetKey] = target
        if let reason = target.unavailableReason { reportUnavailable(ingress, target, reason) }
        return target
    }

    private mutating func reportUnavailable(_ ingress: Ingress, _ target: IngressBackendTarget, _ reason: String) {
        report(ingress, target.unavailableCode ?? IngressProblem.unsupportedBackend, "\(reason); requests for it answer 503")
    }

    private func makeTarget(namespace: String, backend: IngressServiceBackend, portText: String) -> IngressBackendTarget {
        func unavailable(_ code: String, _ reason: String) -> IngressBackendTarget {
            IngressBackendTarget(namespace: namespace, serviceName: backend.name, servicePort: portText, endpoints: [],
                                 unavailableReason: reason, unavailableCode: code)
        }
        let serviceKey = key(namespace, backend.name)
        guard let service = services[serviceKey] else {
            return unavailable(IngressProblem.serviceNotFound, "Service \"\(serviceKey)\" not found")
        }
        if service.spec.type == "ExternalName" {
            return unavailable(IngressProblem.unsupportedBackend, "Service \"\(serviceKey)\" is of type ExternalName, which the proxy does not serve")
        }
        let ports = service.spec.ports ?? []
        let servicePort: ServicePort?
        if let name = backend.port?.name {
            servicePort = ports.first { $0.name == name }
        } else if let number = backend.port?.number {
            servicePort = ports.first { $0.port == number }
        } else {
            servicePort = ports.count == 1 ? ports.first : nil
        }
        guard let servicePort else {
            return unavailable(IngressProblem.servicePortNotFound, "Service \"\(serviceKey)\" has no port \(portText.isEmpty ? "(none named in the backend)" : "\"\(portText)\"")")
        }
        // The Service port's name is the EndpointSlice port's name ("" for a single unnamed port);
        // a named targetPort resolves per pod, so slices of one Service may give different numbers.
        let portName = servicePort.name ?? ""
        var endpoints: [BackendEndpoint] = []
        var seen: Set<BackendEndpoint> = []
        for slice in slicesByService[serviceKey] ?? [] where slice.addressType == "IPv4" || slice.addressType == "IPv6" {
            guard let port = slice.ports?.first(where: { ($0.name ?? "") == portName && ($0.protocol ?? "TCP") == "TCP" })?.port
            else { continue }
            for endpoint in slice.endpoints where endpoint.conditions?.ready != false {
                // Consumers use only the first address of an endpoint (discovery/v1 types.go).
                guard let address = endpoint.addresses.first,
                      let backendEndpoint = try? BackendEndpoint(host: address, port: Int(port)),
                      seen.insert(backendEndpoint).inserted else { continue }
                endpoints.append(backendEndpoint)
            }
        }
        return IngressBackendTarget(namespace: namespace, serviceName: backend.name, servicePort: portText, endpoints: endpoints)
    }

    /// The certificates of the TLS sections, oldest Ingress first; a host given two different
    /// Secrets keeps the older one's.
    private mutating func buildCertificates(_ served: [Ingress]) -> IngressTLSCertificates {
        var loaded: [String: LoadedCertificate] = [:]
        var failed: [String: String] = [:]
        var exact: [String: (LoadedCertificate, String)] = [:]
        var wildcards: [String: (LoadedCertificate, String)] = [:]
        for ingress in served {
            let namespace = ingress.metadata.namespace ?? "default"
            let owner = key(namespace, ingress.metadata.name)
            for section in ingress.spec.tls ?? [] {
                guard let secretName = section.secretName, !secretName.isEmpty else { continue }
                // A section without hosts covers the hosts of the Ingress's rules.
                var hosts = (section.hosts ?? []).map { $0.lowercased() }.filter { !$0.isEmpty }
                if hosts.isEmpty {
                    hosts = (ingress.spec.rules ?? []).compactMap { $0.host?.lowercased() }.filter { !$0.isEmpty }
                }
                let secretKey = key(namespace, secretName)
                let hostList = hosts.map { "\"\($0)\"" }.joined(separator: ", ")
                let certificate: LoadedCertificate
                if let done = loaded[secretKey] {
                    certificate = done
                } else if let reason = failed[secretKey] {
                    report(ingress, reason.hasSuffix("not found") ? IngressProblem.tlsSecretNotFound : IngressProblem.tlsSecretInvalid,
                           "\(reason); \(hostList) get the default certificate")
                    continue
                } else {
                    guard let data = inputs.tlsSecrets[secretKey] else {
                        let reason = "TLS Secret \"\(secretKey)\" not found"
                        failed[secretKey] = reason
                        report(ingress, IngressProblem.tlsSecretNotFound, "\(reason); \(hostList) get the default certificate")
                        continue
                    }
                    if let reused = previous?.certificates.loaded[secretKey], reused.source == data {
                        certificate = reused
                    } else {
                        switch ServerTLS.load(secret: secretKey, data) {
                        case .success(let made):
                            certificate = made
                        case .failure(let error):
                            let reason = "TLS Secret \"\(secretKey)\": \(error.description)"
                            failed[secretKey] = reason
                            report(ingress, IngressProblem.tlsSecretInvalid, "\(reason); \(hostList) get the default certificate")
                            continue
                        }
                    }
                    loaded[secretKey] = certificate
                }
                for host in hosts {
                    let isWildcard = host.hasPrefix("*.")
                    let name = isWildcard ? String(host.dropFirst(2)) : host
                    let existing = isWildcard ? wildcards[name] : exact[name]
                    if let existing {
                        if existing.0.secret != secretKey {
                            report(ingress, IngressProblem.tlsHostConflict,
                                   "TLS host \"\(host)\" already has the certificate of Secret \"\(existing.0.secret)\" from the older Ingress \(existing.1); Secret \"\(secretKey)\" is not used for it")
                        }
                        continue
                    }
                    if isWildcard { wildcards[name] = (certificate, owner) } else { exact[name] = (certificate, owner) }
                }
            }
        }
        return IngressTLSCertificates(exact: exact.mapValues { $0.0 }, wildcards: wildcards.mapValues { $0.0 }, loaded: loaded)
    }

    private mutating func report(_ ingress: Ingress, _ reason: String, _ message: String) {
        let problem = IngressProblem(namespace: ingress.metadata.namespace ?? "default", name: ingress.metadata.name ?? "",
                                     reason: reason, message: message)
        if reported.insert(problem).inserted { problems.append(problem) }
    }
}

private func key(_ namespace: String?, _ name: String?) -> String {
    "\(namespace ?? "default")/\(name ?? "")"
}
