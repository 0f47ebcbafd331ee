import Foundation
import KubeAPI

/// Kubernetes objects for the ingress tests, written the way a user's YAML reads.
enum Fixture {
    static let swiftletClass = IngressClass(
        metadata: ObjectMeta(name: "swiftlet", annotations: [IngressClass.defaultClassAnnotation: "true"]),
        spec: IngressClassSpec(controller: IngressClass.swiftletController))
    static let otherClass = IngressClass(metadata: ObjectMeta(name: "nginx"), spec: IngressClassSpec(controller: "k8s.io/ingress-nginx"))

    /// A path rule: "Prefix /foo -> svc:80" is `path("/foo", "Prefix", "svc", 80)`.
    static func path(_ path: String?, _ type: String?, _ service: String, _ port: Int32? = 80, portName: String? = nil) -> HTTPIngressPath {
        HTTPIngressPath(path: path, pathType: type, backend: backend(service, port, portName: portName))
    }

    static func backend(_ service: String, _ port: Int32? = 80, portName: String? = nil) -> IngressBackend {
        IngressBackend(service: IngressServiceBackend(
            name: service, port: portName.map { ServiceBackendPort(name: $0) } ?? port.map { ServiceBackendPort(number: $0) }))
    }

    static func rule(_ host: String?, _ paths: [HTTPIngressPath]) -> IngressRule {
        IngressRule(host: host, http: HTTPIngressRuleValue(paths: paths))
    }

    /// An Ingress of class swiftlet, created `age` seconds before a fixed instant (older first).
    static func ingress(_ name: String, namespace: String = "default", age: Int = 0, className: String? = "swiftlet",
                        annotations: [String: String]? = nil, rules: [IngressRule] = [],
                        defaultBackend: IngressBackend? = nil, tls: [IngressTLS]? = nil) -> Ingress {
        Ingress(metadata: ObjectMeta(name: name, namespace: namespace,
                                     creationTimestamp: Time(Date(timeIntervalSince1970: 1_800_000_000 - Double(age))),
                                     annotations: annotations),
                spec: IngressSpec(ingressClassName: className, defaultBackend: defaultBackend, tls: tls, rules: rules))
    }

    static func service(_ name: String, namespace: String = "default", ports: [ServicePort] = [ServicePort(port: 80)],
                        type: String? = nil) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: ServiceSpec(type: type, ports: ports))
    }

    /// An EndpointSlice of `service` with `addresses` (ready unless listed in `notReady`) on `port`.
    static func slice(_ service: String, namespace: String = "default", name: String? = nil, addresses: [String],
                      notReady: [String] = [], port: Int32, portName: String? = "", addressType: String = "IPv4") -> EndpointSlice {
        EndpointSlice(
            metadata: ObjectMeta(name: name ?? "\(service)-abc", namespace: namespace,
                                 labels: [EndpointSlice.serviceNameLabel: service]),
            addressType: addressType,
            endpoints: (addresses + notReady).map {
                Endpoint(addresses: [$0], conditions: EndpointConditions(ready: !notReady.contains($0)))
            },
            ports: [EndpointPort(name: portName, protocol: "TCP", port: port)])
    }
}
