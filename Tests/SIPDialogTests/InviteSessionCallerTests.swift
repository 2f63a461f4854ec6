import SIPCore
import SIPTransaction
import SIPDialog
import Testing

/// The UAC side of `InviteSession`: the INVITE and its responses.
@Suite struct InviteSessionCallerTests {
    func started(configuration: SessionConfiguration = SessionConfiguration(),
                 routeSet: [NameAddress] = []) throws -> (InviteSession, SIPMessage) {
        var session = InviteSession(outgoing: Fixture.call(routeSet: routeSet), configuration: configuration)
        let actions = session.start(offer: Fixture.offer, now: t0)
        #expect(actions.count == 1)
        let invite = try #require(sentRequests(actions).first)
        #expect(session.phase == .calling)
        return (session, invite)
    }

    // MARK: The INVITE

    @Test func startSendsTheINVITE() throws {
        let (_, invite) = try started()
        #expect(invite.method == .invite)
        #expect(invite.requestURIText == "sip:bob@example.com")
        #expect(invite.headers[.from] == "\"Alice\" <sip:alice@example.com>;tag=a1")
        #expect(invite.headers[.to] == "\"Bob\" <sip:bob@example.com>")
        #expect(invite.toTagValue == nil)
        #expect(invite.headers[.callID] == Fixture.callID)
        #expect(invite.cseqText == "1 INVITE")
        #expect(invite.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        #expect(invite.headers[.maxForwards] == "70")
        #expect(invite.headers[.supported] == "100rel, timer")
        #expect(invite.headers[.allow] == "INVITE, ACK, CANCEL, BYE, UPDATE, OPTIONS")
        #expect(invite.headers[.sessionExpires] == "1800")
        #expect(invite.headers[.minSE] == "90")
        #expect(invite.headers[.contentType] == "application/sdp")
        #expect(invite.headers[.contentLength] == String(Fixture.offer.bytes.count))
        #expect(Array(invite.body) == Fixture.offer.bytes)
        #expect(invite.headers[.route] == nil)
        #expect(invite.headers[.via] == nil)
    }

    @Test func startWithoutExtensionsAdvertisesNone() throws {
        let configuration = SessionConfiguration(sessionTimer: nil, reliableProvisionals: false,
                                                 extraHeaders: [HeaderField(name: .userAgent, value: "Dialtone")])
        let (_, invite) = try started(configuration: configuration)
        #expect(invite.headers[.supported] == nil)
        #expect(invite.headers[.sessionExpires] == nil)
        #expect(invite.headers[.minSE] == nil)
        #expect(invite.headers[.userAgent] == "Dialtone")
    }

    @Test func preloadedRouteIsUsed() throws {
        let (_, loose) = try started(routeSet: [Fixture.address("<sip:outbound.example.com;lr>")])
        #expect(loose.requestURIText == "sip:bob@example.com")
        #expect(loose.routeValues == ["<sip:outbound.example.com;lr>"])
        let (_, strict) = try started(routeSet: [Fixture.address("<sip:strict.example.com>")])
        #expect(strict.requestURIText == "sip:strict.example.com")
        #expect(strict.routeValues == ["<sip:bob@example.com>"])
    }

    @Test func startTwiceIsIgnored() throws {
        var (session, _) = try started()
        let again = session.start(offer: Fixture.offer, now: t0)
        #expect(ignoredCodes(again) == [.invalidState])
    }

    // MARK: Provisional responses

