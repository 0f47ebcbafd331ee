import Foundation
import Glibc
import Testing
import TestSupport
@testable import Agent

/// The host readers against this machine's real files, and address detection inside a
/// network namespace the test creates (root).
@Suite struct NodeHostTests {
    static func run(_ arguments: [String]) async throws -> String {
        let (status, output) = await TestProcess.runAsync(arguments)
        guard status == 0 else { throw FixtureError(message: "\(arguments.joined(separator: " ")): exit \(status): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func file(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func machineInfoMatchesThisHost() async throws {
        let info = try LinuxNodeHost(dataDirectory: "/tmp", imageDirectory: "/tmp/missing/images").machineInfo()
        #expect(info.machineID == Self.file("/etc/machine-id"))
        #expect(!info.machineID.isEmpty)
        #expect(info.bootID == Self.file("/proc/sys/kernel/random/boot_id"))
        let kernel = try await Self.run(["/usr/bin/uname", "-r"])
        #expect(info.kernelVersion == kernel)
        let uuid = Self.file("/sys/class/dmi/id/product_uuid")
        #expect(info.systemUUID == (uuid.isEmpty ? info.machineID : uuid))
        let pretty = try await Self.run(["/bin/sh", "-c", ". /etc/os-release && printf %s \"$PRETTY_NAME\""])
        #expect(info.osImage == pretty)
        #expect(info.cpus == ProcessInfo.processInfo.activeProcessorCount)
        let memTotal = try #require(Self.file("/proc/meminfo").split(separator: "\n").first { $0.hasPrefix("MemTotal:") })
        #expect(info.memoryBytes == (Int64(memTotal.split(separator: " ")[1]) ?? 0) * 1024)
        let machine = try await Self.run(["/usr/bin/uname", "-m"])
        #expect(info.architecture == (machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine))
    }

    @Test func sampleReadsMemoryDiskAndProcesses() throws {
        let sample = LinuxNodeHost(dataDirectory: "/tmp", imageDirectory: "/tmp/does-not-exist/images").sample()
        let available = try #require(sample.memoryAvailableBytes)
        #expect(available > 0)
        let nodefs = try #require(sample.nodefs)
        #expect(nodefs.capacityBytes > 0 && nodefs.availableBytes <= nodefs.capacityBytes)
        // A directory that does not exist yet is measured on its nearest existing parent.
        #expect(sample.imagefs == nil ? false : sample.imagefs?.capacityBytes == nodefs.capacityBytes)
        #expect((sample.maxPIDs ?? 0) > 0)
        #expect((sample.runningProcesses ?? 0) > 1)
        #expect(throws: NodeHostError.self) { try LinuxNodeHost.filesystem(at: "relative") }
    }

    @Test func parsers() {
        let meminfo = LinuxNodeHost.parseMeminfo("MemTotal:       16318504 kB\nMemAvailable:    9000000 kB\nHugePages_Total:       0\n")
        #expect(meminfo == ["MemTotal": 16318504 * 1024, "MemAvailable": 9000000 * 1024, "HugePages_Total": 0])
        #expect(LinuxNodeHost.osImage(osRelease: "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
                == "Debian GNU/Linux 12 (bookworm)")
        #expect(LinuxNodeHost.osImage(osRelease: "PRETTY_NAME=Alpine\n") == "Alpine")
        #expect(LinuxNodeHost.osImage(osRelease: "ID=x\n") == "Linux")
        #expect(LinuxNodeHost.goArchitecture(machine: "x86_64") == "amd64")
        #expect(LinuxNodeHost.goArchitecture(machine: "aarch64") == "arm64")
        #expect(LinuxNodeHost.goArchitecture(machine: "armv7l") == "arm")
        #expect(LinuxNodeHost.processCount(loadavg: "0.00 0.01 0.05 1/123 4567") == 123)
        let routes = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth1\t00000000\t010011AC\t0003\t0\t0\t200\t00000000\t0\t0\t0
        eth0\t00000000\t010000C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
        eth0\t000000C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
        """
        #expect(NodeAddressDetector.defaultRouteInterface(routeTable: routes) == "eth0")
        #expect(NodeAddressDetector.defaultRouteInterface(routeTable: "Iface\tDestination\n") == nil)
    }

    @Test func addressChoice() {
        let addresses = [
            NodeAddressDetector.InterfaceAddress(interface: "lo", address: "127.0.0.1", isUp: true, isLoopback: true),
            .init(interface: "swiftlet0", address: "10.42.0.1", isUp: true, isLoopback: false),
            .init(interface: "eth9", address: "169.254.3.3", isUp: true, isLoopback: false),
            .init(interface: "eth0", address: "192.0.2.2", isUp: true, isLoopback: false),
            .init(interface: "eth1", address: "198.51.100.7", isUp: true, isLoopback: false),
        ]
        #expect(NodeAddressDetector.choose(defaultRouteInterface: "eth1", addresses: addresses, excluding: []) == "198.51.100.7")
        #expect(NodeAddressDetector.choose(defaultRouteInterface: nil, addresses: addresses, excluding: ["swiftlet0"]) == "192.0.2.2")
        #expect(NodeAddressDetector.choose(defaultRouteInterface: nil, addresses: Array(addresses.prefix(1)), excluding: []) == nil)
    }

    /// Root: creates a network namespace (removed at the end) and reads it from a thread that
    /// joined it, as an agent running inside it would.
    @Test func detectsTheDefaultRouteAddressInsideANetworkNamespaceAsRoot() async throws {
        let name = "swl-nodeip-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await Self.run(["/usr/sbin/ip", "netns", "add", name])
        defer { _ = try? TestProcess.run(["/usr/sbin/ip", "netns", "del", name]) }
        func inside(_ command: String) async throws {
            _ = try await Self.run(["/usr/sbin/ip", "netns", "exec", name, "/bin/sh", "-c", command])
        }
        try await inside("ip link set lo up && ip link add side type veth peer name side-peer && ip link set side up && ip link set side-peer up && ip addr add 10.98.0.5/24 dev side")
        #expect(await Self.detect(in: name) == "10.98.0.5")  // no default route: the first usable address
        try await inside("ip link add main type veth peer name main-peer && ip link set main up && ip link set main-peer up && ip addr add 10.99.0.2/24 dev main "
                   + "&& ip route add default via 10.99.0.1 dev main")
        #expect(await Self.detect(in: name) == "10.99.0.2")
        #expect(await Self.detect(in: name, excluding: ["main", "side"]) == nil)
    }

    /// Glibc's setns, which the Swift Glibc module does not export (it needs _GNU_SOURCE).
    static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "setns") else { fatalError("setns not found in libc") }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    static func detect(in namespace: String, excluding: Set<String> = []) async -> String? {
        await withCheckedContinuation { continuation in
            // A thread of its own joins the namespace and ends with it: no other thread moves.
            let thread = Thread {
                let fd = open("/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
                guard fd >= 0, Self.setns(fd, 0x4000_0000) == 0 else { // CLONE_NEWNET
                    continuation.resume(returning: "setns failed: \(errno)")
                    return
                }
                close(fd)
                continuation.resume(returning: NodeAddressDetector.detect(excluding: excluding))
            }
            thread.start()
        }
    }
}
