import SIPCore
import Testing

/// Runs `body` and returns how long it took.
private func timed(_ body: () -> Void) -> Duration {
    ContinuousClock().measure(body)
}

@Suite("Limits")
struct LimitsTests {
    @Test("a datagram over 64 KiB is refused at once")
    func messageTooLarge() {
        let bytes = request(body: String(repeating: "a", count: 70_000))
        var error: SIPParseError?
        let elapsed = timed { error = parseError(bytes) }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.message.contains("65536") == true)
        #expect(elapsed < .seconds(1))
        #expect(SIPLimits.default.maxMessageSize == 65_536)
        // Still recognisably a request: answered 513, not dropped.
        #expect(outcome(inspect(bytes, as: .uas).verdict) == "513")
        #expect(outcome(inspect(Array("SIP/2.0 200 OK\r\n".utf8) + bytes, as: .uas).verdict) == "drop")
        // Exactly at the limit is fine.
        let head = request(body: "").count
        let fits = request(body: String(repeating: "a", count: 65_536 - head - 4))
        #expect(fits.count == 65_536)
        #expect(parseError(fits) == nil)
    }

    @Test("too many header fields")
    func tooManyHeaders() throws {
        let extra = (0..<300).map { "X-H\($0): v" }
        let bytes = request(extra: extra)
        var error: SIPParseError?
        let elapsed = timed { error = parseError(bytes) }
        #expect(error?.code == .tooManyHeaders)
        #expect(error?.message.contains("256") == true)
        // The offset is the first field over the limit: the 257th field (request() has 6 before the extras).
        let line = Array("X-H250: v".utf8)
        let offset = try #require(error?.offset)
        #expect(Array(bytes[offset..<(offset + line.count)]) == line)
        #expect(elapsed < .seconds(1))
        // A request is still answerable: the failure keeps the fields read so far.
        #expect(outcome(inspect(bytes, as: .uas).verdict) == "400")
    }

    @Test("a custom header count limit")
    func customHeaderCount() {
        var limits = SIPLimits()
        // request() has 7 header fields.
        limits.maxHeaderCount = 6
        #expect(parseError(request(), limits: limits)?.code == .tooManyHeaders)
        limits.maxHeaderCount = 7
        #expect(parseError(request(), limits: limits) == nil)
    }

    @Test("a header field longer than 8 KiB")
    func headerTooLong() throws {
        let bytes = request(extra: ["Subject: " + String(repeating: "x", count: 9_000)])
        let error = try #require(parseError(bytes))
        #expect(error.code == .headerTooLong)
        #expect(error.message.contains("8192"))
        #expect(Array(bytes[error.offset..<(error.offset + 8)]) == Array("Subject:".utf8))
        // Folded lines count as one field.
        let folded = request(extra: ["Subject: a"] + Array(repeating: " " + String(repeating: "y", count: 1000), count: 9))
        #expect(parseError(folded)?.code == .headerTooLong)
    }

    @Test("a Request-URI longer than 2 KiB")
    func uriTooLong() throws {
        let uri = "sip:" + String(repeating: "u", count: 3_000) + "@example.com"
        let error = try #require(parseError(request(uri: uri)))
        #expect(error.code == .uriTooLong)
        #expect(error.message.contains("Request-URI"))
        #expect(outcome(inspect(request(uri: uri), as: .uas).verdict) == "400")
    }

    @Test("a URI in a header longer than 2 KiB fails its view")
    func headerURITooLong() throws {
        let m = try SIPMessage.parse(datagram: request(extra: ["Contact: <sip:" + String(repeating: "c", count: 3_000) + "@example.com>"]))
        let error = try #require(viewError { try m.contact() })
        #expect(error.code == .uriTooLong)
        #expect(error.header == "Contact")
    }

    @Test("a huge Content-Length is refused quickly, never used as a size", arguments: [
        "99999999999999999999999999999", "4294967296", "2147483648", "65537", "18446744073709551615",
    ])
    func hugeContentLength(value: String) throws {
        let bytes = crlf("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nContent-Length: \(value)\n\nbody")
        var error: SIPParseError?
        let elapsed = timed { error = parseError(bytes) }
        #expect(error?.code == .messageTooLarge)
        #expect(error?.header == "Content-Length")
        #expect(elapsed < .seconds(1))
        // A request too large for the limits is answered 513.
        #expect(outcome(inspect(bytes, as: .uas).verdict) == "513")
    }

    @Test("too many values in one header, too many parameters")
    func valuesAndParameters() throws {
        let vias = Array(repeating: "SIP/2.0/UDP a.example.com", count: 65).joined(separator: ",")
        let m = try SIPMessage.parse(datagram: request(extra: ["Via: " + vias]))
        #expect(viewError { try m.vias() }?.message.contains("64") == true)
        let params = try SIPMessage.parse(datagram: request(extra: ["Content-Type: a/b" + String(repeating: ";p=1", count: 65)]))
        #expect(viewError { try params.contentType() }?.header == "Content-Type")
    }

    @Test("pathological inputs finish quickly", arguments: [
        "Via: " + String(repeating: ",", count: 7_000),
        "Contact: " + String(repeating: "<", count: 7_000),
        "Contact: " + String(repeating: "\"", count: 7_001),
        "Contact: <sip:a@b.com>" + String(repeating: ";", count: 7_000),
        "Contact: \"" + String(repeating: "\\\"", count: 3_500),
        "Via: SIP/2.0/UDP [" + String(repeating: ":", count: 7_000),
    ])
    func pathological(line: String) throws {
        let bytes = request(extra: [line])
        let elapsed = timed {
            if let m = try? SIPMessage.parse(datagram: bytes) {
                _ = try? m.vias()
                _ = try? m.contact()
                _ = try? m.to()
                _ = SIPValidator.validate(m, policy: SIPValidationPolicy(role: .proxy))
            }
        }
        #expect(elapsed < .seconds(1))
        #expect(outcome(inspect(bytes, as: .proxy).verdict) == "400")
    }

    @Test("64 KiB of line ends and of a header without a colon fail cleanly")
    func junk() {
        #expect(parseError(Array(repeating: 0x0A, count: 65_000))?.code == .empty)
        #expect(parseError(Array(repeating: 0x41, count: 65_000))?.code == .incomplete)
        #expect(parseError([])?.code == .empty)
        #expect(parseError(Array(repeating: 0x00, count: 1_000)) != nil)
    }
}

