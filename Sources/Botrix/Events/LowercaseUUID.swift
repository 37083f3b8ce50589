public import Foundation

/// Stores a UUID as lowercase text. Foundation encodes UUIDs in upper case; the API's
/// ids, stream names (`job-<uuid>`) and URLs use lower case, and stored JSON must be
/// one spelling so hashes and digests reproduce. Decoding accepts either case.
@propertyWrapper
public struct LowercaseUUID: Codable, Sendable, Hashable {
    public var wrappedValue: UUID

    public init(wrappedValue: UUID) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = UUID(text: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a UUID: \(text)"))
        }
        wrappedValue = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.text)
    }
}
