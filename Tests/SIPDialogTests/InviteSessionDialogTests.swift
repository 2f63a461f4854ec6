import SIPCore
import SIPTransaction
import SIPDialog
import Testing

/// Re-INVITE, UPDATE and glare in a confirmed dialog (RFC 3261 §14, RFC 3311), either role.
@Suite struct InviteSessionDialogTests {
    // MARK: Our re-INVITE

    @Test func holdAndResumeSendReInvites() throws {
        var (session, _, _) = try confirmedCaller()
        let now = t0 + .seconds(10)
        let held = session.hold(offer: Fixture.holdOffer, now: now)
        let reinvite = try #require(sentRequests(held).first)
        #expect(held.count == 1)
        #expect(reinvite.method == .invite)
        #expect(reinvite.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(reinvite.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(reinvite.cseqText == "2 INVITE")
        #expect(reinvite.fromTagValue == "a1")
        #expect(reinvite.toTagValue == "b1")
        #expect(reinvite.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        #expect(reinvite.headers[.supported] == "timer")
        #expect(reinvite.headers[.sessionExpires] == "1800")
        #expect(reinvite.headers[.minSE] == "90")
        #expect(reinvite.headers[.contentType] == "application/sdp")
        #expect(Array(reinvite.body) == Fixture.holdOffer.bytes)

        // Another change while this one is pending is refused.
        #expect(ignoredCodes(session.resume(offer: Fixture.offer, now: now)) == [.requestPending])

        let ok = Fixture.respond(200, to: reinvite, contact: "<sip:bob@192.0.2.25:5060>", body: Fixture.holdAnswer)
        let answered = session.receivedResponse(ok, now: now + ms(50))
        let ack = try #require(sentRequests(answered).first)
        #expect(answered == [.sendRequest(ack), .answerReceived(Fixture.holdAnswer)])
        #expect(ack.cseqText == "2 ACK")
        // The 2xx refreshed the target: the ACK already goes to the new Contact.
        #expect(ack.requestURIText == "sip:bob@192.0.2.25:5060")
        #expect(session.dialog?.remoteTarget.description == "sip:bob@192.0.2.25:5060")
        // A retransmission of that 2xx gets the same ACK.
        #expect(session.receivedResponse(ok, now: now + ms(550)) == [.sendRequest(ack)])

        let resumed = session.resume(offer: Fixture.offer, now: now + .seconds(1))
        let second = try #require(sentRequests(resumed).first)
        #expect(second.cseqText == "3 INVITE")
        #expect(Array(second.body) == Fixture.offer.bytes)
    }

    @Test func refusedReInviteKeepsTheSession() throws {
        var (session, _, _) = try confirmedCaller()
        let reinvite = try #require(sentRequests(session.hold(offer: Fixture.holdOffer, now: t0)).first)
        let refused = session.receivedResponse(Fixture.respond(488, to: reinvite), now: t0 + ms(10))
        #expect(refused == [.modificationFailed(status: 488)])
        #expect(session.phase == .confirmed)
        #expect(sentRequests(session.hold(offer: Fixture.holdOffer, now: t0 + ms(20))).count == 1)
    }

    static let dialogEndingStatuses = [481, 408]

    @Test(arguments: dialogEndingStatuses) func lostDialogEndsWithBye(status: Int) throws {
        var (session, _, _) = try confirmedCaller()
        let reinvite = try #require(sentRequests(session.hold(offer: Fixture.holdOffer, now: t0)).first)
        let actions = session.receivedResponse(Fixture.respond(status, to: reinvite), now: t0 + ms(10))
        let bye = try #require(sentRequests(actions).first)
        #expect(actions == [.sendRequest(bye), .ended(.dialogFailed(status: status))])
        #expect(bye.cseqText == "3 BYE")
    }

    @Test func challengedReInviteIsResentWithCredentials() throws {
        var (session, _, _) = try confirmedCaller()
        let reinvite = try #require(sentRequests(session.hold(offer: Fixture.holdOffer, now: t0)).first)
        let challenge = Fixture.respond(401, to: reinvite, extra: [(.wwwAuthenticate, "Digest realm=\"example.com\", nonce=\"n\"")])
        #expect(session.receivedResponse(challenge, now: t0) == [.needsCredentials(challenge: challenge, request: reinvite)])
        let credentials = HeaderField(name: .authorization, value: "Digest username=\"alice\"")
        let retry = try #require(sentRequests(session.authorize(adding: [credentials], now: t0)).first)
        #expect(retry.cseqText == "3 INVITE")
        #expect(retry.headers[.authorization] == credentials.value)
        #expect(Array(retry.body) == Fixture.holdOffer.bytes)
        let answered = session.receivedResponse(Fixture.respond(200, to: retry, body: Fixture.holdAnswer), now: t0 + ms(10))
        let ack = try #require(sentRequests(answered).first)
        #expect(ack.cseqText == "3 ACK")
        #expect(ack.headers[.authorization] == credentials.value)
    }