/// Errors say what went wrong and where.
@Suite("Parse errors")
struct ParseErrorTests {
    @Test("a header line without a colon: code and offset of the line")
    func noColon() throws {
        let bytes = request(extra: ["This is not a header"])
        let error = try #require(parseError(bytes))
        #expect(error.code == .badHeaderLine)
        #expect(Array(bytes[error.offset..<(error.offset + 3)]) == Array(" is".utf8))
        #expect(error.description.contains("bad-header-line"))
        #expect(error.description.contains("at octet \(error.offset)"))
    }

    @Test("a continuation line before any header field")
    func leadingContinuation() throws {
        let bytes = crlf("OPTIONS sip:a@example.com SIP/2.0\n folded: nothing\nCall-ID: x\n\n")
        let error = try #require(parseError(bytes))
        #expect(error.code == .badHeaderLine)
        #expect(error.offset == 35)
    }

    @Test("Content-Length faults name the header and point at the value")
    func contentLength() throws {
        let bytes = request(extra: ["Content-Length: 12abc"])
        let error = try #require(parseError(bytes))
        #expect(error.code == .badContentLength)
        #expect(error.header == "Content-Length")
        #expect(Array(bytes[error.offset..<(error.offset + 5)]) == Array("12abc".utf8))
        #expect(error.description.hasPrefix("bad-content-length: Content-Length: "))

        let twice = try #require(parseError(RFC4475.bytes("mcl01")))
        #expect(twice.message.contains("more than one"))
        let mcl = RFC4475.bytes("mcl01")
        #expect(Array(mcl[twice.offset..<(twice.offset + 17)]) == Array("Content-Length: 5".utf8))

        let negative = try #require(parseError(RFC4475.bytes("ncl")))
        #expect(negative.code == .badContentLength)
        #expect(negative.message.contains("non-negative"))
        let empty = try #require(parseError(request(extra: ["Content-Length:"])))
        #expect(empty.code == .badContentLength)
    }

    @Test("a body shorter than Content-Length says how much arrived")
    func bodyTooShort() throws {
        let error = try #require(parseError(RFC4475.bytes("clerr")))
        #expect(error.code == .bodyTooShort)
        #expect(error.message.contains("9999"))
        #expect(error.header == "Content-Length")
    }

    @Test("the header section must be terminated")
    func incomplete() throws {
        let bytes = crlf("OPTIONS sip:a@example.com SIP/2.0\nCall-ID: x\nCSeq: 1 OPT")
        let error = try #require(parseError(bytes))
        #expect(error.code == .incomplete)
        #expect(Array(bytes[error.offset..<(error.offset + 4)]) == Array("CSeq".utf8))
        #expect(parseError(Array("OPTIONS sip:a@example.com SIP/2.0".utf8))?.code == .incomplete)
    }

