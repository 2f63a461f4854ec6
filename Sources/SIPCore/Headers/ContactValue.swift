/// A Contact header's value (RFC 3261 §20.10): `*` (only in REGISTER with Expires: 0, §10.2.2) or
/// a list of addresses with `q` and `expires` parameters.
public enum ContactValue: Sendable, Hashable {
    case wildcard
    case addresses([NameAddress])
}

extension NameAddress {
    /// The `q` parameter of a Contact (0.000–1.000), nil when absent. Throws when malformed.
    public func qValue() throws(SIPParseError) -> Double? {
        guard let raw = parameters.parameter("q").flatMap({ $0 }) else { return nil }
        // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        let u = Array(raw.utf8)
        guard let first = u.first, first == 0x30 || first == 0x31 else {
            throw SIPParseError(.badHeaderValue, "q-value '\(raw)' is not between 0 and 1", header: "Contact")
        }
        if u.count > 1 {
            guard u[1] == 0x2E, u.count <= 5, u[2...].allSatisfy({ ByteClass.digit.contains($0) }) else {
                throw SIPParseError(.badHeaderValue, "q-value '\(raw)' is malformed", header: "Contact")
            }
        }
        // Whole thousandths, divided once, so that `q=0.7` reads as the Double nearest 0.7.
        var thousandths = Int(first - 0x30) * 1000
        var scale = 100
        for c in u.dropFirst(2) { thousandths += Int(c - 0x30) * scale; scale /= 10 }
        guard thousandths <= 1000 else { throw SIPParseError(.badHeaderValue, "q-value '\(raw)' exceeds 1", header: "Contact") }
        return Double(thousandths) / 1000
    }

    /// The `expires` parameter of a Contact in seconds, nil when absent. Throws when it is not a
    /// delta-seconds value that fits 32 bits.
    public func expires() throws(SIPParseError) -> UInt32? {
        guard let raw = parameters.parameter("expires").flatMap({ $0 }) else { return nil }
        guard let n = UInt32(raw) else {
            throw SIPParseError(.badHeaderValue, "expires '\(raw)' is not a 32-bit delta-seconds", header: "Contact")
        }
        return n
    }
}
