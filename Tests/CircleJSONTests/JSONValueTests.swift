import CircleJSON
import Testing

@Suite("JSON values and objects")
struct JSONValueTests {
    @Test func accessorsReturnOnlyTheirOwnKind() {
        let s: JSON = "x", n: JSON = 2.5, b: JSON = true, a: JSON = [1], o: JSON = ["k": 1], z: JSON = nil
        #expect(s.stringValue == "x" && n.stringValue == nil)
        #expect(n.doubleValue == 2.5 && s.doubleValue == nil)
        #expect(b.boolValue == true && n.boolValue == nil)
        #expect(a.arrayValue == [1] && o.arrayValue == nil)
        #expect(o.objectValue == ["k": 1] && a.objectValue == nil)
        #expect(z.isNull && !b.isNull)
    }

    @Test func memberSubscriptIsNilForNonObjectsAndAbsentKeys() {
        let o: JSON = ["k": 1]
        #expect(o["k"] == 1)
        #expect(o["missing"] == nil)
        #expect(JSON.array([1])["k"] == nil)
        #expect(JSON.string("k")["k"] == nil)
    }

    @Test(arguments: [
        (3.0, 3), (-3.0, -3), (0.0, 0), (-0.0, 0), (9_007_199_254_740_992, 9_007_199_254_740_992),
        (-9_007_199_254_740_992, -9_007_199_254_740_992),
    ] as [(Double, Int)])
    func intValueAcceptsExactIntegersWithinTwoToThe53(_ d: Double, _ i: Int) {
        #expect(JSON.number(d).intValue == i)
    }

    @Test(arguments: [3.5, -0.1, 9_007_199_254_740_994, -9_007_199_254_740_994, 1e300, .infinity, .nan])
    func intValueRejectsEverythingElse(_ d: Double) {
        #expect(JSON.number(d).intValue == nil)
    }

    @Test func intValueIsNilForNonNumbers() {
        #expect(JSON.string("3").intValue == nil)
        #expect(JSON.bool(true).intValue == nil)
    }

    @Test func objectsKeepInsertionOrder() throws {
        let parsed = try #require(try JSON.parse(#"{"z":1,"a":2,"m":3}"#).objectValue)
        #expect(parsed.keys == ["z", "a", "m"])
        #expect(parsed.map(\.key) == ["z", "a", "m"])
        #expect(parsed.count == 3)
    }

    @Test func objectSubscriptReplacesInPlaceAppendsAndRemoves() {
        var o: JSONObject = ["a": 1, "b": 2, "c": 3]
        o["b"] = 20
        o["d"] = 4
        o["a"] = nil
        o["absent"] = nil
        #expect(o.keys == ["b", "c", "d"])
        #expect(o["b"] == 20 && o["a"] == nil)
    }

    @Test func initializerLetsALaterDuplicateWin() {
        let o = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        #expect(o.keys == ["a", "b"])
        #expect(o["a"] == 3)
    }

    @Test func largeObjectsLookUpAndRemoveCorrectly() {
        var o = JSONObject((0..<100).map { ("k\($0)", JSON.number(Double($0))) })
        #expect(o["k0"] == 0 && o["k99"] == 99 && o["k100"] == nil)
        for i in stride(from: 0, to: 100, by: 2) { o["k\(i)"] = nil }
        #expect(o.count == 50)
        #expect(o["k1"] == 1 && o["k2"] == nil && o["k99"] == 99)
        for i in 0..<45 { o["k\(2 * i + 1)"] = nil }
        #expect(o.keys == ["k91", "k93", "k95", "k97", "k99"])
        #expect(o["k97"] == 97)
        o["new"] = true
        #expect(o.keys.last == "new")
    }

    @Test func objectEqualityIgnoresOrderButNotContent() {
        let a: JSONObject = ["x": 1, "y": [true]]
        #expect(a == ["y": [true], "x": 1])
        #expect(a != ["x": 1, "y": [false]])
        #expect(a != ["x": 1])
        #expect(a != ["x": 1, "y": [true], "z": nil])
        #expect(a != ["x": 1, "q": [true]])
    }
}