    @Test("start line faults", arguments: [
        ("OPTIONS sip:a@example.com SIP/2.0 ", SIPParseError.Code.badStartLine),
        ("OPTIONS  sip:a@example.com SIP/2.0", .badStartLine),
        ("OPTIONS sip:a@example.com  SIP/2.0", .badRequestURI),
        ("OPTIONS <sip:a@example.com> SIP/2.0", .badRequestURI),
        ("OPTIONS sip:a@example.com SIP/3.0", .badVersion),
        ("OPTIONS sip:a@example.com HTTP/1.1", .badStartLine),
        ("OPTIONS sip:a@example.com", .badStartLine),
        ("OPT@ONS sip:a@example.com SIP/2.0", .badMethod),
        ("SIP/2.0 20 OK", .badStatusCode),
        ("SIP/2.0 099 Low", .badStatusCode),
        ("SIP/2.0 700 High", .badStatusCode),
        ("SIP/2.0 2000 OK", .badStatusCode),
        ("SIP/2.0 200OK", .badStartLine),
        ("SIP/3.0 200 OK", .badVersion),
        ("SIP/2.0", .badStartLine),
        ("\u{1}garbage", .badStartLine),
    ])
    func startLine(line: String, code: SIPParseError.Code) throws {
        let error = try #require(parseError(crlf(line + "\nCall-ID: x\n\n")))
        #expect(error.code == code, "\(line): \(error)")
    }

    @Test("a Request-URI fault is named and located in the input")
    func requestURIOffset() throws {
        let bytes = crlf("OPTIONS sip:a@exa mple.com SIP/2.0\nCall-ID: x\n\n")
        let error = try #require(parseError(bytes))
        #expect(error.code == .badRequestURI)
        #expect(bytes[error.offset] == 0x20)
        #expect(error.offset == 17)
        let port = try #require(parseError(crlf("OPTIONS sip:a@example.com:99999 SIP/2.0\nCall-ID: x\n\n")))
        #expect(port.message.hasPrefix("Request-URI: "))
        #expect(port.offset == 26)
    }

    @Test("view errors name the header and the offset inside the value")
    func viewErrors() throws {
        let bytes = crlf("OPTIONS sip:a@example.com SIP/2.0\nMax-Forwards: 7x\nCSeq: 1 OPTIONS\nEvent: presence;;id=1\nTo: <sip:b@example.com:99999>\nContact: <sip:c@example.com>, <sip:d@example.com;;>\n\n")
        let m = try SIPMessage.parse(datagram: bytes)
        // Offsets of view faults are offsets in the message, like the parser's.
        let mf = try #require(viewError { try m.maxForwards() })
        #expect(mf.header == "Max-Forwards")
        #expect(bytes[mf.offset] == UInt8(ascii: "x"))
        #expect(mf.message.contains("x"))
        let to = try #require(viewError { try m.to() })
        #expect(to.header == "To")
        #expect(Array(bytes[to.offset..<(to.offset + 5)]) == Array("99999".utf8))
        let contact = try #require(viewError { try m.contact() })
        #expect(contact.header == "Contact")
        #expect(Array(bytes[contact.offset..<(contact.offset + 2)]) == Array(";>".utf8))
        #expect(viewError { try m.cseq() } == nil)
        let vias = crlf("OPTIONS sip:a@example.com SIP/2.0\nVia: SIP/2.0/UDP a.example.com,,SIP/2.0/UDP b\n\n")
        let empty = try #require(viewError { try SIPMessage.parse(datagram: vias).vias() })
        #expect(Array(vias[empty.offset..<(empty.offset + 2)]) == Array(",S".utf8))
        let multi = try #require(viewError { try SIPMessage.parse(datagram: request(extra: ["Max-Forwards: 7"])).maxForwards() })
        #expect(multi.message.contains("more than one"))
        let cseq = try #require(viewError { try CSeq(parsing: "12x INVITE") })
        #expect(cseq.header == "CSeq")
        #expect(cseq.offset == 2)
        let event = try #require(viewError { try m.event() })
        #expect(event.header == "Event")
        #expect(Array(bytes[event.offset..<(event.offset + 4)]) == Array(";id=".utf8))
        #expect(event.description.contains("Event"))
    }

    @Test("parseDetailed tells requests from responses and keeps what it read")
    func detailed() throws {
        guard case .failure(let request) = SIPMessage.parseDetailed(datagram: RFC4475.bytes("ncl")) else {
            Issue.record("ncl parsed")
            return
        }
        #expect(request.kind == .request(.invite))
        #expect(request.partial?.method == .invite)
        #expect(request.headers?.contains(.via) == true)
        guard case .failure(let response) = SIPMessage.parseDetailed(datagram: crlf("SIP/2.0 200 OK\nContent-Length: x\n\n")) else {
            Issue.record("bad response parsed")
            return
        }
        #expect(response.kind == .response)
        #expect(SIPValidator.verdict(for: response) == .drop(reason: "malformed response: Content-Length is not a non-negative integer"))
        guard case .failure(let unknown) = SIPMessage.parseDetailed(datagram: Array("\u{1}\u{2}\r\n\r\n".utf8)) else {
            Issue.record("junk parsed")
            return
        }
        #expect(unknown.kind == .unknown)
        guard case .drop = SIPValidator.verdict(for: unknown) else {
            Issue.record("junk not dropped")
            return
        }
    }

    @Test("SIPMessage(parsing:) parses text")
    func parsingText() throws {
        let m = try SIPMessage(parsing: "OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n")
        #expect(m.method == .options)
        #expect(m.isRequest)
        #expect(m.statusCode == nil)
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: "nonsense") }
    }
}
