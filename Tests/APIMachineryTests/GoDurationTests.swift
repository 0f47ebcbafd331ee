import Testing
import APIMachinery

/// The duration flags (`token create --ttl`, `--minimum-image-ttl-duration`) against what Go's
/// time.ParseDuration makes of the same text.
struct GoDurationTests {
    @Test(arguments: [
        ("0", 0), ("90s", 90), ("2m", 120), ("24h", 86_400), ("1h30m", 5_400), ("1h30m15s", 5_415),
        ("1.5h", 5_400), ("0.5m", 30), ("1.9s", 1), ("0s", 0), ("10m0s", 600),
    ])
    func acceptsGoDurations(text: String, seconds: Int) {
        #expect(GoDuration.seconds(text) == seconds)
    }

    @Test(arguments: [
        "", "h", "5", "5x", "1h5", "-1h", "+1h", "1 h", " 1h", "1h ", ".h", "1..5h", "1e3s", "500ms",
        "١h", "１h", "1ｈ",
        // Beyond int64 nanoseconds (Go: "invalid duration"); converting it to Int would trap.
        "99999999999999999999h", "3000000000h", "1\(String(repeating: "0", count: 400))s",
    ])
    func refusesWhatIsNotADuration(text: String) {
        #expect(GoDuration.seconds(text) == nil)
    }

    @Test func printsTheLargestWholeUnit() {
        #expect(GoDuration.short(86_399) == "23h")
        #expect(GoDuration.short(3_599) == "59m")
        #expect(GoDuration.short(59) == "59s")
    }
}
