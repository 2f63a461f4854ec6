extension SIPMessage {
    /// A response to `request` per RFC 3261 §8.2.6.2: Via (all values, in order), From, Call-ID, CSeq
    /// copied byte for byte, To copied with `toTag` added when it has none (not for 100), Timestamp
    /// copied into a 100 (§8.2.6.1), then `extraHeaders`, then Content-Length: 0.
    public static func response(to request: SIPMessage, status: Int, reason: String? = nil,
                                toTag: String? = nil, extraHeaders: [HeaderField] = []) -> SIPMessage {
        var headers = SIPHeaders()
        headers.entries.reserveCapacity(8 + extraHeaders.count)
        headers.added.reserveCapacity(8 + extraHeaders.count)
        let source = request.headers
        // Whether To needs the tag: asked once (To is parsed at most once, not per field).
        var toNeedsTag: Bool? = nil
        for name in Self.copiedInResponses {
            if name.id == HeaderName.recordRoute.id && !(status >= 101 && status < 300) { continue }
            if name.id == HeaderName.timestamp.id && status != 100 { continue }
            // (A scan of the entries, not `indices(of:)`: no array per name for every response sent.)
            for i in source.entries.indices where source.matches(source.entries[i], name) {
                var value = source.value(at: i)
                if name.id == HeaderName.to.id, status != 100, let toTag {
                    if toNeedsTag == nil { toNeedsTag = (try? request.to())?.tag == nil }
                    if toNeedsTag == true { value += ";tag=" + toTag }
                }
                headers.append(name, value)
            }
        }
        for field in extraHeaders { headers.append(field.name, field.value) }
        headers.append(.contentLength, "0")
        return SIPMessage(status: status, reason: reason, headers: headers)
    }

    /// The header fields a response copies from its request, in this order (§8.2.6.2).
    static let copiedInResponses: [HeaderName] = [.via, .recordRoute, .from, .to, .callID, .cseq, .timestamp]

    /// The response for a rejection (see `SIPValidator`), or nil when there is no Via to send it to.
    public static func response(to request: SIPMessage, rejecting rejection: SIPRejection, toTag: String? = nil) -> SIPMessage? {
        guard request.headers.contains(.via) else { return nil }
        return response(to: request, status: rejection.status, reason: rejection.reason, toTag: toTag, extraHeaders: rejection.headers)
    }
}
