/// Typed views of the header fields (RFC 3261 §20 and the extensions), parsed on demand from the raw
/// fields. Each throws a `SIPParseError` naming the header and the fault when the value is malformed;
/// optional ones return nil when the header is absent.
extension SIPMessage {
    private func single(_ name: HeaderName) throws(SIPParseError) -> ArraySlice<UInt8>? {
        // (No array of indices: this runs for every message a proxy accepts.)
        guard let first = headers.firstIndex(of: name) else { return nil }
        guard headers.count(of: name) == 1 else {
            throw SIPParseError(.badHeaderValue, "more than one \(name) header", header: name.canonical)
        }
        return headers.valueBytes(at: first)
    }

    private func required(_ name: HeaderName) throws(SIPParseError) -> ArraySlice<UInt8> {
        guard let v = try single(name) else {
            throw SIPParseError(.badHeaderValue, "missing \(name) header", header: name.canonical)
        }
        return v
    }

    /// Every Via value, top first, across all Via fields.
    public func vias(limits: SIPLimits = .default) throws(SIPParseError) -> [Via] {
        var result: [Via] = []
        for i in headers.indices(of: .via) {
            for element in try listElements(headers.valueBytes(at: i), header: "Via", limits: limits) {
                result.append(try Via.parse(element, limits: limits))
            }
        }
        return result
    }

    /// The topmost Via value (the only one parsed).
    public func topVia(limits: SIPLimits = .default) throws(SIPParseError) -> Via {
        guard let i = headers.firstIndex(of: .via) else {
            throw SIPParseError(.badHeaderValue, "missing Via header", header: "Via")
        }
        let value = headers.valueBytes(at: i)
        // Fast path: a single non-empty element is what `listElements` would return.
        if Self.isSingleElement(value, limits: limits) { return try Via.parse(value, limits: limits) }
        let elements = try listElements(value, header: "Via", limits: limits)
        return try Via.parse(elements[0], limits: limits)
    }

    private func singleAddress(_ name: HeaderName, limits: SIPLimits) throws(SIPParseError) -> NameAddress {
        let v = try required(name)
        if !Self.isSingleElement(v, limits: limits) {
            let list = try listElements(v, header: name.canonical, limits: limits)
            guard list.count == 1 else {
                throw SIPParseError(.badHeaderValue, "more than one \(name) value", header: name.canonical)
            }
        }
        return try NameAddress.parse(v, header: name.canonical, limits: limits)
    }

    /// Whether `listElements` would return `value` itself as the only element, without throwing: no
    /// comma at all (so nothing splits) and not blank. A cheap check that spares the split's arrays.
    static func isSingleElement(_ value: ArraySlice<UInt8>, limits: SIPLimits) -> Bool {
        guard limits.maxValuesPerHeader >= 1 else { return false }
        var blank = true
        for c in value {
            if c == ASCII.comma { return false }
            if blank && !ASCII.isLWS(c) { blank = false }
        }
        return !blank
    }

    public func from(limits: SIPLimits = .default) throws(SIPParseError) -> NameAddress { try singleAddress(.from, limits: limits) }
    public func to(limits: SIPLimits = .default) throws(SIPParseError) -> NameAddress { try singleAddress(.to, limits: limits) }

    /// `Call-ID = word [ "@" word ]` (RFC 3261 §20.8).
    public func callID() throws(SIPParseError) -> String {
        let v = try required(.callID)
        var sc = ValueScanner(v, header: "Call-ID")
        guard let w = sc.run(ByteClass.word.union(ByteClass("@"))) else { throw sc.error("empty Call-ID") }
        try sc.expectEnd()
        var ats = 0
        for c in w where c == ASCII.at { ats += 1 }
        guard ats <= 1, w.first != ASCII.at, w.last != ASCII.at else {
            throw sc.error("Call-ID is not word[@word]")
        }
        return String(bytes: w)
    }

    public func cseq() throws(SIPParseError) -> CSeq { try CSeq.parse(try required(.cseq)) }

    /// Max-Forwards (0–255), nil when absent.
    public func maxForwards() throws(SIPParseError) -> Int? {
        guard let v = try single(.maxForwards) else { return nil }
        var sc = ValueScanner(v, header: "Max-Forwards")
        let n = try sc.number("Max-Forwards", max: 255)
        try sc.expectEnd()
        return Int(n)
    }

