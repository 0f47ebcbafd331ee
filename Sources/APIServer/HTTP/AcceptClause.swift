/// One media range of an `Accept` header, parsed and ordered as kube-apiserver's negotiation
/// reads them (github.com/munnerz/goautoneg's ParseAccept).
struct AcceptClause: Equatable {
    var type: String
    var subType: String
    var q: Double
    /// Parameters other than `q` (`as`, `g`, `v`, `stream`, ...), values trimmed of spaces.
    var parameters: [String: String]

    /// Clauses beyond this many are not read: a header of thousands of ranges is refused
    /// work, not negotiated (Go reads them all; its header limit is 1 MiB).
    static let maximumClauses = 256

    /// The `as`/`g`/`v` conversion a clause asks for (nil: the object itself).
    var convert: [String: String]? {
        let conversion = parameters.filter { ["as", "g", "v"].contains($0.key) }
        return conversion.isEmpty ? nil : conversion
    }

    /// Whether this clause accepts `mediaType` (`type/subtype`, lower case): exactly, by
    /// `type/*`, or by `*/*`. Types are compared without regard to case.
    func matches(_ mediaType: String) -> Bool {
        let parts = mediaType.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return false }
        let type = type.lowercased(), subType = subType.lowercased()
        return (type == parts[0] && subType == parts[1]) || (type == parts[0] && subType == "*") || (type == "*" && subType == "*")
    }

    /// The clauses of `header` in goautoneg's order: each comma-separated range `type/subtype`
    /// (or a bare `*`) with `;`-separated parameters, `q` defaulting to 1 and read as 0 when it
    /// is not a number; ranges without a `/` are dropped. Sorted by goautoneg's `Less`
    /// (higher q first, else a concrete type before `*`, else a concrete subtype before `*`)
    /// with Go's insertion sort, which sort.Sort uses for the dozen clauses real headers have
    /// (goautoneg's `Less` is not a strict order, so the algorithm decides ties); longer lists
    /// are ordered by q and then specificity, stably.
    static func parse(_ header: String) -> [AcceptClause] {
        var clauses: [AcceptClause] = []
        for part in header.split(separator: ",", omittingEmptySubsequences: false).prefix(maximumClauses) {
            let pieces = part.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            let range = pieces[0].trimmingSpaces
            let halves = range.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
            var clause = AcceptClause(type: halves[0], subType: "", q: 1, parameters: [:])
            if halves.count == 1, clause.type == "*" {
                clause.subType = "*"
            } else if halves.count == 2, !halves[1].contains("/") {
                clause.subType = halves[1]
            } else {
                continue
            }
            for parameter in pieces.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard pair.count == 2 else { continue }
                let token = pair[0].trimmingSpaces
                if token == "q" {
                    clause.q = Double(pair[1]).flatMap { $0.isNaN ? nil : $0 } ?? 0
                } else {
                    clause.parameters[token] = pair[1].trimmingSpaces
                }
            }
            clauses.append(clause)
        }
        if clauses.count <= 12 {
            for index in clauses.indices.dropFirst() {
                var position = index
                while position > 0, less(clauses[position], clauses[position - 1]) {
                    clauses.swapAt(position, position - 1)
                    position -= 1
                }
            }
            return clauses
        }
        return clauses.enumerated().sorted { first, second in
            let a = first.element, b = second.element
            if a.q != b.q { return a.q > b.q }
            if (a.type == "*") != (b.type == "*") { return b.type == "*" }
            if (a.subType == "*") != (b.subType == "*") { return b.subType == "*" }
            return first.offset < second.offset
        }.map(\.element)
    }

    /// goautoneg's accept_slice.Less.
    private static func less(_ a: AcceptClause, _ b: AcceptClause) -> Bool {
        if a.q > b.q { return true }
        if a.type != "*", b.type == "*" { return true }
        if a.subType != "*", b.subType == "*" { return true }
        return false
    }
}
