import ArgumentParser
import Foundation
import Images

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Manage the local image store.",
        subcommands: [Import.self, List.self, Remove.self],
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
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images (like `crictl images`).")
        @OptionGroup var options: RuntimeOptions

        func run() throws {
            let images = try options.imageStore().list()
            var rows = [["IMAGE", "TAG", "IMAGE ID", "SIZE"]]
            for image in images {
                let refs = image.references.isEmpty ? ["<none>"] : image.references
                for ref in refs {
                    let parsed = try? ImageReference(parsing: ref)
                    let name = parsed.map { $0.domain + "/" + $0.path } ?? ref
                    rows.append([name, parsed?.tag ?? "<none>", String(image.id.description.dropFirst(7).prefix(13)),
                                 ByteCountFormatter.string(fromByteCount: image.size, countStyle: .binary)])
                }
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