    /// The Contact header(s): nil when absent, `.wildcard` for `*`, else every address across fields.
    public func contact(limits: SIPLimits = .default) throws(SIPParseError) -> ContactValue? {
        let found = headers.indices(of: .contact)
        guard !found.isEmpty else { return nil }
        var addresses: [NameAddress] = []
        for i in found {
            let v = headers.valueBytes(at: i)
            if v.count == 1 && v.first == ASCII.star {
                guard found.count == 1 else {
                    throw SIPParseError(.badHeaderValue, "'*' must be the only Contact", header: "Contact")
                }
                return .wildcard
            }
            if Self.isSingleElement(v, limits: limits) {
                // Fast path, same result as the split below for a one-element value.
                let address = try NameAddress.parse(v, header: "Contact", limits: limits)
                _ = try address.qValue()
                _ = try address.expires()
                addresses.append(address)
                continue
            }
            for element in try listElements(v, header: "Contact", limits: limits) {
                let address = try NameAddress.parse(element, header: "Contact", limits: limits)
                _ = try address.qValue()
                _ = try address.expires()
                addresses.append(address)
            }
        }
        return .addresses(addresses)
    }

    private func addressList(_ name: HeaderName, limits: SIPLimits) throws(SIPParseError) -> [NameAddress] {
        var result: [NameAddress] = []
        for i in headers.indices(of: name) {
            result += try NameAddress.parseList(headers.valueBytes(at: i), header: name.canonical, limits: limits)
        }
        return result
    }

    /// Route values, in order (RFC 3261 §20.34; name-addr form).
    public func routes(limits: SIPLimits = .default) throws(SIPParseError) -> [NameAddress] {
        let r = try addressList(.route, limits: limits)
        if r.contains(where: { !$0.bracketed }) { throw SIPParseError(.badHeaderValue, "Route value without <…>", header: "Route") }
        return r
    }

    /// Record-Route values, in order (RFC 3261 §20.30; name-addr form).
    public func recordRoutes(limits: SIPLimits = .default) throws(SIPParseError) -> [NameAddress] {
        let r = try addressList(.recordRoute, limits: limits)
        if r.contains(where: { !$0.bracketed }) { throw SIPParseError(.badHeaderValue, "Record-Route value without <…>", header: "Record-Route") }
        return r
    }

    /// Path values (RFC 3327).
    public func path(limits: SIPLimits = .default) throws(SIPParseError) -> [NameAddress] { try addressList(.path, limits: limits) }

    /// P-Asserted-Identity values (RFC 3325 §9.1).
    public func pAssertedIdentities(limits: SIPLimits = .default) throws(SIPParseError) -> [NameAddress] {
        try addressList(.pAssertedIdentity, limits: limits)
    }

    /// Refer-To (RFC 3515 §2.1).
    public func referTo(limits: SIPLimits = .default) throws(SIPParseError) -> NameAddress? {
        guard let v = try single(.referTo) else { return nil }
        return try NameAddress.parse(v, header: "Refer-To", limits: limits)
    }

    /// Referred-By (RFC 3892).
    public func referredBy(limits: SIPLimits = .default) throws(SIPParseError) -> NameAddress? {
        guard let v = try single(.referredBy) else { return nil }
        return try NameAddress.parse(v, header: "Referred-By", limits: limits)
    }

    public func contentType(limits: SIPLimits = .default) throws(SIPParseError) -> MediaType? {
        guard let v = try single(.contentType) else { return nil }
        return try MediaType.parse(v, header: "Content-Type", limits: limits)
    }

    /// Every media range of the Accept header(s); nil when absent (RFC 3261 §20.1).
    public func accept(limits: SIPLimits = .default) throws(SIPParseError) -> [MediaType]? {
        let found = headers.indices(of: .accept)
        guard !found.isEmpty else { return nil }
        var result: [MediaType] = []
        for i in found {
            let v = headers.valueBytes(at: i)
            if v.allSatisfy(ASCII.isLWS) { continue }
            for element in try listElements(v, header: "Accept", limits: limits) {
                result.append(try MediaType.parse(element, header: "Accept", limits: limits))
            }
        }
        return result
    }

    /// Expires in seconds (RFC 3261 §20.19), nil when absent.
    public func expires() throws(SIPParseError) -> UInt32? {
        guard let v = try single(.expires) else { return nil }
        return try ScalarHeaders.deltaSeconds(v, header: "Expires")
    }

    /// Min-Expires in seconds (RFC 3261 §20.23), nil when absent.
    public func minExpires() throws(SIPParseError) -> UInt32? {
        guard let v = try single(.minExpires) else { return nil }
        return try ScalarHeaders.deltaSeconds(v, header: "Min-Expires")
    }

    /// Option tags of Supported, Require, Proxy-Require or Unsupported, across fields.
    public func optionTags(_ name: HeaderName, limits: SIPLimits = .default) throws(SIPParseError) -> [String] {
        var result: [String] = []
        for i in headers.indices(of: name) {
            result += try ScalarHeaders.tokenList(headers.valueBytes(at: i), header: name.canonical,
                                                  allowEmpty: name == .supported, limits: limits)
        }
        return result
    }

