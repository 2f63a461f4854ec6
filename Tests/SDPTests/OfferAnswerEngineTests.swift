import DialtoneTestKit
import SDP
import Testing

@Suite("OfferAnswerEngine")
struct OfferAnswerEngineTests {
    static let alice = LocalCapabilities(
        username: "alice", sessionName: "", address: "host.atlanta.example.com",
        media: [
            MediaCapability(kind: "audio", port: 49170, codecs: [.pcmu, .pcma,
                            Codec(encodingName: "iLBC", clockRate: 8000, preferredPayloadType: 97)]),
            MediaCapability(kind: "video", port: 51372, codecs: [
                Codec(encodingName: "H261", clockRate: 90000, preferredPayloadType: 31),
                Codec(encodingName: "MPV", clockRate: 90000, preferredPayloadType: 32),
            ]),
        ])

    static let phone = LocalCapabilities(
        address: "192.0.2.10",
        media: [MediaCapability(kind: "audio", port: 4000, codecs: [.pcma, .pcmu],
                                telephoneEvent: TelephoneEventCapability(preferredPayloadType: 101, events: "0-16"),
                                ptime: 20)])

    func aliceEngine() -> OfferAnswerEngine {
        OfferAnswerEngine(capabilities: Self.alice, sessionID: "2890844526", sessionVersion: 2890844526)
    }

    @Test("initial offer is RFC 4317 §2.1's offer byte for byte")
    func initialOffer() throws {
        var engine = aliceEngine()
        let offer = try engine.createOffer()
        #expect(offer.serialized() == Fixtures.text("sdp/rfc4317-2.1-offer.sdp"))
        #expect(engine.pendingOffer == offer)
        #expect(throws: SDPError.self) { try engine.createOffer() } // one offer at a time
    }

    @Test("§2.2: answer with a rejected video stream, then a re-offer keeps the line with port 0")
    func reofferKeepsRejectedLine() throws {
        var engine = aliceEngine()
        _ = try engine.createOffer()
        let negotiated = try engine.receiveAnswer(try RFC4317.parse("rfc4317-2.2-answer.sdp"))
        #expect(negotiated.media.map(\.isRejected) == [false, true])
        #expect(negotiated.media[0].codecs.map(\.sendPayloadType) == [0, 8])
        #expect(negotiated.media[0].sendCodec?.encodingName == "PCMU")
        // Alice drops video and keeps only PCMU on a new port: RFC 4317 §2.2's second offer.
        var caps = Self.alice
        caps.media[0] = MediaCapability(kind: "audio", port: 51372, codecs: [.pcmu])
        caps.media.removeLast()
        engine.updateCapabilities(caps)
        let offer2 = try engine.createOffer()
        #expect(offer2.serialized() == Fixtures.text("sdp/rfc4317-2.2-offer-2.sdp"))
        let n2 = try engine.receiveAnswer(try RFC4317.parse("rfc4317-2.2-answer-2.sdp"))
        #expect(n2.media[0].remotePort == 49172 && n2.media[1].isRejected)
    }

    @Test("§4.2: adding a stream appends an m= line and bumps the version")
    func addVideo() throws {
        var caps = Self.alice
        caps.media = [MediaCapability(kind: "audio", port: 49170, codecs: [.pcmu])]
        var engine = OfferAnswerEngine(capabilities: caps, sessionID: "2890844526", sessionVersion: 2890844526)
        #expect(try engine.createOffer().serialized() == Fixtures.text("sdp/rfc4317-4.2-offer.sdp"))
        _ = try engine.receiveAnswer(try RFC4317.parse("rfc4317-4.2-answer.sdp"))
        caps.media.append(MediaCapability(kind: "video", port: 49172, codecs: [
            Codec(encodingName: "H261", clockRate: 90000, preferredPayloadType: 31)]))
        engine.updateCapabilities(caps)
        #expect(try engine.createOffer().serialized() == Fixtures.text("sdp/rfc4317-4.2-offer-2.sdp"))
        let negotiated = try engine.receiveAnswer(try RFC4317.parse("rfc4317-4.2-answer-2.sdp"))
        #expect(negotiated.media[1].remotePort == 49168)
        #expect(negotiated.media[1].sendPayloadType == 31)
    }

