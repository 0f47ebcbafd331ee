import Agent
import Cgroups
import KubeAPI
import Runtime

/// What the kubelet API reads of the node agent: its pods with their statuses, their log
/// files, their cgroups and the directories whose filesystems it reports. The agent is one
/// implementation (`AgentKubeletHost`); tests use fakes over files they write.
public protocol KubeletHost: Sendable {
    /// The node's name, as in its Node object.
    var nodeName: String { get }
    /// The pods the agent runs, with status (kubelet's `GetPods`).
    func pods() -> [Pod]
    /// The container log files.
    var logs: PodLogs { get }
    /// The cgroup manager pod and container usage is read with; nil reports no usage.
    var cgroups: (any CgroupManager)? { get }
    /// The parent cgroup of every pod (`<parent>/pod<uid>/<container>_<attempt>`).
    var cgroupParent: String { get }
    /// The agent's data directory: its filesystem is the node's `fs` in `/stats/summary`.
    var dataDirectory: String { get }
    /// Where images are kept: its filesystem is the runtime's `imageFs`.
    var imageDirectory: String { get }
    /// Commands in containers and connections to pods' ports (`/exec`, `/attach`,
    /// `/portForward`); nil: this host serves none.
    var streaming: (any ContainerStreaming)? { get }
}

extension KubeletHost {
    public var streaming: (any ContainerStreaming)? { nil }
}

/// The agent seen through `KubeletHost`.
public struct AgentKubeletHost: KubeletHost {
    public let agent: Agent

    public init(agent: Agent) {
        self.agent = agent
    }

    public var nodeName: String { agent.settings.nodeName }
    public func pods() -> [Pod] { agent.kubeletPods() }
    public var logs: PodLogs { agent.podLogs }
    public var cgroups: (any CgroupManager)? { agent.runtime.cgroups }
    public var cgroupParent: String { agent.runtime.config.cgroupParent }
    public var dataDirectory: String { agent.runtime.config.stateRoot }
    public var imageDirectory: String { agent.runtime.config.imageRoot }
    public var streaming: (any ContainerStreaming)? { AgentContainerStreaming(agent: agent) }
}
