extension SIPMessage {
    /// The message as octets.
    ///
    /// Header fields that were parsed and not changed are written exactly as received (name spelling,
    /// compact forms, spacing, folds). Documented normalisation: the start line is rebuilt from its parts
    /// with single spaces; every line ends in CRLF (bare LF input becomes CRLF); octets after the body
    /// that a datagram carried beyond Content-Length are not written (RFC 3261 §18.3); leading CRLFs are
    /// dropped. Content-Length is not added or changed here: `setBody` keeps it right.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headers.source.count + 64)
        switch startLine {
        case .request(let r):
            out.append(contentsOf: r.method.rawValue.utf8)
            out.append(ASCII.sp)
            out.append(contentsOf: r.uri.description.utf8)
            out.append(ASCII.sp)
            out.append(contentsOf: r.version.utf8)
        case .response(let s):
            out.append(contentsOf: s.version.utf8)
            out.append(ASCII.sp)
            let code = s.code
            out.append(UInt8(0x30 + code / 100 % 10))
            out.append(UInt8(0x30 + code / 10 % 10))
            out.append(UInt8(0x30 + code % 10))
            out.append(ASCII.sp)
            out.append(contentsOf: s.reason.utf8)
        }
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        headers.serialize(into: &out)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        out.append(contentsOf: body)
        return out
    }

    /// The message as text (for logs and tests; invalid UTF-8 in a body is repaired).
    public var text: String { String(bytes: serialized()) }
}
