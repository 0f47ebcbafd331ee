import Synchronization

/// A value set once after construction and read from closures made before it existed (the node
/// status reporter's images, which come from the agent made after the reporter).
public final class LateBinding<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)

    public init() {}

    public func set(_ value: Value) { storage.withLock { $0 = value } }

    public var value: Value? { storage.withLock { $0 } }
}
