import Foundation
import TestSupport
import Testing

@testable import Botrix

/// The uniqueness key skips Unicode normalization for ASCII; it must equal the full
/// lowercase-then-NFC key on every input, ASCII or not.
@Suite("Uniqueness key fast path")
struct UniquenessKeyTests {
    @Test("random text: the key equals lowercased NFC, with and without the ASCII shortcut")
    func equalsNormalizedKey() {
        var random = SplitMix(seed: 0x0A5C_11)
        // Every ASCII byte, and characters whose lowercase or NFC form differ from them
        // (the Kelvin sign lowercases to ASCII "k"; "e" + U+0301 composes to "é").
        let pieces =
            (0..<128).map { String(UnicodeScalar(UInt8($0))) } + [
                "É", "e\u{301}", "\u{212A}", "ß", "İ", "Å", "A\u{30A}",
            ]
        for _ in 0..<5_000 {
            let text = (0..<Int(random.next(upTo: 24))).map { _ in pieces[Int(random.next(upTo: UInt64(pieces.count)))]
            }
            .joined()
            // Bytes, not String ==, which treats canonically equivalent strings as equal.
            #expect(
                Array(AccountRules.uniquenessKey(text).utf8)
                    == Array(text.lowercased().precomposedStringWithCanonicalMapping.utf8))
        }
        #expect(AccountRules.uniquenessKey("\u{212A}elvin@Example.COM") == "kelvin@example.com")
        #expect(Array(AccountRules.uniquenessKey("E\u{301}lan@x.io").utf8) == Array("élan@x.io".utf8))
    }
}