    @Test("§5.1: no media, then audio added")
    func noMediaThenAudio() throws {
        var caps = Self.alice
        caps.media = []
        var engine = OfferAnswerEngine(capabilities: caps, sessionID: "2890844526", sessionVersion: 2890844526)
        #expect(try engine.createOffer().serialized() == Fixtures.text("sdp/rfc4317-5.1-offer.sdp"))
        #expect(try engine.receiveAnswer(try RFC4317.parse("rfc4317-5.1-answer.sdp")).media.isEmpty)
        caps.media = [MediaCapability(kind: "audio", port: 49170, codecs: [
            Codec(encodingName: "iLBC", clockRate: 8000, preferredPayloadType: 97)])]
        engine.updateCapabilities(caps)
        #expect(try engine.createOffer().serialized() == Fixtures.text("sdp/rfc4317-5.1-offer-2.sdp"))
        #expect(try engine.receiveAnswer(try RFC4317.parse("rfc4317-5.1-answer-2.sdp")).media[0].remotePort == 49172)
    }

    @Test("re-offer without changes keeps the o= version (RFC 3264 §8)")
    func unchangedReofferKeepsVersion() throws {
        var engine = aliceEngine()
        let offer = try engine.createOffer()
        _ = try engine.receiveAnswer(try RFC4317.parse("rfc4317-2.1-answer.sdp"))
        let again = try engine.createOffer()
        #expect(again == offer)
        #expect(again.origin.sessionVersion == 2890844526)
    }

