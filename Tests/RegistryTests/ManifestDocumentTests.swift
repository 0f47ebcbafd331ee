import Foundation
import Images
import Runtime
import Testing
@testable import Registry

/// Reading fetched manifests and choosing a platform from an index.
struct ManifestDocumentTests {
    static let digestA = try! Digest(hex: String(repeating: "a", count: 64))
    static let digestB = try! Digest(hex: String(repeating: "b", count: 64))
    static let digestC = try! Digest(hex: String(repeating: "c", count: 64))

    static func entry(_ digest: Digest, _ os: String, _ arch: String, variant: String? = nil,
                      type: String = MediaType.ociManifest) -> OCIDescriptor {
        OCIDescriptor(mediaType: type, digest: digest, size: 100, platform: OCIPlatform(architecture: arch, os: os, variant: variant))
    }

    @Test func picksThisPlatformSkippingAttestations() throws {
        let host = HostPlatform(os: "linux", architecture: "amd64")
        let entries = [
            Self.entry(Self.digestA, "unknown", "unknown"),
            Self.entry(Self.digestB, "linux", "arm64", variant: "v8"),
            Self.entry(Self.digestC, "linux", "amd64"),
        ]
        #expect(try ManifestDocument.select(entries, for: host, source: "x").digest == Self.digestC)
        // A variant-less entry wins over a variant; otherwise the first in the document.
        let variants = [Self.entry(Self.digestA, "linux", "amd64", variant: "v3"), Self.entry(Self.digestB, "linux", "amd64")]
        #expect(try ManifestDocument.select(variants, for: host, source: "x").digest == Self.digestB)
        #expect(try ManifestDocument.select([variants[0]], for: host, source: "x").digest == Self.digestA)
    }

    @Test func noMatchListsWhatTheImageHas() {
        let host = HostPlatform(os: "linux", architecture: "amd64")
        let entries = [Self.entry(Self.digestA, "linux", "arm64", variant: "v8"), Self.entry(Self.digestB, "windows", "amd64"),
                       Self.entry(Self.digestC, "unknown", "unknown")]
        #expect(throws: RegistryError(.unsupported, "no match for platform in manifest idx: not found (this node is linux/amd64; the image has linux/arm64/v8, windows/amd64)")) {
            try ManifestDocument.select(entries, for: host, source: "idx")
        }
    }

    @Test func readsManifestsByTypeOrByTheirFields() throws {
        let manifest = """
            {"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(Self.digestA)","size":10},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"\(Self.digestB)","size":20}]}
            """
        guard case .image(let parsed) = try ManifestDocument.parse(Array(manifest.utf8), mediaType: "", source: "m") else {
            Issue.record("not read as a manifest")
            return
        }
        #expect(parsed.layers.map(\.digest) == [Self.digestB])
        let index = #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(Self.digestC)","size":5,"platform":{"os":"linux","architecture":"amd64"}}]}"#
        guard case .index(let entries) = try ManifestDocument.parse(Array(index.utf8), mediaType: "application/json", source: "i") else {
            Issue.record("not read as an index")
            return
        }
        #expect(entries.map(\.digest) == [Self.digestC])
    }

    @Test func refusesWhatCannotRun() {
        let schema1 = #"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#
        #expect(throws: RegistryError.self) {
            try ManifestDocument.parse(Array(schema1.utf8), mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws", source: "s")
        }
        #expect(throws: RegistryError.self) { try ManifestDocument.parse(Array(schema1.utf8), mediaType: "", source: "s") }
        let helm = #"{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"\#(Self.digestA)","size":1},"layers":[]}"#
        do {
            _ = try ManifestDocument.parse(Array(helm.utf8), mediaType: MediaType.ociManifest, source: "chart")
            Issue.record("a Helm chart was accepted")
        } catch {
            #expect("\(error)".contains("is not a container image"))
        }
        let odd = #"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(Self.digestA)","size":1},"layers":[{"mediaType":"application/x-unknown","digest":"\#(Self.digestB)","size":1}]}"#
        #expect(throws: RegistryError(.unsupported, #"m: unsupported layer media type "application/x-unknown""#)) {
            try ManifestDocument.parse(Array(odd.utf8), mediaType: MediaType.ociManifest, source: "m")
        }
        #expect(throws: RegistryError.self) { try ManifestDocument.parse(Array("[]".utf8), mediaType: MediaType.ociManifest, source: "m") }
        #expect(throws: RegistryError.self) { try ManifestDocument.parse(Array("{}".utf8), mediaType: "text/html", source: "m") }
    }

    @Test func contentRangeStart() {
        #expect(BlobDownload.rangeStart("bytes 100-199/200") == 100)
        #expect(BlobDownload.rangeStart("bytes */200") == nil)
        #expect(BlobDownload.rangeStart(nil) == nil)
        #expect(BlobDownload.rangeStart("items 1-2/3") == nil)
    }

    @Test func credentialsStayWithTheirOrigin() {
        #expect(RegistryTransport.origin(of: "https://Reg.example:443/v2/") == RegistryTransport.origin(of: "https://reg.example/x"))
        #expect(RegistryTransport.origin(of: "https://reg.example/v2/") != RegistryTransport.origin(of: "https://s3.example/blob"))
        #expect(RegistryTransport.origin(of: "http://reg.example/") != RegistryTransport.origin(of: "https://reg.example/"))
    }
}

/// The queue between a download and its writer thread, and work shared between pulls.
struct PipeAndSharingTests {
    @Test func chunksArriveInOrderThroughASmallQueue() async throws {
        let pipe = ChunkPipe(capacity: 16)
        // The consumer blocks in next(), as the pull's writer thread does: on a thread of its
        // own, never on the cooperative pool.
        let consumer = Task {
            await BlockingCall.run { () -> [UInt8] in
                var bytes: [UInt8] = []
                while let item = pipe.next() {
                    if case .data(let buffer) = item { bytes += buffer.readableBytesView }
                }
                return bytes
            }
        }
        var expected: [UInt8] = []
        for i in 0..<200 {
            let chunk = [UInt8](repeating: UInt8(i % 251), count: i % 7 + 1)
            expected += chunk
            try await pipe.push(.data(.init(bytes: chunk)))
        }
        pipe.finish()
        #expect(await consumer.value == expected)
    }

    @Test func aStoppedConsumerFailsTheProducer() async throws {
        struct DiskFull: Error {}
        let pipe = ChunkPipe(capacity: 4)
        pipe.stopConsumer(DiskFull())
        await #expect(throws: DiskFull.self) { try await pipe.push(.data(.init(bytes: [1, 2, 3]))) }
    }

    @Test func concurrentRequestsForOneKeyRunOnce() async throws {
        let work = SharedWork<String>()
        let counter = Counter()
        let started = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await work.run("layer") {
                        await counter.increment()
                        // Until all 8 have joined (a fixed 200 ms let a late-scheduled task on a
                        // loaded machine start the work a second time); bounded, so a broken
                        // join fails the counts below instead of hanging.
                        let deadline = ContinuousClock.now + .seconds(30)
                        while await work.waiters(for: "layer") < 8, ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                }
            }
            var results: [Bool] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(await counter.value == 1)
        #expect(started.filter { $0 }.count == 1)
        // Done work is forgotten: a later request runs it again.
        try await work.run("layer") { await counter.increment() }
        #expect(await counter.value == 2)
    }

    actor Counter {
        var value = 0
        func increment() { value += 1 }
    }
}
