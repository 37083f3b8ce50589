import EventLog
import Foundation
import TestSupport
import Testing

/// `rfc3339` writes digits straight into the string for years 0–9999; these tests hold it
/// to the padded-parts formatter (and, for the common range, to Foundation's calendar).
@Suite("Timestamp formatting fast path")
struct TimestampFormatTests {
    static let yearZero = Timestamp.daysFromCivil(year: 0, month: 1, day: 1) * 86_400_000
    static let yearTenThousand = Timestamp.daysFromCivil(year: 10_000, month: 1, day: 1) * 86_400_000

    @Test("random instants and the range's edges: byte-written equals padded parts")
    func agreesWithPaddedParts() {
        var generator = SplitMix(seed: 0x71_3E57)
        var instants: [Int64] = [
            0, -1, 1, 999, 86_399_999, Self.yearZero, Self.yearZero - 1, Self.yearTenThousand - 1,
            Self.yearTenThousand, 951_782_400_001,
        ]
        for _ in 0..<50_000 {
            instants.append(
                Int64.random(in: Self.yearZero - 86_400_000...Self.yearTenThousand + 86_400_000, using: &generator))
        }
        let differing = instants.filter {
            Timestamp.rfc3339(milliseconds: $0) != Timestamp.rfc3339Padded(milliseconds: $0)
        }
        #expect(differing.isEmpty, "first differing: \(differing.prefix(3))")
    }

    @Test("years 1600–9999 match Foundation's Gregorian calendar in UTC")
    func agreesWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let from = Timestamp.daysFromCivil(year: 1600, month: 1, day: 1) * 86_400_000
        var generator = SplitMix(seed: 0xF0_0D)
        for _ in 0..<2_000 {
            let ms = Int64.random(in: from..<Self.yearTenThousand, using: &generator)
            let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
            let parts = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.year!, parts.month!, parts.day!, parts.hour!,
                parts.minute!, parts.second!, Int(ms - seconds * 1000))
            #expect(Timestamp.rfc3339(milliseconds: ms) == expected)
        }
    }
}
