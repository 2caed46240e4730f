import CircleJSON
import Testing

@Suite("JSON numbers")
struct JSONNumberTests {
    @Test(arguments: [
        ("0", 0.0), ("-0", -0.0), ("1", 1), ("-1", -1), ("123456789", 123_456_789), ("0.5", 0.5), ("-0.5", -0.5),
        ("1e3", 1000), ("1E3", 1000), ("1e+3", 1000), ("1e-3", 0.001), ("2.5E-3", 0.0025), ("0e0", 0),
        ("0.1", 0.1), ("1e-07", 1e-7), ("1.7976931348623157e308", .greatestFiniteMagnitude),
        ("5e-324", .leastNonzeroMagnitude), ("1e-400", 0), ("999999999999999", 999_999_999_999_999),
        ("9007199254740993", 9_007_199_254_740_992), ("123456789012345678901234567890", 1.2345678901234568e29),
        ("-9223372036854775808", -9_223_372_036_854_775_808.0), ("18446744073709551616", 18_446_744_073_709_551_616.0),
    ] as [(String, Double)])
    func parsesCorrectlyRounded(_ text: String, _ expected: Double) throws {
        let value = try #require(try JSON.parse(text).doubleValue)
        #expect(value.bitPattern == expected.bitPattern)
    }

    @Test func parsesNumbersInsideContainers() throws {
        #expect(try JSON.parse("[0,-0.5,1e2]") == [0, -0.5, 100])
        #expect(try JSON.parse(#"{"n":-12.5e-1}"#)["n"] == -1.25)
    }

    @Test(arguments: ["01", "-01", "00", "00.5", "-00", "012e3"])
    func rejectsLeadingZeros(_ text: String) {
        #expect(parseError(text)?.message == "leading zero in number")
    }

    @Test(arguments: ["+1", "+0", "[+1]", "1e++2"])
    func rejectsLeadingPlus(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test(arguments: [
        ".5", "5.", "1.e3", "1e", "1e+", "1E-", "-", "--1", "-a", "0x10", "1.5e3.2", "1..2", "- 1", "1e1.5", "[1.]",
        "[-]", "1_000",
    ])
    func rejectsMalformedNumbers(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test(arguments: ["1e400", "-1e400", "1.8e308", "[1e999]"])
    func rejectsNumbersBeyondDoubleRange(_ text: String) {
        #expect(parseError(text)?.message == "number out of range")
    }
}
