import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong in the image store, worded for the person running swiftlet.
///
/// Each case carries what failed and where (a path, a reference, a blob), and the cases a
/// user can fix say how (for example `notFound` names the `swiftlet images import` command).
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A reference string does not follow the docker/distribution grammar.
    case invalidReference(String, reason: String)
    /// A digest string is not `sha256:<64 lowercase hex>`.
    case invalidDigest(String, reason: String)
    /// No image in the store matches the reference or ID.
    case notFound(String)
    /// An ID prefix matches more than one image.
    case ambiguous(String, matches: [String])
    /// A system call failed: `call(path): strerror`.
    case system(call: String, path: String, errno: Int32)
    /// The thing being imported is not a usable OCI layout, OCI archive or docker archive.
    case invalidArchive(path: String, reason: String)
    /// Content does not hash to the digest that names it.
    case digestMismatch(what: String, expected: Digest, actual: Digest)
    /// Content is not as long as its descriptor says.
    case sizeMismatch(what: String, expected: Int64, actual: Int64)
    /// A manifest, index or layer uses a media type swiftlet cannot handle.
    case unsupportedMediaType(String, context: String)
    /// No manifest for this machine's platform in an image index.
    case noMatchingPlatform(wanted: String, available: [String], source: String)
    /// A tar stream is malformed or uses a feature the reader does not support.
    case invalidTar(String)
    /// A gzip stream is corrupt or truncated.
    case invalidGzip(String)
    /// A zstd stream is corrupt or truncated.
    case invalidZstd(String)
    /// A layer entry tries to write outside the directory it is unpacked into.
    case unsafePath(entry: String, reason: String)
    /// Writing an overlayfs whiteout (device or `trusted.overlay.*` xattr) was refused.
    case needsRoot(call: String, path: String, errno: Int32)
    /// A name given to `importImage(from:name:)` cannot be applied to the archive's images.
    case invalidName(String, reason: String)

    /// The message to show the user.
    public var description: String {
        switch self {
        case .invalidReference(let ref, let reason):
            return "invalid reference format: \(reason) (in \"\(ref)\")"
        case .invalidDigest(let value, let reason):
            return "invalid digest \"\(value)\": \(reason)"
        case .notFound(let ref):
            return "image \"\(ref)\" not found in the local store; import it with: swiftlet images import PATH"
        case .ambiguous(let prefix, let matches):
            return "image ID prefix \"\(prefix)\" is ambiguous: it matches \(matches.joined(separator: ", ")); give more characters"
        case .system(let call, let path, let code):
            return "\(call)(\(path)): \(errnoText(code))"
        case .invalidArchive(let path, let reason):
            return "cannot import \(path): \(reason)"
        case .digestMismatch(let what, let expected, let actual):
            return "\(what) is corrupt: expected digest \(expected), got \(actual)"
        case .sizeMismatch(let what, let expected, let actual):
            return "\(what) failed size validation: \(actual) bytes, expected \(expected)"
        case .unsupportedMediaType(let type, let context):
            return "unsupported \(context) media type \"\(type)\""
        case .noMatchingPlatform(let wanted, let available, let source):
            let list = available.isEmpty ? "none declared" : available.joined(separator: ", ")
            return "\(source) has no image for \(wanted) (available: \(list))"
        case .invalidTar(let reason):
            return "invalid tar archive: \(reason)"
        case .invalidGzip(let reason):
            return "invalid gzip data: \(reason)"
        case .invalidZstd(let reason):
            return "invalid zstd data: \(reason)"
        case .unsafePath(let entry, let reason):
            return "refusing layer entry \"\(entry)\": \(reason)"
        case .needsRoot(let call, let path, let code):
            return "\(call)(\(path)): \(errnoText(code)); unpacking layers with whiteouts for overlayfs needs root"
        case .invalidName(let name, let reason):
            return "cannot name the imported image \"\(name)\": \(reason)"
        }
    }
}

/// `EPERM (Operation not permitted)`.
private func errnoText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 160)
    return String(cString: sl_errno_text(code, &buffer, UInt(buffer.count)))
}
