import JSONCoding

extension RecordedEvent {
    /// The public shape (schemas/event.schema.json) as one line of JSON with sorted keys:
    /// `{"data":…,"hash":…,"metadata":…,"prev_hash":…,"recorded_at":…,"seq":…,"stream":…,"type":…,"version":…}`.
    public func publicJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 320)
        out.append(contentsOf: Array(#"{"data":"#.utf8))
        out.append(contentsOf: data)
        out.append(contentsOf: Array(#","hash":"#.utf8))
        JSONText.appendString(JSONText.hex(hash), to: &out)
        out.append(contentsOf: Array(#","metadata":"#.utf8))
        out.append(contentsOf: RecordFormat.encodeMetadata(metadata))
        out.append(contentsOf: Array(#","prev_hash":"#.utf8))
        JSONText.appendString(JSONText.hex(previousHash), to: &out)
        out.append(contentsOf: Array(#","recorded_at":"#.utf8))
        JSONText.appendString(Timestamp.rfc3339(milliseconds: recordedAt), to: &out)
        out.append(contentsOf: Array(#","seq":\#(sequence),"stream":"#.utf8))
        JSONText.appendString(stream, to: &out)
        out.append(contentsOf: Array(#","type":"#.utf8))
        JSONText.appendString(type, to: &out)
        out.append(contentsOf: Array(#","version":\#(version)}"#.utf8))
        return out
    }
}
