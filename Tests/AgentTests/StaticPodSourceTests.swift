import Foundation
import TestSupport
import Testing
@testable import Agent

/// The manifest directory as `StaticPodSource.scan` reads it, again and again (every inotify
/// event): files it parsed before are reused only while their bytes are the same.
@Suite struct StaticPodSourceTests {
    func manifest(_ name: String, command: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name)}
        spec:
          containers: [{name: c, image: busybox, command: ["sh", "-c", "\(command)"]}]
        """
    }

    func write(_ text: String, _ path: String) throws {
        // In place (same inode), as an editor that truncates and writes does.
        let handle = try #require(FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }())
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test func rescansFollowEditsRemovalsAndFixes() throws {
        let root = try TestRoot()
        let source = StaticPodSource(directory: root.path, nodeName: "n1")
        try write(manifest("web", command: "sleep 1"), root.path + "/web.yaml")
        try write(manifest("db", command: "sleep 9"), root.path + "/db.yaml")
        let first = source.scan()
        #expect(first.problems.isEmpty)
        #expect(Set(first.pods.values.compactMap(\.metadata.name)) == ["web-n1", "db-n1"])
        #expect(source.scan().pods.keys.sorted() == first.pods.keys.sorted(), "an unchanged directory gives the same pods")

        // Same size, same inode, within the same clock tick: only the bytes tell it changed.
        try write(manifest("web", command: "sleep 2"), root.path + "/web.yaml")
        let edited = source.scan()
        let web = try #require(edited.pods.values.first { $0.metadata.name == "web-n1" })
        #expect(web.spec.containers.first?.command == ["sh", "-c", "sleep 2"])
        #expect(!first.pods.keys.contains(web.metadata.uid ?? ""), "new content, new uid")

        // A broken file is a problem until fixed; a removed file's pod is gone.
        try write("kind: Pod\nspec: [", root.path + "/bad.yaml")
        #expect(source.scan().problems.map(\.file) == [root.path + "/bad.yaml"])
        try write(manifest("fixed", command: "true"), root.path + "/bad.yaml")
        let fixed = source.scan()
        #expect(fixed.problems.isEmpty)
        #expect(fixed.pods.values.contains { $0.metadata.name == "fixed-n1" })
        try FileManager.default.removeItem(atPath: root.path + "/db.yaml")
        #expect(!source.scan().pods.values.contains { $0.metadata.name == "db-n1" })
    }

    @Test func aSecondManifestForTheSamePodIsAProblemEveryScan() throws {
        let root = try TestRoot()
        let source = StaticPodSource(directory: root.path, nodeName: "n1")
        try write(manifest("web", command: "sleep 1"), root.path + "/a.yaml")
        try write(manifest("web", command: "sleep 2"), root.path + "/b.yaml")
        for _ in 0..<2 {
            let scan = source.scan()
            #expect(scan.pods.count == 1)
            #expect(scan.problems.map(\.file) == [root.path + "/b.yaml"])
            #expect(scan.problems.first?.message.contains("is defined by another manifest too") == true)
        }
    }
}
