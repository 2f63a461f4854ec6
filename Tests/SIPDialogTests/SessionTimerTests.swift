import SIPCore
import SIPTransaction
import SIPDialog
import Testing

/// RFC 4028 session timers in `InviteSession`, both roles.
@Suite struct SessionTimerTests {
    /// A UAC call answered at `answeredAt` by a 200 carrying `sessionExpires` (and Allow as given).
    func answeredCaller(sessionExpires: String?, allowUpdate: Bool = true, answeredAt: Instant = t0 + ms(100),
                        configuration: SessionConfiguration = SessionConfiguration()) throws -> (InviteSession, [SessionAction]) {
        var session = InviteSession(outgoing: Fixture.call(), configuration: configuration)
        let invite = try #require(sentRequests(session.start(offer: Fixture.offer, now: t0)).first)
        var extra: [(HeaderName, String)] = [(.allow, allowUpdate ? "INVITE, ACK, BYE, CANCEL, UPDATE" : "INVITE, ACK, BYE, CANCEL")]
        if let sessionExpires {
            extra.append((.sessionExpires, sessionExpires))
            extra.append((.require, "timer"))
        }
        let ok = Fixture.respond(200, to: invite, recordRoute: ["<sip:p1.example.com;lr>"], extra: extra, body: Fixture.answer)
        let actions = session.receivedResponse(ok, now: answeredAt)
        return (session, actions)
    }

    // MARK: UAC

    @Test func callerRefreshesWithUpdateAtHalfTheInterval() throws {
        let answeredAt = t0 + ms(100)
        var (session, actions) = try answeredCaller(sessionExpires: "1800;refresher=uac", answeredAt: answeredAt)
        #expect(actions.last == .arm(.sessionRefresh, at: answeredAt + .seconds(900)))
        #expect(session.sessionTimer == NegotiatedSessionTimer(interval: 1800, localRefresher: true))

        let refreshAt = answeredAt + .seconds(900)
        let refresh = session.timerFired(.sessionRefresh, now: refreshAt)
        let update = try #require(sentRequests(refresh).first)
        #expect(refresh.count == 1)
        #expect(update.method == .update)
        #expect(update.cseqText == "2 UPDATE")
        #expect(update.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(update.routeValues == ["<sip:p1.example.com;lr>"])
        #expect(update.headers[.sessionExpires] == "1800;refresher=uac")
        #expect(update.headers[.minSE] == "90")
        #expect(update.headers[.supported] == "timer")
        #expect(update.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        #expect(update.body.isEmpty)

        // Its 200 re-arms the refresh, and reports nothing to the application.
        let ok = Fixture.respond(200, to: update, extra: [(.sessionExpires, "1800;refresher=uac")])
        #expect(session.receivedResponse(ok, now: refreshAt + ms(40)) == [.arm(.sessionRefresh, at: refreshAt + ms(40) + .seconds(900))])
    }

    @Test func callerRefreshesWithReInviteWhenUpdateIsNotAllowed() throws {
        var (session, _) = try answeredCaller(sessionExpires: "600;refresher=uac", allowUpdate: false)
        let refreshAt = t0 + ms(100) + .seconds(300)
        let refresh = session.timerFired(.sessionRefresh, now: refreshAt)
        let reinvite = try #require(sentRequests(refresh).first)
        #expect(reinvite.method == .invite)
        #expect(reinvite.cseqText == "2 INVITE")
        #expect(reinvite.headers[.sessionExpires] == "600;refresher=uac")
        // The current SDP, unchanged (RFC 3264 §8: same version).
        #expect(Array(reinvite.body) == Fixture.offer.bytes)
        let ok = Fixture.respond(200, to: reinvite, extra: [(.sessionExpires, "600;refresher=uac")], body: Fixture.answer)
        let answered = session.receivedResponse(ok, now: refreshAt + ms(50))
        let ack = try #require(sentRequests(answered).first)
        #expect(answered == [.sendRequest(ack), .arm(.sessionRefresh, at: refreshAt + ms(50) + .seconds(300))])
        #expect(ack.cseqText == "2 ACK")
    }

