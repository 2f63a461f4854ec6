import SIPCore
import SIPTransaction
import SIPDialog
import Testing

/// The UAS side of `InviteSession`: the INVITE received and our answers.
@Suite struct InviteSessionCalleeTests {
    static let contact = Fixture.address("<sip:alice@192.0.2.1:5060>")

    func incoming(_ invite: SIPMessage, configuration: SessionConfiguration = SessionConfiguration()) -> (InviteSession, [SessionAction]) {
        var session = InviteSession(incomingWithLocalTag: "a9", contact: Self.contact, configuration: configuration)
        let actions = session.receivedRequest(invite, now: t0)
        return (session, actions)
    }

    // MARK: The INVITE

    @Test func inviteIsReported() throws {
        let invite = try Fixture.incomingInvite()
        let (session, actions) = incoming(invite)
        #expect(actions == [.incomingCall(offer: Fixture.offer)])
        #expect(session.phase == .incoming)
        #expect(session.dialog?.id == DialogID(callID: "in-777@192.0.2.20", localTag: "a9", remoteTag: "b9"))
        #expect(session.dialog?.state == .early)
        let offerless = try Fixture.incomingInvite(body: nil)
        #expect(incoming(offerless).1 == [.incomingCall(offer: nil)])
    }

    @Test func ringEarlyMediaAnswer() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        let ringing = session.ring(now: t0 + ms(10))
        let r180 = try #require(sentResponses(ringing).first)
        #expect(ringing == [.sendResponse(r180, for: invite)])
        #expect(r180.statusCode == 180)
        #expect(r180.toTagValue == "a9")
        #expect(r180.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        #expect(r180.headers.values(.recordRoute) == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(r180.cseqText == "100 INVITE")
        #expect(r180.headers[.via] == "SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinv1")
        #expect(r180.body.isEmpty)

        let early = session.earlyMedia(Fixture.answer, now: t0 + ms(20))
        let r183 = try #require(sentResponses(early).first)
        #expect(r183.statusCode == 183)
        #expect(r183.headers[.contentType] == "application/sdp")
        #expect(Array(r183.body) == Fixture.answer.bytes)

