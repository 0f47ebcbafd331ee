@testable import APIMachinery
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Thousands of mutated bodies (`BodyMutator` over `FuzzCorpus`) sent to a real server over
/// HTTPS by four concurrent clients. Every answer must be a success or a 4xx `Status` with a
/// message: never a 5xx, never a dropped connection. Afterwards every store entry must read
/// back, every resource must list, and the process's memory must not have grown without bound.
///
/// `SWIFTLET_FUZZ_CASES` (default 3000) and `SWIFTLET_FUZZ_SEED` change the run; a failure
/// names the seed and case index that replay it.
@Suite struct FuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let caseCount = environment["SWIFTLET_FUZZ_CASES"].flatMap(Int.init) ?? 3000
    static let runSeed = environment["SWIFTLET_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0A10

    /// What went wrong with one case.
    struct Failure: Sendable, CustomStringConvertible {
        let index: Int
        let seed: FuzzCorpus.Seed
        let problem: String

        var description: String {
            let shown = String(decoding: seed.body.prefix(160), as: UTF8.self).debugDescription
            return "case \(index) (seed \(FuzzTests.runSeed)): \(seed.method) \(seed.path) [\(seed.contentType)] \(seed.body.count) bytes \(shown): \(problem)"
        }
    }

    /// The case `index` of this run: a seed, mutated.
    static func body(_ index: Int) -> FuzzCorpus.Seed {
        var mutator = BodyMutator(random: SplitMix64(seed: runSeed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        let seeds = FuzzCorpus.seeds
        let seed = seeds[mutator.int(0..<seeds.count)]
        let other = seeds[mutator.int(0..<seeds.count)]
        return mutator.mutate(seed, other: other)
    }

    /// Sends one case and says what is wrong with the answer, if anything.
    static func send(_ seed: FuzzCorpus.Seed, index: Int, api: HostileCluster) async -> (Int, Failure?) {
        let response: HTTPTestResponse
        do {
            response = try await api.admin(seed.method, seed.path, bytes: seed.body, contentType: seed.contentType)
        } catch {
            return (0, Failure(index: index, seed: seed, problem: "no answer: \(error)"))
        }
        if response.status >= 500 {
            return (response.status, Failure(index: index, seed: seed, problem: "\(response.status) \(response.text.prefix(300))"))
        }
        if response.status >= 400, !isStatus(response, code: response.status) {
            return (response.status, Failure(index: index, seed: seed, problem: "\(response.status) without a Status message: \(response.text.prefix(300))"))
        }
        return (response.status, nil)
    }

    @Test func mutatedBodiesAreRefusedCleanlyAndTheStoreStaysReadable() async throws {
        try await withHostileCluster { api in
            for target in FuzzCorpus.targets {
                #expect(try await api.admin("POST", target.path, target.body).status == 201)
            }
            let before = try residentBytes()
            var failures: [Failure] = []
            var statuses: [Int: Int] = [:]
            for (index, seed) in FuzzCorpus.regressions.enumerated() {
                let (status, failure) = await Self.send(seed, index: -1 - index, api: api)
                statuses[status, default: 0] += 1
                if let failure { failures.append(failure) }
                #expect(status >= 400 && status < 500, "regression \(index): \(status)")
            }
            let workers = 4
            let results = await withTaskGroup(of: ([Int: Int], [Failure]).self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var counts: [Int: Int] = [:]
                        var found: [Failure] = []
                        for index in stride(from: worker, to: Self.caseCount, by: workers) {
                            let (status, failure) = await Self.send(Self.body(index), index: index, api: api)
                            counts[status, default: 0] += 1
                            if let failure { found.append(failure) }
                        }
                        return (counts, found)
                    }
                }
                var all: [([Int: Int], [Failure])] = []
                for await result in group { all.append(result) }
                return all
            }
            for (counts, found) in results {
                statuses.merge(counts, uniquingKeysWith: +)
                failures += found
            }
            for failure in failures.prefix(20) {
                Issue.record("\(failure)")
            }
            #expect(failures.isEmpty, "\(failures.count) of \(Self.caseCount) cases failed")
            print("fuzz: \(Self.caseCount) cases, seed \(Self.runSeed), answers by status: \(statuses.sorted { $0.key < $1.key })")

            try await api.expectStoreReadable()
            let after = try residentBytes()
            // The bodies are at most 3 MiB and each request's work is bounded; what is left
            // after thousands of them is caches and allocator slack, not expanded aliases.
            let grown = after > before ? after - before : 0
            print("fuzz: resident memory \(before / 1_048_576) MiB before, \(after / 1_048_576) MiB after")
            #expect(grown < 768 * 1_048_576, "the test process grew by \(grown / 1_048_576) MiB")
        }
    }
}

/// This process's resident set size (`VmRSS` in /proc/self/status), in bytes.
func residentBytes(pid: Int32? = nil) throws -> Int {
    let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
    let status = try String(contentsOfFile: path, encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else {
        throw TestFailure("no VmRSS in \(path)")
    }
    return kilobytes * 1024
}
