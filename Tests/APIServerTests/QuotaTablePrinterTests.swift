@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// `printResourceQuota`'s cells: status.hard in name order with the used value (0 when the
/// controller has not counted it), `limits.*` under LIMIT, the rest under REQUEST; and
/// LimitRanges with the default table.
@Suite struct QuotaTablePrinterTests {
    @Test func quotaCellsAreAsKubectlPrintsThem() throws {
        let quota = KubeObject(fields: try json("""
            {"metadata":{"name":"q","creationTimestamp":"1970-01-12T13:36:40Z"},
             "spec":{"hard":{"pods":"4"}},
             "status":{"hard":{"pods":"4","requests.cpu":"2","limits.memory":"1Gi","limits.cpu":"4","count/configmaps":"10"},
                       "used":{"pods":"1","requests.cpu":"500m","limits.memory":"0.5Gi"}}}
            """).objectValue ?? [:])
        let resource = try #require(ResourceRegistry().resource(group: "", version: "v1", name: "resourcequotas"))
        let printer = TableConverter.printer(for: resource)
        #expect(printer.columns.map(\.name) == ["Name", "Age", "Request", "Limit"])
        let cells = printer.cells(quota, TableContext(now: Date(timeIntervalSince1970: 1_000_000)))
        #expect(cells == [.string("q"), .string("10m"), .string("count/configmaps: 0/10, pods: 1/4, requests.cpu: 500m/2"),
                          .string("limits.cpu: 0/4, limits.memory: 512Mi/1Gi")])
        let unsynced = KubeObject(fields: try json(#"{"metadata":{"name":"new"},"spec":{"hard":{"pods":"4"}}}"#).objectValue ?? [:])
        #expect(printer.cells(unsynced, TableContext(now: Date())).dropFirst(2) == [.string(""), .string("")])

        let limits = try #require(ResourceRegistry().resource(group: "", version: "v1", name: "limitranges"))
        #expect(TableConverter.printer(for: limits).columns.map(\.name) == ["Name", "Created At"])
        #expect(resource.shortNames == ["quota"] && limits.shortNames == ["limits"] && resource.subresources == ["status"])
    }
}
