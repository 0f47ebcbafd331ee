import Glibc

/// Limits of the agent process itself.
public enum ProcessLimits {
    /// Raises the soft open-files limit to the hard one. The agent holds several fds per pod
    /// (namespaces, pidfds), so the default soft limit of 1024 runs out at a few hundred pods;
    /// Go programs such as kubelet and containerd do the same at startup. Returns the new limit.
    @discardableResult
    public static func raiseOpenFiles() -> UInt64 {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
        }
        return UInt64(limit.rlim_cur)
    }
}
