import SIPCore
import SIPTransaction
import Testing

@Suite struct InviteClientTransactionTests {
    @Test func startOnUnreliableTransportArmsAAndB() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false, timers: .rfc3261)
        let actions = tx.start(now: t0)
        #expect(actions == [.transmit(invite), .arm(.a, at: t0 + ms(500)), .arm(.b, at: t0 + .seconds(32))])
        #expect(tx.phase == .calling)
        #expect(tx.start(now: t0 + ms(1)) == [])
    }

    @Test func startOnReliableTransportArmsOnlyB() throws {
        let invite = try TestMessages.invite(transport: "TCP")
        var tx = InviteClientTransaction(request: invite, reliable: true)
        #expect(tx.start(now: t0) == [.transmit(invite), .arm(.b, at: t0 + .seconds(32))])
        // A stray Timer A on a reliable transport does nothing.
        #expect(tx.timerFired(.a, now: t0 + ms(500)) == [])
    }

    @Test func timerADoublesUntilTimerBTimesOut() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        var driver = ManualClockDriver()
        driver.apply(tx.start(now: t0), at: t0)
        driver.run { name, at in tx.timerFired(name, now: at) }
        // Seven transmissions: 0, T1, 3*T1, 7*T1, ... (intervals 500, 1000, 2000, 4000, 8000, 16000 ms).
        #expect(driver.transmitTimes == [0, 500, 1500, 3500, 7500, 15500, 31500])
        #expect(driver.timedOut)
        #expect(driver.terminatedAt == 32000)
        #expect(tx.isTerminated)
    }

    @Test func timerAScheduleFollowsConfiguredT1() throws {
        let invite = try TestMessages.invite()
        let timers = TransactionTimers(t1: ms(100), t2: .seconds(4), t4: .seconds(5))
        var tx = InviteClientTransaction(request: invite, reliable: false, timers: timers)
        var driver = ManualClockDriver()
        driver.apply(tx.start(now: t0), at: t0)
        driver.run { name, at in tx.timerFired(name, now: at) }
        #expect(driver.transmitTimes == [0, 100, 300, 700, 1500, 3100, 6300])
        #expect(driver.terminatedAt == 6400)
    }

    @Test func timerBInCallingTimesOut() throws {
        var tx = InviteClientTransaction(request: try TestMessages.invite(), reliable: false)
        _ = tx.start(now: t0)
        #expect(tx.timerFired(.b, now: t0 + .seconds(32)) == [.timeout, .terminated])
        #expect(tx.phase == .terminated)
        #expect(tx.timerFired(.a, now: t0 + .seconds(33)) == [])
    }

    @Test func provisionalInCallingEntersProceedingAndStopsTimers() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let ringing = TestMessages.response(180, to: invite)
        #expect(tx.receivedResponse(ringing, now: t0 + ms(200)) == [.disarm(.a), .disarm(.b), .deliver(ringing)])
        #expect(tx.phase == .proceeding)
        // No retransmission and no Timer B in Proceeding.
        #expect(tx.timerFired(.a, now: t0 + ms(500)) == [])
        #expect(tx.timerFired(.b, now: t0 + .seconds(32)) == [])
        #expect(tx.phase == .proceeding)
    }

    @Test func provisionalInCallingOnReliableTransportDisarmsOnlyB() throws {
        let invite = try TestMessages.invite(transport: "TCP")
        var tx = InviteClientTransaction(request: invite, reliable: true)
        _ = tx.start(now: t0)
        let trying = TestMessages.response(100, to: invite)
        #expect(tx.receivedResponse(trying, now: t0 + ms(10)) == [.disarm(.b), .deliver(trying)])
    }

    @Test func provisionalInProceedingGoesToTU() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        _ = tx.receivedResponse(TestMessages.response(100, to: invite), now: t0 + ms(100))
        let ringing = TestMessages.response(180, to: invite)
        #expect(tx.receivedResponse(ringing, now: t0 + ms(900)) == [.deliver(ringing)])
        #expect(tx.phase == .proceeding)
    }

    @Test func successInCallingEntersAcceptedWithTimerM() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: invite)
        let now = t0 + ms(300)
        #expect(tx.receivedResponse(ok, now: now) == [.disarm(.a), .disarm(.b), .deliver(ok), .arm(.m, at: now + .seconds(32))])
        #expect(tx.phase == .accepted)
    }

    @Test func successInProceedingEntersAccepted() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: true)
        _ = tx.start(now: t0)
        _ = tx.receivedResponse(TestMessages.response(180, to: invite), now: t0 + ms(100))
        let ok = TestMessages.response(200, to: invite)
        let now = t0 + .seconds(5)
        #expect(tx.receivedResponse(ok, now: now) == [.deliver(ok), .arm(.m, at: now + .seconds(32))])
        #expect(tx.phase == .accepted)
    }

    @Test func acceptedPassesEvery2xxUpAndEndsOnTimerM() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: invite)
        _ = tx.receivedResponse(ok, now: t0 + ms(100))
        // A retransmission and a 2xx from another fork (other To tag) both go to the TU (RFC 6026 §8.4).
        #expect(tx.receivedResponse(ok, now: t0 + ms(600)) == [.deliver(ok)])
        let forked = TestMessages.response(200, to: invite, toTag: "fork2")
        #expect(tx.receivedResponse(forked, now: t0 + ms(700)) == [.deliver(forked)])
        // Late provisional or failure responses are dropped.
        #expect(tx.receivedResponse(TestMessages.response(180, to: invite), now: t0 + ms(800)) == [])
        #expect(tx.receivedResponse(TestMessages.response(486, to: invite), now: t0 + ms(900)) == [])
        #expect(tx.transportError(now: t0 + .seconds(1)) == [])
        #expect(tx.phase == .accepted)
        #expect(tx.timerFired(.m, now: t0 + ms(32100)) == [.terminated])
        #expect(tx.isTerminated)
    }

    @Test func failureInCallingSendsACKAndEntersCompleted() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        let busy = TestMessages.response(486, to: invite)
        let ack = InviteClientTransaction.ack(for: invite, response: busy)
        let now = t0 + ms(700)
        #expect(tx.receivedResponse(busy, now: now) == [.disarm(.a), .disarm(.b), .transmit(ack), .deliver(busy), .arm(.d, at: now + .seconds(32))])
        #expect(tx.phase == .completed)
    }

    @Test func failureInProceedingThenRetransmissionsThenTimerD() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        _ = tx.start(now: t0)
        _ = tx.receivedResponse(TestMessages.response(180, to: invite), now: t0 + ms(100))
        let declined = TestMessages.response(603, to: invite)
        let ack = InviteClientTransaction.ack(for: invite, response: declined)
        let now = t0 + .seconds(3)
        #expect(tx.receivedResponse(declined, now: now) == [.transmit(ack), .deliver(declined), .arm(.d, at: now + .seconds(32))])
        // Each retransmission of the final response is ACKed again and not passed up.
        #expect(tx.receivedResponse(declined, now: now + ms(500)) == [.transmit(ack)])
        #expect(tx.receivedResponse(declined, now: now + ms(1500)) == [.transmit(ack)])
        #expect(tx.receivedResponse(TestMessages.response(200, to: invite), now: now + ms(1600)) == [])
        #expect(tx.timerFired(.d, now: now + .seconds(32)) == [.terminated])
        #expect(tx.isTerminated)
    }

    @Test func timerDFollowsConfiguration() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false, timers: TransactionTimers(timerD: .seconds(40)))
        _ = tx.start(now: t0)
        let busy = TestMessages.response(486, to: invite)
        let actions = tx.receivedResponse(busy, now: t0)
        #expect(actions.last == .arm(.d, at: t0 + .seconds(40)))
    }

    @Test func failureOnReliableTransportTerminatesAtOnce() throws {
        let invite = try TestMessages.invite(transport: "TLS")
        var tx = InviteClientTransaction(request: invite, reliable: true)
        _ = tx.start(now: t0)
        let notFound = TestMessages.response(404, to: invite)
        let ack = InviteClientTransaction.ack(for: invite, response: notFound)
        #expect(tx.receivedResponse(notFound, now: t0 + ms(50)) == [.disarm(.b), .transmit(ack), .deliver(notFound), .terminated])
        #expect(tx.isTerminated)
    }

    @Test func transportErrorsTerminate() throws {
        let invite = try TestMessages.invite()
        var calling = InviteClientTransaction(request: invite, reliable: false)
        _ = calling.start(now: t0)
        #expect(calling.transportError(now: t0) == [.transportError, .terminated])
        #expect(calling.transportError(now: t0) == [])

        var proceeding = InviteClientTransaction(request: invite, reliable: false)
        _ = proceeding.start(now: t0)
        _ = proceeding.receivedResponse(TestMessages.response(180, to: invite), now: t0)
        #expect(proceeding.transportError(now: t0) == [.transportError, .terminated])

        var completed = InviteClientTransaction(request: invite, reliable: false)
        _ = completed.start(now: t0)
        _ = completed.receivedResponse(TestMessages.response(500, to: invite), now: t0)
        #expect(completed.transportError(now: t0 + ms(1)) == [.transportError, .terminated])
        #expect(completed.phase == .terminated)
    }

    @Test func inputsBeforeStartAndOutOfRangeStatusAreIgnored() throws {
        let invite = try TestMessages.invite()
        var tx = InviteClientTransaction(request: invite, reliable: false)
        #expect(tx.receivedResponse(TestMessages.response(200, to: invite), now: t0) == [])
        #expect(tx.timerFired(.b, now: t0) == [])
        #expect(tx.transportError(now: t0) == [])
        #expect(tx.phase == .idle)
        _ = tx.start(now: t0)
        let weird = SIPMessage(status: 700, headers: TestMessages.response(200, to: invite).headers)
        #expect(tx.receivedResponse(weird, now: t0) == [])
        #expect(tx.phase == .calling)
    }

    @Test func ackIsBuiltFromTheInviteAndTheResponse() throws {
        let invite = try TestMessages.invite(extraVia: true)
        let busy = TestMessages.response(486, to: invite, toTag: "xyz987")
        let ack = InviteClientTransaction.ack(for: invite, response: busy)
        #expect(ack.method == .ack)
        #expect(ack.requestLine?.uri == invite.requestLine?.uri)
        let vias = try ack.vias()
        #expect(vias.count == 1)
        #expect(vias.first?.branch == "z9hG4bK776asdhds")
        #expect(ack.headers[.callID] == invite.headers[.callID])
        #expect(ack.headers[.from] == invite.headers[.from])
        let to = try ack.to()
        #expect(to.tag == "xyz987")
        let cseq = try ack.cseq()
        #expect(cseq == CSeq(314159, .ack))
        #expect(ack.headers.values(.route) == invite.headers.values(.route))
        #expect(ack.headers[.maxForwards] == "70")
        #expect(ack.body.isEmpty)
        // It reparses as a valid message.
        let reparsed = try SIPMessage.parse(datagram: ack.serialized())
        #expect(reparsed.method == .ack)
    }

    @Test func cancelIsBuiltFromTheInvite() throws {
        let invite = try TestMessages.invite(extraVia: true)
        let cancel = InviteClientTransaction.cancel(for: invite)
        #expect(cancel.method == .cancel)
        #expect(cancel.requestLine?.uri == invite.requestLine?.uri)
        let vias = try cancel.vias()
        #expect(vias.count == 1)
        #expect(vias.first?.branch == "z9hG4bK776asdhds")
        #expect(cancel.headers[.to] == invite.headers[.to])
        #expect(cancel.headers[.from] == invite.headers[.from])
        #expect(cancel.headers[.callID] == invite.headers[.callID])
        let cseq = try cancel.cseq()
        #expect(cseq == CSeq(314159, .cancel))
        #expect(cancel.headers.values(.route) == invite.headers.values(.route))
    }
}
