import CShims

/// Compiles device rules into a BPF_PROG_TYPE_CGROUP_DEVICE program: the kernel runs it on
/// every open and mknod of a device node by a process of the group (and its descendants) and
/// allows the access when it returns 1. Deny by default; each rule is a block of checks that
/// jumps to the next block on a mismatch and returns 1 when all match. The same program runc
/// generates (libcontainer/cgroups/devices/devicefilter.go) and crun (ebpf.c).
///
/// The context (`struct bpf_cgroup_dev_ctx`, include/uapi/linux/bpf.h) is three u32s:
/// `access_type` = access << 16 | type, `major`, `minor`; r1 points at it.
public enum DeviceFilterProgram {
    // Opcodes of include/uapi/linux/bpf.h and bpf_common.h.
    static let ldxw: UInt8 = 0x61      // BPF_LDX | BPF_W | BPF_MEM: dst = *(u32 *)(src + off)
    static let and32: UInt8 = 0x54     // BPF_ALU | BPF_AND | BPF_K: dst &= imm (32-bit)
    static let rsh32: UInt8 = 0x74     // BPF_ALU | BPF_RSH | BPF_K: dst >>= imm (32-bit)
    static let mov32reg: UInt8 = 0xbc  // BPF_ALU | BPF_MOV | BPF_X: dst = src (32-bit)
    static let mov64: UInt8 = 0xb7     // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
    static let jne: UInt8 = 0x55       // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto pc + off
    static let exit: UInt8 = 0x95      // BPF_JMP | BPF_EXIT: return r0

    /// The kernel's BPF_DEVCG_DEV_BLOCK / BPF_DEVCG_DEV_CHAR.
    static func typeCode(_ kind: DeviceRule.Kind) -> Int32? {
        switch kind {
        case .all: return nil
        case .block: return 1
        case .char: return 2
        }
    }

    static func insn(_ code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, off: Int16 = 0, imm: Int32 = 0) -> sl_bpf_insn {
        sl_bpf_insn(code: code, regs: (src << 4) | (dst & 0x0f), off: off, imm: imm)
    }

    /// The program allowing exactly `rules`; everything else is denied.
    public static func instructions(allowing rules: [DeviceRule]) -> [sl_bpf_insn] {
        // r2 = type, r3 = access, r4 = major, r5 = minor.
        var program = [
            insn(ldxw, dst: 2, src: 1, off: 0),
            insn(and32, dst: 2, imm: 0xffff),
            insn(ldxw, dst: 3, src: 1, off: 0),
            insn(rsh32, dst: 3, imm: 16),
            insn(ldxw, dst: 4, src: 1, off: 4),
            insn(ldxw, dst: 5, src: 1, off: 8),
        ]
        for rule in rules {
            // Each check is a conditional jump to the end of this block; the offsets are filled
            // in once the block's length is known.
            var block: [sl_bpf_insn] = []
            var jumps: [Int] = []
            if let type = typeCode(rule.kind) {
                jumps.append(block.count)
                block.append(insn(jne, dst: 2, imm: type))
            }
            if rule.access != .all {
                // Allowed only when the access asked for is within the rule's: (access & ~rule) == 0.
                block.append(insn(mov32reg, dst: 1, src: 3))
                block.append(insn(and32, dst: 1, imm: Int32(~rule.access.rawValue & DeviceRule.Access.all.rawValue)))
                jumps.append(block.count)
                block.append(insn(jne, dst: 1, imm: 0))
            }
            if let major = rule.major {
                jumps.append(block.count)
                block.append(insn(jne, dst: 4, imm: Int32(bitPattern: major)))
            }
            if let minor = rule.minor {
                jumps.append(block.count)
                block.append(insn(jne, dst: 5, imm: Int32(bitPattern: minor)))
            }
            block.append(insn(mov64, dst: 0, imm: 1))
            block.append(insn(exit))
            for index in jumps {
                block[index].off = Int16(block.count - index - 1)
            }
            program += block
        }
        program.append(insn(mov64, dst: 0, imm: 0))
        program.append(insn(exit))
        return program
    }
}
