/// A cursor over a header value's octets for the typed views. Whitespace includes folds (CR, LF), so
/// views never have to care whether a value was folded.
struct ValueScanner {
    let bytes: ArraySlice<UInt8>
    var i: Int
    let header: String

    init(_ bytes: ArraySlice<UInt8>, header: String) {
        self.bytes = bytes
        self.i = bytes.startIndex
        self.header = header
    }

    var atEnd: Bool { i >= bytes.endIndex }
    var peek: UInt8? { i < bytes.endIndex ? bytes[i] : nil }
    /// Where the cursor is, as an index of the octets scanned: for a value of a parsed message, an offset
    /// in the message (like the URI parser's), so every fault points at the same octets.
    var offset: Int { i }

    func error(_ message: String) -> SIPParseError {
        SIPParseError(.badHeaderValue, message, offset: offset, header: header)
    }

    @discardableResult
    mutating func skipLWS() -> Bool {
        let start = i
        while i < bytes.endIndex, ASCII.isLWS(bytes[i]) { i += 1 }
        return i > start
    }

    /// Consumes `c` (after optional whitespace) if it is next.
    mutating func accept(_ c: UInt8) -> Bool {
        let save = i
        skipLWS()
        if i < bytes.endIndex, bytes[i] == c { i += 1; return true }
        i = save
        return false
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(SIPParseError) {
        guard accept(c) else { throw error("expected \(what)") }
    }

    mutating func expectEnd() throws(SIPParseError) {
        skipLWS()
        guard atEnd else { throw error("unexpected '\(String(bytes: bytes[i..<Swift.min(i + 8, bytes.endIndex)]))'") }
    }

    /// 1*(chars in `set`), after optional whitespace.
    mutating func run(_ set: ByteClass) -> ArraySlice<UInt8>? {
        skipLWS()
        let s = i
        while i < bytes.endIndex, set.contains(bytes[i]) { i += 1 }
        return i > s ? bytes[s..<i] : nil
    }

    mutating func token(_ what: String) throws(SIPParseError) -> String {
        guard let t = run(ByteClass.token) else { throw error("expected \(what)") }
        return String(bytes: t)
    }

    /// An unsigned decimal that must fit `max`.
    mutating func number(_ what: String, max: UInt64) throws(SIPParseError) -> UInt64 {
        guard let d = run(ByteClass.digit) else { throw error("expected \(what)") }
        var n: UInt64 = 0
        for c in d {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 || a > max { throw error("\(what) \(String(bytes: d)) is larger than \(max)") }
            n = a
        }
        return n
    }

    /// A quoted-string after optional whitespace: the raw text with quotes, and the content with
    /// quoted-pairs resolved and each fold (with the whitespace around it) read as one space (RFC 3261
    /// §7.3.1). UTF-8 is allowed inside (RFC 3261 §25.1 qdtext).
    mutating func quotedString() throws(SIPParseError) -> (raw: ArraySlice<UInt8>, text: String) {
        skipLWS()
        guard i < bytes.endIndex, bytes[i] == ASCII.quote else { throw error("expected a quoted string") }
        let s = i
        i += 1
        var content: [UInt8] = []
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == ASCII.quote {
                i += 1
                return (bytes[s..<i], String(bytes: content))
            }
            if c == ASCII.backslash {
                guard i + 1 < bytes.endIndex else { break }
                let q = bytes[i + 1]
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                guard q != ASCII.lf && q != ASCII.cr && q < 0x80 else { throw error("bad quoted-pair") }
                content.append(q)
                i += 2
                continue
            }
            if c == ASCII.cr || c == ASCII.lf {
                while let last = content.last, ASCII.isWhitespace(last) { content.removeLast() }
                while i < bytes.endIndex, ASCII.isLWS(bytes[i]) { i += 1 }
                content.append(ASCII.sp)
                continue
            }
            content.append(c)
            i += 1
        }
        throw error("unterminated quoted string")
    }

    /// `*( SEMI generic-param )`: `;name[=value]` with whitespace around `;` and `=`; a value is a token,
    /// a host (IPv6 reference included) or a quoted string (kept with its quotes).
    mutating func parameters(limit: Int) throws(SIPParseError) -> [Parameter] {
        var result: [Parameter] = []
        while accept(ASCII.semicolon) {
            guard let name = run(ByteClass.token) else { throw error("empty parameter") }
            var value: String? = nil
            if accept(ASCII.equals) {
                skipLWS()
                if peek == ASCII.quote {
                    value = String(bytes: try quotedString().raw)
                } else if let v = run(ByteClass.paramValue) {
                    value = String(bytes: v)
                } else {
                    value = ""
                }
            }
            // Room for a typical Via's or To's few parameters at once, not 1, 2, then 4.
            if result.isEmpty { result.reserveCapacity(4) }
            result.append(Parameter(String(bytes: name), value))
            guard result.count <= limit else { throw error("more than \(limit) parameters") }
        }
        return result
    }
}

/// Splits a list header value into its elements and reports empty elements as errors.
func listElements(_ bytes: ArraySlice<UInt8>, header: String, limits: SIPLimits) throws(SIPParseError) -> [ArraySlice<UInt8>] {
    let ranges = ListSplitter.split(bytes)
    guard ranges.count <= limits.maxValuesPerHeader else {
        throw SIPParseError(.badHeaderValue, "more than \(limits.maxValuesPerHeader) values", header: header)
    }
    var result: [ArraySlice<UInt8>] = []
    result.reserveCapacity(ranges.count)
    for r in ranges {
        let element = bytes[r]
        guard element.contains(where: { !ASCII.isLWS($0) }) else {
            throw SIPParseError(.badHeaderValue, "empty list element", offset: r.lowerBound, header: header)
        }
        result.append(element)
    }
    return result
}

extension String {
    /// The content of a quoted string (without quotes, quoted-pairs resolved); other text unchanged.
    var unquoted: String {
        let u = Array(utf8)
        guard u.count >= 2, u.first == ASCII.quote, u.last == ASCII.quote else { return self }
        var out: [UInt8] = []
        var i = 1
        while i < u.count - 1 {
            if u[i] == ASCII.backslash, i + 1 < u.count - 1 { out.append(u[i + 1]); i += 2; continue }
            out.append(u[i])
            i += 1
        }
        return String(bytes: out)
    }
}
