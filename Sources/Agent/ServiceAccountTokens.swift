import Foundation
import Runtime

/// The service account tokens of one pod's projected volumes, with kubelet's token manager's
/// refresh rule (pkg/kubelet/token/token_manager.go `requiresRefresh`): a token is requested
/// again once 80% of its lifetime has passed, or once it is 24 hours old, whichever comes first.
struct ServiceAccountTokens: Sendable {
    struct Entry: Sendable, Equatable {
        var token: String
        var issued: Date
        var expiration: Date
    }

    private(set) var entries: [String: Entry] = [:]

    /// kubelet's maxTTL: a token is never kept longer than this.
    static let maximumAge: TimeInterval = 24 * 60 * 60

    /// When `entry` is due for a new request.
    static func refreshTime(_ entry: Entry) -> Date {
        let lifetime = max(entry.expiration.timeIntervalSince(entry.issued), 0)
        return entry.issued.addingTimeInterval(min(lifetime * 0.8, maximumAge))
    }

    /// The sources whose token is missing or due at `now`.
    func due(_ sources: [ServiceAccountTokenSource], now: Date) -> [ServiceAccountTokenSource] {
        sources.filter { source in
            guard let entry = entries[source.key] else { return true }
            return now >= Self.refreshTime(entry)
        }
    }

    mutating func store(_ entry: Entry, for key: String) {
        entries[key] = entry
    }
}
