import ArgumentParser
import Foundation
import Images

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Pull images from registries, import, list and remove them: the local image store (docs/images.md).",
        subcommands: [Pull.self, Import.self, List.self, Remove.self],
        defaultSubcommand: List.self
    )

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an OCI image layout directory, an OCI archive or a `docker save` archive.")
        @OptionGroup var options: RuntimeOptions
        @Argument(help: "Path of the layout directory or archive.") var path: String
        @Option(help: "Reference to store the image under (e.g. busybox:1.35), when the archive does not name it.")
        var name: String?

        func run() throws {
            let imported = try options.imageStore().importImage(from: path, name: name)
            for image in imported {
                print("imported \(image.references.joined(separator: ", ")) \(image.id)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List images with their repo digests, IDs and sizes (like `crictl images --digests`).")
        @OptionGroup var options: RuntimeOptions

        @Flag(help: "Show full digests and IDs instead of their first 13 characters.")
        var noTrunc = false

        func run() throws {
            let images = try options.imageStore().list()
            var rows = [["IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"]]
            let short: (String) -> String = { noTrunc ? $0 : String($0.prefix(13)) }
            for image in images {
                let size = ByteCountFormatter.string(fromByteCount: image.size, countStyle: .binary)
                let id = short(image.id.hex)
                // One row per tag, with the repo digest recorded for that repository; digests
                // of repositories without a tag get a row of their own (TAG <none>).
                var named = Set<String>()
                for tag in image.repoTags {
                    guard let parsed = try? ImageReference(parsing: tag) else { continue }
                    named.insert(parsed.name)
                    let digest = image.repoDigests.first { $0.hasPrefix(parsed.name + "@") }
                        .map { short(String($0.split(separator: "@").last ?? "").replacingOccurrences(of: "sha256:", with: "")) }
                    rows.append([parsed.name, parsed.tag ?? "<none>", digest ?? "<none>", id, size])
                }
                for reference in image.repoDigests {
                    let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
                    guard parts.count == 2, !named.contains(parts[0]) else { continue }
                    named.insert(parts[0])
                    rows.append([parts[0], "<none>", short(parts[1].replacingOccurrences(of: "sha256:", with: "")), id, size])
                }
                if named.isEmpty { rows.append(["<none>", "<none>", "<none>", id, size]) }
            }
            printTable(rows)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove an image by reference or ID.")
        @OptionGroup var options: RuntimeOptions
        @Argument(help: "Image references or IDs.") var references: [String]

        func run() throws {
            let store = try options.imageStore()
            for reference in references {
                try store.remove(reference)
                print("Deleted: \(reference)")
            }
        }
    }
}

/// Left-aligned columns separated by three spaces, as crictl and kubectl print them.
func printTable(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    var widths = Array(repeating: 0, count: first.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    for row in rows {
        let line = row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "   ")
        print(line)
    }
}
