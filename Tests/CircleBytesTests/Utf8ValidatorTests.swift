import CircleBytes
import Testing

@Suite struct Utf8ValidatorTests {
    @Test func acceptsValidText() {
        let texts = ["", "plain ascii that is longer than eight bytes", "é", "€", "𝄞", "κόσμε", "\u{10FFFF}",
                     "\u{D7FF}\u{E000}"]
        for s in texts {
            #expect(Utf8Validator.isValid(utf8(s)), "\(s)")
        }
        #expect(Utf8Validator.isValid([0xF4, 0x8F, 0xBF, 0xBF]))  // U+10FFFF
    }

    @Test func rejectsOverlongForms() {
        let overlong: [[UInt8]] = [[0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xE0, 0x9F, 0xBF],
                                   [0xF0, 0x80, 0x80, 0xAF], [0xF0, 0x8F, 0xBF, 0xBF]]
        for bad in overlong {
            #expect(!Utf8Validator.isValid(bad), "\(bad)")
        }
    }

    @Test func rejectsSurrogates() {
        #expect(!Utf8Validator.isValid([0xED, 0xA0, 0x80]))  // U+D800
        #expect(!Utf8Validator.isValid([0xED, 0xBF, 0xBF]))  // U+DFFF
        #expect(Utf8Validator.isValid([0xED, 0x9F, 0xBF]))   // U+D7FF
    }

    @Test func rejectsCodePointsAboveU10FFFF() {
        #expect(!Utf8Validator.isValid([0xF4, 0x90, 0x80, 0x80]))
        #expect(!Utf8Validator.isValid([0xF5, 0x80, 0x80, 0x80]))
        #expect(!Utf8Validator.isValid([0xFF]))
    }

    @Test func rejectsStrayAndMissingContinuations() {
        #expect(!Utf8Validator.isValid([0x80]))
        #expect(!Utf8Validator.isValid([0x61, 0xBF]))
        #expect(!Utf8Validator.isValid([0xC3, 0x28]))
        #expect(!Utf8Validator.isValid([0xE2, 0x82, 0x28]))
    }

    @Test func truncatedSequenceIsIncompleteNotInvalid() {
        var v = Utf8Validator()
        let first = v.feed([0x61, 0xE2, 0x82])
        #expect(first)
        #expect(!v.isComplete && !v.isInvalid)
        let second = v.feed([0xAC])
        #expect(second)
        #expect(v.isComplete)
    }

    @Test func failsAtTheFirstInvalidByteAndStaysFailed() {
        var v = Utf8Validator()
        let good = v.feed(utf8("good text "))
        let bad = v.feed([0x61, 0xF4, 0x90])
        #expect(good && !bad && v.isInvalid)
        let after = v.feed(utf8("more"))
        #expect(!after)
        v.reset()
        let fresh = v.feed(utf8("fresh"))
        #expect(fresh && v.isComplete)
    }

    @Test func everySplitOfMixedTextValidatesTheSame() {
        let text = utf8("ascii run 12345678 é € 𝄞 end")
        for chunks in splits(of: text) {
            var v = Utf8Validator()
            let results = chunks.map { v.feed($0) }
            #expect(results.allSatisfy { $0 })
            #expect(v.isComplete)
        }
    }
}