        let answered = session.answer(Fixture.answer, now: t0 + ms(30))
        let ok = try #require(sentResponses(answered).first)
        #expect(answered == [.sendResponse(ok, for: invite), .arm(.retransmit2xx, at: t0 + ms(530)), .arm(.ackTimeout, at: t0 + ms(32_030))])
        #expect(ok.statusCode == 200)
        #expect(ok.toTagValue == "a9")
        #expect(ok.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        #expect(ok.headers[.supported] == "timer")
        #expect(ok.headers[.allow] == "INVITE, ACK, CANCEL, BYE, UPDATE, OPTIONS")
        #expect(ok.headers[.sessionExpires] == nil)
        #expect(Array(ok.body) == Fixture.answer.bytes)
        #expect(session.phase == .answering)
        #expect(session.dialog?.state == .confirmed)
        // Not applicable any more.
        #expect(ignoredCodes(session.ring(now: t0)) == [.invalidState])
        #expect(ignoredCodes(session.answer(Fixture.answer, now: t0)) == [.invalidState])
    }

    @Test func okIsRetransmittedUntilTheACK() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        let answered = session.answer(Fixture.answer, now: t0)
        let ok = try #require(sentResponses(answered).first)
        // T1 doubling up to T2: 500, 1000, 2000, 4000, 4000 ms.
        var now = t0 + ms(500)
        var intervals: [Int64] = []
        for _ in 0..<5 {
            let actions = session.timerFired(.retransmit2xx, now: now)
            guard case .arm(.retransmit2xx, let next)? = actions.last else {
                Issue.record("no re-arm in \(actions)")
                return
            }
            #expect(actions.first == .sendResponse(ok, for: invite))
            intervals.append((next.nanoseconds - now.nanoseconds) / 1_000_000)
            now = next
        }
        #expect(intervals == [1000, 2000, 4000, 4000, 4000])
        let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKack")
        let confirmed = session.receivedRequest(ack, now: now)
        #expect(confirmed == [.disarm(.retransmit2xx), .disarm(.ackTimeout), .established(remote: nil)])
        #expect(session.phase == .confirmed)
        // Stale timers and a retransmitted ACK change nothing.
        #expect(session.timerFired(.retransmit2xx, now: now + ms(1)) == [])
        #expect(session.timerFired(.ackTimeout, now: now + ms(2)) == [])
        #expect(session.receivedRequest(ack, now: now + ms(3)) == [])
    }

    @Test func retransmissionFollowsConfiguredTimers() throws {
        let invite = try Fixture.incomingInvite()
        let configuration = SessionConfiguration(timers: TransactionTimers(t1: ms(100), t2: ms(300)))
        var (session, _) = incoming(invite, configuration: configuration)
        let answered = session.answer(Fixture.answer, now: t0)
        #expect(answered.dropFirst() == [.arm(.retransmit2xx, at: t0 + ms(100)), .arm(.ackTimeout, at: t0 + ms(6400))])
        #expect(session.timerFired(.retransmit2xx, now: t0 + ms(100)).last == .arm(.retransmit2xx, at: t0 + ms(300)))
        #expect(session.timerFired(.retransmit2xx, now: t0 + ms(300)).last == .arm(.retransmit2xx, at: t0 + ms(600)))
        #expect(session.timerFired(.retransmit2xx, now: t0 + ms(600)).last == .arm(.retransmit2xx, at: t0 + ms(900)))
    }

    @Test func noACKWithin64T1EndsWithBye() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        _ = session.answer(Fixture.answer, now: t0)
        let actions = session.timerFired(.ackTimeout, now: t0 + .seconds(32))
        let bye = try #require(sentRequests(actions).first)
        #expect(actions == [.sendRequest(bye), .ended(.ackTimeout)])
        #expect(bye.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(bye.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(bye.cseqText == "1 BYE")
        #expect(bye.fromTagValue == "a9")
        #expect(bye.toTagValue == "b9")
    }

    @Test func offerlessInviteGetsTheAnswerInTheACK() throws {
        let invite = try Fixture.incomingInvite(body: nil)
        var (session, _) = incoming(invite)
        _ = session.answer(Fixture.offer, now: t0)
        let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKack", body: Fixture.answer)
        #expect(reports(session.receivedRequest(ack, now: t0 + ms(50))) == [.established(remote: Fixture.answer)])
    }

    @Test func hangUpBeforeTheACKWaitsForIt() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        _ = session.answer(Fixture.answer, now: t0)
        #expect(session.hangUp(now: t0 + ms(10)) == [])
        #expect(session.phase == .answering)
        let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKack")
        let actions = session.receivedRequest(ack, now: t0 + ms(20))
        let bye = try #require(sentRequests(actions).first)
        #expect(actions == [.disarm(.retransmit2xx), .disarm(.ackTimeout), .sendRequest(bye), .ended(.localHangUp)])
        #expect(bye.cseqText == "1 BYE")
    }

    // MARK: CANCEL and rejection

    @Test func cancelGets487() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        _ = session.ring(now: t0)
        var text = "CANCEL sip:alice@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinv1\r\n"
        text += "Max-Forwards: 70\r\nFrom: Bob <sip:bob@example.com>;tag=b9\r\nTo: Alice <sip:alice@example.com>\r\n"
        text += "Call-ID: in-777@192.0.2.20\r\nCSeq: 100 CANCEL\r\nContent-Length: 0\r\n\r\n"
        let cancel = try SIPMessage(parsing: text)
        let actions = session.receivedRequest(cancel, now: t0 + ms(10))
        let responses = sentResponses(actions)
        #expect(responses.map(\.statusCode) == [200, 487])
        #expect(responses.map(\.cseqText) == ["100 CANCEL", "100 INVITE"])
        #expect(responses[1].toTagValue == "a9")
        #expect(actions.last == .ended(.cancelled))
        #expect(session.endReason == .cancelled)
    }

    @Test func inviteCancelledByTheEndpoint() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        let actions = session.inviteCancelled(now: t0)
        #expect(sentResponses(actions).map(\.statusCode) == [487])
        #expect(actions.last == .ended(.cancelled))
        #expect(session.inviteCancelled(now: t0) == [])
    }

    @Test func rejectSendsTheFinalResponse() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        #expect(ignoredCodes(session.reject(status: 200, now: t0)) == [.invalidState])
        let actions = session.reject(status: 486, now: t0)
        let busy = try #require(sentResponses(actions).first)
        #expect(actions == [.sendResponse(busy, for: invite), .ended(.rejected(status: 486))])
        #expect(busy.statusCode == 486)
        #expect(busy.reasonPhrase == "Busy Here")
        #expect(busy.toTagValue == "a9")
        // hangUp before answering declines.
        var (other, _) = incoming(try Fixture.incomingInvite())
        #expect(sentResponses(other.hangUp(now: t0)).map(\.statusCode) == [603])
    }

    @Test func byeInTheEarlyDialogEndsTheCall() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        _ = session.ring(now: t0)
        let bye = try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bKbye")
        let actions = session.receivedRequest(bye, now: t0 + ms(10))
        #expect(sentResponses(actions).map(\.statusCode) == [200, 487])
        #expect(actions.last == .ended(.remoteHangUp))
    }

    // MARK: Checks on the INVITE (malformed input is answered, never trapped)

    @Test func inviteWithoutContactGets400() throws {
        let (session, actions) = incoming(try Fixture.incomingInvite(contact: nil))
        let response = try #require(sentResponses(actions).first)
        #expect(response.statusCode == 400)
        #expect(response.reasonPhrase == "Missing Contact")
        #expect(session.endReason == .rejected(status: 400))
    }

    @Test func requiredExtensionsWeLackGet420() throws {
        let (_, actions) = incoming(try Fixture.incomingInvite(extra: ["Require: 100rel, foo"]))
        let response = try #require(sentResponses(actions).first)
        #expect(response.statusCode == 420)
        #expect(response.headers[.unsupported] == "100rel, foo")
        // timer is supported (session timers on); without them it is not.
        let (timerSession, timerActions) = incoming(try Fixture.incomingInvite(extra: ["Require: timer", "Session-Expires: 1800"]))
        #expect(timerActions == [.incomingCall(offer: Fixture.offer)])
        #expect(timerSession.phase == .incoming)
        let (_, noTimer) = incoming(try Fixture.incomingInvite(extra: ["Require: timer"]), configuration: SessionConfiguration(sessionTimer: nil))
        #expect(sentResponses(noTimer).map(\.statusCode) == [420])
    }

    @Test func bodyThatIsNotSDPGets415() throws {
        let (_, actions) = incoming(try Fixture.incomingInvite(body: SessionBody(contentType: "text/plain", bytes: Array("hi".utf8)),
                                                               contentType: "text/plain"))
        let response = try #require(sentResponses(actions).first)
        #expect(response.statusCode == 415)
        #expect(response.headers[.accept] == "application/sdp")
    }

    @Test func shortOrGarbageSessionExpires() throws {
        let (_, short) = incoming(try Fixture.incomingInvite(extra: ["Session-Expires: 60"]))
        let tooSmall = try #require(sentResponses(short).first)
        #expect(tooSmall.statusCode == 422)
        #expect(tooSmall.headers[.minSE] == "90")
        let (_, garbage) = incoming(try Fixture.incomingInvite(extra: ["Session-Expires: soon;refresher=uac"]))
        let bad = try #require(sentResponses(garbage).first)
        #expect(bad.statusCode == 400)
        #expect(bad.reasonPhrase == "Bad Session-Expires")
        let (_, badMinSE) = incoming(try Fixture.incomingInvite(extra: ["Session-Expires: 1800", "Min-SE: -1"]))
        #expect(sentResponses(badMinSE).map(\.statusCode) == [400])
        let (_, twice) = incoming(try Fixture.incomingInvite(extra: ["Session-Expires: 1800", "Session-Expires: 900"]))
        #expect(sentResponses(twice).map(\.statusCode) == [400])
    }

    @Test func inviteWithToTagOrOtherRequestsBeforeTheInvite() throws {
        let (_, tagged) = incoming(try Fixture.inDialog("INVITE", cseq: 1, branch: "z9hG4bKx", extra: ["Contact: <sip:bob@192.0.2.20>"]))
        #expect(sentResponses(tagged).map(\.statusCode) == [481])
        let (idleBye, bye) = incoming(try Fixture.inDialog("BYE", cseq: 1, branch: "z9hG4bKy"))
        #expect(sentResponses(bye).map(\.statusCode) == [481])
        #expect(idleBye.phase == .idle)
    }

    @Test func requestsWhileRingingAreAnswered() throws {
        let invite = try Fixture.incomingInvite()
        var (session, _) = incoming(invite)
        _ = session.ring(now: t0)
        let update = try Fixture.inDialog("UPDATE", cseq: 101, branch: "z9hG4bKupd", body: Fixture.offer)
        let pending = try #require(sentResponses(session.receivedRequest(update, now: t0)).first)
        #expect(pending.statusCode == 500)
        #expect(pending.headers[.retryAfter] != nil)
        let info = try Fixture.inDialog("INFO", cseq: 102, branch: "z9hG4bKinfo")
        #expect(session.receivedRequest(info, now: t0) == [.requestReceived(info)])
        let late = try Fixture.inDialog("INFO", cseq: 50, branch: "z9hG4bKold")
        #expect(sentResponses(session.receivedRequest(late, now: t0)).map(\.statusCode) == [500])
        #expect(session.phase == .incoming)
    }
}

extension SIPMessage {
    var reasonPhrase: String { statusLine?.reason ?? "" }
}
