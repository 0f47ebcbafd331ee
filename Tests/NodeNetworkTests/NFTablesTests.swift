import Foundation
import Glibc
import Testing
import TestSupport
@testable import NodeNetwork

/// libnftables through NFTables, for real inside a namespace the test makes (root).
@Suite("nftables contexts (root)", .serialized, .ownThreads, .requires(getuid() == 0, "needs root"))
struct NFTablesTests {
    /// libnftables waits with select(), and glibc aborts the whole process when that sees a
    /// descriptor >= 1024 (FD_SETSIZE). The test suite with a few hundred test servers open,
    /// or an agent with many connections, holds that many: commands must keep working, with
    /// no descriptor below 1024 free.
    @Test func commandsWorkWhileTheProcessHoldsMoreThanFD_SETSIZEDescriptors() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node")
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        // Fill every free slot up to well past 1024, so whatever the library opens next is above.
        while true {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            try #require(fd >= 0, "open /dev/null: \(String(cString: strerror(errno)))")
            held.append(fd)
            if fd > 1100 { break }
        }
        let nft = try NFTables(netns: node.fd)
        try nft.run("add table inet swl_fdtest\nadd chain inet swl_fdtest c { type filter hook input priority 0; }",
                    what: "test table")
        let listed = try nft.run("list tables", what: "list")
        #expect(listed.contains("table inet swl_fdtest"), "\(listed)")
        // The rules went into the node's namespace, as `nft` sees them there.
        let seen = lab.sh("nsenter --net=/run/netns/\(node.name) nft list chain inet swl_fdtest c")
        #expect(seen.status == 0 && seen.output.contains("hook input"), "\(seen.output)")
    }

    @Test func aRefusedCommandGivesNftsTextAndTheContextStaysUsable() throws {
        let lab = try NetworkLab()
        let node = try lab.namespace("node")
        let nft = try NFTables(netns: node.fd)
        #expect {
            try nft.run("add chain inet missing_table c", what: "a chain of no table")
        } throws: { error in
            "\(error)".contains("a chain of no table") && "\(error)".contains("No such file or directory")
        }
        try nft.run("add table ip swl_after", what: "table")
        #expect(try nft.run("list tables", what: "list").contains("table ip swl_after"))
    }

    @Test func aDescriptorThatIsNoNamespaceIsAnErrorNamingTheStep() throws {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect {
            _ = try NFTables(netns: fd)
        } throws: { error in
            "\(error)".contains("setns")
        }
    }

    /// Contexts of several namespaces used from many threads at once all reach their own.
    @Test func contextsOfSeveralNamespacesFromConcurrentThreads() async throws {
        let lab = try NetworkLab()
        let nodes = try (0..<4).map { try lab.namespace("n\($0)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, node) in nodes.enumerated() {
                let fd = node.fd
                // Child tasks keep the suite's own threads (.ownThreads), so these block there.
                group.addTask {
                    let nft = try NFTables(netns: fd)
                    for round in 0..<20 {
                        try nft.run("add table inet swl_t\(index)_\(round)", what: "table")
                    }
                }
            }
            try await group.waitForAll()
        }
        for (index, node) in nodes.enumerated() {
            let tables = lab.sh("nsenter --net=/run/netns/\(node.name) nft list tables").output
            let own = tables.split(separator: "\n").filter { $0.contains("swl_t\(index)_") }.count
            let foreign = tables.split(separator: "\n").filter { $0.contains("swl_t") && !$0.contains("swl_t\(index)_") }
            #expect(own == 20 && foreign.isEmpty, "\(node.name): \(tables)")
        }
    }
}
