import Foundation

/// A CronJob's `spec.schedule` as Kubernetes reads it: robfig/cron v3's `ParseStandard`
/// (five fields: minute, hour, day of month, month, day of week; `*` and `?`, ranges, steps,
/// lists, JAN-DEC and SUN-SAT names, and the @yearly, @annually, @monthly, @weekly, @daily,
/// @midnight and @hourly descriptors), with its error messages, and `Next` over a time zone.
/// https://github.com/robfig/cron/blob/master/parser.go and spec.go
public struct CronSchedule: Sendable, Equatable {
    /// One bit per allowed value; bit 63 is robfig's `starBit` ("*" or "?"), which decides how
    /// the two day fields combine.
    public let minute: UInt64
    public let hour: UInt64
    public let dayOfMonth: UInt64
    public let month: UInt64
    public let dayOfWeek: UInt64
    /// The zone of a `CRON_TZ=<zone>` or `TZ=<zone>` prefix, if the spec had one (Kubernetes
    /// refuses the prefix in new CronJobs: `spec.timeZone` replaces it).
    public internal(set) var timeZone: TimeZone?

    static let starBit: UInt64 = 1 << 63

    /// A parse failure, with robfig/cron's message (Kubernetes shows it after
    /// `spec.schedule: Invalid value: "<schedule>": `).
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private struct Bounds {
        let min: Int
        let max: Int
        let names: [String: Int]
    }

