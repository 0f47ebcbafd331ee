import Foundation
import Testing
@testable import KubeAPI

/// `Quantity.Add`/`Sub` as resource quota uses them: exact sums, the left operand's format
/// (the right one's when the left is zero), signs, and hostile magnitudes that must not
/// make a sum allocate without bound.
@Suite struct QuantityArithmeticTests {
    static func q(_ text: String) throws -> Quantity { try Quantity(text) }

    @Test(arguments: [
        ("1", "1", "2"), ("500m", "500m", "1"), ("100m", "1", "1100m"), ("128Mi", "128Mi", "256Mi"),
        ("0", "128Mi", "128Mi"), ("1Gi", "1Gi", "2Gi"), ("1Gi", "1", "1073741825"), ("250m", "0.5", "750m"),
        ("9223372036854775807", "1", "9223372036854775808"), ("1k", "1", "1001"), ("5n", "5n", "10n"),
        ("1.5", "0.5", "2"), ("999", "1", "1k"),
    ])
    func sums(_ lhs: String, _ rhs: String, _ expected: String) throws {
        let sum = try Self.q(lhs) + Self.q(rhs)
        #expect(sum.description == expected)
        #expect(sum == (try Self.q(expected)))
    }

    @Test(arguments: [
        ("2", "1", "1"), ("1Gi", "512Mi", "512Mi"), ("1", "2", "-1"), ("500m", "500m", "0"), ("0", "3", "-3"),
        ("1100m", "100m", "1"), ("-1", "-1", "0"), ("-1", "1", "-2"),
    ])
    func differences(_ lhs: String, _ rhs: String, _ expected: String) throws {
        let difference = try Self.q(lhs) - Self.q(rhs)
        #expect(difference.description == expected)
        #expect(difference.isNegative == expected.hasPrefix("-"))
    }

    @Test func listsAddMaskCompareAndPrintAsTheQuotaPackageDoes() throws {
        let used: ResourceList = ["pods": try Self.q("2"), "requests.cpu": try Self.q("500m")]
        let requested: ResourceList = ["pods": try Self.q("1"), "requests.memory": try Self.q("64Mi")]
        let sum = ResourceLists.add(used, requested)
        #expect(sum["pods"]?.description == "3" && sum["requests.cpu"]?.description == "500m" && sum["requests.memory"]?.description == "64Mi")
        #expect(ResourceLists.mask(sum, ["pods", "nothing"]).keys.sorted() == ["pods"])
        let hard: ResourceList = ["pods": try Self.q("2"), "requests.cpu": try Self.q("1")]
        let (allowed, exceeded) = ResourceLists.lessThanOrEqual(sum, hard)
        #expect(!allowed && exceeded == ["pods"])
        #expect(ResourceLists.prettyPrint(sum) == "pods=3,requests.cpu=500m,requests.memory=64Mi")
        #expect(ResourceLists.removeZeros(["a": .zero, "b": try Self.q("1m")]).keys.sorted() == ["b"])
        #expect(ResourceLists.negativeNames(ResourceLists.subtract(["a": try Self.q("1")], ["a": try Self.q("2"), "b": try Self.q("1")])) == ["a", "b"])
        #expect(ResourceLists.subtractWithNonNegativeResult(["a": try Self.q("1")], ["a": try Self.q("2")])["a"] == .zero)
        #expect(ResourceLists.equals(["m": try Self.q("1Gi")], ["m": try Self.q("1073741824")]))
    }

    /// Hostile magnitudes: a sum of a huge and a small quantity is bounded in size and time.
    @Test func hugeMagnitudesStayBounded() throws {
        let huge = try Self.q("1e100000000")
        let sum = try Self.q("1") + huge
        #expect(sum.description.utf8.count < 64, "\(sum.description.prefix(80))")
        #expect(sum >= huge)
        let other = huge + (try Self.q("1"))
        #expect(other.description.utf8.count < 64)
        #expect((huge - huge).isZero)
        // Far apart but within the alignment bound: exact.
        let wide = try Self.q("1e30") + Self.q("1n")
        #expect(wide > (try Self.q("1e30")))
    }
}