    @Test("hold and resume (RFC 3264 §8.4): sendonly, version + 1; resume back to sendrecv, + 1")
    func holdAndResume() throws {
        var engine = OfferAnswerEngine(capabilities: Self.phone, sessionID: "7", sessionVersion: 1)
        let offer = try engine.createOffer()
        #expect(offer.media[0].formats == ["8", "0", "101"])
        #expect(offer.media[0].fmtp(for: "101") == "0-16")
        #expect(offer.media[0].ptime == 20)
        #expect(offer.media[0].direction == nil)
        let answer = try SessionDescription(parsing: """
            v=0\r\no=- 5 5 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r
            m=audio 30000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\na=ptime:30\r\n
            """)
        let negotiated = try engine.receiveAnswer(answer)
        let audio = negotiated.media[0]
        #expect(audio.sendPayloadType == 0)
        #expect(audio.codecs.first?.receivePayloadType == 0)
        #expect(audio.telephoneEvent == NegotiatedCodec(encodingName: "telephone-event", clockRate: 8000,
                                                        sendPayloadType: 96, receivePayloadType: 101,
                                                        remoteFormatParameters: "0-15"))
        #expect(audio.ptime == 30)
        #expect(audio.remoteAddress == "198.51.100.7" && audio.remotePort == 30000)
        #expect(audio.direction == .sendrecv)

        let hold = try engine.hold()
        #expect(engine.isOnHold)
        #expect(hold.origin.sessionVersion == 2)
        #expect(hold.media[0].direction == .sendonly)
        #expect(hold.media[0].formats == ["8", "0", "101"]) // same numbers (RFC 3264 §8.3.2)
        var holdAnswer = answer
        holdAnswer.media[0].direction = .recvonly
        #expect(try engine.receiveAnswer(holdAnswer).media[0].direction == .sendonly)

        let resume = try engine.resume()
        #expect(!engine.isOnHold)
        #expect(resume.origin.sessionVersion == 3)
        #expect(resume.media[0].direction == nil)
        #expect(try engine.receiveAnswer(answer).media[0].direction == .sendrecv)
    }

    @Test("holding a stream we only receive on makes it inactive")
    func holdRecvOnly() throws {
        var caps = Self.phone
        caps.media[0].direction = .recvonly
        var engine = OfferAnswerEngine(capabilities: caps, sessionID: "7", sessionVersion: 1)
        #expect(try engine.createOffer().media[0].direction == .recvonly)
        engine.rollback()
        #expect(try engine.hold().media[0].direction == .inactive)
    }

    @Test("answer direction is the offer's reversed (RFC 3264 §6.1)", arguments: [
        (MediaDirection.sendrecv, MediaDirection.sendrecv), (.sendonly, .recvonly), (.recvonly, .sendonly),
        (.inactive, .inactive),
    ])
    func answerDirection(offered: MediaDirection, answered: MediaDirection) throws {
        var offer = try RFC4317.parse("rfc4317-4.2-offer.sdp")
        offer.media[0].direction = offered
        var engine = OfferAnswerEngine(capabilities: Self.phone, sessionID: "1", sessionVersion: 1)
        let (answer, negotiated) = try engine.createAnswer(to: offer)
        #expect(answer.media[0].effectiveDirection(in: answer) == answered)
        #expect(negotiated.media[0].direction == answered)
        #expect(negotiated.media[0].isHeldByRemote == !offered.receives)
    }

    @Test("session-level direction in the offer is inherited by its media")
    func sessionLevelDirection() throws {
        var offer = try RFC4317.parse("rfc4317-4.2-offer.sdp")
        offer.direction = .sendonly
        var engine = OfferAnswerEngine(capabilities: Self.phone, sessionID: "1", sessionVersion: 1)
        let (answer, negotiated) = try engine.createAnswer(to: offer)
        #expect(answer.media[0].direction == .recvonly)
        #expect(negotiated.isHeldByRemote)
    }

    @Test("answerer on hold answers a sendrecv offer sendonly")
    func answerWhileOnHold() throws {
        var engine = OfferAnswerEngine(capabilities: Self.phone, sessionID: "1", sessionVersion: 1)
        let offer = try RFC4317.parse("rfc4317-4.2-offer.sdp")
        _ = try engine.createAnswer(to: offer)
        _ = try engine.hold()
        engine.rollback() // glare: the peer's offer wins
        #expect(engine.isOnHold)
        #expect(try engine.createAnswer(to: offer).answer.media[0].direction == .sendonly)
    }

    @Test("unsupported media types, protocols and codecs are rejected with port 0; order kept")
    func rejections() throws {
        let offer = try SessionDescription(parsing: """
            v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r
            m=video 5000 RTP/AVP 31\r
            m=audio 5002 RTP/SAVP 0\r
            m=audio 5004 RTP/AVP 18\r
            m=audio 5006 RTP/AVP 97 8 0 101\r\na=rtpmap:97 iLBC/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15,66\r
            m=audio 5008 RTP/AVP 0\r
            m=audio 0 RTP/AVP 0\r\n
            """)
        var engine = OfferAnswerEngine(capabilities: Self.phone, sessionID: "1", sessionVersion: 1)
        let (answer, negotiated) = try engine.createAnswer(to: offer)
        #expect(answer.media.map(\.port) == [0, 0, 0, 4000, 0, 0])
        #expect(answer.media.map(\.media) == ["video", "audio", "audio", "audio", "audio", "audio"])
        #expect(answer.media[3].formats == ["8", "0", "101"]) // offer's order and numbers
        #expect(answer.media[3].fmtp(for: "101") == "0-15") // 0-15,66 ∩ 0-16
        #expect(negotiated.media.map(\.isRejected) == [true, true, true, false, true, true])
        #expect(negotiated.media[3].sendPayloadType == 8)
        #expect(negotiated.media[3].telephoneEventPayloadType == 101)
        #expect(negotiated.media[3].localPort == 4000)
        #expect(negotiated.media[3].ptime == 20)
        #expect(try SessionDescription(parsing: answer.serialized()) == answer)
    }

    @Test("a dynamic payload type taken by another codec is renumbered in our offer")
    func renumberWhenNeeded() throws {
        var caps = Self.phone
        caps.media[0].codecs = [Codec(encodingName: "iLBC", clockRate: 8000, preferredPayloadType: 101)]
        var engine = OfferAnswerEngine(capabilities: caps, sessionID: "1", sessionVersion: 1)
        let offer = try engine.createOffer()
        #expect(offer.media[0].formats == ["101", "96"])
        #expect(offer.media[0].rtpMap(for: 96)?.encodingName == "telephone-event")
    }

    @Test("payload types agreed as answerer are reused in our later offers (RFC 3264 §8.3.2)")
    func reuseAgreedNumbers() throws {
        // RFC 4317 §3.1: Bob prefers iLBC as 99, answers Alice's 97, then re-offers with 97.
        var caps = LocalCapabilities(username: "bob", sessionName: "", address: "host.biloxi.example.com",
                                     media: [MediaCapability(kind: "audio", port: 49170, codecs: [
                                         Codec(encodingName: "iLBC", clockRate: 8000, preferredPayloadType: 99)])])
        var bob = OfferAnswerEngine(capabilities: caps, sessionID: "2808844564", sessionVersion: 2808844564)
        let (answer, _) = try bob.createAnswer(to: try RFC4317.parse("rfc4317-3.1-offer.sdp"))
        #expect(answer.media[0].formats == ["97"])
        caps.media[0].port = 49170
        bob.updateCapabilities(caps)
        let reoffer = try bob.createOffer()
        #expect(reoffer.media[0].formats == ["97"])
        #expect(reoffer.origin.sessionVersion == 2808844564) // identical to the answer: unchanged
    }

    @Test("§2.7: a second offer adding a codec keeps the answerer's ports and bumps its version")
    func secondOfferSamePorts() throws {
        let offer = try RFC4317.parse("rfc4317-2.7-offer.sdp")
        var caps = RFC4317.capabilities(of: try RFC4317.parse("rfc4317-2.7-answer-2.sdp")) { _, _ in .sendrecv }
        caps.originAddress = "host.biloxi.example.com"
        var bob = OfferAnswerEngine(capabilities: caps, sessionID: "2808844564", sessionVersion: 2808844564)
        let (first, _) = try bob.createAnswer(to: offer)
        #expect(first.serialized() == Fixtures.text("sdp/rfc4317-2.7-answer.sdp"))
        let (second, negotiated) = try bob.createAnswer(to: try RFC4317.parse("rfc4317-2.7-offer-2.sdp"))
        #expect(second.serialized() == Fixtures.text("sdp/rfc4317-2.7-answer-2.sdp"))
        #expect(negotiated.media[1].codecs.map(\.encodingName) == ["H261", "MPV"])
    }

    @Test("answer errors: no offer, wrong m= count, wrong media type, missing c=")
    func answerErrors() throws {
        var engine = aliceEngine()
        let answer = try RFC4317.parse("rfc4317-2.1-answer.sdp")
        #expect(throws: SDPError.self) { try engine.receiveAnswer(answer) }
        _ = try engine.createOffer()
        var short = answer
        short.media.removeLast()
        do {
            _ = try engine.receiveAnswer(short)
            Issue.record("accepted an answer with one m= line for two")
        } catch {
            #expect(error.code == .mediaCountMismatch)
        }
        var swapped = answer
        swapped.media.swapAt(0, 1)
        do {
            _ = try engine.receiveAnswer(swapped)
            Issue.record("accepted swapped media")
        } catch {
            #expect(error.code == .mediaKindMismatch)
        }
        var noAddress = answer
        noAddress.connection = nil
        do {
            _ = try engine.receiveAnswer(noAddress)
            Issue.record("accepted a stream without address")
        } catch {
            #expect(error.code == .missingConnection)
        }
        #expect(engine.pendingOffer != nil) // errors leave the offer pending
        #expect(try engine.receiveAnswer(answer).media.count == 2)
    }

    @Test("offer errors: glare, fewer m= lines in a re-offer")
    func offerErrors() throws {
        let offer21 = try RFC4317.parse("rfc4317-2.1-offer.sdp")
        let offer42 = try RFC4317.parse("rfc4317-4.2-offer.sdp")
        var engine = OfferAnswerEngine(capabilities: Self.phone, sessionID: "1", sessionVersion: 1)
        _ = try engine.createOffer()
        do {
            _ = try engine.createAnswer(to: offer21)
            Issue.record("answered while an offer was pending")
        } catch {
            #expect(error.code == .invalidState)
        }
        engine.rollback()
        _ = try engine.createAnswer(to: offer21)
        do {
            _ = try engine.createAnswer(to: offer42)
            Issue.record("accepted a re-offer with fewer m= lines")
        } catch {
            #expect(error.code == .mediaCountMismatch)
        }
    }

    @Test("rtcp-mux and a=rtcp decide the remote RTCP port")
    func rtcpPorts() throws {
        var caps = Self.phone
        caps.media[0].rtcpMux = true
        var engine = OfferAnswerEngine(capabilities: caps, sessionID: "1", sessionVersion: 1)
        var offer = try RFC4317.parse("rfc4317-4.2-offer.sdp")
        offer.media[0].attributes.append(Attribute("rtcp-mux"))
        let (answer, negotiated) = try engine.createAnswer(to: offer)
        #expect(answer.media[0].rtcpMux)
        #expect(negotiated.media[0].rtcpMux && negotiated.media[0].remoteRTCPPort == 49170)

        var plain = try RFC4317.parse("rfc4317-4.2-offer.sdp")
        plain.media[0].attributes.append(Attribute("rtcp", "6000"))
        var other = OfferAnswerEngine(capabilities: caps, sessionID: "1", sessionVersion: 1)
        let (answer2, negotiated2) = try other.createAnswer(to: plain)
        #expect(!answer2.media[0].rtcpMux)
        #expect(negotiated2.media[0].remoteRTCPPort == 6000)
    }
}
