/// Errors of the runtime that are about the pod or the host, not a failed syscall.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    case invalidContainer(String, String)
    case unsupported(String)
    case runAsNonRoot(String, String)
    case hostPath(String, String)
    case notFound(String)
    /// A volume could not be set up (kubelet's "MountVolume.SetUp failed for volume").
    case volume(String, String)
    /// A container's environment refers to a missing ConfigMap, Secret or key (kubelet's
    /// CreateContainerConfigError).
    case containerConfig(String)

    public var description: String {
        switch self {
        case .invalidContainer(let name, let message): return "container \"\(name)\": \(message)"
        case .unsupported(let message): return message
        case .runAsNonRoot(_, let message): return message
        case .hostPath(let path, let message): return "hostPath \(path): \(message)"
        case .notFound(let message): return message
        case .volume(let name, let message): return "MountVolume.SetUp failed for volume \"\(name)\" : \(message)"
        case .containerConfig(let message): return message
        }
    }
}
