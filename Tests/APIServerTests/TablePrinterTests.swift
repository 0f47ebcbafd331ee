@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

@Suite struct TablePrinterTests {
    static let durations: [(Double, String)] = [
        (0, "0s"), (-1.5, "0s"), (-3, "<invalid>"), (119, "119s"), (120, "2m"), (125, "2m5s"), (600, "10m"),
        (10_799, "179m"), (10_800, "3h"), (10_920, "3h2m"), (28_800, "8h"), (169_200, "47h"),
        (172_800, "2d"), (180_000, "2d2h"), (864_000, "10d"), (69_120_000, "2y70d"), (283_824_000, "9y"),
    ]

    @Test(arguments: durations)
    func humanDurationMatchesKubernetes(seconds: Double, expected: String) {
        #expect(HumanDuration.format(seconds: seconds) == expected)
    }

    private func podCells(_ text: String) throws -> [JSONValue] {
        let pod = KubeObject(fields: try json(text).objectValue ?? [:])
        return PodTablePrinter.cells(pod, TableContext(now: Date(timeIntervalSince1970: 1_000_000)))
    }

    @Test func runningPodWithRestarts() throws {
        let cells = try podCells("""
            {"metadata":{"name":"p","creationTimestamp":"1970-01-12T13:36:40Z"},
             "spec":{"nodeName":"n1","containers":[{"name":"a"},{"name":"b"}]},
             "status":{"phase":"Running","podIPs":[{"ip":"10.42.0.5"}],"conditions":[{"type":"Ready","status":"False"}],
               "containerStatuses":[
                 {"name":"a","ready":true,"restartCount":2,"state":{"running":{}},
                  "lastState":{"terminated":{"exitCode":1,"finishedAt":"1970-01-12T13:41:40Z"}}},
                 {"name":"b","ready":false,"restartCount":0,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}
            """)
        #expect(cells == [.string("p"), .string("1/2"), .string("CrashLoopBackOff"), .string("2 (5m ago)"), .string("10m"),
                          .string("10.42.0.5"), .string("n1"), .string("<none>"), .string("<none>")])
    }

    @Test(arguments: [
        (#"{"phase":"Succeeded","containerStatuses":[{"name":"a","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}"#, "Completed"),
        (#"{"phase":"Failed","containerStatuses":[{"name":"a","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":137}}}]}"#, "ExitCode:137"),
        (#"{"phase":"Pending","initContainerStatuses":[{"name":"i","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}"#, "Init:0/1"),
        (#"{"phase":"Pending","initContainerStatuses":[{"name":"i","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":1,"signal":0}}}]}"#, "Init:ExitCode:1"),
        (#"{"phase":"Pending","reason":"Evicted"}"#, "Evicted"),
        (#"{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}"#, "SchedulingGated"),
    ])
    func statusColumn(status: String, expected: String) throws {
        let cells = try podCells(#"{"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"a"}]},"status":\#(status)}"#)
        #expect(cells[2] == .string(expected))
    }

    @Test func deletedPodsAreTerminatingUntilFinished() throws {
        let running = try podCells(#"{"metadata":{"name":"p","deletionTimestamp":"1970-01-12T13:46:40Z"},"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running"}}"#)
        #expect(running[2] == .string("Terminating"))
        let done = try podCells(#"{"metadata":{"name":"p","deletionTimestamp":"1970-01-12T13:46:40Z"},"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Succeeded"}}"#)
        #expect(done[2] == .string("Succeeded"))
    }

    @Test func nodeStatusAndRoles() throws {
        let node = KubeObject(fields: try json("""
            {"metadata":{"name":"n","labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/master":"","kubernetes.io/role":"edge"}},
             "spec":{"unschedulable":true},
             "status":{"conditions":[{"type":"Ready","status":"Unknown"}],"nodeInfo":{"kubeletVersion":"v1.32.0"}}}
            """).objectValue ?? [:])
        let cells = NodeTablePrinter.cells(node, TableContext(now: Date()))
        #expect(cells[1] == .string("NotReady,SchedulingDisabled"))
        #expect(cells[2] == .string("control-plane,edge,master"))
        #expect(cells[4] == .string("v1.32.0"))
        #expect(cells[5] == .string("<none>"))
        #expect(cells[7] == .string("<unknown>"))
    }

    @Test func servicePortsAndExternalIPs() throws {
        let service = KubeObject(fields: try json("""
            {"metadata":{"name":"s"},"spec":{"type":"NodePort","clusterIP":"10.43.0.9","clusterIPs":["10.43.0.9"],
             "ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}],"selector":{"b":"2","a":"1"}}}
            """).objectValue ?? [:])
        let cells = ResourceTablePrinters.services.cells(service, TableContext(now: Date()))
        #expect(cells[1...4] == [.string("NodePort"), .string("10.43.0.9"), .string("<none>"), .string("80:30080/TCP,53/UDP")])
        #expect(cells[6] == .string("a=1,b=2"))
    }
}
