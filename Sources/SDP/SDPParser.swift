/// The RFC 4566 §5 parser. Works on bytes; every failure is an `SDPError` naming the line.
///
/// Accepted leniencies: LF or CRLF line ends, a missing final line end, empty lines at the very end,
/// runs of spaces between the words of structured fields, and session-level fields in any order
/// after `v=` (RFC 4566 §5 fixes the order, but real peers do not always follow it). Not accepted:
/// bare CR, NUL, invalid UTF-8, unknown type letters (RFC 4566 §5 says such a description must be
/// ignored), session-only fields inside a media section, and repeated single-occurrence fields.
struct SDPParser {
    let limits: SDPLimits

    private enum Section {
        case session
        case media
    }

    func parse(_ bytes: some Collection<UInt8>) throws(SDPError) -> SessionDescription {
        guard bytes.count <= limits.maxBytes else {
            throw SDPError(.tooLarge, "description is \(bytes.count) bytes, limit is \(limits.maxBytes)")
        }
        let lines = try splitLines(Array(bytes))

        var version: Int?
        var origin: Origin?
        var sessionName: String?
        var information: String?
        var uri: String?
        var emails: [String] = []
        var phones: [String] = []
        var connection: Connection?
        var bandwidths: [Bandwidth] = []
        var timings: [Timing] = []
        var timeZones: String?
        var key: String?
        var attributes: [Attribute] = []
        var media: [MediaDescription] = []
        var section = Section.session
        var lastWasTimingOrRepeat = false

        for (index, line) in lines.enumerated() {
            let number = index + 1
            let type = line.type
            let value = line.value
            if index == 0 {
                guard type == "v" else {
                    throw SDPError(.missingVersion, "description must start with v=, found \(type)=", line: number)
                }
                guard value == "0" else {
                    throw SDPError(.unsupportedVersion, "v=\(value) is not 0", line: number)
                }
                version = 0
                continue
            }
            if type == "m" {
                guard media.count < limits.maxMediaSections else {
                    throw SDPError(.tooManyMediaSections,
                                   "more than \(limits.maxMediaSections) m= sections", line: number)
                }
                media.append(try parseMedia(value, line: number))
                section = .media
                lastWasTimingOrRepeat = false
                continue
            }
            switch section {
            case .session:
                defer { lastWasTimingOrRepeat = (type == "t" || type == "r") }
                switch type {
                case "v":
                    throw SDPError(.duplicateField, "v= may appear only once, as the first line", line: number)
                case "o":
                    guard origin == nil else { throw SDPError(.duplicateField, "second o= line", line: number) }
                    origin = try parseOrigin(value, line: number)
                case "s":
                    guard sessionName == nil else { throw SDPError(.duplicateField, "second s= line", line: number) }
                    sessionName = value
                case "i":
                    guard information == nil else { throw SDPError(.duplicateField, "second session i= line", line: number) }
                    information = value
                case "u":
                    guard uri == nil else { throw SDPError(.duplicateField, "second u= line", line: number) }
                    uri = value
                case "e":
                    emails.append(value)
                case "p":
                    phones.append(value)
                case "c":
                    guard connection == nil else {
                        throw SDPError(.duplicateField, "second session-level c= line", line: number)
                    }
                    connection = try parseConnection(value, line: number)
                case "b":
                    bandwidths.append(try parseBandwidth(value, line: number))
                case "t":
                    timings.append(try parseTiming(value, line: number))
                case "r":
                    guard lastWasTimingOrRepeat, !timings.isEmpty else {
                        throw SDPError(.misplacedField, "r= must follow a t= line", line: number)
                    }
                    try checkTypedTimes(value, minimum: 3, code: .badRepeat, field: "r=", line: number)
                    timings[timings.count - 1].repeats.append(value)
                case "z":
                    guard timeZones == nil else { throw SDPError(.duplicateField, "second z= line", line: number) }
                    try checkTimeZones(value, line: number)
                    timeZones = value
                case "k":
                    guard key == nil else { throw SDPError(.duplicateField, "second session k= line", line: number) }
                    key = value
                case "a":
                    attributes.append(try parseAttribute(value, line: number))
                default:
                    throw SDPError(.unknownType, "unknown type letter '\(type)'", line: number)
                }
            case .media:
                let m = media.count - 1
                switch type {
                case "i":
                    guard media[m].information == nil else {
                        throw SDPError(.duplicateField, "second i= line in media section \(m + 1)", line: number)
                    }
                    media[m].information = value
                case "c":
                    media[m].connections.append(try parseConnection(value, line: number))
                case "b":
                    media[m].bandwidths.append(try parseBandwidth(value, line: number))
                case "k":
                    guard media[m].encryptionKey == nil else {
                        throw SDPError(.duplicateField, "second k= line in media section \(m + 1)", line: number)
                    }
                    media[m].encryptionKey = value
                case "a":
                    media[m].attributes.append(try parseAttribute(value, line: number))
                case "v", "o", "s", "u", "e", "p", "t", "r", "z":
                    throw SDPError(.misplacedField, "\(type)= is a session-level field but appears in media section \(m + 1)", line: number)
                default:
                    throw SDPError(.unknownType, "unknown type letter '\(type)'", line: number)
                }
            }
        }

        guard version != nil else { throw SDPError(.missingVersion, "empty description, v= missing") }
        guard let origin else { throw SDPError(.missingField, "o= line missing") }
        guard let sessionName else { throw SDPError(.missingField, "s= line missing") }
        guard !timings.isEmpty else { throw SDPError(.missingField, "t= line missing") }
        return SessionDescription(version: 0, origin: origin, sessionName: sessionName, information: information,
                                  uri: uri, emails: emails, phones: phones, connection: connection,
                                  bandwidths: bandwidths, timings: timings, timeZones: timeZones,
                                  encryptionKey: key, attributes: attributes, media: media)
    }

