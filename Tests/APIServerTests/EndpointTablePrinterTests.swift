@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// The columns of `kubectl get endpointslices`, `get ep` and `get svc` as Kubernetes' printers
/// make them (pkg/printers/internalversion/printers.go).
@Suite struct EndpointTablePrinterTests {
    private static let context = TableContext(now: Date(timeIntervalSince1970: 1_000_000))

    private static func object(_ text: String) throws -> KubeObject {
        KubeObject(fields: try json(text).objectValue ?? [:])
    }

    @Test func endpointSlicesShowPortsAndAddresses() throws {
        let columns = ResourceTablePrinters.endpointSlices.columns.map(\.name)
        #expect(columns == ["Name", "AddressType", "Ports", "Endpoints", "Age"])
        let slice = try Self.object("""
            {"metadata":{"name":"web-abcde","creationTimestamp":"1970-01-12T13:36:40Z"},"addressType":"IPv4",
             "ports":[{"name":"http","port":8080},{"name":"named"},{"port":9090},{"port":9091}],
             "endpoints":[{"addresses":["10.42.0.5"]},{"addresses":["10.42.0.6","10.42.0.7"]},{"addresses":["10.42.0.8"]}]}
            """)
        #expect(ResourceTablePrinters.endpointSlices.cells(slice, Self.context) == [
            .string("web-abcde"), .string("IPv4"), .string("8080,named,9090 + 1 more..."),
            .string("10.42.0.5,10.42.0.6,10.42.0.7 + 1 more..."), .string("10m"),
        ])
        let placeholder = try Self.object(#"{"metadata":{"name":"web-x"},"addressType":"IPv4","ports":null,"endpoints":[]}"#)
        let cells = ResourceTablePrinters.endpointSlices.cells(placeholder, Self.context)
        #expect(cells[2] == .string("<unset>") && cells[3] == .string("<unset>"))
    }

    @Test func endpointsShowAddressPortPairs() throws {
        let endpoints = try Self.object("""
            {"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.42.0.5"},{"ip":"10.42.0.6"}],"notReadyAddresses":[{"ip":"10.42.0.9"}],
             "ports":[{"port":8080},{"port":8443}]}]}
            """)
        #expect(ResourceTablePrinters.endpoints.cells(endpoints, Self.context)[1] == .string("10.42.0.5:8080,10.42.0.6:8080,10.42.0.5:8443 + 1 more..."))
        let none = try Self.object(#"{"metadata":{"name":"web"}}"#)
        #expect(ResourceTablePrinters.endpoints.cells(none, Self.context)[1] == .string("<none>"))
    }

    @Test func servicesShowTypesAddressesAndNodePorts() throws {
        let nodePort = try Self.object("""
            {"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.1.5","clusterIPs":["10.43.1.5"],
             "selector":{"app":"web"},"ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}}
            """)
        let cells = ResourceTablePrinters.services.cells(nodePort, Self.context)
        #expect(Array(cells.prefix(5)) == [.string("web"), .string("NodePort"), .string("10.43.1.5"), .string("<none>"), .string("80:30080/TCP,53/UDP")])
        #expect(cells.last == .string("app=web"))
        let external = try Self.object(#"{"metadata":{"name":"db"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}"#)
        #expect(Array(ResourceTablePrinters.services.cells(external, Self.context)[2...4]) == [.string("<none>"), .string("db.example.com"), .string("<none>")])
        let headless = try Self.object(#"{"metadata":{"name":"h"},"spec":{"type":"ClusterIP","clusterIP":"None","clusterIPs":["None"]}}"#)
        #expect(ResourceTablePrinters.services.cells(headless, Self.context)[2] == .string("None"))
        let balancer = try Self.object(#"{"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","clusterIPs":["10.43.1.6"],"ports":[{"port":443,"nodePort":31443,"protocol":"TCP"}]}}"#)
        #expect(ResourceTablePrinters.services.cells(balancer, Self.context)[3] == .string("<pending>"))
    }
}
