import DialtoneTestKit
import SIPCore
import SIPTransaction
import Testing

@Suite struct InviteServerTransactionTests {
    @Test func startPassesInviteUpAndSends100() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false, timers: .rfc3261)
        let trying = SIPMessage.response(to: invite, status: 100)
        #expect(tx.start(now: t0) == [.deliver(invite), .transmit(trying)])
        #expect(tx.phase == .proceeding)
        #expect(tx.isRFC2543 == false)
        // A retransmitted INVITE gets the 100 again.
        #expect(tx.receivedRequest(invite, now: t0 + ms(500)) == [.transmit(trying)])
        #expect(tx.start(now: t0) == [])
    }

    @Test func withoutTryingRetransmissionsWaitForAProvisional() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false, sendTrying: false)
        #expect(tx.start(now: t0) == [.deliver(invite)])
        #expect(tx.receivedRequest(invite, now: t0 + ms(500)) == [])
        let ringing = TestMessages.response(180, to: invite)
        #expect(tx.sendResponse(ringing, now: t0 + ms(600)) == [.transmit(ringing)])
        #expect(tx.phase == .proceeding)
        #expect(tx.receivedRequest(invite, now: t0 + ms(1500)) == [.transmit(ringing)])
        // ACK before any final response does not belong here.
        let earlyACK = try TestMessages.request("ACK")
        #expect(tx.receivedRequest(earlyACK, now: t0 + ms(1600)) == [])
    }

    @Test func successEntersAcceptedWithTimerL() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: invite)
        let now = t0 + .seconds(2)
        #expect(tx.sendResponse(ok, now: now) == [.transmit(ok), .arm(.l, at: now + .seconds(32))])
        #expect(tx.phase == .accepted)
    }

    @Test func acceptedAbsorbsInvitesSendsTU2xxAndEndsOnTimerL() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: invite)
        _ = tx.sendResponse(ok, now: t0)
        #expect(tx.receivedRequest(invite, now: t0 + ms(500)) == [])
        // The TU retransmits its 2xx through the transaction (RFC 6026 §8.5).
        #expect(tx.sendResponse(ok, now: t0 + ms(500)) == [.transmit(ok)])
        #expect(tx.sendResponse(TestMessages.response(486, to: invite), now: t0 + ms(600)) == [])
        #expect(tx.sendResponse(TestMessages.response(180, to: invite), now: t0 + ms(600)) == [])
        let ack = try TestMessages.request("ACK", toTag: "a6c85cf")
        #expect(tx.receivedRequest(ack, now: t0 + ms(700)) == [.deliver(ack)])
        #expect(tx.phase == .accepted)
        #expect(tx.timerFired(.h, now: t0 + .seconds(32)) == [])
        #expect(tx.timerFired(.l, now: t0 + .seconds(32)) == [.terminated])
        #expect(tx.isTerminated)
    }

    @Test func failureEntersCompletedWithTimersGAndH() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let busy = TestMessages.response(486, to: invite)
        let now = t0 + ms(250)
        #expect(tx.sendResponse(busy, now: now) == [.transmit(busy), .arm(.g, at: now + ms(500)), .arm(.h, at: now + .seconds(32))])
        #expect(tx.phase == .completed)
        #expect(tx.receivedRequest(invite, now: now + ms(100)) == [.transmit(busy)])
        #expect(tx.sendResponse(TestMessages.response(200, to: invite), now: now + ms(200)) == [])
    }

    @Test func timerGDoublesUpToT2UntilTimerHTimesOut() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        var driver = ManualClockDriver()
        driver.apply(tx.sendResponse(TestMessages.response(404, to: invite), now: t0), at: t0)
        driver.run { name, at in tx.timerFired(name, now: at) }
        #expect(driver.transmitTimes == [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500])
        #expect(driver.timedOut)
        #expect(driver.terminatedAt == 32000)
        #expect(tx.isTerminated)
    }

    @Test func ackInCompletedEntersConfirmedWithTimerI() throws {
        let invite = try TestMessages.invite()
        var tx = InviteServerTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let busy = TestMessages.response(486, to: invite)
        _ = tx.sendResponse(busy, now: t0)
        let ack = TestMessages.ack(for: invite, response: busy)
        let now = t0 + ms(40)
        #expect(tx.receivedRequest(ack, now: now) == [.disarm(.g), .disarm(.h), .arm(.i, at: now + .seconds(5))])
        #expect(tx.phase == .confirmed)
        // Confirmed absorbs further ACKs and INVITEs; G and H are gone.
        #expect(tx.receivedRequest(ack, now: now + ms(10)) == [])
        #expect(tx.receivedRequest(invite, now: now + ms(20)) == [])
        #expect(tx.timerFired(.g, now: t0 + ms(500)) == [])
        #expect(tx.timerFired(.h, now: t0 + .seconds(32)) == [])
        #expect(tx.timerFired(.i, now: now + .seconds(5)) == [.terminated])
        #expect(tx.isTerminated)
    }

    @Test func reliableTransportNoTimerGAndNoTimerI() throws {
        let invite = try TestMessages.invite(transport: "TCP")
        var tx = InviteServerTransaction(request: invite, reliable: true)
        _ = tx.start(now: t0)
        let busy = TestMessages.response(486, to: invite)
        #expect(tx.sendResponse(busy, now: t0) == [.transmit(busy), .arm(.h, at: t0 + .seconds(32))])
        #expect(tx.timerFired(.g, now: t0 + ms(500)) == [])
        let ack = TestMessages.ack(for: invite, response: busy)
        #expect(tx.receivedRequest(ack, now: t0 + ms(20)) == [.disarm(.h), .terminated])
        #expect(tx.isTerminated)
    }

    @Test func reliableTimerHStillTimesOut() throws {
        let invite = try TestMessages.invite(transport: "TCP")
        var tx = InviteServerTransaction(request: invite, reliable: true)
        _ = tx.start(now: t0)
        _ = tx.sendResponse(TestMessages.response(503, to: invite), now: t0)
        #expect(tx.timerFired(.h, now: t0 + .seconds(32)) == [.timeout, .terminated])
    }

    @Test func transportErrors() throws {
        let invite = try TestMessages.invite()
        var proceeding = InviteServerTransaction(request: invite, reliable: false)
        _ = proceeding.start(now: t0)
        #expect(proceeding.transportError(now: t0) == [.transportError, .terminated])
        #expect(proceeding.isTerminated)

        var completed = InviteServerTransaction(request: invite, reliable: false)
        _ = completed.start(now: t0)
        _ = completed.sendResponse(TestMessages.response(486, to: invite), now: t0)
        #expect(completed.transportError(now: t0) == [.transportError, .terminated])

        var accepted = InviteServerTransaction(request: invite, reliable: false)
        _ = accepted.start(now: t0)
        _ = accepted.sendResponse(TestMessages.response(200, to: invite), now: t0)
        #expect(accepted.transportError(now: t0) == [.transportError])
        #expect(accepted.phase == .accepted)

        var confirmed = InviteServerTransaction(request: invite, reliable: false)
        _ = confirmed.start(now: t0)
        let busy = TestMessages.response(486, to: invite)
        _ = confirmed.sendResponse(busy, now: t0)
        _ = confirmed.receivedRequest(TestMessages.ack(for: invite, response: busy), now: t0)
        #expect(confirmed.transportError(now: t0) == [])
        #expect(confirmed.phase == .confirmed)
    }

    @Test func rfc2543InviteMatchesACKByToTag() throws {
        let invite = try SIPMessage.parse(datagram: Fixtures.bytes("rfc4475/semantic/inv2543.sip"))
        var tx = InviteServerTransaction(request: invite, reliable: false)
        #expect(tx.isRFC2543)
        _ = tx.start(now: t0)
        let busy = TestMessages.response(486, to: invite, toTag: "srv2543")
        _ = tx.sendResponse(busy, now: t0)
        // Retransmission of the INVITE (same To, no tag): the response again.
        #expect(tx.receivedRequest(invite, now: t0 + ms(100)) == [.transmit(busy)])
        // An ACK carrying another To tag acknowledges some other response.
        let stranger = TestMessages.ack(for: invite, response: TestMessages.response(486, to: invite, toTag: "other"))
        #expect(tx.receivedRequest(stranger, now: t0 + ms(200)) == [])
        #expect(tx.phase == .completed)
        let ack = TestMessages.ack(for: invite, response: busy)
        #expect(tx.receivedRequest(ack, now: t0 + ms(300)) == [.disarm(.g), .disarm(.h), .arm(.i, at: t0 + ms(5300))])
        #expect(tx.phase == .confirmed)
    }
}
