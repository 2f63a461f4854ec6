import SDP
import Testing

@Suite("Malformed SDP gives an SDPError, never a crash")
struct SessionDescriptionErrorTests {
    static let valid = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

    static func error(_ text: String, limits: SDPLimits = .default) -> SDPError? {
        error(Array(text.utf8), limits: limits)
    }

    static func error(_ bytes: [UInt8], limits: SDPLimits = .default) -> SDPError? {
        do {
            _ = try SessionDescription(parsing: bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test("the valid base case parses")
    func baseCase() {
        #expect(Self.error(Self.valid) == nil)
    }

    @Test("errors with code and line", arguments: [
        ("", SDPError.Code.missingVersion, nil),
        ("o=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", .missingVersion, 1),
        ("v=1\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", .unsupportedVersion, 1),
        ("v=0\r\ns=-\r\nt=0 0\r\n", .missingField, nil),
        ("v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n", .missingField, nil),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", .missingField, nil),
        ("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n", .badOrigin, 2),
        ("v=0\r\no=- x 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", .badOrigin, 2),
        ("v=0\r\no=- 1 99999999999999999999 IN IP4 h\r\ns=-\r\nt=0 0\r\n", .badOrigin, 2),
        ("v=0\r\no=- 1 1 IN IP4 h\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", .duplicateField, 3),
        ("v=0\r\nv=0\r\n", .duplicateField, 2),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\n", .badConnection, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 224.2.1.1/256\r\nt=0 0\r\n", .badConnection, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 224.2.1.1/1/2/3\r\nt=0 0\r\n", .badConnection, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP6 ff::1/1/2\r\nt=0 0\r\n", .badConnection, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nb=AS\r\nt=0 0\r\n", .badBandwidth, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nb=AS:x\r\nt=0 0\r\n", .badBandwidth, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0\r\n", .badTiming, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nr=1 2 3\r\nt=0 0\r\n", .misplacedField, 4),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nr=1 2\r\n", .badRepeat, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nz=1\r\n", .badTimeZone, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\na=\r\n", .badAttribute, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\na=rtpmap:97\r\n", .badAttribute, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nx=1\r\n", .unknownType, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nA=1\r\n", .malformedLine, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nnothing\r\n", .malformedLine, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\na =x\r\n", .malformedLine, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\n\r\ns=-\r\nt=0 0\r\n", .malformedLine, 3),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\rt=0 0\r\n", .invalidCharacter, 3),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=\0\r\nt=0 0\r\n", .invalidCharacter, 3),
        // m= lines
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio\r\n", .badMedia, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP\r\n", .badMedia, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP//AVP 0\r\n", .badMedia, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 65536 RTP/AVP 0\r\n", .badPort, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio -1 RTP/AVP 0\r\n", .badPort, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio port RTP/AVP 0\r\n", .badPort, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000/0 RTP/AVP 0\r\n", .badPort, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000/2/3 RTP/AVP 0\r\n", .badPort, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 128\r\n", .badFormat, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP PCMU\r\n", .badFormat, 5),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 h\r\n", .misplacedField, 6),
        ("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\ni=a\r\ni=b\r\n", .duplicateField, 7),
    ] as [(String, SDPError.Code, Int?)])
    func malformed(text: String, code: SDPError.Code, line: Int?) {
        let error = Self.error(text)
        #expect(error?.code == code)
        #expect(error?.line == line)
        #expect(error?.message.isEmpty == false)
    }

    @Test("invalid UTF-8 is rejected with the line")
    func nonUTF8() {
        var bytes = Array("v=0\r\no=- 1 1 IN IP4 h\r\ns=".utf8)
        bytes += [0xC3, 0x28, 0xFF]
        bytes += Array("\r\nt=0 0\r\n".utf8)
        let error = Self.error(bytes)
        #expect(error?.code == .invalidUTF8)
        #expect(error?.line == 3)
        // Valid UTF-8 outside ASCII is fine.
        #expect(Self.error("v=0\r\no=- 1 1 IN IP4 h\r\ns=Café ☎\r\nt=0 0\r\n") == nil)
    }

    @Test("input over the size limit is rejected before it is read")
    func huge() {
        var text = Self.valid
        while text.utf8.count <= 1 << 20 { text += "a=x-padding:0123456789012345678901234567890123456789\r\n" }
        let error = Self.error(text)
        #expect(error?.code == .tooLarge)
        #expect(error?.message.contains("16384") == true)
        #expect(Self.error(Self.valid, limits: SDPLimits(maxBytes: 20))?.code == .tooLarge)
    }

    @Test("too many lines")
    func tooManyLines() {
        var text = Self.valid
        for _ in 0..<600 { text += "a=x\r\n" }
        let error = Self.error(text)
        #expect(error?.code == .tooManyLines)
        #expect(error?.line == 513)
        #expect(Self.error(Self.valid + "a=x\r\n", limits: SDPLimits(maxLines: 7)) == nil)
        #expect(Self.error(Self.valid + "a=x\r\na=y\r\n", limits: SDPLimits(maxLines: 7))?.code == .tooManyLines)
        // Blank lines count too, so a flood of line ends is bounded as well.
        #expect(Self.error(Self.valid + String(repeating: "\n", count: 1000))?.code == .tooManyLines)
    }

    @Test("too many media sections and formats")
    func tooManyMedia() {
        var text = Self.valid
        for _ in 0..<16 { text += "m=audio 4000 RTP/AVP 0\r\n" }
        let error = Self.error(text)
        #expect(error?.code == .tooManyMediaSections)
        #expect(error?.line == 22)
        let formats = (0..<65).map { String($0) }.joined(separator: " ")
        #expect(Self.error(Self.valid + "m=audio 4000 RTP/AVP \(formats)\r\n")?.code == .tooManyItems)
    }

    @Test("error description names the code and line")
    func description() {
        let error = SDPError(.badPort, "m= port 'x'", line: 5)
        #expect(error.description == "SDP badPort at line 5: m= port 'x'")
    }

    @Test("every prefix of every RFC 4317 file parses or fails cleanly, and is stable when it parses")
    func prefixes() throws {
        for file in RFC4317.files.prefix(10) {
            let bytes = RFC4317.bytes(file)
            for n in 0...bytes.count {
                guard let d = try? SessionDescription(parsing: bytes[..<n]) else { continue }
                #expect(try SessionDescription(parsing: d.serialized()) == d, "\(file) prefix \(n)")
            }
        }
    }
}
