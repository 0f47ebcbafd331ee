@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// `printReplicationController` and `printPodTemplate` (kubectl 1.32's columns and cells), and
/// how discovery describes both resources.
@Suite struct CoreWorkloadTablePrinterTests {
    @Test func replicationControllerColumnsAndCells() throws {
        let rc = KubeObject(fields: try json("""
            {"metadata":{"name":"web","creationTimestamp":"1970-01-12T13:36:40Z"},
             "spec":{"replicas":3,"selector":{"tier":"front","app":"web"},
               "template":{"spec":{"containers":[{"name":"a","image":"busybox"},{"name":"b","image":"nginx:1.25"}]}}},
             "status":{"replicas":2,"readyReplicas":1}}
            """).objectValue ?? [:])
        let resource = try #require(ResourceRegistry().resource(group: "", version: "v1", name: "replicationcontrollers"))
        let printer = TableConverter.printer(for: resource)
        #expect(printer.columns.map(\.name) == ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"])
        #expect(printer.columns.map(\.priority) == [0, 0, 0, 0, 0, 1, 1, 1])
        #expect(printer.columns.map(\.type) == ["string", "integer", "integer", "integer", "string", "string", "string", "string"])
        let cells = printer.cells(rc, TableContext(now: Date(timeIntervalSince1970: 1_000_000)))
        #expect(cells == [.string("web"), .int(3), .int(2), .int(1), .string("10m"), .string("a,b"), .string("busybox,nginx:1.25"),
                          .string("app=web,tier=front")])
        // A new RC whose status the controller has not written yet.
        let fresh = KubeObject(fields: try json(#"{"metadata":{"name":"new"},"spec":{"replicas":1}}"#).objectValue ?? [:])
        #expect(printer.cells(fresh, TableContext(now: Date())) == [.string("new"), .int(1), .int(0), .int(0), .string("<unknown>"),
                                                                      .string(""), .string(""), .string("<none>")])
        #expect(resource.shortNames == ["rc"] && resource.categories == ["all"] && resource.subresources == ["status", "scale"])
        #expect(resource.tracksGeneration)
    }

    @Test func podTemplateColumnsAndCells() throws {
        let resource = try #require(ResourceRegistry().resource(group: "", version: "v1", name: "podtemplates"))
        let printer = TableConverter.printer(for: resource)
        #expect(printer.columns.map(\.name) == ["Template", "Containers", "Images", "Pod Labels"])
        #expect(printer.columns.first?.format == "name")
        let labelled = KubeObject(fields: try json("""
            {"metadata":{"name":"tpl"},"template":{"metadata":{"labels":{"b":"2","a":"1"}},
              "spec":{"containers":[{"name":"c","image":"busybox"}]}}}
            """).objectValue ?? [:])
        #expect(printer.cells(labelled, TableContext(now: Date())) == [.string("tpl"), .string("c"), .string("busybox"), .string("a=1,b=2")])
        let bare = KubeObject(fields: try json(#"{"metadata":{"name":"bare"},"template":{"spec":{"containers":[]}}}"#).objectValue ?? [:])
        #expect(printer.cells(bare, TableContext(now: Date())) == [.string("bare"), .string(""), .string(""), .string("<none>")])
        #expect(resource.shortNames.isEmpty && resource.categories.isEmpty && resource.namespaced)
    }
}
