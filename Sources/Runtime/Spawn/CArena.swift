import Glibc

/// Owns C memory (strings, arrays, structs) handed to the spawn path for the duration of one
/// call. The cloned child reads this memory after clone, so nothing may be freed before
/// `sl_spawn` returns; everything is freed together when the arena goes away.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func string(_ value: String) -> UnsafePointer<CChar> {
        guard let copy = strdup(value) else { fatalError("out of memory copying a spawn argument") }
        allocations.append(UnsafeMutableRawPointer(copy))
        return UnsafePointer(copy)
    }

    func optionalString(_ value: String?) -> UnsafePointer<CChar>? {
        value.map(string)
    }

    /// A C array of C strings; NULL-terminated when asked (argv, envp).
    func stringArray(_ values: [String], nullTerminated: Bool = false) -> UnsafePointer<UnsafePointer<CChar>?> {
        let buffer = array(of: UnsafePointer<CChar>?.self, count: values.count + (nullTerminated ? 1 : 0))
        for (index, value) in values.enumerated() { buffer[index] = string(value) }
        if nullTerminated { buffer[values.count] = nil }
        return UnsafePointer(buffer)
    }

    func array<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else { fatalError("out of memory for spawn arguments") }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    func copy<T>(_ values: [T]) -> UnsafePointer<T> {
        let buffer = array(of: T.self, count: values.count)
        for (index, value) in values.enumerated() { (buffer + index).initialize(to: value) }
        return UnsafePointer(buffer)
    }

    func bytes(_ values: [UInt8]) -> UnsafeRawPointer {
        UnsafeRawPointer(copy(values))
    }
}
