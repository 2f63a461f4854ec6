extension SIPMessage {
    /// Parses one message from a datagram (RFC 3261 §18.3): octets after Content-Length are ignored;
    /// without Content-Length the body is the rest of the datagram. Leading CRLFs are skipped (§7.5).
    public static func parse(datagram bytes: [UInt8], limits: SIPLimits = .default) throws(SIPParseError) -> SIPMessage {
        switch SIPMessageParser.parse(bytes, limits: limits, stream: false) {
        case .success(let message): return message
        case .failure(let failure): throw failure.error
        }
    }

    /// Parses one message from a datagram like `parse(datagram:)`, but on failure returns what could be
    /// read: whether it was a request, and its well-formed header fields, so that the element can answer
    /// a malformed request (400, 505) or drop a malformed response (RFC 3261 §8.2, §18.1.2).
    public static func parseDetailed(datagram bytes: [UInt8], limits: SIPLimits = .default) -> Result<SIPMessage, SIPParseFailure> {
        SIPMessageParser.parse(bytes, limits: limits, stream: false)
    }

    /// Parses a message from text (tests, tools).
    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPParseError) {
        self = try SIPMessage.parse(datagram: Array(text.utf8), limits: limits)
    }
}

/// A message that could not be parsed, with as much of it as could be read: enough, for a request
/// whose start line and essential headers were readable, to send an error response (RFC 3261 §8.2,
/// RFC 4475 §3.1.2).
public struct SIPParseFailure: Error, Sendable {
    /// What the unparseable message appeared to be.
    public enum Kind: Sendable, Equatable {
        /// A request (its method, when the start line began with a token and a space).
        case request(SIPMethod)
        case response
        /// Neither could be told.
        case unknown
    }

    public var error: SIPParseError
    public var kind: Kind
    /// The well-formed header fields, when the header section could be read (even if the start line
    /// could not): what an error response copies Via, From, To, Call-ID and CSeq from.
    public var headers: SIPHeaders?
    /// The start line and the well-formed header fields (no body), when the start line was readable.
    public var partial: SIPMessage?

    public init(error: SIPParseError, kind: Kind = .unknown, headers: SIPHeaders? = nil, partial: SIPMessage? = nil) {
        self.error = error
        self.kind = kind
        self.headers = headers ?? partial?.headers
        self.partial = partial
    }
}

/// The message parser: start line, header section (with folding), Content-Length framing.
enum SIPMessageParser {
    static func parse(_ bytes: [UInt8], limits: SIPLimits, stream: Bool) -> Result<SIPMessage, SIPParseFailure> {
        guard bytes.count <= limits.maxMessageSize else {
            // Too large to parse; still say what it looked like, so a request can get 513.
            var k = 0
            while k < bytes.count, bytes[k] == ASCII.cr || bytes[k] == ASCII.lf { k += 1 }
            var e = k
            while e < bytes.count, e - k < 1024, bytes[e] != ASCII.cr, bytes[e] != ASCII.lf { e += 1 }
            return .failure(SIPParseFailure(error: SIPParseError(.messageTooLarge,
                "message of \(bytes.count) octets exceeds the limit of \(limits.maxMessageSize)"),
                kind: guessKind(bytes[k..<e])))
        }
        let head = parseHead(bytes, limits: limits)
        let headers = SIPHeaders(source: bytes, entries: head.entries)
        guard let startLine = head.startLine else {
            return .failure(SIPParseFailure(error: head.error!, kind: head.kind, headers: head.headersRead ? headers : nil))
        }
        var partial: SIPMessage { SIPMessage(startLine: startLine, headers: headers) }
        if let error = head.error { return .failure(SIPParseFailure(error: error, kind: head.kind, partial: partial)) }
        // Content-Length (RFC 3261 §20.14): one value, 1*DIGIT.
        var contentLength: Int? = nil
        for (index, e) in head.entries.enumerated() where e.id == HeaderName.contentLength.id {
            if contentLength != nil {
                return .failure(SIPParseFailure(error: SIPParseError(.badContentLength,
                    "more than one Content-Length", offset: Int(e.lineStart), header: "Content-Length"), kind: head.kind, partial: partial))
            }
            let value = headers.valueBytes(at: index)
            var n = 0
            var digits = 0
            for c in value {
                guard ByteClass.digit.contains(c) else {
                    let what = value.contains(ASCII.comma) ? "more than one Content-Length value" : "Content-Length is not a non-negative integer"
                    return .failure(SIPParseFailure(error: SIPParseError(.badContentLength, what,
                        offset: Int(e.valueStart), header: "Content-Length"), kind: head.kind, partial: partial))
                }
                n = n &* 10 &+ Int(c - 0x30)
                digits += 1
                if n > limits.maxMessageSize || digits > 10 {
                    return .failure(SIPParseFailure(error: SIPParseError(.messageTooLarge,
                        "Content-Length exceeds the message size limit", offset: Int(e.valueStart), header: "Content-Length"), kind: head.kind, partial: partial))
                }
            }
            guard digits > 0 else {
                return .failure(SIPParseFailure(error: SIPParseError(.badContentLength, "empty Content-Length",
                    offset: Int(e.valueStart), header: "Content-Length"), kind: head.kind, partial: partial))
            }
            contentLength = n
        }
        let available = bytes.count - head.bodyStart
        let bodyLength: Int
        if let contentLength {
            guard contentLength <= available else {
                return .failure(SIPParseFailure(error: SIPParseError(.bodyTooShort,
                    "Content-Length is \(contentLength) but only \(available) octets follow the header section",
                    offset: head.bodyStart, header: "Content-Length"), kind: head.kind, partial: partial))
            }
            bodyLength = contentLength
        } else {
            // RFC 3261 §18.3: on a stream Content-Length is mandatory (the framer treats it as 0);
            // in a datagram the body runs to the end.
            bodyLength = stream ? 0 : available
        }
        return .success(SIPMessage(startLine: startLine, headers: headers,
                                   body: bytes[head.bodyStart..<(head.bodyStart + bodyLength)]))
    }

