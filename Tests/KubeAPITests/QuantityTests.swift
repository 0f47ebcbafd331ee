import Foundation
import Testing
@testable import KubeAPI

/// Examples from k8s.io/apimachinery/pkg/api/resource/quantity_test.go.
@Suite struct QuantityTests {
    /// (input, printed form, format) — TestQuantityParse's table. The printed form is the
    /// canonical one computed by hand from the expected (mantissa, exponent), except where
    /// ParseQuantity's fast path keeps the input verbatim ("100.035k", "1.G").
    static let parseTable: [(String, String, Quantity.Format)] = [
        ("0", "0", .decimalSI), ("0n", "0", .decimalSI), ("0u", "0", .decimalSI), ("0m", "0", .decimalSI),
        ("0Ki", "0", .binarySI), ("0k", "0", .decimalSI), ("0Mi", "0", .binarySI), ("0M", "0", .decimalSI),
        ("0Gi", "0", .binarySI), ("0G", "0", .decimalSI), ("0Ti", "0", .binarySI), ("0T", "0", .decimalSI),
        ("1", "1", .decimalSI),
        ("1Ki", "1Ki", .binarySI), ("8Ki", "8Ki", .binarySI), ("7Mi", "7Mi", .binarySI), ("6Gi", "6Gi", .binarySI),
        ("5Ti", "5Ti", .binarySI), ("4Pi", "4Pi", .binarySI), ("3Ei", "3Ei", .binarySI),
        ("10Ti", "10Ti", .binarySI), ("100Ti", "100Ti", .binarySI),
        ("5n", "5n", .decimalSI), ("4u", "4u", .decimalSI), ("3m", "3m", .decimalSI), ("9", "9", .decimalSI),
        ("8k", "8k", .decimalSI), ("50k", "50k", .decimalSI), ("7M", "7M", .decimalSI), ("6G", "6G", .decimalSI),
        ("5T", "5T", .decimalSI), ("40T", "40T", .decimalSI), ("300T", "300T", .decimalSI), ("2P", "2P", .decimalSI),
        ("1E", "1E", .decimalSI),
        ("1E-3", "1E-3", .decimalExponent), ("1e3", "1e3", .decimalExponent), ("1E6", "1E6", .decimalExponent),
        ("1e9", "1e9", .decimalExponent), ("1E12", "1E12", .decimalExponent), ("1e15", "1e15", .decimalExponent),
        ("1E18", "1E18", .decimalExponent),
        ("1e14", "100e12", .decimalExponent), ("1e13", "10e12", .decimalExponent), ("100.035k", "100.035k", .decimalSI),
        ("0.001", "1m", .decimalSI), ("0.0005k", "500m", .decimalSI), ("0.005", "5m", .decimalSI),
        ("0.05", "50m", .decimalSI), ("0.5", "500m", .decimalSI), ("0.00050k", "500m", .decimalSI),
        ("0.00500", "5m", .decimalSI), ("0.05000", "50m", .decimalSI), ("0.50000", "500m", .decimalSI),
        ("0.5e0", "500e-3", .decimalExponent), ("0.5e-1", "50e-3", .decimalExponent), ("0.5e-2", "5e-3", .decimalExponent),
        ("10.035M", "10.035M", .decimalSI),
        ("1.2e3", "1200", .decimalExponent), ("1.3E+6", "1300e3", .decimalExponent), ("1.40e9", "1400e6", .decimalExponent),
        ("1.53E12", "1530e9", .decimalExponent), ("1.6e15", "1600e12", .decimalExponent), ("1.7E18", "1700e15", .decimalExponent),
        ("9.01", "9010m", .decimalSI), ("8.1k", "8100", .decimalSI), ("7.123456M", "7.123456M", .decimalSI),
        ("6.987654321G", "6.987654321G", .decimalSI), ("5.444T", "5.444T", .decimalSI), ("40.1T", "40100G", .decimalSI),
        ("300.2T", "300200G", .decimalSI), ("2.5P", "2500T", .decimalSI), ("1.01E", "1010P", .decimalSI),
        ("3.001n", "4n", .decimalSI), ("1.1E-9", "2e-9", .decimalExponent), ("0.0000000001", "1n", .decimalSI),
        ("0.0000000005", "1n", .decimalSI), ("0.00000000050", "1n", .decimalSI), ("0.5e-9", "1e-9", .decimalExponent),
        ("0.9n", "1n", .decimalSI), ("0.00000012345", "124n", .decimalSI), ("0.00000012354", "124n", .decimalSI),
        ("9Ei", "9223372036854775807", .binarySI), ("9223372036854775807Ki", "9223372036854775807", .binarySI),
        ("12E", "12E", .decimalSI),
        ("100.035Ki", "102435840m", .binarySI), ("0.5Mi", "512Ki", .binarySI), ("0.05Gi", "53687091200m", .binarySI),
        ("0.025Ti", "27487790694400m", .binarySI),
        ("0.000000000001Ki", "2n", .decimalSI), (".001", "1m", .decimalSI), (".0001k", "100m", .decimalSI),
        ("1.", "1.", .decimalSI), ("1.G", "1.G", .decimalSI),
    ]

