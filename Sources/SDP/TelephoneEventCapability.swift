/// Support for RFC 4733 `telephone-event` (DTMF) on an audio stream.
public struct TelephoneEventCapability: Hashable, Sendable {
    /// Payload type used when offering (answers keep the offerer's, RFC 3264 §6.1).
    public var preferredPayloadType: UInt8
    public var clockRate: UInt32
    /// The events supported, as in `a=fmtp` (RFC 4733 §2.4.1), e.g. `0-15` or `0-16`; `nil` announces
    /// no `a=fmtp` (the receiver then assumes 0-15).
    public var events: String?

    public init(preferredPayloadType: UInt8 = 101, clockRate: UInt32 = 8000, events: String? = "0-15") {
        self.preferredPayloadType = preferredPayloadType
        self.clockRate = clockRate
        self.events = events
    }

    /// The set of event codes in an RFC 4733 event list (`0-15,66,70`), `nil` when malformed.
    static func eventSet(_ text: String) -> Set<Int>? {
        var result = Set<Int>()
        for item in text.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = parseUInt64(bounds[0]), low <= 255 else { return nil }
            var high = low
            if bounds.count == 2 {
                guard let h = parseUInt64(bounds[1]), h <= 255, h >= low else { return nil }
                high = h
            }
            for code in Int(low)...Int(high) { result.insert(code) }
        }
        return result.isEmpty ? nil : result
    }

    /// Writes a set of event codes as ranges: `[0,1,2,3,16]` → `0-3,16`.
    static func eventList(_ set: Set<Int>) -> String {
        var parts: [String] = []
        var sorted = set.sorted()[...]
        while let low = sorted.popFirst() {
            var high = low
            while sorted.first == high + 1 { high = sorted.removeFirst() }
            parts.append(low == high ? "\(low)" : "\(low)-\(high)")
        }
        return parts.joined(separator: ",")
    }
}