    @Test func calleeReInviteUsesItsOwnSequence() throws {
        var (session, _) = try confirmedCallee()
        let reinvite = try #require(sentRequests(session.reinvite(offer: Fixture.holdOffer, now: t0)).first)
        #expect(reinvite.cseqText == "1 INVITE")
        #expect(reinvite.fromTagValue == "a9")
        #expect(reinvite.toTagValue == "b9")
        #expect(reinvite.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(reinvite.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
    }

    // MARK: The peer's re-INVITE and UPDATE

    @Test func incomingReInviteIsOfferedAndAnswered() throws {
        var (session, _) = try confirmedCallee()
        let reinvite = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1",
                                            extra: ["Contact: <sip:bob@192.0.2.26:5060>"], body: Fixture.holdOffer)
        let offered = session.receivedRequest(reinvite, now: t0 + .seconds(1))
        #expect(offered == [.offerReceived(Fixture.holdOffer)])
        #expect(session.dialog?.remoteTarget.description == "sip:bob@192.0.2.26:5060")
        #expect(session.dialog?.remoteSequence == 101)

        let now = t0 + .seconds(2)
        let answered = session.answerOffer(Fixture.holdAnswer, now: now)
        let ok = try #require(sentResponses(answered).first)
        #expect(answered == [.sendResponse(ok, for: reinvite), .arm(.retransmit2xx, at: now + ms(500)), .arm(.ackTimeout, at: now + .seconds(32))])
        #expect(ok.statusCode == 200)
        #expect(ok.cseqText == "101 INVITE")
        #expect(ok.toTagValue == "a9")
        #expect(ok.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        #expect(Array(ok.body) == Fixture.holdAnswer.bytes)
        // Retransmitted until the ACK.
        #expect(session.timerFired(.retransmit2xx, now: now + ms(500)) == [.sendResponse(ok, for: reinvite), .arm(.retransmit2xx, at: now + ms(1500))])
        let wrongACK = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKa0")
        #expect(session.receivedRequest(wrongACK, now: now + ms(600)) == [])
        let ack = try Fixture.inDialog("ACK", cseq: 101, branch: "z9hG4bKa1")
        #expect(session.receivedRequest(ack, now: now + ms(700)) == [.disarm(.retransmit2xx), .disarm(.ackTimeout)])
        #expect(ignoredCodes(session.answerOffer(Fixture.holdAnswer, now: now)) == [.invalidState])
    }

    @Test func incomingReInviteWithoutACKEndsTheCall() throws {
        var (session, _) = try confirmedCallee()
        let reinvite = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1", body: Fixture.holdOffer)
        _ = session.receivedRequest(reinvite, now: t0)
        _ = session.answerOffer(Fixture.holdAnswer, now: t0)
        let actions = session.timerFired(.ackTimeout, now: t0 + .seconds(32))
        #expect(sentRequests(actions).map { $0.method } == [.bye])
        #expect(actions.last == .ended(.ackTimeout))
    }

    @Test func offerlessReInviteGetsTheAnswerInTheACK() throws {
        var (session, _) = try confirmedCallee()
        let reinvite = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1")
        #expect(session.receivedRequest(reinvite, now: t0) == [.offerReceived(nil)])
        _ = session.answerOffer(Fixture.offer, now: t0)
        let ack = try Fixture.inDialog("ACK", cseq: 101, branch: "z9hG4bKa1", body: Fixture.holdAnswer)
        #expect(session.receivedRequest(ack, now: t0 + ms(10)) == [.disarm(.retransmit2xx), .disarm(.ackTimeout), .answerReceived(Fixture.holdAnswer)])
    }

    @Test func incomingReInviteRejected() throws {
        var (session, _) = try confirmedCallee()
        let reinvite = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1", body: Fixture.holdOffer)
        _ = session.receivedRequest(reinvite, now: t0)
        #expect(ignoredCodes(session.rejectOffer(status: 200, now: t0)) == [.invalidState])
        let refused = session.rejectOffer(now: t0)
        #expect(sentResponses(refused).map(\.statusCode) == [488])
        #expect(session.phase == .confirmed)
        #expect(ignoredCodes(session.rejectOffer(now: t0)) == [.invalidState])
    }

    @Test func incomingUpdateIsOfferedAndAnsweredOnce() throws {
        var (session, _) = try confirmedCallee()
        let update = try Fixture.inDialog("UPDATE", cseq: 101, branch: "z9hG4bKup1", body: Fixture.holdOffer)
        #expect(session.receivedRequest(update, now: t0) == [.offerReceived(Fixture.holdOffer)])
        let answered = session.answerOffer(Fixture.holdAnswer, now: t0)
        let ok = try #require(sentResponses(answered).first)
        // No retransmission for UPDATE: its transaction is a non-INVITE one.
        #expect(answered == [.sendResponse(ok, for: update)])
        #expect(ok.cseqText == "101 UPDATE")
        #expect(Array(ok.body) == Fixture.holdAnswer.bytes)
    }

    @Test func overlappingRequestsFromThePeer() throws {
        var (session, _) = try confirmedCallee(random: ScriptedRandom([7]))
        let first = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1", body: Fixture.holdOffer)
        _ = session.receivedRequest(first, now: t0)
        // §14.2: a second INVITE before we answered the first: 500 with Retry-After 0-10 s.
        let second = try Fixture.inDialog("INVITE", cseq: 102, branch: "z9hG4bKre2", body: Fixture.offer)
        let busy = try #require(sentResponses(session.receivedRequest(second, now: t0)).first)
        #expect(busy.statusCode == 500)
        #expect(busy.headers[.retryAfter] == "7")
        // The peer CANCELs its first re-INVITE: 200 and 487; the session is unchanged.
        var cancel = try Fixture.inDialog("CANCEL", cseq: 101, branch: "z9hG4bKre1")
        cancel.headers.set(.cseq, "101 CANCEL")
        #expect(sentResponses(session.receivedRequest(cancel, now: t0)).map(\.statusCode) == [200, 487])
        #expect(ignoredCodes(session.answerOffer(Fixture.holdAnswer, now: t0)) == [.invalidState])
        let stray = try Fixture.inDialog("CANCEL", cseq: 101, branch: "z9hG4bKre1")
        #expect(sentResponses(session.receivedRequest(stray, now: t0)).map(\.statusCode) == [481])
    }

    @Test func byeWhileAReInviteIsPendingAnswersBoth() throws {
        var (session, _) = try confirmedCallee()
        let reinvite = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1", body: Fixture.holdOffer)
        _ = session.receivedRequest(reinvite, now: t0)
        let bye = try Fixture.inDialog("BYE", cseq: 102, branch: "z9hG4bKbye")
        let actions = session.receivedRequest(bye, now: t0)
        let responses = sentResponses(actions)
        #expect(responses.map(\.statusCode) == [487, 200])
        #expect(responses.map(\.cseqText) == ["101 INVITE", "102 BYE"])
        #expect(actions.last == .ended(.remoteHangUp))
    }

    @Test func lowerCSeqInTheDialogGets500() throws {
        var (session, _) = try confirmedCallee()
        let info = try Fixture.inDialog("INFO", cseq: 105, branch: "z9hG4bKi1")
        #expect(session.receivedRequest(info, now: t0) == [.requestReceived(info)])
        let old = try Fixture.inDialog("BYE", cseq: 104, branch: "z9hG4bKi2")
        let actions = session.receivedRequest(old, now: t0)
        let refused = try #require(sentResponses(actions).first)
        #expect(actions.count == 1)
        #expect(refused.statusCode == 500)
        #expect(session.phase == .confirmed)
        let foreign = try Fixture.inDialog("BYE", cseq: 106, branch: "z9hG4bKi3", toTag: "nope")
        #expect(sentResponses(session.receivedRequest(foreign, now: t0)).map(\.statusCode) == [481])
        #expect(session.phase == .confirmed)
        let prack = try Fixture.inDialog("PRACK", cseq: 107, branch: "z9hG4bKi4")
        #expect(sentResponses(session.receivedRequest(prack, now: t0)).map(\.statusCode) == [481])
    }

    // MARK: Glare (§14.1)

    @Test func glareAsOwnerOfTheCallIDRetriesAfter2To4Seconds() throws {
        // UAC of the dialog: 2.1 s + (37 mod 191) * 10 ms = 2.47 s.
        var (session, _, _) = try confirmedCaller(random: ScriptedRandom([37]))
        let now = t0 + .seconds(10)
        let ours = try #require(sentRequests(session.hold(offer: Fixture.holdOffer, now: now)).first)
        // The peer's re-INVITE crosses ours: 491.
        let theirs = try Fixture.toCaller("INVITE", cseq: 1, branch: "z9hG4bKglare", body: Fixture.offer)
        let crossed = session.receivedRequest(theirs, now: now + ms(10))
        let pending = try #require(sentResponses(crossed).first)
        #expect(crossed == [.sendResponse(pending, for: theirs)])
        #expect(pending.statusCode == 491)
        // Ours gets 491 too: retry later.
        let backOff = session.receivedResponse(Fixture.respond(491, to: ours), now: now + ms(20))
        #expect(backOff == [.arm(.glareRetry, at: now + ms(20) + ms(2470))])
        let retry = session.timerFired(.glareRetry, now: now + ms(2490))
        let again = try #require(sentRequests(retry).first)
        #expect(again.cseqText == "3 INVITE")
        #expect(Array(again.body) == Fixture.holdOffer.bytes)
    }

    @Test func glareAsNonOwnerRetriesWithin2Seconds() throws {
        // UAS of the dialog: (150 mod 201) * 10 ms = 1.5 s; the peer's re-INVITE is served meanwhile.
        var (session, _) = try confirmedCallee(random: ScriptedRandom([150, 1]))
        let ours = try #require(sentRequests(session.reinvite(offer: Fixture.holdOffer, now: t0)).first)
        #expect(session.receivedResponse(Fixture.respond(491, to: ours, tag: "b9"), now: t0 + ms(5)) == [.arm(.glareRetry, at: t0 + ms(1505))])
        let theirs = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre1", body: Fixture.offer)
        #expect(session.receivedRequest(theirs, now: t0 + ms(100)) == [.offerReceived(Fixture.offer)])
        // A new offer while waiting replaces the one to retry.
        #expect(session.reinvite(offer: Fixture.offer, now: t0 + ms(150)) == [])
        // The retry comes while the peer's exchange is still open: back off again (1 * 10 ms).
        #expect(session.timerFired(.glareRetry, now: t0 + ms(1505)) == [.arm(.glareRetry, at: t0 + ms(1515))])
        _ = session.answerOffer(Fixture.answer, now: t0 + ms(1510))
        let ack = try Fixture.inDialog("ACK", cseq: 101, branch: "z9hG4bKa1")
        _ = session.receivedRequest(ack, now: t0 + ms(1512))
        let retry = try #require(sentRequests(session.timerFired(.glareRetry, now: t0 + ms(1515))).first)
        #expect(retry.cseqText == "2 INVITE")
        #expect(Array(retry.body) == Fixture.offer.bytes)
    }

    static let glareDraws: [(Bool, UInt64, Int64)] = [
        (true, 0, 2100), (true, 190, 4000), (true, 191, 2100),
        (false, 0, 0), (false, 200, 2000), (false, 201, 0),
    ]

    @Test(arguments: glareDraws) func glareDelayStaysInItsRange(owner: Bool, draw: UInt64, delay: Int64) throws {
        var session: InviteSession
        if owner {
            session = try confirmedCaller(random: ScriptedRandom([draw])).0
        } else {
            session = try confirmedCallee(random: ScriptedRandom([draw])).0
        }
        let ours = try #require(sentRequests(session.reinvite(offer: Fixture.holdOffer, now: t0)).first)
        let backOff = session.receivedResponse(Fixture.respond(491, to: ours, tag: "b9"), now: t0)
        #expect(backOff == [.arm(.glareRetry, at: t0 + ms(delay))])
    }

    @Test func glareRetriesAreBounded() throws {
        var (session, _, _) = try confirmedCaller(random: ScriptedRandom([0]))
        var request = try #require(sentRequests(session.hold(offer: Fixture.holdOffer, now: t0)).first)
        var now = t0
        for _ in 0..<5 {
            let backOff = session.receivedResponse(Fixture.respond(491, to: request), now: now)
            #expect(backOff == [.arm(.glareRetry, at: now + ms(2100))])
            now = now + ms(2100)
            request = try #require(sentRequests(session.timerFired(.glareRetry, now: now)).first)
        }
        #expect(session.receivedResponse(Fixture.respond(491, to: request), now: now) == [.modificationFailed(status: 491)])
        #expect(session.phase == .confirmed)
    }

    @Test func updateWhileOurReInviteIsPendingGets491() throws {
        var (session, _, _) = try confirmedCaller()
        _ = session.hold(offer: Fixture.holdOffer, now: t0)
        let update = try Fixture.toCaller("UPDATE", cseq: 1, branch: "z9hG4bKup", body: Fixture.offer)
        #expect(sentResponses(session.receivedRequest(update, now: t0)).map(\.statusCode) == [491])
    }
}