    // MARK: Lines

    private struct Line {
        var type: Character
        var value: String
    }

    private func splitLines(_ bytes: [UInt8]) throws(SDPError) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var number = 0
        var pendingBlank = 0 // blank lines seen but not yet known to be trailing
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > start && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            number += 1
            guard number <= limits.maxLines else {
                throw SDPError(.tooManyLines, "more than \(limits.maxLines) lines", line: number)
            }
            if contentEnd == start {
                pendingBlank += 1
            } else {
                if pendingBlank > 0 {
                    throw SDPError(.malformedLine, "empty line", line: number - pendingBlank)
                }
                lines.append(try makeLine(bytes[start..<contentEnd], line: number))
            }
            start = end + 1
        }
        if lines.isEmpty { throw SDPError(.missingVersion, "empty description, v= missing", line: nil) }
        return lines
    }

    private func makeLine(_ bytes: ArraySlice<UInt8>, line: Int) throws(SDPError) -> Line {
        for byte in bytes where byte == 0x00 || byte == 0x0D {
            throw SDPError(.invalidCharacter, byte == 0 ? "NUL byte" : "bare CR (line ends must be CRLF or LF)", line: line)
        }
        let first = bytes[bytes.startIndex]
        guard bytes.count >= 2, bytes[bytes.startIndex + 1] == UInt8(ascii: "=") else {
            throw SDPError(.malformedLine, "line is not <type>=<value>", line: line)
        }
        guard first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z") else {
            throw SDPError(.malformedLine, "type must be one lower-case letter", line: line)
        }
        let valueBytes = bytes[(bytes.startIndex + 2)...]
        let value = String(decoding: valueBytes, as: UTF8.self)
        guard value.utf8.elementsEqual(valueBytes) else {
            throw SDPError(.invalidUTF8, "value of \(Character(Unicode.Scalar(first)))= is not valid UTF-8", line: line)
        }
        return Line(type: Character(Unicode.Scalar(first)), value: value)
    }

    // MARK: Fields

    private func words(_ value: String) -> [Substring] {
        value.split(separator: " ", omittingEmptySubsequences: true)
    }

    private func parseOrigin(_ value: String, line: Int) throws(SDPError) -> Origin {
        let w = words(value)
        guard w.count == 6 else {
            throw SDPError(.badOrigin, "o= needs 6 fields (username sess-id sess-version nettype addrtype address), found \(w.count)", line: line)
        }
        guard isDigits(w[1]) else { throw SDPError(.badOrigin, "o= sess-id '\(w[1])' is not a number", line: line) }
        guard let version = parseUInt64(w[2]) else {
            throw SDPError(.badOrigin, "o= sess-version '\(w[2])' is not a 64-bit number", line: line)
        }
        return Origin(username: String(w[0]), sessionID: String(w[1]), sessionVersion: version,
                      networkType: String(w[3]), addressType: String(w[4]), unicastAddress: String(w[5]))
    }

    private func parseConnection(_ value: String, line: Int) throws(SDPError) -> Connection {
        let w = words(value)
        guard w.count == 3 else {
            throw SDPError(.badConnection, "c= needs 3 fields (nettype addrtype address), found \(w.count)", line: line)
        }
        let addrType = String(w[1])
        let parts = w[2].split(separator: "/", omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty else {
            throw SDPError(.badConnection, "c= address is empty", line: line)
        }
        var ttl: Int?
        var count: Int?
        switch (addrType, parts.count) {
        case (_, 1):
            break
        case ("IP4", 2):
            ttl = try connectionNumber(parts[1], max: 255, what: "TTL", line: line)
        case ("IP4", 3):
            ttl = try connectionNumber(parts[1], max: 255, what: "TTL", line: line)
            count = try connectionNumber(parts[2], max: 65535, what: "number of addresses", line: line)
        case ("IP6", 2):
            count = try connectionNumber(parts[1], max: 65535, what: "number of addresses", line: line)
        default:
            throw SDPError(.badConnection, "c= address '\(w[2])' has too many '/' parts for \(addrType)", line: line)
        }
        if let count, count < 1 {
            throw SDPError(.badConnection, "c= number of addresses must be at least 1", line: line)
        }
        return Connection(networkType: String(w[0]), addressType: addrType, address: String(host),
                          ttl: ttl, numberOfAddresses: count)
    }

    private func connectionNumber(_ text: Substring, max: Int, what: String, line: Int) throws(SDPError) -> Int {
        guard let n = parseUInt64(text), n <= UInt64(max) else {
            throw SDPError(.badConnection, "c= \(what) '\(text)' is not a number in 0…\(max)", line: line)
        }
        return Int(n)
    }

    private func parseBandwidth(_ value: String, line: Int) throws(SDPError) -> Bandwidth {
        guard let colon = value.firstIndex(of: ":") else {
            throw SDPError(.badBandwidth, "b= must be <bwtype>:<bandwidth>", line: line)
        }
        let type = value[..<colon]
        guard !type.isEmpty, isToken(type) else {
            throw SDPError(.badBandwidth, "b= type '\(type)' is not a token", line: line)
        }
        guard let n = parseUInt64(value[value.index(after: colon)...]) else {
            throw SDPError(.badBandwidth, "b= bandwidth is not a number", line: line)
        }
        return Bandwidth(type: String(type), value: n)
    }

    private func parseTiming(_ value: String, line: Int) throws(SDPError) -> Timing {
        let w = words(value)
        guard w.count == 2, let start = parseUInt64(w[0]), let stop = parseUInt64(w[1]) else {
            throw SDPError(.badTiming, "t= must be <start-time> <stop-time> (two numbers)", line: line)
        }
        return Timing(start: start, stop: stop)
    }

    /// `r=` and `z=` use typed times: digits optionally followed by d, h, m or s (RFC 4566 §5.10).
    private func checkTypedTimes(_ value: String, minimum: Int, code: SDPError.Code, field: String,
                                 line: Int) throws(SDPError) {
        let w = words(value)
        guard w.count >= minimum else {
            throw SDPError(code, "\(field) needs at least \(minimum) values, found \(w.count)", line: line)
        }
        for word in w where !isTypedTime(word) {
            throw SDPError(code, "\(field) value '\(word)' is not a typed time", line: line)
        }
    }

    private func checkTimeZones(_ value: String, line: Int) throws(SDPError) {
        let w = words(value)
        guard !w.isEmpty, w.count % 2 == 0 else {
            throw SDPError(.badTimeZone, "z= must be pairs of <adjustment time> <offset>", line: line)
        }
        for (i, word) in w.enumerated() {
            let ok = i % 2 == 0 ? isDigits(word) : isTypedTime(word.first == "-" ? word.dropFirst() : word)
            guard ok else { throw SDPError(.badTimeZone, "z= value '\(word)' is malformed", line: line) }
        }
    }

    private func parseAttribute(_ value: String, line: Int) throws(SDPError) -> Attribute {
        let name: Substring
        var attrValue: String?
        if let colon = value.firstIndex(of: ":") {
            name = value[..<colon]
            attrValue = String(value[value.index(after: colon)...])
        } else {
            name = value[...]
        }
        guard !name.isEmpty, isToken(name) else {
            throw SDPError(.badAttribute, "a= attribute name '\(name)' is not a token", line: line)
        }
        let attribute = Attribute(String(name), attrValue)
        if attribute.name == "rtpmap" {
            guard RTPMap(attribute: attribute) != nil else {
                throw SDPError(.badAttribute, "a=rtpmap must be <payload type> <encoding name>/<clock rate>[/<channels>]", line: line)
            }
        }
        return attribute
    }

    private func parseMedia(_ value: String, line: Int) throws(SDPError) -> MediaDescription {
        let w = words(value)
        guard w.count >= 4 else {
            throw SDPError(.badMedia, "m= needs <media> <port> <proto> <fmt>..., found \(w.count) fields", line: line)
        }
        guard isToken(w[0]) else { throw SDPError(.badMedia, "m= media '\(w[0])' is not a token", line: line) }
        let portParts = w[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portParts.count <= 2, let port = parseUInt64(portParts[0]), port <= 65535 else {
            throw SDPError(.badPort, "m= port '\(w[1])' is not a number in 0…65535", line: line)
        }
        var numberOfPorts: Int?
        if portParts.count == 2 {
            guard let n = parseUInt64(portParts[1]), n >= 1, n <= 65535 else {
                throw SDPError(.badPort, "m= number of ports '\(portParts[1])' is not a number in 1…65535", line: line)
            }
            numberOfPorts = Int(n)
        }
        let proto = w[2]
        guard proto.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && isToken($0) }) else {
            throw SDPError(.badMedia, "m= proto '\(proto)' is malformed", line: line)
        }
        let formats = w[3...]
        guard formats.count <= limits.maxFormatsPerMedia else {
            throw SDPError(.tooManyItems, "m= lists \(formats.count) formats, limit is \(limits.maxFormatsPerMedia)", line: line)
        }
        let isRTP = proto.uppercased().split(separator: "/").contains("RTP")
        for format in formats {
            if isRTP {
                guard let pt = parseUInt64(format), pt <= 127 else {
                    throw SDPError(.badFormat, "m= format '\(format)' is not an RTP payload type (0…127)", line: line)
                }
            } else if !isToken(format) {
                throw SDPError(.badFormat, "m= format '\(format)' is not a token", line: line)
            }
        }
        return MediaDescription(media: String(w[0]), port: UInt16(port), numberOfPorts: numberOfPorts,
                                proto: String(proto), formats: formats.map(String.init))
    }
}

// MARK: - Lexical helpers (RFC 4566 §9 grammar)

func isDigits(_ text: some StringProtocol) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}

/// Digits that fit in 64 bits (at most 19 digits, so no overflow is possible).
func parseUInt64(_ text: some StringProtocol) -> UInt64? {
    guard isDigits(text), text.utf8.count <= 19 else { return nil }
    var n: UInt64 = 0
    for byte in text.utf8 { n = n * 10 + UInt64(byte - 0x30) }
    return n
}

/// RFC 4566 `token`: visible ASCII except the separators it excludes.
func isToken(_ text: some StringProtocol) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { byte in
        switch byte {
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: return true
        default: return false
        }
    }
}

func isTypedTime(_ text: some StringProtocol) -> Bool {
    guard let last = text.last else { return false }
    if "dhms".contains(last) { return isDigits(text.dropLast()) }
    return isDigits(text)
}
