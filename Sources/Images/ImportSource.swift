import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The directory an import reads from: the user's OCI layout directory, or the content of
/// an archive extracted into the store's temporary directory.
struct ImportSource {
    /// The directory holding `index.json` / `manifest.json`.
    let directory: String
    /// What the user asked to import, for error messages.
    let origin: String
    /// Extracted from an archive: symlinks inside it must not lead to files outside, or an
    /// archive could import arbitrary host files into the store.
    let confined: Bool

    func exists(_ relative: String) -> Bool {
        (try? file(relative)) != nil
    }

    /// The path of a file named by the archive (`blobs/sha256/…`, `<id>/layer.tar`).
    func file(_ relative: String) throws -> String {
        let components: [String]
        do {
            components = try LayerWriter.clean(relative, entry: relative)
        } catch {
            throw ImageError.invalidArchive(path: origin, reason: "refusing path \"\(relative)\": \(error)")
        }
        let path = ([directory] + components).joined(separator: "/")
        guard let real = ImportSource.realPath(path) else {
            throw ImageError.invalidArchive(path: origin, reason: "\(relative) is missing")
        }
        if confined, let base = ImportSource.realPath(directory), !real.hasPrefix(base + "/") {
            throw ImageError.invalidArchive(path: origin, reason: "\(relative) points outside the archive")
        }
        return path
    }

    /// Decodes a JSON file of the layout or archive, with the file named in errors.
    func readJSON<T: Decodable>(_ relative: String, as type: T.Type) throws -> T {
        let path = try file(relative)
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ImageError.invalidArchive(path: origin, reason: "\(relative) is not valid: \(error)")
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
