import Images
import KubeAPI
import Testing
@testable import Runtime

/// Service variables against kubelet's (pkg/kubelet/envvars/envvars_test.go, kubelet_pods_test.go).
struct ServiceEnvironmentTests {
    static func service(_ name: String, namespace: String = "team", ip: String? = "10.43.0.20",
                        ports: [ServicePort] = [ServicePort(port: 80)]) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: ServiceSpec(ports: ports, clusterIP: ip))
    }

    static func pod(namespace: String = "team", links: Bool? = nil) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "web", namespace: namespace))
        pod.spec.enableServiceLinks = links
        return pod
    }

    @Test func aServiceGivesKubeletsVariablesInItsOrder() {
        let svc = Self.service("my-db", ports: [ServicePort(name: "sql", protocol: "TCP", port: 5432),
                                                ServicePort(name: "metrics-http", protocol: "UDP", port: 9100)])
        let vars = ServiceEnvironment.variables(for: Self.pod(), services: [svc]).map { "\($0.name)=\($0.value)" }
        #expect(vars == [
            "MY_DB_SERVICE_HOST=10.43.0.20", "MY_DB_SERVICE_PORT=5432",
            "MY_DB_SERVICE_PORT_SQL=5432", "MY_DB_SERVICE_PORT_METRICS_HTTP=9100",
            "MY_DB_PORT=tcp://10.43.0.20:5432",
            "MY_DB_PORT_5432_TCP=tcp://10.43.0.20:5432", "MY_DB_PORT_5432_TCP_PROTO=tcp",
            "MY_DB_PORT_5432_TCP_PORT=5432", "MY_DB_PORT_5432_TCP_ADDR=10.43.0.20",
            "MY_DB_PORT_9100_UDP=udp://10.43.0.20:9100", "MY_DB_PORT_9100_UDP_PROTO=udp",
            "MY_DB_PORT_9100_UDP_PORT=9100", "MY_DB_PORT_9100_UDP_ADDR=10.43.0.20",
        ])
    }

    @Test func onlyTheNamespacesServicesWithAddressesAndAlwaysTheAPIServer() {
        let services = [
            Self.service("web"),
            Self.service("headless", ip: "None"),
            Self.service("pending", ip: nil),
            Self.service("elsewhere", namespace: "other"),
            Self.service("kubernetes", namespace: "default", ip: "10.43.0.1", ports: [ServicePort(name: "https", port: 443)]),
        ]
        let names = Set(ServiceEnvironment.variables(for: Self.pod(), services: services).map(\.name))
        #expect(names.contains("WEB_SERVICE_HOST"))
        #expect(names.contains("KUBERNETES_SERVICE_HOST"))
        #expect(!names.contains { $0.hasPrefix("HEADLESS") || $0.hasPrefix("PENDING") || $0.hasPrefix("ELSEWHERE") })
        let unlinked = ServiceEnvironment.variables(for: Self.pod(links: false), services: services).map(\.name)
        #expect(unlinked.allSatisfy { $0.hasPrefix("KUBERNETES_") })
        #expect(unlinked.contains("KUBERNETES_PORT_443_TCP_ADDR"))
    }

    @Test func containerVariablesWinAndMayReferToServiceVariables() throws {
        var pod = Self.pod()
        let container = Container(name: "c", image: "busybox", env: [
            EnvVar(name: "WEB_SERVICE_PORT", value: "8080"),
            EnvVar(name: "URL", value: "http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)"),
        ])
        pod.spec.containers = [container]
        let info = PodRuntimeInfo(nodeName: "n", hostname: "web",
                                  serviceVariables: ServiceEnvironment.variables(for: pod, services: [Self.service("web")]))
        let env = try EnvironmentBuilder.build(pod: pod, container: container, image: ImageConfig(), info: info)
        #expect(env.contains("URL=http://10.43.0.20:8080"))
        #expect(env.filter { $0.hasPrefix("WEB_SERVICE_PORT=") } == ["WEB_SERVICE_PORT=8080"])
        #expect(env.contains("WEB_PORT_80_TCP_ADDR=10.43.0.20"))
        let url = try #require(env.firstIndex(of: "URL=http://10.43.0.20:8080"))
        let host = try #require(env.firstIndex(of: "WEB_SERVICE_HOST=10.43.0.20"))
        #expect(url < host, "Service variables come after the container's own")
    }
}
