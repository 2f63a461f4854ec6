/// `CSeq = 1*DIGIT LWS Method` (RFC 3261 §20.16). The number must be less than 2^31 in requests
/// (§8.1.1.5); the parser accepts up to 2^32-1 (the grammar's 32-bit bound) and validation checks the
/// request rule.
public struct CSeq: Sendable, Hashable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: SIPMethod

    public init(_ sequence: UInt32, _ method: SIPMethod) {
        self.sequence = sequence
        self.method = method
    }

    public var description: String { "\(sequence) \(method)" }

    public init(parsing text: String) throws(SIPParseError) {
        let bytes = Array(text.utf8)
        self = try CSeq.parse(bytes[...])
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> CSeq {
        var sc = ValueScanner(bytes, header: "CSeq")
        let n = try sc.number("sequence number", max: UInt64(UInt32.max))
        guard sc.skipLWS() else { throw sc.error("expected whitespace between number and method") }
        let method = try sc.token("method")
        try sc.expectEnd()
        return CSeq(UInt32(n), SIPMethod(method))
    }
}

/// `RAck = response-num LWS CSeq-num LWS Method` (RFC 3262 §7.2).
public struct RAck: Sendable, Hashable, CustomStringConvertible {
    public var responseNumber: UInt32
    public var cseq: CSeq

    public init(responseNumber: UInt32, cseq: CSeq) {
        self.responseNumber = responseNumber
        self.cseq = cseq
    }

    public var description: String { "\(responseNumber) \(cseq)" }

    public init(parsing text: String) throws(SIPParseError) {
        let bytes = Array(text.utf8)
        var sc = ValueScanner(bytes[...], header: "RAck")
        let r = try sc.number("response number", max: UInt64(UInt32.max))
        guard sc.skipLWS() else { throw sc.error("expected whitespace") }
        let c = try sc.number("CSeq number", max: UInt64(UInt32.max))
        guard sc.skipLWS() else { throw sc.error("expected whitespace") }
        let m = try sc.token("method")
        try sc.expectEnd()
        self.init(responseNumber: UInt32(r), cseq: CSeq(UInt32(c), SIPMethod(m)))
    }
}