    /// Allow (RFC 3261 §20.5), nil when absent.
    public func allow(limits: SIPLimits = .default) throws(SIPParseError) -> [SIPMethod]? {
        let found = headers.indices(of: .allow)
        guard !found.isEmpty else { return nil }
        var result: [SIPMethod] = []
        for i in found {
            result += try ScalarHeaders.tokenList(headers.valueBytes(at: i), header: "Allow", allowEmpty: true, limits: limits).map { SIPMethod($0) }
        }
        return result
    }

    /// Event (RFC 6665 §8.2.1): event type (token with dots) and parameters such as `id`.
    public func event(limits: SIPLimits = .default) throws(SIPParseError) -> TokenParameters? {
        guard let v = try single(.event) else { return nil }
        return try TokenParameters.parse(v, header: "Event", valueChars: ByteClass.token, limits: limits)
    }

    /// Subscription-State (RFC 6665 §8.2.3).
    public func subscriptionState(limits: SIPLimits = .default) throws(SIPParseError) -> TokenParameters? {
        guard let v = try single(.subscriptionState) else { return nil }
        return try TokenParameters.parse(v, header: "Subscription-State", valueChars: ByteClass.token, limits: limits)
    }

    /// Replaces (RFC 3891 §6.1): the Call-ID and `to-tag`, `from-tag`, `early-only`.
    public func replaces(limits: SIPLimits = .default) throws(SIPParseError) -> TokenParameters? {
        guard let v = try single(.replaces) else { return nil }
        let r = try TokenParameters.parse(v, header: "Replaces", valueChars: ByteClass.word.union(ByteClass("@")), limits: limits)
        guard r.parameter("to-tag") != nil, r.parameter("from-tag") != nil else {
            throw SIPParseError(.badHeaderValue, "Replaces needs to-tag and from-tag", header: "Replaces")
        }
        return r
    }

    /// Reason values (RFC 3326): protocol with `cause` and `text`.
    public func reasons(limits: SIPLimits = .default) throws(SIPParseError) -> [TokenParameters] {
        var result: [TokenParameters] = []
        for i in headers.indices(of: .reason) {
            for element in try listElements(headers.valueBytes(at: i), header: "Reason", limits: limits) {
                result.append(try TokenParameters.parse(element, header: "Reason", valueChars: ByteClass.token, limits: limits))
            }
        }
        return result
    }

    /// Privacy values (RFC 3323 §4.2: `priv-value *(";" priv-value)`).
    public func privacy() throws(SIPParseError) -> [String]? {
        guard let v = try single(.privacy) else { return nil }
        var result: [String] = []
        var sc = ValueScanner(v, header: "Privacy")
        repeat {
            result.append(try sc.token("privacy value"))
        } while sc.accept(ASCII.semicolon)
        try sc.expectEnd()
        return result
    }

    /// Session-Expires (RFC 4028 §4): interval and `refresher`.
    public func sessionExpires(limits: SIPLimits = .default) throws(SIPParseError) -> (seconds: UInt32, refresher: String?)? {
        guard let v = try single(.sessionExpires) else { return nil }
        let t = try TokenParameters.parse(v, header: "Session-Expires", valueChars: ByteClass.digit, limits: limits)
        guard let s = UInt32(t.value) else {
            throw SIPParseError(.badHeaderValue, "Session-Expires out of range", header: "Session-Expires")
        }
        return (s, t.parameter("refresher"))
    }

    /// Min-SE (RFC 4028 §5) in seconds.
    public func minSE() throws(SIPParseError) -> UInt32? {
        guard let v = try single(.minSE) else { return nil }
        var sc = ValueScanner(v, header: "Min-SE")
        let n = try sc.number("Min-SE", max: UInt64(UInt32.max))
        _ = try sc.parameters(limit: 16)
        try sc.expectEnd()
        return UInt32(n)
    }

    /// RSeq (RFC 3262 §7.1): 1 to 2^31-1.
    public func rseq() throws(SIPParseError) -> UInt32? {
        guard let v = try single(.rseq) else { return nil }
        var sc = ValueScanner(v, header: "RSeq")
        let n = try sc.number("RSeq", max: UInt64(Int32.max))
        try sc.expectEnd()
        guard n >= 1 else { throw sc.error("RSeq must be at least 1") }
        return UInt32(n)
    }

    /// RAck (RFC 3262 §7.2).
    public func rack() throws(SIPParseError) -> RAck? {
        guard let v = try single(.rack) else { return nil }
        return try RAck(parsing: String(bytes: v))
    }
}
