import CircleJSON
import Testing

@Suite("JSON writer")
struct JSONWriterTests {
    private func string(_ w: JSONWriter) -> String { String(decoding: w.bytes, as: UTF8.self) }

    @Test func insertsCommasAndColonsAcrossNesting() {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("state")
        w.key("seq"); w.int(7)
        w.key("list"); w.beginArray()
        w.int(1); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.null(); w.bool(false)
        w.beginArray(); w.bool(true); w.number(0.5); w.endArray()
        w.endArray()
        w.key("empty"); w.beginObject(); w.endObject()
        w.key("last"); w.beginObject(); w.key("x"); w.null(); w.endObject()
        w.endObject()
        #expect(string(w) == #"{"type":"state","seq":7,"list":[1,{},[],null,false,[true,0.5]],"empty":{},"last":{"x":null}}"#)
    }

    @Test func writesTopLevelScalarsWithoutAComma() {
        var w = JSONWriter()
        w.string("x")
        #expect(string(w) == #""x""#)
    }

    @Test func escapesKeysAndStrings() {
        var w = JSONWriter()
        w.beginObject()
        w.key("static\"key")
        w.string("line\nbreak")
        w.key(String("dynamic\\key"))
        w.string("tab\t")
        w.endObject()
        #expect(string(w) == #"{"static\"key":"line\nbreak","dynamic\\key":"tab\t"}"#)
    }

    @Test func writesIntegersExactlyAtTheExtremes() throws {
        var w = JSONWriter()
        w.beginArray(); w.int(Int.max); w.int(Int.min); w.int(0); w.int(-7); w.endArray()
        #expect(string(w) == "[9223372036854775807,-9223372036854775808,0,-7]")
    }

    @Test func writesNonFiniteNumbersAsNull() {
        var w = JSONWriter()
        w.beginArray(); w.number(.nan); w.number(.infinity); w.number(2); w.endArray()
        #expect(string(w) == "[null,null,2]")
    }

    @Test func relaysRawValuesVerbatim() throws {
        let payload = Array(#"{"sdp" : "v=0",  "n":[1 ,2]}"#.utf8)
        var w = JSONWriter()
        w.beginObject()
        w.key("from"); w.string("p1")
        w.key("payload"); w.raw(payload)
        w.key("n"); payload.withUnsafeBytes { w.raw($0) }
        w.endObject()
        #expect(string(w) == #"{"from":"p1","payload":{"sdp" : "v=0",  "n":[1 ,2]},"n":{"sdp" : "v=0",  "n":[1 ,2]}}"#)
        #expect(try JSON.parse(w.bytes)["payload"]?["n"] == [1, 2])
    }

    @Test func writesJSONTrees() {
        var w = JSONWriter()
        w.beginArray(); w.value(["a": [1, nil]]); w.value("s"); w.endArray()
        #expect(string(w) == #"[{"a":[1,null]},"s"]"#)
    }

    @Test func outputAlwaysParses() throws {
        var w = JSONWriter(capacity: 8)
        w.beginObject()
        for i in 0..<50 {
            w.key(String(i))
            if i % 2 == 0 { w.beginArray(); w.int(i); w.string("\u{01}"); w.endArray() } else { w.number(Double(i) / 3) }
        }
        w.endObject()
        let parsed = try JSON.parse(w.bytes)
        #expect(parsed.objectValue?.count == 50)
        #expect(parsed["3"]?.doubleValue == 1)
    }
}

@Suite("JSON writer constants")
struct JSONWriterConstantTests {
    /// Constant keys and strings (the one-append path) write the same bytes as the escaping path for `String`s.
    @Test func constantsWriteWhatStringsWrite() {
        var a = JSONWriter(), b = JSONWriter()
        a.beginObject(); b.beginObject()
        a.key("type"); b.key(String("type"))
        a.string("signal"); b.string(String("signal"))
        a.key("quo\"te"); b.key(String("quo\"te"))
        a.string("back\\slash\nline\u{1}é"); b.string(String("back\\slash\nline\u{1}é"))
        a.key("a long key with no escapes at all"); b.key(String("a long key with no escapes at all"))
        a.string(""); b.string(String(""))
        a.endObject(); b.endObject()
        #expect(a.bytes == b.bytes)
        #expect(String(decoding: a.bytes, as: UTF8.self)
            == #"{"type":"signal","quo\"te":"back\\slash\nline\u0001é","a long key with no escapes at all":""}"#)
    }
}