    @Test func peerRefresherMissingTheDeadlineGetsBye() throws {
        let answeredAt = t0 + ms(100)
        var (session, actions) = try answeredCaller(sessionExpires: "1800;refresher=uas", answeredAt: answeredAt)
        // interval − min(32, interval/3) = 1768 s.
        #expect(actions.last == .arm(.sessionExpiry, at: answeredAt + .seconds(1768)))
        #expect(session.sessionTimer == NegotiatedSessionTimer(interval: 1800, localRefresher: false))
        #expect(session.timerFired(.sessionRefresh, now: answeredAt + .seconds(900)) == [])
        let expired = session.timerFired(.sessionExpiry, now: answeredAt + .seconds(1768))
        let bye = try #require(sentRequests(expired).first)
        #expect(expired == [.sendRequest(bye), .ended(.sessionExpired)])
        #expect(bye.cseqText == "2 BYE")
        #expect(bye.toTagValue == "b1")
    }

    @Test func shortIntervalExpiresAtTwoThirds() throws {
        let answeredAt = t0 + ms(100)
        let (_, actions) = try answeredCaller(sessionExpires: "90;refresher=uas", answeredAt: answeredAt)
        // 90 − min(32, 30) = 60 s.
        #expect(actions.last == .arm(.sessionExpiry, at: answeredAt + .seconds(60)))
    }

    @Test func refreshFromThePeerPostponesTheExpiry() throws {
        var (session, _) = try answeredCaller(sessionExpires: "1800;refresher=uas")
        let refreshAt = t0 + .seconds(900)
        let update = try Fixture.toCaller("UPDATE", cseq: 1, branch: "z9hG4bKrefresh", extra: ["Session-Expires: 1800;refresher=uac"])
        let actions = session.receivedRequest(update, now: refreshAt)
        let ok = try #require(sentResponses(actions).first)
        #expect(actions == [.sendResponse(ok, for: update), .arm(.sessionExpiry, at: refreshAt + .seconds(1768))])
        #expect(ok.statusCode == 200)
        #expect(ok.headers[.sessionExpires] == "1800;refresher=uac")
        // The peer did not say Supported: timer, so no Require: timer in the answer.
        #expect(ok.headers[.require] == nil)
    }

    @Test func refresherRoleCanMove() throws {
        var (session, _) = try answeredCaller(sessionExpires: "1800;refresher=uac")
        // The peer's refresh makes itself the refresher: our refresh is disarmed, the expiry armed.
        let update = try Fixture.toCaller("UPDATE", cseq: 1, branch: "z9hG4bKmove",
                                          extra: ["Session-Expires: 1200;refresher=uac", "Supported: timer"])
        let at = t0 + .seconds(100)
        let actions = session.receivedRequest(update, now: at)
        let ok = try #require(sentResponses(actions).first)
        #expect(actions == [.sendResponse(ok, for: update), .disarm(.sessionRefresh), .arm(.sessionExpiry, at: at + .seconds(1168))])
        #expect(ok.headers[.require] == "timer")
        #expect(session.sessionTimer == NegotiatedSessionTimer(interval: 1200, localRefresher: false))
        // The stale refresh timer does nothing.
        #expect(session.timerFired(.sessionRefresh, now: t0 + .seconds(900)) == [])
    }

    @Test func garbageSessionExpiresInTheOKMeansNoTimer() throws {
        let (session, actions) = try answeredCaller(sessionExpires: "forever;refresher=uac")
        #expect(ignoredCodes(actions) == [.badSessionTimer])
        #expect(reports(actions).contains(.established(remote: Fixture.answer)))
        #expect(session.phase == .confirmed)
        #expect(session.sessionTimer == nil)
        #expect(!actions.contains { if case .arm = $0 { return true } else { return false } })
    }

    @Test func noSessionExpiresInTheOKMeansNoTimer() throws {
        let (session, actions) = try answeredCaller(sessionExpires: nil)
        #expect(session.sessionTimer == nil)
        #expect(actions.count == 2)
    }

    @Test func disabledTimersIgnoreSessionExpires() throws {
        let (session, actions) = try answeredCaller(sessionExpires: "1800;refresher=uac",
                                                    configuration: SessionConfiguration(sessionTimer: nil))
        #expect(session.sessionTimer == nil)
        #expect(actions.count == 2)
    }

