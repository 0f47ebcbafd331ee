import Testing
import TestSupport

/// A test (or every test of a suite) that needs something of the machine: root, a tool, a
/// cgroup layout. Unlike `.enabled(if:)`, which skips, a missing requirement fails the test
/// with what is missing: the suite must never pass by not running (CI runs as root on a
/// Debian machine set up by scripts/debian-packages, where every requirement holds).
public struct RequirementTrait: SuiteTrait, TestTrait, TestScoping {
    let isMet: @Sendable () -> Bool
    let requirement: String

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard isMet() else { throw FixtureError(message: "this test \(requirement), which this machine does not give it") }
        try await function()
    }
}

extension Trait where Self == RequirementTrait {
    /// Fails the test, rather than skipping it, when `condition` does not hold.
    public static func requires(_ condition: @autoclosure @escaping @Sendable () -> Bool, _ requirement: String) -> Self {
        Self(isMet: condition, requirement: requirement)
    }
}