    struct Head {
        var startLine: StartLine?
        var entries: [SIPHeaders.Entry] = []
        /// Offset of the first body octet (after the empty line).
        var bodyStart: Int = 0
        /// The first fault found; parsing of further header lines continues so that a partial message
        /// is as complete as possible.
        var error: SIPParseError?
        var kind: SIPParseFailure.Kind = .unknown
        /// Whether the header section was read (so `entries` is as complete as it can be).
        var headersRead = false
        /// The first header line that was left out of `entries` (malformed, too long, over the count):
        /// with one, any field may be missing, Content-Length included, so a stream cannot be framed.
        var headerError: SIPParseError?
    }

    /// Reads the start line and the header section.
    static func parseHead(_ bytes: [UInt8], limits: SIPLimits) -> Head {
        var head = Head()
        bytes.withUnsafeBufferPointer { buf in
            let n = buf.count
            var p = 0
            // §7.5: ignore CRLFs before the start line.
            while p < n, buf[p] == ASCII.cr || buf[p] == ASCII.lf { p += 1 }
            guard p < n else {
                head.error = SIPParseError(.empty, "no message, only line ends")
                return
            }
            // Start line
            let lineStart = p
            while p < n, buf[p] != ASCII.lf { p += 1 }
            guard p < n else {
                head.error = SIPParseError(.incomplete, "start line not terminated", offset: lineStart)
                return
            }
            var lineEnd = p
            if lineEnd > lineStart, buf[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
            p += 1
            let line = bytes[lineStart..<lineEnd]
            switch parseStartLine(line, limits: limits) {
            case .success(let startLine):
                head.startLine = startLine
                if case .request(let r) = startLine { head.kind = .request(r.method) } else { head.kind = .response }
            case .failure(let error):
                head.error = error
                head.kind = guessKind(line)
                // Read the headers anyway, so an error response can still be built (RFC 4475 §3.1.2).
                if head.kind == .unknown { return }
            }
            head.headersRead = true
            // Header fields
            head.entries.reserveCapacity(16)
            while true {
                guard p < n else {
                    // The datagram ended without the empty line. Accept it when the last header line was
                    // complete (RFC 4475 baddn's archive form); there is no body.
                    head.bodyStart = n
                    return
                }
                if buf[p] == ASCII.lf { head.bodyStart = p + 1; return }
                if buf[p] == ASCII.cr {
                    if p + 1 < n, buf[p + 1] == ASCII.lf { head.bodyStart = p + 2; return }
                    if p + 1 == n { head.bodyStart = n; return }
                }
                let fieldStart = p
                /// Records a header line that is left out of `entries`.
                func skip(_ fault: SIPParseError) {
                    if head.error == nil { head.error = fault }
                    if head.headerError == nil { head.headerError = fault }
                }
                if ASCII.isWhitespace(buf[p]) {
                    skip(SIPParseError(.badHeaderLine, "header line starts with whitespace but continues nothing", offset: p))
                }
                // Find the end of the field: a line end not followed by SP/HT.
                var folded = false
                var end = p
                while true {
                    while end < n, buf[end] != ASCII.lf { end += 1 }
                    if end >= n {
                        if head.error == nil {
                            head.error = SIPParseError(.incomplete, "header section not terminated", offset: fieldStart)
                        }
                        head.bodyStart = n
                        return
                    }
                    if end + 1 < n, ASCII.isWhitespace(buf[end + 1]) {
                        folded = true
                        end += 1
                        continue
                    }
                    break
                }
                let next = end + 1
                var lineEnd = end
                if lineEnd > fieldStart, buf[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
                defer { p = next }
                if lineEnd - fieldStart > limits.maxHeaderLength {
                    skip(SIPParseError(.headerTooLong,
                        "header field of \(lineEnd - fieldStart) octets exceeds the limit of \(limits.maxHeaderLength)", offset: fieldStart))
                    continue
                }
                if head.entries.count >= limits.maxHeaderCount {
                    skip(SIPParseError(.tooManyHeaders, "more than \(limits.maxHeaderCount) header fields", offset: fieldStart))
                    continue
                }
                if ASCII.isWhitespace(buf[fieldStart]) { continue }
                // field-name HCOLON: token, optional whitespace (folds too, RFC 4475 wsinv), colon.
                var q = fieldStart
                while q < lineEnd, ByteClass.token.contains(buf[q]) { q += 1 }
                let nameEnd = q
                while q < lineEnd, ASCII.isLWS(buf[q]) { q += 1 }
                guard nameEnd > fieldStart, q < lineEnd, buf[q] == ASCII.colon else {
                    skip(SIPParseError(.badHeaderLine,
                        nameEnd == fieldStart ? "header line does not start with a field name" : "header field name not followed by ':'",
                        offset: nameEnd))
                    continue
                }
                q += 1
                while q < lineEnd, ASCII.isLWS(buf[q]) { q += 1 }
                var valueEnd = lineEnd
                while valueEnd > q, ASCII.isLWS(buf[valueEnd - 1]) { valueEnd -= 1 }
                var hasFold = false
                if folded {
                    var k = q
                    while k < valueEnd { if buf[k] == ASCII.lf || buf[k] == ASCII.cr { hasFold = true; break }; k += 1 }
                }
                let id = HeaderName.lookup(bytes[fieldStart..<nameEnd]) ?? 0
                head.entries.append(SIPHeaders.Entry(
                    id: id, lineStart: Int32(fieldStart), nameEnd: Int32(nameEnd),
                    valueStart: Int32(q), valueEnd: Int32(valueEnd), addedIndex: -1, folded: hasFold))
            }
        }
        return head
    }

    static func parseStartLine(_ line: ArraySlice<UInt8>, limits: SIPLimits) -> Result<StartLine, SIPParseError> {
        let s = line.startIndex
        if line.count >= 4, line.prefix(4).equalsLowercased("sip/") {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            guard let sp = line.firstIndex(of: ASCII.sp) else {
                return .failure(SIPParseError(.badStartLine, "status line has no status code", offset: s))
            }
            let version = line[s..<sp]
            guard isVersionSyntax(version) else {
                return .failure(SIPParseError(.badVersion, "malformed SIP version '\(String(bytes: version))'", offset: s))
            }
            guard version.equalsLowercased("sip/2.0") else {
                return .failure(SIPParseError(.badVersion, "unsupported SIP version \(String(bytes: version))", offset: s))
            }
            let cs = sp + 1
            var ce = cs
            while ce < line.endIndex, ByteClass.digit.contains(line[ce]) { ce += 1 }
            guard ce - cs == 3 else {
                return .failure(SIPParseError(.badStatusCode, "status code is not three digits", offset: cs))
            }
            let code = line[cs..<ce].reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard (100...699).contains(code) else {
                return .failure(SIPParseError(.badStatusCode, "status code \(code) outside 100–699", offset: cs))
            }
            var reason = ""
            if ce < line.endIndex {
                guard line[ce] == ASCII.sp else {
                    return .failure(SIPParseError(.badStartLine, "status code not followed by a space", offset: ce))
                }
                let phrase = line[(ce + 1)...]
                if phrase.contains(where: { $0 < 0x20 && $0 != ASCII.ht }) {
                    return .failure(SIPParseError(.badStartLine, "control character in reason phrase", offset: ce + 1))
                }
                reason = String(bytes: phrase)
            }
            return .success(.response(StatusLine(code: code, reason: reason, version: String(bytes: version))))
        }
        // Request-Line = Method SP Request-URI SP SIP-Version
        var p = s
        while p < line.endIndex, ByteClass.token.contains(line[p]) { p += 1 }
        guard p > s else {
            return .failure(SIPParseError(.badStartLine, "start line is neither a request line nor a status line", offset: s))
        }
        guard p < line.endIndex, line[p] == ASCII.sp else {
            return .failure(SIPParseError(.badMethod, "method is not a token followed by a space", offset: p))
        }
        let method = SIPMethod(String(bytes: line[s..<p]))
        let us = p + 1
        guard us < line.endIndex, line[us] != ASCII.sp else {
            return .failure(SIPParseError(.badStartLine, "more than one space before the Request-URI", offset: us))
        }
        guard let lastSpace = line.lastIndex(of: ASCII.sp), lastSpace > us else {
            return .failure(SIPParseError(.badStartLine, "request line has no SIP version", offset: us))
        }
        let version = line[(lastSpace + 1)...]
        if version.isEmpty {
            return .failure(SIPParseError(.badStartLine, "whitespace after the SIP version", offset: lastSpace))
        }
        let uriBytes = line[us..<lastSpace]
        if let inner = uriBytes.firstIndex(where: ASCII.isWhitespace) {
            // Either whitespace inside the URI (RFC 4475 lwsruri) or extra spaces before the version.
            let tail = uriBytes[inner...].drop(while: ASCII.isWhitespace)
            let message = tail.isEmpty ? "more than one space before the SIP version" : "whitespace inside the Request-URI"
            return .failure(SIPParseError(.badRequestURI, message, offset: inner))
        }
        guard isVersionSyntax(version) else {
            return .failure(SIPParseError(.badStartLine, "malformed SIP version '\(String(bytes: version))'", offset: lastSpace + 1))
        }
        guard version.equalsLowercased("sip/2.0") else {
            return .failure(SIPParseError(.badVersion, "unsupported SIP version \(String(bytes: version))", offset: lastSpace + 1))
        }
        do {
            let uri = try URIParser.parse(uriBytes, context: .requestURI, limits: limits)
            return .success(.request(RequestLine(method: method, uri: uri, version: String(bytes: version))))
        } catch {
            var e = error
            if e.code == .badURI { e.code = .badRequestURI }
            e.message = "Request-URI: " + e.message
            return .failure(e)
        }
    }

    /// What a start line that did not parse seems to be.
    static func guessKind(_ line: ArraySlice<UInt8>) -> SIPParseFailure.Kind {
        if line.count >= 4, line.prefix(4).equalsLowercased("sip/") { return .response }
        var p = line.startIndex
        while p < line.endIndex, ByteClass.token.contains(line[p]) { p += 1 }
        if p > line.startIndex, p < line.endIndex, line[p] == ASCII.sp {
            return .request(SIPMethod(String(bytes: line[line.startIndex..<p])))
        }
        return .unknown
    }

    /// `"SIP" "/" 1*DIGIT "." 1*DIGIT`
    static func isVersionSyntax(_ v: ArraySlice<UInt8>) -> Bool {
        guard v.count >= 7, v.prefix(4).equalsLowercased("sip/") else { return false }
        let rest = v.dropFirst(4)
        guard let dot = rest.firstIndex(of: 0x2E) else { return false }
        let major = rest[rest.startIndex..<dot], minor = rest[(dot + 1)...]
        return !major.isEmpty && !minor.isEmpty && major.allSatisfy { ByteClass.digit.contains($0) } && minor.allSatisfy { ByteClass.digit.contains($0) }
    }
}