    @Test func refresh422IsRetriedWithTheLargerMinSE() throws {
        var (session, _) = try answeredCaller(sessionExpires: "1800;refresher=uac")
        let update = try #require(sentRequests(session.timerFired(.sessionRefresh, now: t0 + .seconds(900))).first)
        let tooSmall = Fixture.respond(422, to: update, extra: [(.minSE, "2400")])
        let retry = try #require(sentRequests(session.receivedResponse(tooSmall, now: t0 + .seconds(901))).first)
        #expect(retry.cseqText == "3 UPDATE")
        #expect(retry.headers[.sessionExpires] == "2400;refresher=uac")
        #expect(retry.headers[.minSE] == "2400")
    }

    @Test func configuredIntervalIsAsked() throws {
        let configuration = SessionConfiguration(sessionTimer: SessionTimerSettings(interval: 600, minimum: 30))
        var session = InviteSession(outgoing: Fixture.call(), configuration: configuration)
        let invite = try #require(sentRequests(session.start(offer: Fixture.offer, now: t0)).first)
        #expect(invite.headers[.sessionExpires] == "600")
        // Min-SE is never below 90 (RFC 4028 §4).
        #expect(invite.headers[.minSE] == "90")
    }

    // MARK: UAS

    @Test func calleeLetsTheCallerRefresh() throws {
        var session = InviteSession(incomingWithLocalTag: "a9", contact: Fixture.address("<sip:alice@192.0.2.1:5060>"))
        let invite = try Fixture.incomingInvite(extra: ["Supported: timer", "Session-Expires: 1800"])
        _ = session.receivedRequest(invite, now: t0)
        let answered = session.answer(Fixture.answer, now: t0 + ms(10))
        let ok = try #require(sentResponses(answered).first)
        #expect(ok.headers[.sessionExpires] == "1800;refresher=uac")
        #expect(ok.headers[.require] == "timer")
        #expect(answered.last == .arm(.sessionExpiry, at: t0 + ms(10) + .seconds(1768)))
        #expect(session.sessionTimer == NegotiatedSessionTimer(interval: 1800, localRefresher: false))

        // The caller's refresh re-INVITE, answered: the expiry moves.
        let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKack")
        _ = session.receivedRequest(ack, now: t0 + ms(20))
        let refresh = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bKre", extra: ["Supported: timer", "Session-Expires: 1800;refresher=uac"],
                                           body: Fixture.offer)
        let at = t0 + .seconds(900)
        #expect(session.receivedRequest(refresh, now: at) == [.offerReceived(Fixture.offer)])
        let reply = session.answerOffer(Fixture.answer, now: at + ms(5))
        #expect(reply.last == .arm(.sessionExpiry, at: at + ms(5) + .seconds(1768)))
        #expect(sentResponses(reply).first?.headers[.sessionExpires] == "1800;refresher=uac")
    }

    @Test func calleeRefreshesWhenTheCallerCannot() throws {
        var session = InviteSession(incomingWithLocalTag: "a9", contact: Fixture.address("<sip:alice@192.0.2.1:5060>"))
        // No Supported: timer: the UAS must be the refresher; a longer interval than ours is shortened.
        let invite = try Fixture.incomingInvite(extra: ["Session-Expires: 7200"])
        _ = session.receivedRequest(invite, now: t0)
        let answered = session.answer(Fixture.answer, now: t0)
        let ok = try #require(sentResponses(answered).first)
        #expect(ok.headers[.sessionExpires] == "1800;refresher=uas")
        #expect(ok.headers[.require] == nil)
        #expect(answered.last == .arm(.sessionRefresh, at: t0 + .seconds(900)))
        let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKack")
        _ = session.receivedRequest(ack, now: t0 + ms(20))
        // The caller did not allow UPDATE: refresh with a re-INVITE carrying our SDP.
        let refresh = session.timerFired(.sessionRefresh, now: t0 + .seconds(900))
        let reinvite = try #require(sentRequests(refresh).first)
        #expect(reinvite.method == .invite)
        #expect(reinvite.cseqText == "1 INVITE")
        #expect(reinvite.headers[.sessionExpires] == "1800;refresher=uac")
        #expect(Array(reinvite.body) == Fixture.answer.bytes)
    }

    @Test func calleeWithoutSessionExpiresRunsNoTimer() throws {
        let (session, _) = try confirmedCallee()
        #expect(session.sessionTimer == nil)
    }
}