    @Test func ringingAndEarlyMedia() throws {
        var (session, invite) = try started()
        #expect(session.receivedResponse(Fixture.respond(100, to: invite), now: t0 + ms(10)) == [])
        let ringing = session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(20))
        #expect(ringing == [.ringing(earlyMedia: nil)])
        #expect(session.earlyDialogs.map(\.id.remoteTag) == ["b1"])
        #expect(session.earlyDialogs.first?.state == .early)
        let progress = session.receivedResponse(Fixture.respond(183, to: invite, body: Fixture.answer), now: t0 + ms(30))
        #expect(progress == [.progress(status: 183, earlyMedia: Fixture.answer)])
        // A 1xx without To tag is reported without a dialog.
        let untagged = session.receivedResponse(Fixture.respond(181, to: invite, tag: nil), now: t0 + ms(40))
        #expect(untagged == [.progress(status: 181, earlyMedia: nil)])
        #expect(session.earlyDialogs.count == 1)
        #expect(session.phase == .calling)
    }

    @Test func forkingCreatesTwoEarlyDialogsAndByesTheLoser() throws {
        var (session, invite) = try started()
        _ = session.receivedResponse(Fixture.respond(180, to: invite, tag: "b1", contact: "<sip:bob@192.0.2.21>"), now: t0 + ms(10))
        let second = session.receivedResponse(Fixture.respond(183, to: invite, tag: "b2", contact: "<sip:bob@192.0.2.22>",
                                                              body: Fixture.answer), now: t0 + ms(20))
        #expect(second == [.progress(status: 183, earlyMedia: Fixture.answer)])
        #expect(session.earlyDialogs.map(\.id.remoteTag) == ["b1", "b2"])
        #expect(session.earlyDialogs.map(\.remoteTarget.description) == ["sip:bob@192.0.2.21", "sip:bob@192.0.2.22"])

        // b2 answers (without SDP: the early answer stands).
        let ok2 = Fixture.respond(200, to: invite, tag: "b2", contact: "<sip:bob@192.0.2.22>")
        let answered = session.receivedResponse(ok2, now: t0 + ms(30))
        let ack2 = try #require(sentRequests(answered).first)
        #expect(ack2.requestURIText == "sip:bob@192.0.2.22")
        #expect(ack2.toTagValue == "b2")
        #expect(ack2.cseqText == "1 ACK")
        #expect(reports(answered) == [.established(remote: Fixture.answer)])
        #expect(session.dialog?.id.remoteTag == "b2")
        #expect(session.earlyDialogs.isEmpty)

        // b1 answers too: ACK, then BYE, and the call stays with b2.
        let ok1 = Fixture.respond(200, to: invite, tag: "b1", contact: "<sip:bob@192.0.2.21>", body: Fixture.answer)
        let late = session.receivedResponse(ok1, now: t0 + ms(40))
        let sent = sentRequests(late)
        #expect(sent.map { $0.method } == [.ack, .bye])
        #expect(sent.map(\.requestURIText) == ["sip:bob@192.0.2.21", "sip:bob@192.0.2.21"])
        #expect(sent.map(\.toTagValue) == ["b1", "b1"])
        #expect(sent.map(\.cseqText) == ["1 ACK", "2 BYE"])
        #expect(reports(late) == [])
        #expect(session.phase == .confirmed)
        #expect(session.dialog?.id.remoteTag == "b2")
        // Its retransmission gets the same ACK only.
        let again = session.receivedResponse(ok1, now: t0 + ms(50))
        #expect(again == [.sendRequest(sent[0])])
    }

    // MARK: 2xx

    @Test func okConfirmsAndIsAcknowledged() throws {
        var (session, invite) = try started()
        let ok = Fixture.respond(200, to: invite, recordRoute: ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
                                 body: Fixture.answer)
        let actions = session.receivedResponse(ok, now: t0 + ms(100))
        let ack = try #require(sentRequests(actions).first)
        #expect(actions == [.sendRequest(ack), .established(remote: Fixture.answer)])
        #expect(ack.method == .ack)
        #expect(ack.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(ack.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(ack.cseqText == "1 ACK")
        #expect(ack.fromTagValue == "a1")
        #expect(ack.toTagValue == "b1")
        #expect(ack.headers[.callID] == Fixture.callID)
        #expect(ack.body.isEmpty)
        #expect(session.phase == .confirmed)
        #expect(session.dialog?.state == .confirmed)
        #expect(session.sessionTimer == nil)
        // A retransmitted 2xx gets the same ACK again.
        #expect(session.receivedResponse(ok, now: t0 + ms(600)) == [.sendRequest(ack)])
    }

    @Test func late180AfterTheOKIsIgnored() throws {
        var (session, invite, _) = try confirmedCaller()
        let late = session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(200))
        #expect(late == [])
        #expect(session.phase == .confirmed)
        #expect(session.dialog?.remoteSequence == nil)
    }

    @Test func okWithoutContactIsAcknowledgedAndEnded() throws {
        var (session, invite) = try started()
        let ok = Fixture.respond(200, to: invite, contact: nil, body: Fixture.answer)
        let actions = session.receivedResponse(ok, now: t0 + ms(100))
        let sent = sentRequests(actions)
        #expect(sent.map { $0.method } == [.ack, .bye])
        // The Request-URI is the only target there is.
        #expect(sent.map(\.requestURIText) == ["sip:bob@example.com", "sip:bob@example.com"])
        #expect(session.phase == .ended)
        guard case .protocolError(let error)? = session.endReason else {
            Issue.record("expected a protocol error, got \(String(describing: session.endReason))")
            return
        }
        #expect(error.code == .missingContact)
    }

    @Test func okWithoutToTagEndsWithoutCrash() throws {
        var (session, invite) = try started()
        let ok = Fixture.respond(200, to: invite, tag: nil)
        let actions = session.receivedResponse(ok, now: t0 + ms(100))
        #expect(sentRequests(actions).isEmpty)
        #expect(session.phase == .ended)
    }

    // MARK: Malformed or unrelated responses

    @Test func mismatchedResponsesAreIgnored() throws {
        var (session, invite) = try started()
        var otherCSeq = Fixture.respond(180, to: invite)
        otherCSeq.headers.set(.cseq, "7 INVITE")
        #expect(ignoredCodes(session.receivedResponse(otherCSeq, now: t0)) == [.unexpectedResponse])
        var otherMethod = Fixture.respond(200, to: invite)
        otherMethod.headers.set(.cseq, "1 OPTIONS")
        #expect(ignoredCodes(session.receivedResponse(otherMethod, now: t0)) == [.unexpectedResponse])
        var otherCall = Fixture.respond(200, to: invite)
        otherCall.headers.set(.callID, "someone-else@192.0.2.99")
        #expect(ignoredCodes(session.receivedResponse(otherCall, now: t0)) == [.notInDialog])
        var garbage = Fixture.respond(200, to: invite)
        garbage.headers.set(.cseq, "one INVITE")
        #expect(ignoredCodes(session.receivedResponse(garbage, now: t0)) == [.malformedMessage])
        var noCSeq = Fixture.respond(200, to: invite)
        noCSeq.headers.removeAll(.cseq)
        #expect(ignoredCodes(session.receivedResponse(noCSeq, now: t0)) == [.malformedMessage])
        #expect(session.phase == .calling)
        #expect(session.earlyDialogs.isEmpty)
    }

    @Test func responseBeforeStartIsIgnored() throws {
        let (_, invite) = try started()
        var fresh = InviteSession(outgoing: Fixture.call())
        #expect(ignoredCodes(fresh.receivedResponse(Fixture.respond(200, to: invite), now: t0)) == [.unexpectedResponse])
        #expect(fresh.phase == .idle)
    }

    // MARK: Final failures

    static let failures: [(Int, EndReason)] = [
        (486, .busy), (600, .busy), (480, .unavailable), (404, .notFound), (604, .notFound),
        (503, .serviceUnavailable), (487, .cancelled), (408, .failed(status: 408)), (603, .failed(status: 603)),
        (500, .failed(status: 500)),
    ]

    @Test(arguments: failures) func failureEndsWithReason(status: Int, reason: EndReason) throws {
        var (session, invite) = try started()
        _ = session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(10))
        let actions = session.receivedResponse(Fixture.respond(status, to: invite), now: t0 + ms(20))
        #expect(actions == [.ended(reason)])
        #expect(session.phase == .ended)
        #expect(session.endReason == reason)
        #expect(session.earlyDialogs.isEmpty)
        // Nothing more happens.
        #expect(session.hangUp(now: t0 + ms(30)) == [])
    }

    @Test func redirectReportsContactsByQ() throws {
        var (session, invite) = try started()
        let moved = Fixture.respond(302, to: invite, contact: nil,
                                    extra: [(.contact, "<sip:bob@192.0.2.40>;q=0.5, <sip:bob@192.0.2.41>;q=0.9"),
                                            (.contact, "<sip:bob@192.0.2.42>, <sip:bob@192.0.2.43>;q=0.5")])
        let actions = session.receivedResponse(moved, now: t0 + ms(10))
        let targets = ["sip:bob@192.0.2.42", "sip:bob@192.0.2.41", "sip:bob@192.0.2.40", "sip:bob@192.0.2.43"].map(Fixture.uri)
        #expect(actions == [.ended(.redirected(targets))])
        // A 3xx without (usable) Contact is a plain failure.
        var (other, otherInvite) = try started()
        let empty = other.receivedResponse(Fixture.respond(301, to: otherInvite, contact: nil, extra: [(.contact, "<sip:broken")]), now: t0)
        #expect(empty == [.ended(.failed(status: 301))])
    }

    // MARK: Authentication

    @Test func challengeThenAuthorizedRetry() throws {
        var (session, invite) = try started()
        let challenge = Fixture.respond(407, to: invite, extra: [(.proxyAuthenticate, "Digest realm=\"example.com\", nonce=\"abc\"")])
        let actions = session.receivedResponse(challenge, now: t0 + ms(10))
        #expect(actions == [.needsCredentials(challenge: challenge, request: invite)])
        #expect(session.phase == .challenged)

        let credentials = HeaderField(name: .proxyAuthorization, value: "Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\", uri=\"sip:bob@example.com\", response=\"0123\"")
        let retry = session.authorize(adding: [credentials], now: t0 + ms(20))
        let second = try #require(sentRequests(retry).first)
        #expect(retry.count == 1)
        #expect(second.cseqText == "2 INVITE")
        #expect(second.headers[.callID] == Fixture.callID)
        #expect(second.fromTagValue == "a1")
        #expect(second.toTagValue == nil)
        #expect(second.headers[.proxyAuthorization] == credentials.value)
        #expect(Array(second.body) == Fixture.offer.bytes)
        #expect(session.phase == .calling)

        // The old INVITE's responses no longer match; the new one's do. The ACK carries the credentials.
        #expect(ignoredCodes(session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(30))) == [.unexpectedResponse])
        let ok = Fixture.respond(200, to: second, body: Fixture.answer)
        let answered = session.receivedResponse(ok, now: t0 + ms(40))
        let ack = try #require(sentRequests(answered).first)
        #expect(ack.cseqText == "2 ACK")
        #expect(ack.headers[.proxyAuthorization] == credentials.value)
        #expect(session.phase == .confirmed)
        #expect(session.dialog?.localSequence == 2)
    }

    @Test func resendInviteAcceptsOnlyTheSameCall() throws {
        var (session, invite) = try started()
        _ = session.receivedResponse(Fixture.respond(401, to: invite), now: t0 + ms(10))
        var foreign = invite
        foreign.headers.set(.callID, "other@192.0.2.1")
        foreign.headers.set(.cseq, "2 INVITE")
        #expect(ignoredCodes(session.resendInvite(foreign, now: t0)) == [.malformedMessage])
        #expect(ignoredCodes(session.resendInvite(invite, now: t0)) == [.malformedMessage])
        var good = invite
        good.headers.set(.cseq, "2 INVITE")
        good.headers.insert(.authorization, "Digest username=\"alice\"", at: 0)
        #expect(session.resendInvite(good, now: t0 + ms(20)) == [.sendRequest(good)])
        let ringing = session.receivedResponse(Fixture.respond(180, to: good), now: t0 + ms(30))
        #expect(ringing == [.ringing(earlyMedia: nil)])
    }

    @Test func challengesAreBounded() throws {
        var (session, invite) = try started()
        var current = invite
        for attempt in 1...3 {
            let actions = session.receivedResponse(Fixture.respond(401, to: current), now: t0)
            #expect(actions == [.needsCredentials(challenge: Fixture.respond(401, to: current), request: current)])
            current = try #require(sentRequests(session.authorize(adding: [], now: t0)).first)
            #expect(current.cseqText == String(attempt + 1) + " INVITE")
        }
        #expect(session.receivedResponse(Fixture.respond(401, to: current), now: t0) == [.ended(.failed(status: 401))])
    }

    @Test func hangUpWhileChallengedEnds() throws {
        var (session, invite) = try started()
        _ = session.receivedResponse(Fixture.respond(407, to: invite), now: t0)
        #expect(session.hangUp(now: t0) == [.ended(.cancelled)])
        #expect(ignoredCodes(session.authorize(adding: [], now: t0)) == [.invalidState])
    }

    // MARK: 422 (RFC 4028 §7.3)

    @Test func intervalTooSmallRetriesWithMinSE() throws {
        var (session, invite) = try started()
        let tooSmall = Fixture.respond(422, to: invite, extra: [(.minSE, "3600")])
        let actions = session.receivedResponse(tooSmall, now: t0 + ms(10))
        let retry = try #require(sentRequests(actions).first)
        #expect(actions.count == 1)
        #expect(retry.cseqText == "2 INVITE")
        #expect(retry.headers[.sessionExpires] == "3600")
        #expect(retry.headers[.minSE] == "3600")
        #expect(retry.headers[.callID] == Fixture.callID)
        #expect(retry.fromTagValue == "a1")
        // The 2xx names the refresher; we refresh at half the interval.
        let ok = Fixture.respond(200, to: retry, extra: [(.sessionExpires, "3600;refresher=uac"), (.require, "timer")], body: Fixture.answer)
        let answered = session.receivedResponse(ok, now: t0 + ms(20))
        #expect(answered.last == .arm(.sessionRefresh, at: t0 + ms(20) + .seconds(1800)))
        #expect(session.sessionTimer == NegotiatedSessionTimer(interval: 3600, localRefresher: true))
    }

    @Test func unusable422Fails() throws {
        var (session, invite) = try started()
        let garbage = Fixture.respond(422, to: invite, extra: [(.minSE, "soon")])
        let actions = session.receivedResponse(garbage, now: t0)
        #expect(ignoredCodes(actions) == [.badSessionTimer])
        #expect(actions.last == .ended(.failed(status: 422)))
        // A 422 whose Min-SE we already meet is not retried either.
        var (other, otherInvite) = try started()
        let pointless = other.receivedResponse(Fixture.respond(422, to: otherInvite, extra: [(.minSE, "90")]), now: t0)
        #expect(pointless.last == .ended(.failed(status: 422)))
    }

    // MARK: CANCEL (§9.1)

    @Test func cancelWaitsForAProvisional() throws {
        var (session, invite) = try started()
        #expect(session.cancel(now: t0 + ms(10)) == [])
        #expect(session.cancel(now: t0 + ms(11)) == [])
        // The first provisional (even 100) releases the CANCEL, and nothing is reported.
        let actions = session.receivedResponse(Fixture.respond(100, to: invite), now: t0 + ms(20))
        guard case .sendCancel(let cancel)? = actions.first else {
            Issue.record("expected a CANCEL, got \(actions)")
            return
        }
        #expect(actions.count == 1)
        #expect(cancel.method == .cancel)
        #expect(cancel.requestURIText == invite.requestURIText)
        #expect(cancel.cseqText == "1 CANCEL")
        #expect(cancel.headers[.callID] == Fixture.callID)
        #expect(cancel.headers[.from] == invite.headers[.from])
        #expect(cancel.headers[.to] == invite.headers[.to])
        #expect(cancel.body.isEmpty)
        // Later provisionals send nothing more and report nothing.
        #expect(session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(30)) == [])
        #expect(session.receivedResponse(Fixture.respond(487, to: invite), now: t0 + ms(40)) == [.ended(.cancelled)])
    }

    @Test func cancelAfterProvisionalIsImmediate() throws {
        var (session, invite) = try started(routeSet: [Fixture.address("<sip:outbound.example.com;lr>")])
        _ = session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(10))
        let actions = session.cancel(now: t0 + ms(20))
        guard case .sendCancel(let cancel)? = actions.first else {
            Issue.record("expected a CANCEL, got \(actions)")
            return
        }
        #expect(cancel.routeValues == ["<sip:outbound.example.com;lr>"])
        // A final response other than 487 after the CANCEL still ends as cancelled.
        #expect(session.receivedResponse(Fixture.respond(486, to: invite), now: t0 + ms(30)) == [.ended(.cancelled)])
    }

    @Test func okCrossingTheCancelIsAcknowledgedThenByed() throws {
        var (session, invite) = try started()
        _ = session.receivedResponse(Fixture.respond(180, to: invite), now: t0 + ms(10))
        _ = session.cancel(now: t0 + ms(20))
        let ok = Fixture.respond(200, to: invite, body: Fixture.answer)
        let actions = session.receivedResponse(ok, now: t0 + ms(30))
        let sent = sentRequests(actions)
        #expect(sent.map { $0.method } == [.ack, .bye])
        #expect(sent.map(\.cseqText) == ["1 ACK", "2 BYE"])
        #expect(actions.last == .ended(.cancelled))
        // The 200 retransmitted: the same ACK, no second BYE.
        #expect(session.receivedResponse(ok, now: t0 + ms(500)) == [.sendRequest(sent[0])])
    }

    @Test func cancelBeforeStartOrAfterAnswer() throws {
        var idle = InviteSession(outgoing: Fixture.call())
        #expect(idle.cancel(now: t0) == [.ended(.cancelled)])
        var (session, _, _) = try confirmedCaller()
        #expect(ignoredCodes(session.cancel(now: t0)) == [.invalidState])
        #expect(session.phase == .confirmed)
    }

    // MARK: PRACK (RFC 3262)

    @Test func reliableProvisionalsArePrackedInOrder() throws {
        var (session, invite) = try started()
        let reliable1 = Fixture.respond(183, to: invite, recordRoute: ["<sip:p1.example.com;lr>"],
                                        extra: [(.require, "100rel"), (.rseq, "1")], body: Fixture.answer)
        let first = session.receivedResponse(reliable1, now: t0 + ms(10))
        let prack = try #require(sentRequests(first).first)
        #expect(first == [.sendRequest(prack), .progress(status: 183, earlyMedia: Fixture.answer)])
        #expect(prack.method == .prack)
        #expect(prack.headers[.rack] == "1 1 INVITE")
        #expect(prack.cseqText == "2 PRACK")
        #expect(prack.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(prack.routeValues == ["<sip:p1.example.com;lr>"])
        #expect(prack.toTagValue == "b1")
        #expect(prack.fromTagValue == "a1")

        // The retransmission (same RSeq) is discarded: no PRACK, no report.
        #expect(session.receivedResponse(reliable1, now: t0 + ms(510)) == [])
        // Out of order (RSeq 3 before 2): not PRACKed.
        let reliable3 = Fixture.respond(180, to: invite, extra: [(.require, "100rel"), (.rseq, "3")])
        #expect(ignoredCodes(session.receivedResponse(reliable3, now: t0 + ms(520))) == [.badReliableProvisional])
        // RSeq 2: PRACKed with the next CSeq.
        let reliable2 = Fixture.respond(180, to: invite, extra: [(.require, "100rel"), (.rseq, "2")])
        let second = session.receivedResponse(reliable2, now: t0 + ms(530))
        let prack2 = try #require(sentRequests(second).first)
        #expect(prack2.headers[.rack] == "2 1 INVITE")
        #expect(prack2.cseqText == "3 PRACK")
        #expect(reports(second) == [.ringing(earlyMedia: nil)])
        // The PRACK's 200 changes nothing.
        #expect(session.receivedResponse(Fixture.respond(200, to: prack2), now: t0 + ms(540)) == [])

        // The 2xx is ACKed with the INVITE's CSeq, not the PRACK's; the early answer stands.
        let ok = Fixture.respond(200, to: invite, recordRoute: ["<sip:p1.example.com;lr>"])
        let answered = session.receivedResponse(ok, now: t0 + ms(600))
        let ack = try #require(sentRequests(answered).first)
        #expect(ack.cseqText == "1 ACK")
        #expect(reports(answered) == [.established(remote: Fixture.answer)])
        #expect(session.dialog?.localSequence == 3)
    }

    @Test func reliableProvisionalWithoutRSeqIsIgnored() throws {
        var (session, invite) = try started()
        let broken = Fixture.respond(180, to: invite, extra: [(.require, "100rel"), (.rseq, "zero")])
        #expect(ignoredCodes(session.receivedResponse(broken, now: t0)) == [.badReliableProvisional])
        let missing = Fixture.respond(180, to: invite, tag: "b2", extra: [(.require, "100rel")])
        #expect(ignoredCodes(session.receivedResponse(missing, now: t0)) == [.badReliableProvisional])
        #expect(session.phase == .calling)
    }

    @Test func eachForkHasItsOwnRSeqSpace() throws {
        var (session, invite) = try started()
        let fromB1 = Fixture.respond(180, to: invite, tag: "b1", extra: [(.require, "100rel"), (.rseq, "5")])
        let fromB2 = Fixture.respond(180, to: invite, tag: "b2", extra: [(.require, "100rel"), (.rseq, "5")])
        let prack1 = try #require(sentRequests(session.receivedResponse(fromB1, now: t0)).first)
        let prack2 = try #require(sentRequests(session.receivedResponse(fromB2, now: t0)).first)
        #expect(prack1.toTagValue == "b1")
        #expect(prack2.toTagValue == "b2")
        #expect(prack1.headers[.rack] == "5 1 INVITE")
        #expect(prack2.headers[.rack] == "5 1 INVITE")
        #expect(prack1.cseqText == "2 PRACK")
        #expect(prack2.cseqText == "2 PRACK")
    }

    // MARK: BYE

    @Test func hangUpSendsBye() throws {
        var (session, _, _) = try confirmedCaller()
        let actions = session.hangUp(now: t0 + .seconds(5))
        let bye = try #require(sentRequests(actions).first)
        #expect(actions == [.sendRequest(bye), .ended(.localHangUp)])
        #expect(bye.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(bye.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(bye.cseqText == "2 BYE")
        #expect(bye.toTagValue == "b1")
        #expect(bye.fromTagValue == "a1")
        // The BYE's 200 is quietly accepted.
        #expect(session.receivedResponse(Fixture.respond(200, to: bye), now: t0 + .seconds(6)) == [])
    }

    @Test func remoteByeIsAnswered() throws {
        var (session, _, _) = try confirmedCaller()
        let bye = try Fixture.toCaller("BYE", cseq: 1, branch: "z9hG4bKbye1")
        let actions = session.receivedRequest(bye, now: t0 + .seconds(5))
        let ok = try #require(sentResponses(actions).first)
        #expect(actions == [.sendResponse(ok, for: bye), .ended(.remoteHangUp)])
        #expect(ok.statusCode == 200)
        #expect(ok.cseqText == "1 BYE")
        #expect(ok.toTagValue == "a1")
        // A BYE after the end: 481.
        let again = try Fixture.toCaller("BYE", cseq: 2, branch: "z9hG4bKbye2")
        #expect(sentResponses(session.receivedRequest(again, now: t0 + .seconds(6))).map(\.statusCode) == [481])
    }

    @Test func byeInAnEarlyDialogEndsOnlyThatFork() throws {
        var (session, invite) = try started()
        _ = session.receivedResponse(Fixture.respond(180, to: invite, tag: "b1"), now: t0)
        _ = session.receivedResponse(Fixture.respond(180, to: invite, tag: "b2"), now: t0)
        let bye = try Fixture.toCaller("BYE", cseq: 1, branch: "z9hG4bKbye", peerTag: "b1")
        #expect(sentResponses(session.receivedRequest(bye, now: t0)).map(\.statusCode) == [200])
        #expect(session.earlyDialogs.map(\.id.remoteTag) == ["b2"])
        #expect(session.phase == .calling)
        let stranger = try Fixture.toCaller("INFO", cseq: 1, branch: "z9hG4bKinfo", peerTag: "b7")
        #expect(sentResponses(session.receivedRequest(stranger, now: t0)).map(\.statusCode) == [481])
    }
}
