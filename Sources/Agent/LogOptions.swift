import Foundation

/// What kubelet's `/containerLogs` accepts besides the container (v1.PodLogOptions).
public struct LogOptions: Sendable, Equatable {
    /// Keep writing new lines as they are logged.
    public var follow: Bool
    /// Prefix each line with its time (Go's RFC3339Nano) and a space.
    public var timestamps: Bool
    /// Only the last lines of the file (`tailLines`).
    public var tailLines: Int?
    /// Stop after this many bytes of output (`limitBytes`).
    public var limitBytes: Int?
    /// Skip lines logged before this time, in nanoseconds since 1970 (`sinceSeconds`, `sinceTime`).
    public var sinceNanoseconds: Int64?

    public init(follow: Bool = false, timestamps: Bool = false, tailLines: Int? = nil, limitBytes: Int? = nil,
                sinceNanoseconds: Int64? = nil) {
        self.follow = follow
        self.timestamps = timestamps
        self.tailLines = tailLines
        self.limitBytes = limitBytes
        self.sinceNanoseconds = sinceNanoseconds
    }
}
