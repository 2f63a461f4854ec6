import DialtoneTestKit
import SDP
import Testing

@Suite("RFC 4566 parsing and serialization")
struct SessionDescriptionParsingTests {
    @Test("index.tsv lists all 54 RFC 4317 files")
    func fixtureCount() {
        #expect(RFC4317.files.count == 54)
        #expect(RFC4317.exchanges.count == 27)
    }

    @Test("serialize(parse(x)) == x byte for byte", arguments: RFC4317.files)
    func roundTrip(file: String) throws {
        let bytes = RFC4317.bytes(file)
        let description = try SessionDescription(parsing: bytes)
        #expect(description.serializedBytes() == bytes)
        #expect(try SessionDescription(parsing: description.serialized()) == description)
    }

    @Test("LF line ends parse to the same description and serialize with CRLF", arguments: RFC4317.files)
    func lfLineEnds(file: String) throws {
        let bytes = RFC4317.bytes(file)
        let lf = bytes.filter { $0 != 0x0D }
        let description = try SessionDescription(parsing: lf)
        let crlf = try SessionDescription(parsing: bytes)
        #expect(description == crlf)
        #expect(description.serializedBytes() == bytes)
    }

    @Test("§2.1 offer fields")
    func offer21Fields() throws {
        let d = try RFC4317.parse("rfc4317-2.1-offer.sdp")
        #expect(d.version == 0)
        #expect(d.origin == Origin(username: "alice", sessionID: "2890844526", sessionVersion: 2890844526,
                                   unicastAddress: "host.atlanta.example.com"))
        #expect(d.sessionName == "")
        #expect(d.connection == Connection(address: "host.atlanta.example.com"))
        #expect(d.timings == [Timing(start: 0, stop: 0)])
        #expect(d.media.count == 2)
        #expect(d.media[0].media == "audio")
        #expect(d.media[0].port == 49170)
        #expect(d.media[0].proto == "RTP/AVP")
        #expect(d.media[0].payloadTypes == [0, 8, 97])
        #expect(d.media[0].rtpMaps.map(\.encodingName) == ["PCMU", "PCMA", "iLBC"])
        #expect(d.media[0].rtpMap(for: 97) == RTPMap(payloadType: 97, encodingName: "iLBC", clockRate: 8000))
        #expect(d.media[1].media == "video")
        #expect(d.media[1].port == 51372)
        #expect(d.media[1].payloadTypes == [31, 32])
        #expect(d.media[1].rtpMap(for: 32)?.clockRate == 90000)
        #expect(d.encodingNames(1) == ["H261", "MPV"])
        #expect(d.media.allSatisfy { $0.direction == nil && $0.effectiveDirection(in: d) == .sendrecv })
    }

    @Test("§2.4 offer: second stream telephone-event, sendonly")
    func offer24Fields() throws {
        let d = try RFC4317.parse("rfc4317-2.4-offer.sdp")
        #expect(d.media.map(\.port) == [49170, 49172])
        #expect(d.media[0].telephoneEventPayloadType() == nil)
        #expect(d.media[1].telephoneEventPayloadType() == 98)
        #expect(d.media[1].telephoneEventPayloadType(clockRate: 16000) == nil)
        #expect(d.media[1].direction == .sendonly)
        #expect(d.media[0].effectiveDirection(in: d) == .sendrecv)
    }

    @Test("§2.8 answer: media-level c= overrides the session's")
    func answer28Connection() throws {
        let d = try RFC4317.parse("rfc4317-2.8-answer.sdp")
        #expect(d.media[0].effectiveConnection(in: d)?.address == "host.biloxi.example.com")
        #expect(d.media[1].connections == [Connection(address: "otherhost.biloxi.example.com")])
        #expect(d.media[1].effectiveConnection(in: d)?.address == "otherhost.biloxi.example.com")
    }

    @Test("§5.2 offer: c=0.0.0.0 is the legacy hold address; §2.2 answer: rejected video")
    func holdAddressAndRejection() throws {
        #expect(try RFC4317.parse("rfc4317-5.2-offer.sdp").connection?.isHoldAddress == true)
        #expect(try RFC4317.parse("rfc4317-5.2-answer.sdp").connection?.isHoldAddress == false)
        let d = try RFC4317.parse("rfc4317-2.2-answer.sdp")
        #expect(d.media.map(\.isRejected) == [false, true])
    }

    @Test("§5.1 offer has no media")
    func noMedia() throws {
        #expect(try RFC4317.parse("rfc4317-5.1-offer.sdp").media.isEmpty)
    }

    @Test("s= and s= (one space) both accepted and kept")
    func sessionNameForms() throws {
        let empty = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 h\r\ns=\r\nt=0 0\r\n")
        let space = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 h\r\ns= \r\nt=0 0\r\n")
        #expect(empty.sessionName == "")
        #expect(space.sessionName == " ")
        #expect(space.serialized() == "v=0\r\no=- 1 1 IN IP4 h\r\ns= \r\nt=0 0\r\n")
    }

    static let full = """
        v=0
        o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5
        s=SDP Seminar
        i=A Seminar on the session description protocol
        u=http://www.example.com/seminars/sdp.pdf
        e=j.doe@example.com (Jane Doe)
        p=+1 617 555-6011
        c=IN IP4 224.2.17.12/127
        b=CT:128
        t=2873397496 2873404696
        r=604800 3600 0 90000
        r=7d 1h 0 25h
        t=0 0
        z=2882844526 -1h 2898848070 0
        k=prompt
        a=recvonly
        a=tool:dialtone x
        m=audio 49170 RTP/AVP 0 101
        i=voice
        c=IN IP4 224.2.17.12/127/3
        b=AS:64
        k=clear:abc
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=ptime:20
        a=maxptime:40
        a=rtcp:53020 IN IP4 126.16.64.4
        a=rtcp-mux
        a=x-unknown:some value
        a=x-flag
        a=sendonly
        m=video 51372/2 RTP/SAVP 99
        c=IN IP6 FF15::101/3
        a=rtpmap:99 h263-1998/90000
        m=audio 9 UDP/TLS/RTP/SAVPF 111
        c=IN IP6 2001:db8::1
        a=rtpmap:111 opus/48000/2
        a=fmtp:111 minptime=10;useinbandfec=1
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 192.0.2.1
        a=sctp-port:5000

        """

    @Test("every RFC 4566 field, multicast forms, typed attributes; text round trip")
    func everyField() throws {
        let text = Self.full.split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\r\n")
        let d = try SessionDescription(parsing: text)
        #expect(d.serialized() == text)
        #expect(d.information == "A Seminar on the session description protocol")
        #expect(d.uri == "http://www.example.com/seminars/sdp.pdf")
        #expect(d.emails == ["j.doe@example.com (Jane Doe)"])
        #expect(d.phones == ["+1 617 555-6011"])
        #expect(d.connection == Connection(address: "224.2.17.12", ttl: 127))
        #expect(d.connection?.isMulticast == true)
        #expect(d.bandwidths == [Bandwidth(type: "CT", value: 128)])
        #expect(d.timings.count == 2)
        #expect(d.timings[0].repeats == ["604800 3600 0 90000", "7d 1h 0 25h"])
        #expect(d.timeZones == "2882844526 -1h 2898848070 0")
        #expect(d.encryptionKey == "prompt")
        #expect(d.direction == .recvonly)
        #expect(d.attributeValues("tool") == ["dialtone x"])
        let audio = d.media[0]
        #expect(audio.information == "voice")
        #expect(audio.connections == [Connection(address: "224.2.17.12", ttl: 127, numberOfAddresses: 3)])
        #expect(audio.bandwidths == [Bandwidth(type: "AS", value: 64)])
        #expect(audio.encryptionKey == "clear:abc")
        #expect(audio.rtpMap(for: 0)?.encodingName == "PCMU")
        #expect(audio.telephoneEventPayloadType() == 101)
        #expect(audio.fmtp(for: "101") == "0-15")
        #expect(audio.ptime == 20)
        #expect(audio.maxptime == 40)
        #expect(audio.rtcp == RTCPAttribute(port: 53020, connection: Connection(address: "126.16.64.4")))
        #expect(audio.rtcpMux)
        #expect(audio.direction == .sendonly)
        #expect(audio.attributes.map(\.name) == ["rtpmap", "fmtp", "ptime", "maxptime", "rtcp", "rtcp-mux",
                                                 "x-unknown", "x-flag", "sendonly"])
        #expect(audio.attributes[6] == Attribute("x-unknown", "some value"))
        #expect(audio.attributes[7] == Attribute("x-flag"))
        let video = d.media[1]
        #expect(video.port == 51372 && video.numberOfPorts == 2 && video.proto == "RTP/SAVP")
        #expect(video.connections == [Connection(addressType: "IP6", address: "FF15::101", numberOfAddresses: 3)])
        #expect(video.connections.first?.isMulticast == true)
        #expect(video.effectiveDirection(in: d) == .recvonly) // inherited from the session
        let opus = d.media[2]
        #expect(opus.proto == "UDP/TLS/RTP/SAVPF")
        #expect(opus.rtpMap(for: 111) == RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(opus.formatParameters.first?.parameters.map(\.name) == ["minptime", "useinbandfec"])
        #expect(d.media[3].formats == ["webrtc-datachannel"])
    }

    @Test("parse → serialize → parse is stable for normalized input (extra spaces, LF, no final line end)")
    func stability() throws {
        let text = "v=0\no=- 1  2 IN IP4 h\ns=x\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio  4000 RTP/AVP 0  8\na=sendrecv"
        let first = try SessionDescription(parsing: text)
        #expect(first.media[0].formats == ["0", "8"])
        #expect(first.media[0].direction == .sendrecv)
        let again = try SessionDescription(parsing: first.serialized())
        #expect(again == first)
        #expect(again.serialized() == first.serialized())
        #expect(first.serialized().hasSuffix("a=sendrecv\r\n"))
    }

    @Test("trailing empty lines are ignored")
    func trailingBlankLines() throws {
        let d = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n\r\n\r\n")
        #expect(d.serialized() == "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n")
    }

    @Test("direction setter replaces the attribute in place of the old one")
    func directionSetter() throws {
        var d = try RFC4317.parse("rfc4317-2.4-offer.sdp")
        d.media[1].direction = .inactive
        d.media[0].direction = .recvonly
        #expect(d.media[1].attributes.filter { $0.value == nil } == [Attribute("inactive")])
        #expect(d.media[0].direction == .recvonly)
        d.media[0].direction = nil
        #expect(d.media[0].direction == nil)
        #expect(try SessionDescription(parsing: d.serialized()) == d)
    }

    @Test("MediaDirection algebra (RFC 3264 §6.1)")
    func directionAlgebra() {
        #expect(MediaDirection.sendonly.reversed == .recvonly)
        #expect(MediaDirection.recvonly.reversed == .sendonly)
        #expect(MediaDirection.inactive.reversed == .inactive)
        #expect(MediaDirection.sendrecv.reversed == .sendrecv)
        #expect(MediaDirection.sendrecv.intersection(.sendonly) == .sendonly)
        #expect(MediaDirection.recvonly.intersection(.sendonly) == .inactive)
    }

    @Test("RTPMap parsing", arguments: [
        ("97 iLBC/8000", RTPMap(payloadType: 97, encodingName: "iLBC", clockRate: 8000)),
        ("111 opus/48000/2", RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2)),
        ("128 x/8000", nil), ("97 iLBC", nil), ("97 iLBC/0", nil), ("97 iLBC/8000/0", nil), ("x y/1", nil),
        ("97 iLBC/99999999999", nil),
    ] as [(String, RTPMap?)])
    func rtpMapParsing(value: String, expected: RTPMap?) {
        #expect(RTPMap(value: value) == expected)
    }
}
