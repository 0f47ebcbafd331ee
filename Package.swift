// swift-tools-version:6.0
// swiftlet: a Kubernetes node agent that runs pods on Linux namespaces and cgroups.
// Dependency arrows point one way: swiftlet (CLI) → Runtime → KubeAPI / Images / Cgroups → CShims;
// the control plane: swiftlet → Server → APIServer → APIRegistry → Storage / APIMachinery → KubeAPI,
// and Server → Controllers → APIMachinery (the controllers reach the API only through ResourceClient).
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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        // Raw Linux syscalls, the clone..execve path, rtnetlink, seccomp/libcap/nftables, zlib, zstd and libcrypto (SHA-256) glue.
        .target(
            name: "CShims",
            path: "CShims",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [
                .linkedLibrary("seccomp"),
                .linkedLibrary("cap"),
                .linkedLibrary("z"),
                .linkedLibrary("zstd"),
                .linkedLibrary("crypto"),
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
        // The OCI distribution client: registry file (mirrors, rewrites, credentials, TLS), pull
        // secrets, the WWW-Authenticate flows, manifests and indexes, parallel verified and
        // resumable blob downloads into the image store (AsyncHTTPClient).
        .target(
            name: "Registry",
            dependencies: [
                "Images",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
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
        // The control plane's store: the etcd-shaped Storage protocol, SQLite behind it, the watch history.
        .target(
            name: "Storage",
            dependencies: ["CSQLite"]
        ),
        // The Storage protocol on an etcd v3 cluster (servers sharing one datastore): a small
        // hand-written gRPC client over swift-nio-http2 and the etcd messages it needs.
        .target(
            name: "EtcdStorage",
            dependencies: [
                "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // What the API server and the controllers share (k8s.io/apimachinery's part): objects as JSON,
        // the JSON parser and serializer, Status errors, label and field selectors, list and delete options,
        // the schema of the built-in types (protobuf field numbers, unknown-field and type checks).
        .target(
            name: "APIMachinery",
            dependencies: ["KubeAPI"],
            exclude: ["Schema/generate-schema.py"]
        ),
        // The scheduler and kube-controller-manager's controllers (ReplicaSet, Deployment, Job, CronJob,
        // DaemonSet, StatefulSet, garbage collector, namespace, node IPAM, node lifecycle, pod GC,
        // endpoints, endpoint slices, serviceaccounts, root-ca-cert-publisher) on shared informers, talking to
        // the API server only through APIMachinery's ResourceClient: no HTTP, TLS or store here.
        .target(
            name: "Controllers",
            dependencies: ["ControllerRuntime", "Scheduler", "APIMachinery", "KubeAPI", .product(name: "Logging", package: "swift-log")]
        ),
        // What every control loop stands on: the Controller protocol and its workers, shared
        // informers, the work queue, the event recorder, the clock and the controllers' settings.
        .target(
            name: "ControllerRuntime",
            dependencies: ["APIMachinery", "KubeAPI", .product(name: "Logging", package: "swift-log")]
        ),
        // kube-scheduler: predicates, priority order and preemption, volume binding (and the PV
        // matcher the persistentvolume-binder shares).
        .target(
            name: "Scheduler",
            dependencies: ["ControllerRuntime", "APIMachinery", "KubeAPI", .product(name: "Logging", package: "swift-log")]
        ),
        // The Kubernetes API without HTTP (kube-apiserver's registry): a store per resource over
        // Storage (keys, resourceVersions, graceful deletion, finalizers, selectors, watches), the
        // per-resource strategies (defaults, validation), patches, cross-resource rules, the service
        // IP and node port allocator, and InProcessClient, the controllers' client in the server.
        .target(
            name: "APIRegistry",
            dependencies: ["APIMachinery", "Storage", "KubeAPI", .product(name: "Logging", package: "swift-log")]
        ),
        // The API server over HTTP (Hummingbird, TLS): routing, content negotiation (JSON, YAML,
        // protobuf), watches, discovery, OpenAPI, Tables, security (CA, tokens, authentication,
        // the node authorizer), the pods/log proxy to kubelets, the pods/exec|attach|portforward
        // upgrade proxy.
        .target(
            name: "APIServer",
            dependencies: [
                "APIRegistry", "APIMachinery", "KubeAPI", "Streaming",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The control plane assembled (ControlPlane): the API over a store, its HTTP servers, and
        // the controllers on the in-process client. `swiftlet server` adds the host's side.
        .target(
            name: "Server",
            dependencies: [
                "APIServer", "APIRegistry", "Controllers", "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // PBKDF2 for the bootstrap data's key (BootstrapData), as k3s derives it.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
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
        // Kubernetes' streaming protocols for exec, attach and port-forward: HTTP/1.1 upgrades on
        // Hummingbird's server, WebSocket framing and the channel protocols (v1-v5), SPDY/3.1
        // sessions (zlib header blocks in CShims). No runtime here: the kubelet API drives it.
        .target(
            name: "Streaming",
            dependencies: [
                "CShims",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The agent's kubelet API on :10250: pods, container logs, stats, metrics, exec and
        // port-forward, behind bearer-token authentication (TokenReview) and a system:masters
        // authorization check.
        .target(
            name: "KubeletServer",
            dependencies: [
                "Agent", "Runtime", "Cgroups", "KubeAPI", "Streaming",
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
                "Agent", "Runtime", "KubeAPI", "KubeClient", "KubeletServer", "NodeNetwork", "Images", "Cgroups", "ClusterDNS",
                "ServiceProxy", "Registry", "IngressProxy",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The agent's cluster DNS server (CoreDNS's job): the Kubernetes DNS records from Services
        // and EndpointSlices, forwarding with a cache, UDP (recvmmsg/sendmmsg) and TCP serving.
        .target(
            name: "ClusterDNS",
            dependencies: ["CShims", "KubeAPI"]
        ),
        // The agent's ingress proxy (k3s' Traefik): Ingress rules to a route table, and an HTTP/1.1 and
        // HTTP/2 (TLS, SNI, ALPN) reverse proxy on NIO that load-balances over the backends' ready
        // endpoints with keep-alive pools, WebSocket upgrades and graceful route reloads.
        .target(
            name: "IngressProxy",
            dependencies: [
                "KubeAPI", "CShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The epoll data path mutates connection objects' buffers on every event; the runtime's
            // exclusivity checks of those accesses (swift_beginAccess, AccessSet::insert and the
            // thread-local lookup behind them) were 3.7% of the proxy's CPU under wrk, about a
            // tenth of its user time. Debug builds, which the tests run, keep the checks.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // Running swiftlet as a system service: the configuration file (/etc/swiftlet/config.yaml,
        // keys are flag names), sd_notify for Type=notify units, the healthz readiness probe.
        .target(
            name: "ServiceSupport",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "ClusterAgent", "ServiceSupport",
                "Agent", "Runtime", "KubeAPI", "Images", "Cgroups", "Server", "APIServer", "APIMachinery", "Controllers",
                "Storage", "EtcdStorage", "KubeClient", "KubeletServer", "Registry",
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
        // bench/cluster-dns.sh: the cluster DNS server alone, serving records from a JSON file.
        .executableTarget(
            name: "cluster-dns-server",
            dependencies: ["ClusterDNS", "KubeAPI"],
            path: "bench/cluster-dns-server"
        ),
        // bench/ingress.sh: the ingress proxy alone, one rule to the endpoints on its command line.
        .executableTarget(
            name: "ingress-proxy-server",
            dependencies: ["IngressProxy", "KubeAPI", .product(name: "NIOPosix", package: "swift-nio")],
            path: "bench/ingress-proxy-server"
        ),
        // bench/service-proxy.sh: rule-update time against kube-proxy-style nft text.
        .executableTarget(
            name: "service-proxy-bench",
            dependencies: ["ServiceProxy", "KubeAPI", "NodeNetwork", "CShims"],
            path: "bench/service-proxy-bench"
        ),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Runtime", "TestSupport"]),
        // The registry client against Debian's docker-registry in a network namespace (root).
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Images", "Runtime", "TestSupport"]),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups", "TestSupport"]),
        // Helpers shared by the root integration tests: scratch directories, the test images.
        .target(name: "TestSupport", dependencies: ["Images", "Runtime", "Cgroups", "CShims"], path: "Tests/TestSupport"),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Runtime", "KubeAPI", "Images", "Cgroups", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "KubeAPI", "Images", "Cgroups", "CShims", "TestSupport"]),
        .testTarget(name: "NodeNetworkTests", dependencies: ["NodeNetwork", "Runtime", "TestSupport"]),
        .testTarget(name: "ServiceProxyTests", dependencies: ["ServiceProxy", "NodeNetwork", "KubeAPI", "TestSupport"]),
        // The streaming protocols' codecs without sockets: WebSocket and SPDY frames, channels,
        // statuses, resizes (no root).
        .testTarget(name: "StreamingTests", dependencies: ["Streaming"]),
        .testTarget(
            name: "KubeletServerTests",
            dependencies: [
                "KubeletServer", "Agent", "Runtime", "KubeAPI", "Cgroups", "TestSupport", "Streaming",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // A server and agents, each host in its own network namespace, driven by real kubectl (root).
        .testTarget(name: "ClusterTests", dependencies: ["TestSupport", "Cgroups", "Images"]),
        // The control plane's tests, one target per module. Their helpers: APITestSupport (no HTTP:
        // the API in process over a scratch store, controller and rollout clusters, fixtures) and
        // ServerTestSupport (the API served as swiftlet server assembles it, over HTTP or HTTPS
        // with the cluster's CA and tokens; an HTTP client; kubectl).
        .target(
            name: "APITestSupport",
            dependencies: ["Storage", "APIMachinery", "APIRegistry", "Controllers", "KubeAPI", .product(name: "Logging", package: "swift-log")],
            path: "Tests/APITestSupport"
        ),
        .target(
            name: "ServerTestSupport",
            dependencies: [
                "APITestSupport", "Server", "APIServer", "APIRegistry", "APIMachinery", "Controllers", "Storage", "EtcdStorage", "KubeAPI",
                "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/ServerTestSupport"
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "APITestSupport"]),
        // The etcd backend against real etcd members on loopback (Debian's etcd-server).
        .testTarget(name: "EtcdStorageTests", dependencies: ["EtcdStorage", "Storage", "APITestSupport", "ServerTestSupport", "TestSupport"]),
        .testTarget(name: "APIMachineryTests", dependencies: ["APIMachinery", "KubeAPI", "APITestSupport"]),
        .testTarget(name: "APIRegistryTests", dependencies: ["APIRegistry", "APIMachinery", "Storage", "KubeAPI", "APITestSupport"]),
        // Builds without Hummingbird, NIO or TLS: the controllers against the API in process.
        .testTarget(
            name: "ControllersTests",
            dependencies: ["Controllers", "ControllerRuntime", "Scheduler", "APIRegistry", "APIMachinery", "Storage", "KubeAPI", "APITestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "APIServerTests",
            dependencies: [
                "APIServer", "APIRegistry", "APIMachinery", "Storage", "KubeAPI", "ServerTestSupport", "APITestSupport",
                "KubeletServer", "Agent", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The control plane assembled: controllers driven through the API server with real kubectl,
        // and `swiftlet server` processes killed mid-write.
        .testTarget(
            name: "ServerTests",
            dependencies: ["Server", "ServerTestSupport", "APITestSupport", "TestSupport", "Controllers", "APIRegistry", "APIMachinery", "Storage", "KubeAPI",
                           "EtcdStorage", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "KubeClient", "ServerTestSupport", "APITestSupport", "TestSupport", "APIServer", "Server", "Storage", "KubeAPI",
                .product(name: "Logging", package: "swift-log"),
                // A TCP relay the failover tests cut off like a dead machine.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ClusterDNSTests", dependencies: ["ClusterDNS", "KubeAPI", "CShims", "TestSupport"]),
        // The route table without sockets; the proxy on loopback against real curl, python3 backends
        // (Scripts/: HTTP/1.1 echo and WebSocket pods, raw-socket and HTTP/2 hostile clients).
        .testTarget(
            name: "IngressProxyTests",
            dependencies: [
                "IngressProxy", "KubeAPI", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Scripts"]
        ),
        .testTarget(name: "ServiceSupportTests", dependencies: ["ServiceSupport", "TestSupport"]),
        // Runs Tests/vm/run.sh: the install story in Debian VMs under QEMU (issue 13).
        .testTarget(name: "VMTests", dependencies: ["TestSupport", "Runtime"]),
    ]
)