    @Test func parsesKubernetesExamplesToTheirCanonicalForm() throws {
        for (input, canonical, format) in Self.parseTable {
            let quantity = try Quantity(input)
            #expect(quantity.description == canonical, "\(input)")
            #expect(quantity.format == format, "\(input)")
            // Re-parsing the canonical form gives the same value.
            #expect(try Quantity(canonical) == quantity, "\(input)")
        }
    }

    @Test func negativeAndExplicitlyPositiveVersionsKeepValueAndFormat() throws {
        for (input, _, format) in Self.parseTable {
            let plain = try Quantity(input)
            let negative = try Quantity("-" + input)
            let positive = try Quantity("+" + input)
            #expect(positive == plain, "+\(input)")
            #expect(positive.format == format, "+\(input)")
            #expect(negative.format == format, "-\(input)")
            if plain.isZero {
                #expect(negative == plain && !negative.isNegative, "-\(input)")
            } else {
                #expect(negative.isNegative && negative < plain, "-\(input)")
            }
        }
    }

    @Test func rejectsKubernetesInvalidExamplesWithItsMessages() {
        let formatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        let cases: [(String, String)] = [
            ("", formatWrong), ("1.1.M", formatWrong), ("1+1.0M", formatWrong), ("aoeu", formatWrong),
            (" 1", formatWrong), ("1 ", formatWrong),
            ("0.1mi", "unable to parse quantity's suffix"), ("0.1am", formatWrong), (".5i", "unable to parse quantity's suffix"),
            ("1i", "unable to parse quantity's suffix"), ("-3.01i", "unable to parse quantity's suffix"),
            ("-3.01e-", "unable to parse quantity's suffix"), ("1e99999999999", "unable to parse quantity's suffix"),
        ]
        for (input, message) in cases {
            do {
                _ = try Quantity(input)
                Issue.record("\(input) parsed")
            } catch {
                #expect("\(error)" == message, "\(input)")
            }
        }
    }

