/// Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3) and RFC 5626 §4.4.1 keepalives.
///
/// Feed it whatever the socket delivered, in any split (byte by byte, several messages at once), then
/// call `next()` until it returns nil. Memory is bounded: a header section or message larger than the
/// limits is an error, after which the connection must be closed (the stream can no longer be framed,
/// RFC 4475 §3.1.2.3 ncl and §3.3.9 mcl01). So is a header section with a line that cannot be read,
/// since that line may have been the Content-Length (otherwise a body could pass for a message).
public struct SIPStreamFramer: Sendable {
    /// Which end of the connection this framer serves: it decides how bare CRLFs read (RFC 5626 §3.5.1:
    /// the client pings with CRLFCRLF, the server answers with one CRLF).
    public enum Role: Sendable {
        case server
        case client
    }

    public enum Event: Sendable {
        case message(SIPMessage)
        /// A message that was framed correctly (so the stream goes on) but did not parse: answer it with
        /// `SIPValidator.verdict(for:)` or drop it.
        case malformed(SIPParseFailure)
        /// A CRLFCRLF keepalive ping (server side): answer with a single CRLF.
        case ping
        /// A CRLF pong (client side).
        case pong
    }

    public let role: Role
    public let limits: SIPLimits
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where to resume looking for the end of the header section.
    private var scanFrom = 0
    /// Header section end and Content-Length of the message being assembled, once known.
    private var pending: (bodyStart: Int, length: Int)?
    private var failed: SIPParseError?

    public init(role: Role = .server, limits: SIPLimits = .default) {
        self.role = role
        self.limits = limits
    }

    /// Octets buffered and not yet returned.
    public var bufferedCount: Int { buffer.count - start }

    /// Adds received octets.
    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            scanFrom -= start
            if let p = pending { pending = (p.bodyStart - start, p.length) }
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message or keepalive, nil when more octets are needed. Once it has thrown, the
    /// stream is unusable and it throws the same error again.
    public mutating func next() throws(SIPParseError) -> Event? {
        if let failed { throw failed }
        do {
            return try nextEvent()
        } catch {
            failed = error
            buffer = []
            start = 0
            throw error
        }
    }

    private mutating func nextEvent() throws(SIPParseError) -> Event? {
        if pending == nil {
            // Keepalives and stray line ends between messages.
            while start < buffer.count, buffer[start] == ASCII.cr || buffer[start] == ASCII.lf {
                let available = buffer.count - start
                if role == .client {
                    if buffer[start] == ASCII.lf { start += 1; return .pong }
                    guard available >= 2 else { return nil }
                    if buffer[start + 1] == ASCII.lf { start += 2; return .pong }
                    start += 1
                    continue
                }
                if available >= 4, buffer[start] == ASCII.cr, buffer[start + 1] == ASCII.lf,
                   buffer[start + 2] == ASCII.cr, buffer[start + 3] == ASCII.lf {
                    start += 4
                    return .ping
                }
                // Could be the start of a ping that is still arriving.
                if available < 4 && buffer[start...].allSatisfy({ $0 == ASCII.cr || $0 == ASCII.lf }) { return nil }
                start += 1
            }
            if start >= buffer.count { return nil }
            scanFrom = max(scanFrom, start)
            // Find the empty line ending the header section.
            var i = scanFrom
            var bodyStart: Int? = nil
            while i < buffer.count {
                if buffer[i] == ASCII.lf {
                    if i + 1 < buffer.count, buffer[i + 1] == ASCII.lf { bodyStart = i + 2; break }
                    if i + 2 < buffer.count, buffer[i + 1] == ASCII.cr, buffer[i + 2] == ASCII.lf { bodyStart = i + 3; break }
                }
                i += 1
            }
            guard let bodyStart else {
                scanFrom = max(start, buffer.count - 2)
                if buffer.count - start > limits.maxMessageSize {
                    throw SIPParseError(.messageTooLarge, "header section longer than \(limits.maxMessageSize) octets", offset: start)
                }
                return nil
            }
            let headBytes = Array(buffer[start..<bodyStart])
            let length = try Self.contentLength(headBytes, limits: limits)
            guard bodyStart - start + length <= limits.maxMessageSize else {
                throw SIPParseError(.messageTooLarge, "message larger than \(limits.maxMessageSize) octets", offset: start)
            }
            pending = (bodyStart, length)
        }
        guard let (bodyStart, length) = pending, buffer.count >= bodyStart + length else { return nil }
        let messageBytes = Array(buffer[start..<(bodyStart + length)])
        start = bodyStart + length
        scanFrom = start
        pending = nil
        switch SIPMessageParser.parse(messageBytes, limits: limits, stream: true) {
        case .success(let message): return .message(message)
        case .failure(let failure): return .malformed(failure)
        }
    }

    /// The Content-Length of a header section; 0 when absent (RFC 3261 §18.3 makes it mandatory on
    /// streams). Several or malformed values make the stream unframeable.
    static func contentLength(_ head: [UInt8], limits: SIPLimits) throws(SIPParseError) -> Int {
        let parsed = SIPMessageParser.parseHead(head, limits: limits)
        // A start line that did not parse still frames (the message is then answered, e.g. 505),
        // unless it was not even recognisable as a request or response.
        if parsed.kind == .unknown, let error = parsed.error { throw error }
        // A header line that could not be read may have been the Content-Length: reading on would take
        // the body for the next message (RFC 4475 §3.1.2.3), so the stream cannot be framed.
        if let fault = parsed.headerError { throw fault }
        let headers = SIPHeaders(source: head, entries: parsed.entries)
        let indices = headers.indices(of: .contentLength)
        guard !indices.isEmpty else { return 0 }
        guard indices.count == 1 else {
            throw SIPParseError(.badContentLength, "more than one Content-Length on a stream", header: "Content-Length")
        }
        let value = headers.valueBytes(at: indices[0])
        guard !value.isEmpty, value.count <= 10, value.allSatisfy({ ByteClass.digit.contains($0) }) else {
            throw SIPParseError(.badContentLength, "Content-Length '\(String(bytes: value))' is not a non-negative integer", header: "Content-Length")
        }
        let n = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard n <= limits.maxMessageSize else {
            throw SIPParseError(.messageTooLarge, "Content-Length \(n) exceeds the limit", header: "Content-Length")
        }
        return n
    }
}