    private static let minutes = Bounds(min: 0, max: 59, names: [:])
    private static let hours = Bounds(min: 0, max: 23, names: [:])
    private static let days = Bounds(min: 1, max: 31, names: [:])
    private static let months = Bounds(min: 1, max: 12, names: [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    ])
    private static let weekdays = Bounds(min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6])

    /// Parses a standard cron spec.
    public init(parsing text: String) throws(ParseError) {
        var spec = text
        var zone: TimeZone?
        if spec.hasPrefix("TZ=") || spec.hasPrefix("CRON_TZ=") {
            let afterEquals = spec.drop(while: { $0 != "=" }).dropFirst()
            let name = String(afterEquals.prefix(while: { $0 != " " }))
            guard let loaded = TimeZone(identifier: name), name != "Local" else {
                throw ParseError(message: "provided bad location \(name): unknown time zone \(name)")
            }
            zone = loaded
            spec = String(afterEquals.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)
        }
        self = try Self.standard(spec)
        timeZone = zone
    }

    private static func standard(_ spec: String) throws(ParseError) -> CronSchedule {
        // Go's strings.Fields: runs of white space separate fields.
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" })
            .map(String.init)
        if fields.isEmpty { throw ParseError(message: "empty spec string") }
        if fields[0].hasPrefix("@") {
            // Descriptors are matched on the whole (trimmed) spec, as robfig does.
            return try descriptor(spec.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard fields.count == 5 else {
            throw ParseError(message: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        return CronSchedule(minute: try field(fields[0], minutes), hour: try field(fields[1], hours),
                            dayOfMonth: try field(fields[2], days), month: try field(fields[3], months),
                            dayOfWeek: try field(fields[4], weekdays))
    }

    private static func descriptor(_ descriptor: String) throws(ParseError) -> CronSchedule {
        func all(_ bounds: Bounds) -> UInt64 { bits(bounds.min, bounds.max, 1) | starBit }
        switch descriptor {
        case "@yearly", "@annually":
            return CronSchedule(minute: 1, hour: 1, dayOfMonth: 1 << 1, month: 1 << 1, dayOfWeek: all(weekdays))
        case "@monthly":
            return CronSchedule(minute: 1, hour: 1, dayOfMonth: 1 << 1, month: all(months), dayOfWeek: all(weekdays))
        case "@weekly":
            return CronSchedule(minute: 1, hour: 1, dayOfMonth: all(days), month: all(months), dayOfWeek: 1)
        case "@daily", "@midnight":
            return CronSchedule(minute: 1, hour: 1, dayOfMonth: all(days), month: all(months), dayOfWeek: all(weekdays))
        case "@hourly":
            return CronSchedule(minute: 1, hour: all(hours), dayOfMonth: all(days), month: all(months), dayOfWeek: all(weekdays))
        default:
            // robfig's `@every <duration>` (a constant delay, not a wall-clock schedule) is
            // not implemented: refused by name rather than misread.
            if descriptor.hasPrefix("@every") {
                throw ParseError(message: "@every schedules are not supported by swiftlet: use a 5-field schedule such as \"*/5 * * * *\"")
            }
            throw ParseError(message: "unrecognized descriptor: \(descriptor)")
        }
    }

    private init(minute: UInt64, hour: UInt64, dayOfMonth: UInt64, month: UInt64, dayOfWeek: UInt64) {
        self.minute = minute
        self.hour = hour
        self.dayOfMonth = dayOfMonth
        self.month = month
        self.dayOfWeek = dayOfWeek
        self.timeZone = nil
    }

    /// `getField`: a comma-separated list of ranges.
    private static func field(_ text: String, _ bounds: Bounds) throws(ParseError) -> UInt64 {
        var result: UInt64 = 0
        for expression in text.split(separator: ",", omittingEmptySubsequences: false) {
            result |= try range(String(expression), bounds)
        }
        return result
    }

    /// `getRange`: `*`, `?`, `N`, `N-M`, each optionally `/step`.
    private static func range(_ expression: String, _ bounds: Bounds) throws(ParseError) -> UInt64 {
        let rangeAndStep = expression.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowAndHigh = rangeAndStep[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let singleDigit = lowAndHigh.count == 1
        var start: Int, end: Int
        var extra: UInt64 = 0
        if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
            start = bounds.min
            end = bounds.max
            extra = starBit
        } else {
            start = try intOrName(lowAndHigh[0], bounds.names)
            switch lowAndHigh.count {
            case 1: end = start
            case 2: end = try intOrName(lowAndHigh[1], bounds.names)
            default: throw ParseError(message: "too many hyphens: \(expression)")
            }
        }
        var step = 1
        switch rangeAndStep.count {
        case 1: break
        case 2:
            step = try integer(rangeAndStep[1])
            // "N/step" means "N-max/step".
            if singleDigit { end = bounds.max }
            if step > 1 { extra = 0 }
        default:
            throw ParseError(message: "too many slashes: \(expression)")
        }
        if start < bounds.min { throw ParseError(message: "beginning of range (\(start)) below minimum (\(bounds.min)): \(expression)") }
        if end > bounds.max { throw ParseError(message: "end of range (\(end)) above maximum (\(bounds.max)): \(expression)") }
        if start > end { throw ParseError(message: "beginning of range (\(start)) beyond end of range (\(end)): \(expression)") }
        if step == 0 { throw ParseError(message: "step of range should be a positive number: \(expression)") }
        return bits(start, end, step) | extra
    }

    private static func intOrName(_ text: String, _ names: [String: Int]) throws(ParseError) -> Int {
        if let value = names[text.lowercased()] { return value }
        return try integer(text)
    }

    /// `mustParseInt`: Go's strconv.Atoi, then no negatives.
    private static func integer(_ text: String) throws(ParseError) -> Int {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else {
            let reason = !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) ? "value out of range" : "invalid syntax"
            throw ParseError(message: "failed to parse int from \(text): strconv.Atoi: parsing \(GoQuote.quote(text)): \(reason)")
        }
        if value < 0 { throw ParseError(message: "negative number (\(value)) not allowed: \(text)") }
        return value
    }

    private static func bits(_ min: Int, _ max: Int, _ step: Int) -> UInt64 {
        var bits: UInt64 = 0
        for value in stride(from: min, through: max, by: step) where value < 63 { bits |= 1 << UInt64(value) }
        return bits
    }

    private func has(_ set: UInt64, _ value: Int) -> Bool { set & (1 << UInt64(value)) != 0 }

    /// `dayMatches`: when either day field is `*`, both must match; otherwise either may.
    private func dayMatches(_ components: DateComponents) -> Bool {
        let domMatch = has(dayOfMonth, components.day ?? 0)
        let dowMatch = has(dayOfWeek, (components.weekday ?? 1) - 1)
        if dayOfMonth & Self.starBit != 0 || dayOfWeek & Self.starBit != 0 { return domMatch && dowMatch }
        return domMatch || dowMatch
    }

    /// The first activation strictly after `time`, in `timeZone`'s wall clock; nil when there
    /// is none within five years (robfig gives up the same way, e.g. for February 30).
    public func next(after time: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Start at the next whole minute.
        var t = calendar.dateInterval(of: .minute, for: time)?.end ?? time.addingTimeInterval(60)
        let limit = calendar.component(.year, from: t) + 5
        while true {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: t)
            guard let year = c.year, year <= limit else { return nil }
            if !has(month, c.month ?? 0) {
                // The first minute of the next month.
                guard let monthStart = calendar.dateInterval(of: .month, for: t)?.end else { return nil }
                t = monthStart
                continue
            }
            if !dayMatches(c) {
                guard let dayEnd = calendar.dateInterval(of: .day, for: t)?.end else { return nil }
                t = dayEnd
                continue
            }
            if !has(hour, c.hour ?? 0) {
                guard let hourEnd = calendar.dateInterval(of: .hour, for: t)?.end else { return nil }
                t = hourEnd
                continue
            }
            if !has(minute, c.minute ?? 0) {
                t = t.addingTimeInterval(60)
                continue
            }
            return t
        }
    }
}
