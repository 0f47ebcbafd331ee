import Agent
import Runtime

/// What a lookup for a streaming request found (kubelet's GetExec/GetAttach/GetPortForward).
public enum StreamingLookupResult<Target: Sendable>: Sendable {
    case found(Target)
    /// No such pod on this node: 404 `pod does not exist`.
    case podNotFound
    /// The pod is here but the container (or the pod) is not running: kubelet's
    /// `container not found ("c")`, a 500.
    case notRunning
}

/// A running container commands can be started in.
public protocol ExecTarget: Sendable {
    /// Starts `command` in the container (blocking: call it from a thread of its own).
    func start(_ command: [String], stdio: ExecStdio) throws -> ExecProcess
}

/// A running container whose own stdio can be attached to (its monitor's attach socket).
public protocol AttachTarget: Sendable {
    /// The container's `tty` and `stdin` as its spec says (kubelet takes the terminal setting of
    /// an attach from the spec: a running process cannot change it).
    var tty: Bool { get }
    var stdin: Bool { get }
    /// A connected socket to the container's monitor (blocking: call it from a thread of its own).
    func connect() throws -> Int32
}

/// A running pod whose ports can be reached.
public protocol PortForwardTarget: Sendable {
    /// A connected TCP socket to `localhost:port` inside the pod's network namespace (blocking).
    func connect(port: UInt16) throws -> Int32
}

/// The node's side of `/exec`, `/attach` and `/portForward` (CRI's streaming calls).
public protocol ContainerStreaming: Sendable {
    func execTarget(namespace: String, pod: String, uid: String?, container: String) async -> StreamingLookupResult<any ExecTarget>
    func attachTarget(namespace: String, pod: String, uid: String?, container: String) async -> StreamingLookupResult<any AttachTarget>
    func portForwardTarget(namespace: String, pod: String, uid: String?) async -> StreamingLookupResult<any PortForwardTarget>
}

/// The agent's containers through the runtime.
public struct AgentContainerStreaming: ContainerStreaming {
    public let agent: Agent

    public init(agent: Agent) {
        self.agent = agent
    }

    struct Container: ExecTarget {
        let runtime: PodRuntime
        let found: StreamingContainer

        func start(_ command: [String], stdio: ExecStdio) throws -> ExecProcess {
            try runtime.startExec(command, in: found.container, sandbox: found.sandbox, spec: found.spec, stdio: stdio)
        }
    }

    struct Attached: AttachTarget {
        let runtime: PodRuntime
        let found: StreamingContainer

        var tty: Bool { found.spec.tty == true }
        var stdin: Bool { found.spec.stdin == true }

        func connect() throws -> Int32 {
            try runtime.attach(to: found.container)
        }
    }

    struct Sandbox: PortForwardTarget {
        let runtime: PodRuntime
        let sandbox: RunningSandbox

        func connect(port: UInt16) throws -> Int32 {
            try runtime.connect(to: port, in: sandbox)
        }
    }

    public func execTarget(namespace: String, pod: String, uid: String?, container: String) async -> StreamingLookupResult<any ExecTarget> {
        switch await agent.runningContainer(namespace: namespace, pod: pod, uid: uid, container: container) {
        case .found(let found): return .found(Container(runtime: agent.runtime, found: found))
        case .podNotFound: return .podNotFound
        case .notRunning: return .notRunning
        }
    }

    public func attachTarget(namespace: String, pod: String, uid: String?, container: String) async -> StreamingLookupResult<any AttachTarget> {
        switch await agent.runningContainer(namespace: namespace, pod: pod, uid: uid, container: container) {
        case .found(let found): return .found(Attached(runtime: agent.runtime, found: found))
        case .podNotFound: return .podNotFound
        case .notRunning: return .notRunning
        }
    }

    public func portForwardTarget(namespace: String, pod: String, uid: String?) async -> StreamingLookupResult<any PortForwardTarget> {
        switch await agent.runningSandbox(namespace: namespace, pod: pod, uid: uid) {
        case .found(let sandbox): return .found(Sandbox(runtime: agent.runtime, sandbox: sandbox))
        case .podNotFound: return .podNotFound
        case .notRunning: return .notRunning
        }
    }
}
