/// A SIP request or response (RFC 3261 §7): start line, header fields, body.
public struct SIPMessage: Sendable {
    public var startLine: StartLine
    public var headers: SIPHeaders
    /// The message body: exactly Content-Length octets (RFC 3261 §18.3), or the rest of a datagram
    /// when Content-Length is absent.
    public var body: ArraySlice<UInt8>

    public init(startLine: StartLine, headers: SIPHeaders = SIPHeaders(), body: ArraySlice<UInt8> = []) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    /// A request with the given start line; add headers with `headers.append`.
    public init(method: SIPMethod, uri: URI, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) {
        self.init(startLine: .request(RequestLine(method: method, uri: uri)), headers: headers, body: body[...])
    }

    /// A response with the given status.
    public init(status code: Int, reason: String? = nil, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) {
        self.init(startLine: .response(StatusLine(code: code, reason: reason)), headers: headers, body: body[...])
    }

    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    public var requestLine: RequestLine? {
        if case .request(let r) = startLine { return r }
        return nil
    }

    public var statusLine: StatusLine? {
        if case .response(let s) = startLine { return s }
        return nil
    }

    /// The request method (nil for a response; see `cseq` for a response's method).
    public var method: SIPMethod? { requestLine?.method }

    /// The status code (nil for a request).
    public var statusCode: Int? { statusLine?.code }

    /// Replaces the body and sets Content-Length (and Content-Type when given) to match.
    public mutating func setBody(_ bytes: [UInt8], contentType: String? = nil) {
        body = bytes[...]
        headers.set(.contentLength, String(bytes.count))
        if let contentType { headers.set(.contentType, contentType) }
        if bytes.isEmpty && contentType == nil { headers.removeAll(.contentType) }
    }
}
