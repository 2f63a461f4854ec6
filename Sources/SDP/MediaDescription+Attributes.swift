/// Typed views of the attributes of a media section. The attributes themselves stay the source of
/// truth (in order, unknown ones preserved); these read them and, for setters, rewrite them.
extension MediaDescription {
    /// The values of every attribute called `name`, in order.
    public func attributeValues(_ name: String) -> [String] {
        attributes.compactMap { $0.name == name ? ($0.value ?? "") : nil }
    }

    /// True when an attribute called `name` is present.
    public func hasAttribute(_ name: String) -> Bool { attributes.contains { $0.name == name } }

    /// Every well-formed `a=rtpmap` (RFC 4566 §6), in order.
    public var rtpMaps: [RTPMap] { attributes.compactMap(RTPMap.init(attribute:)) }

    /// The mapping for a payload type: its `a=rtpmap`, else the RFC 3551 static assignment.
    public func rtpMap(for payloadType: UInt8) -> RTPMap? {
        rtpMaps.first { $0.payloadType == payloadType } ?? RTPMap.staticPayloadType(payloadType)
    }

    /// The payload types on the `m=` line, for RTP profiles (others are skipped).
    public var payloadTypes: [UInt8] {
        formats.compactMap { parseUInt64($0).flatMap { $0 <= 127 ? UInt8($0) : nil } }
    }

    /// Every well-formed `a=fmtp`, in order.
    public var formatParameters: [FormatParameters] { attributes.compactMap(FormatParameters.init(attribute:)) }

    /// The `a=fmtp` text for a format, if any.
    public func fmtp(for format: String) -> String? {
        formatParameters.first { $0.format == format }?.text
    }

    /// `a=ptime` in milliseconds (RFC 4566 §6); a fractional value is truncated, junk gives `nil`.
    public var ptime: Int? { millisecondsAttribute("ptime") }

    /// `a=maxptime` in milliseconds (RFC 4566 §6).
    public var maxptime: Int? { millisecondsAttribute("maxptime") }

    private func millisecondsAttribute(_ name: String) -> Int? {
        guard let value = attributeValues(name).first else { return nil }
        let whole = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let n = parseUInt64(whole), n > 0, n <= 10_000 else { return nil }
        return Int(n)
    }

    /// The direction attribute of this section, `nil` when there is none (RFC 3264 §5.1).
    public var direction: MediaDirection? {
        get { directionAttribute(in: attributes) }
        set {
            attributes.removeAll { $0.value == nil && MediaDirection(rawValue: $0.name) != nil }
            if let newValue { attributes.append(newValue.attribute) }
        }
    }

    /// The direction in force: this section's attribute, else the session's, else `sendrecv`.
    public func effectiveDirection(in session: SessionDescription) -> MediaDirection {
        direction ?? session.direction ?? .sendrecv
    }

    /// The connection in force: the first media-level `c=`, else the session-level one.
    public func effectiveConnection(in session: SessionDescription) -> Connection? {
        connections.first ?? session.connection
    }

    /// The `telephone-event` (RFC 4733) payload type for a clock rate (any rate when `nil`).
    public func telephoneEventPayloadType(clockRate: UInt32? = nil) -> UInt8? {
        for pt in payloadTypes {
            if let map = rtpMap(for: pt), map.isTelephoneEvent, clockRate == nil || map.clockRate == clockRate {
                return pt
            }
        }
        return nil
    }

    /// `a=rtcp` (RFC 3605).
    public var rtcp: RTCPAttribute? { attributes.lazy.compactMap(RTCPAttribute.init(attribute:)).first }

    /// `a=rtcp-mux` (RFC 5761).
    public var rtcpMux: Bool { attributes.contains { $0.name == "rtcp-mux" } }

    /// True when the stream is disabled or rejected (port 0, RFC 3264 §5.1, §6).
    public var isRejected: Bool { port == 0 }
}

func directionAttribute(in attributes: [Attribute]) -> MediaDirection? {
    for attribute in attributes.reversed() where attribute.value == nil {
        if let direction = MediaDirection(rawValue: attribute.name) { return direction }
    }
    return nil
}
