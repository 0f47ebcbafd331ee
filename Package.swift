// swift-tools-version:6.0
// swiftlet: a Kubernetes node agent that runs pods on Linux namespaces and cgroups.
// Dependency arrows point one way: swiftlet (CLI) → Runtime → KubeAPI / Images / Cgroups → CShims.
import PackageDescription

let package = Package(
    name: "swiftlet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
        .executable(name: "swiftlet-monitor", targets: ["swiftlet-monitor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Raw Linux syscalls, the clone..execve path, rtnetlink, seccomp/libcap/nftables and zlib glue.
        .target(
            name: "CShims",
            path: "CShims",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [
                .linkedLibrary("seccomp"),
                .linkedLibrary("cap"),
                .linkedLibrary("z"),
                .linkedLibrary("nftables"),
            ]
        ),
        // Kubernetes API types, quantities, strict YAML/JSON decoding with field paths.
        .target(
            name: "KubeAPI",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Content-addressed OCI image store: import, layer unpacking with whiteouts, references.
        .target(
            name: "Images",
            dependencies: ["CShims", "KubeAPI"]
        ),
        // cgroup v1 (hybrid) and v2 managers behind one protocol.
        .target(
            name: "Cgroups",
            dependencies: ["CShims"]
        ),
        // The pod network (not "Network": Hummingbird imports Apple's Network framework when it
        // can import a module of that name): node bridge, veths, host-local addresses, masquerade, hostPorts, node routes.
        .target(
            name: "NodeNetwork",
            dependencies: ["CShims"]
        ),
        // The agent's service proxy (kube-proxy's nftables mode): Services and EndpointSlices to one
        // nftables table, changed incrementally through nf_tables netlink transactions.
        .target(
            name: "ServiceProxy",
            dependencies: [
                "CShims", "KubeAPI", "NodeNetwork",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Pods and containers on namespaces, mounts, cgroups.
        .target(
            name: "Runtime",
            dependencies: [
                "CShims", "KubeAPI", "Images", "Cgroups", "NodeNetwork",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The node agent: static pods, pod workers, restarts, probes, status, healthz.
        .target(
            name: "Agent",
            dependencies: [
                "Runtime", "KubeAPI", "Images", "Cgroups", "CShims",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The per-container monitor: the container's parent, so it outlives the agent. Plain C;
        // one runs per container, so its memory is paid per pod (see docs/benchmarks.md: the Swift
        // driver still links swiftrt.o and so libswiftCore, whose pages are shared among monitors).
        .executableTarget(
            name: "swiftlet-monitor",
            path: "Monitor"
        ),
        // The system SQLite library (Debian libsqlite3-dev), for the server's embedded store.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // The control plane: the Kubernetes API server and its store.
        .target(
            name: "Server",
            dependencies: [
                "CSQLite", "KubeAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Protobuf/generate-schema.py"]
        ),
        // The cluster client: typed REST and watch calls over TLS, and joining a node to a server.
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The agent's kubelet API on :10250: pods, container logs, stats, metrics, behind
        // bearer-token authentication (TokenReview) and a system:masters authorization check.
        .target(
            name: "KubeletServer",
            dependencies: [
                "Agent", "Runtime", "Cgroups", "KubeAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The agent joined to a server: the agent's API seams over the Kubernetes client, node
        // routes, and the runner `swiftlet agent --server` and `swiftlet server` share.
        .target(
            name: "ClusterAgent",
            dependencies: [
                "Agent", "Runtime", "KubeAPI", "KubeClient", "KubeletServer", "NodeNetwork", "Images", "Cgroups",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "ClusterAgent",
                "Agent", "Runtime", "KubeAPI", "Images", "Cgroups", "Server", "KubeClient", "KubeletServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // bench/pod-network.sh: per-pod network setup/teardown against iproute2.
        .executableTarget(
            name: "pod-network-bench",
            dependencies: ["NodeNetwork"],
            path: "bench/pod-network-bench"
        ),
        // bench/service-proxy.sh: rule-update time against kube-proxy-style nft text.
        .executableTarget(
            name: "service-proxy-bench",
            dependencies: ["ServiceProxy", "KubeAPI", "NodeNetwork", "CShims"],
            path: "bench/service-proxy-bench"
        ),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images"]),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups"]),
        // Helpers shared by the root integration tests: scratch directories, the test images.
        .target(name: "TestSupport", dependencies: ["Images", "Runtime", "Cgroups"], path: "Tests/TestSupport"),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Runtime", "KubeAPI", "Images", "Cgroups", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "KubeAPI", "Images", "Cgroups", "CShims", "TestSupport"]),
        .testTarget(name: "NodeNetworkTests", dependencies: ["NodeNetwork", "Runtime"]),
        .testTarget(name: "ServiceProxyTests", dependencies: ["ServiceProxy", "NodeNetwork", "KubeAPI"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "KubeAPI", "CSQLite", "KubeletServer", "Agent", "TestSupport"]),
        .testTarget(
            name: "KubeletServerTests",
            dependencies: [
                "KubeletServer", "Agent", "Runtime", "KubeAPI", "Cgroups", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // A server and agents, each host in its own network namespace, driven by real kubectl (root).
        .testTarget(name: "ClusterTests", dependencies: ["TestSupport", "Cgroups", "Images"]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "Server", "KubeAPI", .product(name: "Logging", package: "swift-log")]),
    ]
)
