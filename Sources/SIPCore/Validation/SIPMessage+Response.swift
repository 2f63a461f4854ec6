extension SIPMessage {
    /// A response to `request` per RFC 3261 §8.2.6.2: Via (all values, in order), From, Call-ID, CSeq
    /// copied byte for byte, To copied with `toTag` added when it has none (not for 100), Timestamp
    /// copied into a 100 (§8.2.6.1), then `extraHeaders`, then Content-Length: 0.
    public static func response(to request: SIPMessage, status: Int, reason: String? = nil,
                                toTag: String? = nil, extraHeaders: [HeaderField] = []) -> SIPMessage {
        var headers = SIPHeaders()
        for name in [HeaderName.via, .recordRoute, .from, .to, .callID, .cseq, .timestamp] {
            if name == .recordRoute && !(status >= 101 && status < 300) { continue }
            if name == .timestamp && status != 100 { continue }
            for i in request.headers.indices(of: name) {
                var value = request.headers.value(at: i)
                if name == .to, status != 100, let toTag, (try? request.to())?.tag == nil {
                    value += ";tag=" + toTag
                }
                headers.append(name, value)
            }
        }
        for field in extraHeaders { headers.append(field.name, field.value) }
        headers.append(.contentLength, "0")
        return SIPMessage(status: status, reason: reason, headers: headers)
    }

    /// The response for a rejection (see `SIPValidator`), or nil when there is no Via to send it to.
    public static func response(to request: SIPMessage, rejecting rejection: SIPRejection, toTag: String? = nil) -> SIPMessage? {
        guard request.headers.contains(.via) else { return nil }
        return response(to: request, status: rejection.status, reason: rejection.reason, toTag: toTag, extraHeaders: rejection.headers)
    }
}
