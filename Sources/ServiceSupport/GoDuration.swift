/// Go's duration syntax (time.ParseDuration) as the flags kubeadm and kubelet take it:
/// `90s`, `30m`, `24h`, `1h30m`, `1.5h`, `0`. Hours, minutes and seconds only: no flag that
/// uses it needs finer units, and a sign is refused (no flag takes a negative duration).
public enum GoDuration {
    /// Whole seconds (fractions truncated), or nil when `text` is not a duration or its value
    /// does not fit.
    public static func seconds(_ text: String) -> Int? {
        if text == "0" { return 0 }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for character in text {
            if character.isASCII && (character.isNumber || character == ".") {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        // Go refuses what overflows int64 nanoseconds too; Int(total) would trap.
        guard number.isEmpty, sawUnit, total.isFinite, total < Double(Int64.max / 1_000_000_000) else { return nil }
        return Int(total)
    }

    /// `23h`, `59m`, `30s`: the largest whole unit, as kubeadm prints a TTL.
    public static func short(_ seconds: Int) -> String {
        if seconds >= 3600 { return "\(seconds / 3600)h" }
        if seconds >= 60 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
