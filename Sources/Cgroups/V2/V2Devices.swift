import CShims
#if canImport(Glibc)
import Glibc
#endif

/// cgroup v2 device control: an eBPF program attached to the container's group
/// (`DeviceFilterProgram`), since v2 has no `devices.*` files. A group with `allowAllDevices`
/// gets no program of its own (what its ancestors allow applies: swiftlet attaches none above
/// the container groups, as kubelet's `SkipDevices` leaves pod groups alone).
/// https://docs.kernel.org/admin-guide/cgroup-v2.html#device-controller
enum V2Devices {
    /// The most device programs of one group swiftlet looks at (it attaches one).
    static let maxPrograms: UInt32 = 64
    /// The program every container group without `allowAllDevices` gets, compiled once.
    static let defaultProgram = DeviceFilterProgram.instructions(allowing: DeviceRule.defaultAllowed)

    /// Attaches the default allow list (`DeviceRule.defaultAllowed`) to `dir`, or nothing for
    /// `allowAllDevices`, replacing what swiftlet attached before: the new program goes on
    /// first (BPF_F_ALLOW_MULTI), then the old ones come off, so there is no moment without one.
    static func apply(_ resources: CgroupResources, dir: String) throws(CgroupError) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .bpf(step: "open", path: dir, errno: errno, log: nil) }
        defer { close(fd) }
        let old = try attachedPrograms(fd: fd, dir: dir)
        if !resources.allowAllDevices {
            let program = defaultProgram
            var log = [CChar](repeating: 0, count: 16 * 1024)
            let prog = program.withUnsafeBufferPointer { insns in
                sl_bpf_load_device_program(insns.baseAddress, UInt32(insns.count), &log, UInt32(log.count))
            }
            if prog < 0 {
                let err = errno
                let text = String(decoding: log.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw .bpf(step: "load device program for", path: dir, errno: err, log: text.isEmpty ? nil : text)
            }
            defer { close(prog) }
            if sl_bpf_attach_device_program(fd, prog) != 0 {
                throw .bpf(step: "attach device program to", path: dir, errno: errno, log: nil)
            }
        }
        for id in old where sl_bpf_detach_device_program(fd, id) != 0 && errno != ENOENT {
            throw .bpf(step: "detach device program \(id) from", path: dir, errno: errno, log: nil)
        }
    }

    /// The ids of the device programs attached to the group itself.
    static func attachedPrograms(dir: String) throws(CgroupError) -> [UInt32] {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .bpf(step: "open", path: dir, errno: errno, log: nil) }
        defer { close(fd) }
        return try attachedPrograms(fd: fd, dir: dir)
    }

    private static func attachedPrograms(fd: Int32, dir: String) throws(CgroupError) -> [UInt32] {
        var ids = [UInt32](repeating: 0, count: Int(maxPrograms))
        let count = sl_bpf_query_device_programs(fd, &ids, maxPrograms)
        if count < 0 { throw .bpf(step: "query device programs of", path: dir, errno: errno, log: nil) }
        return Array(ids.prefix(Int(count)))
    }
}
