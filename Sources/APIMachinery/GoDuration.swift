/// Go's duration text (`time.ParseDuration`, `Duration.String`), as Kubernetes writes
/// `metav1.Duration` in JSON and as the duration flags (`--ttl`, `--event-ttl`,
/// `--minimum-image-ttl-duration`) take it: `90s`, `1h30m`, `1.5h`, `300ms`, `-1.5s`, `0`.
public enum GoDuration {
    /// The units of time.ParseDuration, in nanoseconds.
    private static let units: [Substring: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 6e10, "h": 3.6e12,
    ]
    /// The units the flags take: hours, minutes and seconds (no flag needs finer ones).
    private static let flagUnits: Set<Substring> = ["h", "m", "s"]

    /// time.ParseDuration: nanoseconds, or nil when `text` is not a duration or does not fit
    /// int64 nanoseconds (Go: "invalid duration").
    public static func nanoseconds(_ text: String) -> Int64? {
        parse(Substring(text), signed: true, units: nil)
    }

    /// A duration flag's whole seconds (fractions truncated), or nil when `text` is not a
    /// duration of hours, minutes and seconds; a sign is refused (no flag takes a negative one).
    public static func seconds(_ text: String) -> Int? {
        parse(Substring(text), signed: false, units: flagUnits).map { Int($0 / 1_000_000_000) }
    }

    private static func parse(_ text: Substring, signed: Bool, units allowed: Set<Substring>?) -> Int64? {
        var rest = text
        var sign: Double = 1
        if signed, let first = rest.first, first == "-" || first == "+" {
            if first == "-" { sign = -1 }
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        func isNumber(_ character: Character) -> Bool { character.isASCII && (character.isNumber || character == ".") }
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix(while: isNumber)
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !isNumber($0) }
            guard let scale = units[unit], allowed?.contains(unit) ?? true else { return nil }
            total += value * scale
            rest = rest.dropFirst(unit.count)
        }
        let nanoseconds = sign * total
        guard nanoseconds.isFinite, abs(nanoseconds) < 9.2e18 else { return nil }
        return Int64(nanoseconds.rounded())
    }

    /// Go's `Duration.String()` for whole seconds and more (`1h0m0s`, `30s`, `1.5s`), as
    /// metav1.Duration's JSON writes it.
    public static func string(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        // `magnitude`, not `abs`: abs(Int64.min) traps.
        let total = Double(nanoseconds.magnitude) / 1e9
        let hours = Int(total) / 3600, minutes = Int(total) / 60 % 60
        let seconds = total - Double(hours * 3600 + minutes * 60)
        var text = seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
        if hours > 0 { text = "\(hours)h\(minutes)m" + text } else if minutes > 0 { text = "\(minutes)m" + text }
        return (negative ? "-" : "") + text
    }

    /// `23h`, `59m`, `30s`: the largest whole unit, as kubeadm prints a TTL.
    public static func short(_ seconds: Int) -> String {
        if seconds >= 3600 { return "\(seconds / 3600)h" }
        if seconds >= 60 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
