import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension ImageStore {
    /// Imports the images at `path`:
    /// - an OCI image layout directory (`oci-layout`, `index.json`, `blobs/`),
    /// - an OCI archive (a tar of such a layout, optionally gzip-compressed),
    /// - a docker archive (`docker save` output: `manifest.json`, configs, layer tars).
    ///
    /// Multi-platform images are resolved to this machine's platform. Images are named from
    /// the archive (`org.opencontainers.image.ref.name`, `RepoTags`); `name` overrides that
    /// (`myapp:2`) or supplies the repository for tag-only names (`myapp` + tag `1.0`). A name
    /// already in the store moves to the new image. Returns the imported images.
    @discardableResult
    public func importImage(from path: String, name: String? = nil) throws -> [Image] {
        if let name { _ = try ImageReference(parsing: name) }  // fail before any work
        return try FileLock.withLock(lockPath, exclusive: true) {
            do {
                return try importLocked(from: path, name: name)
            } catch {
                // Blobs copied before the failure are unreferenced: drop them now.
                try? collectGarbage(keeping: StoreIndex.load(from: indexPath))
                throw error
            }
        }
    }

    private func importLocked(from path: String, name: String?) throws -> [Image] {
        let imported = try withImportSource(path) { source -> [ImportedImage] in
            if source.exists("manifest.json") && !source.exists("oci-layout") {
                return try DockerArchiveImporter(source: source, blobs: blobs, platform: platform, name: name).run()
            }
            guard source.exists("oci-layout"), source.exists("index.json") else {
                throw ImageError.invalidArchive(
                    path: path,
                    reason: "not an OCI image layout (no oci-layout and index.json) or docker archive (no manifest.json)")
            }
            return try OCILayoutImporter(source: source, blobs: blobs, platform: platform, name: name).run()
        }
        if let name, imported.count > 1, let given = try? ImageReference(parsing: name),
            given.tag != nil || given.digest != nil
        {
            throw ImageError.invalidName(name, reason: "\(path) holds \(imported.count) images; give a name without a tag")
        }

        var index = try StoreIndex.load(from: indexPath)
        for image in imported {
            if image.names.isEmpty {
                if !index.untagged.contains(image.manifest) { index.untagged.append(image.manifest) }
            } else {
                for reference in image.names { index.references[reference] = image.manifest }
                index.untagged.removeAll { $0 == image.manifest }
            }
        }
        try index.save(to: indexPath)
        // Images whose last name moved to the new image are gone now.
        try collectGarbage(keeping: index)

        var seen = Set<Digest>()
        return try imported.filter { seen.insert($0.manifest).inserted }.map { try loadImage($0.manifest, index: index) }
    }

    /// Runs `body` on the directory to import from: `path` itself, or an archive extracted
    /// into the store's temporary directory (removed afterwards).
    private func withImportSource<T>(_ path: String, _ body: (ImportSource) throws -> T) throws -> T {
        var st = stat()
        try Syscall.check("stat", path) { stat(path, &st) }
        if FileMode.isDirectory(st) {
            return try body(ImportSource(directory: path, origin: path, confined: false))
        }
        let extracted = blobs.temporaryDirectory + "/import-\(getpid())-\(UUID().uuidString)"
        try FileTree.createDirectories(extracted)
        defer { try? FileTree.removeTree(atPath: extracted) }
        do {
            // The same safe extraction as layers: an archive cannot write outside `extracted`.
            try LayerUnpacker(mode: .apply).unpack(layerAt: path, into: extracted)
        } catch let error as ImageError {
            switch error {
            case .invalidTar, .invalidGzip, .invalidZstd, .unsafePath, .unsupportedMediaType:
                throw ImageError.invalidArchive(path: path, reason: "cannot extract it: \(error)")
            default:
                throw error
            }
        }
        return try body(ImportSource(directory: extracted, origin: path, confined: true))
    }
}