    /// TestQuantityString: (value built from mantissa/exponent, canonical, alternate input).
    @Test func printsTheCanonicalFormOfAlternateSpellings() throws {
        let cases: [(String, String)] = [
            ("1024Mi", "1Gi"), ("307200Ki", "300Mi"), ("1025024Mi", "1001Gi"), ("1024Gi", "1Ti"),
            ("5000m", "5"), ("0.5", "500m"), ("1000M", "1G"), ("0.001T", "1G"), ("1000u", "1m"),
            ("1.08", "1080m"), ("1080000000n", "1080m"), (".001e12", "1e9"), ("0.001e0", "1e-3"),
            ("1000e-12", "1e-9"), ("00", "0"), (".001Ki", "1024m"), (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"), (".000000000001Ki", "2n"), ("1.5Gi", "1536Mi"), ("1000m", "1"),
            ("1024", "1024"), ("1536Mi", "1536Mi"),
        ]
        for (input, canonical) in cases {
            #expect(try Quantity(input).description == canonical, "\(input)")
            #expect(try Quantity("-" + input).description == (canonical == "0" ? "0" : "-" + canonical), "-\(input)")
        }
    }

    /// ParseQuantity keeps an input that is already canonical-looking verbatim.
    @Test func echoesInputsThatTheFastPathKeeps() throws {
        #expect(try Quantity("+1").description == "+1")
        #expect(try Quantity("1E3").description == "1E3")
        #expect(try Quantity("-999999999999999999").description == "-999999999999999999")
        #expect(try Quantity("1500").description == "1500")
        #expect(try Quantity("15000").description == "15k")
    }

    /// TestParseQuantity: values beyond int64 keep every digit.
    @Test func keepsArbitraryPrecision() throws {
        let cases: [(String, String)] = [
            ("999999999999999999.1", "999999999999999999100m"), ("9999999999999999999", "9999999999999999999"),
            ("1000000000000000000", "1E"), ("-1000000000000000000.0", "-1E"), ("9999999999999999999000m", "9999999999999999999"),
            ("-1.0000000000000000001E", "-1000000000000000000100m"), ("10000000000000000000", "10E"),
            ("-10.0E", "-10E"), ("10.000000000000000001E", "10000000000000000001"),
            ("9223372036854775808.1", "9223372036854775808100m"), ("-9223372036854775809000m", "-9223372036854775809"),
            ("1000E", "1000E"),
        ]
        for (input, canonical) in cases {
            #expect(try Quantity(input).description == canonical, "\(input)")
        }
        #expect(try Quantity("10E") > Quantity("9223372036854775807"))
        // Extreme exponents stay cheap: nothing is expanded digit by digit.
        #expect(try Quantity("1e-2000000000").description == "1e-9")
        #expect(try Quantity("1e2000000000").value == Int64.max)
        #expect(try Quantity("1e2000000000") > Quantity("1e1999999999"))
    }

    @Test func valueAndMilliValueRoundUpAwayFromZero() throws {
        #expect(try Quantity("1.5Gi").value == 1_610_612_736)
        #expect(try Quantity("100m").value == 1)
        #expect(try Quantity("100m").milliValue == 100)
        #expect(try Quantity("1.5").milliValue == 1500)
        #expect(try Quantity("1n").milliValue == 1)
        #expect(try Quantity("-1.5").value == -2)
        #expect(try Quantity("-100m").milliValue == -100)
        #expect(try Quantity("0").value == 0)
        #expect(try Quantity("10E").value == Int64.max)
        #expect(try Quantity("-10E").value == Int64.min)
        #expect(try Quantity("9Ei").value == Int64.max)
    }

    /// TestQuantityCmp and friends.
    @Test func comparesNumerically() throws {
        #expect(try Quantity("100m") > Quantity("50m"))
        #expect(try Quantity("10000T") > Quantity("100Gi"))
        #expect(try Quantity("1Gi") == Quantity("1073741824"))
        #expect(try Quantity("1Gi").hashValue == Quantity("1073741824").hashValue)
        #expect(try Quantity("-1") < Quantity("0"))
        #expect(try Quantity("-2") < Quantity("-1"))
        #expect(try Quantity("0.9") < Quantity("1"))
        #expect(try Quantity("1") == Quantity("1000m"))
    }

    /// TestNewSet / TestMilliNewSet.
    @Test func buildsFromIntegers() {
        #expect(Quantity(value: 1).description == "1")
        #expect(Quantity(value: 1000).description == "1k")
        #expect(Quantity(value: 1_234_000).description == "1234k")
        #expect(Quantity(value: 1024, format: .binarySI).description == "1Ki")
        #expect(Quantity(value: 1024 * 1024, format: .binarySI).description == "1Mi")
        #expect(Quantity(value: 1_000_000, format: .decimalExponent).description == "1e6")
        #expect(Quantity(milliValue: 1).description == "1m")
        #expect(Quantity(milliValue: 1000).description == "1")
        #expect(Quantity(milliValue: 1024, format: .binarySI).description == "1024m")
        #expect(Quantity(milliValue: 1_000_000, format: .decimalExponent).description == "1e3")
        #expect(Quantity(value: -5).description == "-5")
        #expect(Quantity(value: Int64.min).value == Int64.min)
    }

    @Test func roundsUpToAScale() throws {
        #expect(try Quantity("9.01").roundedUp(toScale: -1).description == "9100m")
        #expect(try Quantity("9.01").roundedUp(toScale: 0).description == "10")
        #expect(try Quantity("-9.01").roundedUp(toScale: 0).description == "-10")
        #expect(try Quantity("0.5m").roundedUp(toScale: -3).description == "1m")
        #expect(try Quantity("+1").roundedUp(toScale: -3).description == "+1")
    }

    @Test func codesAsAStringAndDecodesNumbersToo() throws {
        struct Box: Codable, Equatable { var q: Quantity }
        let box = Box(q: try Quantity("1.5Gi"))
        let json = String(decoding: try JSONEncoder().encode(box), as: UTF8.self)
        #expect(json == #"{"q":"1536Mi"}"#)
        #expect(try JSONDecoder().decode(Box.self, from: Data(json.utf8)) == box)
        #expect(try JSONDecoder().decode(Box.self, from: Data(#"{"q":2}"#.utf8)).q.description == "2")
        #expect(try JSONDecoder().decode(Box.self, from: Data(#"{"q":0.5}"#.utf8)).q.description == "500m")
        #expect(try JSONDecoder().decode(Box.self, from: Data(#"{"q":" 1 "}"#.utf8)).q.description == "1")
        #expect(throws: Quantity.ParseError.formatWrong) {
            try JSONDecoder().decode(Box.self, from: Data(#"{"q":"1 2"}"#.utf8))
        }
    }
}
