import SIPCore
import SIPTransaction
import Testing

@Suite struct NonInviteServerTransactionTests {
    @Test func tryingProceedingCompletedTerminated() throws {
        let options = try TestMessages.options()
        var tx = NonInviteServerTransaction(request: options, reliable: false, timers: .rfc3261)
        #expect(tx.start(now: t0) == [.deliver(options)])
        #expect(tx.phase == .trying)
        #expect(tx.start(now: t0) == [])
        // Retransmissions are absorbed in Trying.
        #expect(tx.receivedRequest(options, now: t0 + ms(500)) == [])
        let trying = TestMessages.response(100, to: options)
        #expect(tx.sendResponse(trying, now: t0 + ms(600)) == [.transmit(trying)])
        #expect(tx.phase == .proceeding)
        #expect(tx.receivedRequest(options, now: t0 + ms(1500)) == [.transmit(trying)])
        let progress = TestMessages.response(183, to: options)
        #expect(tx.sendResponse(progress, now: t0 + ms(1600)) == [.transmit(progress)])
        #expect(tx.receivedRequest(options, now: t0 + ms(3500)) == [.transmit(progress)])
        let ok = TestMessages.response(200, to: options)
        let now = t0 + .seconds(4)
        #expect(tx.sendResponse(ok, now: now) == [.transmit(ok), .arm(.j, at: now + .seconds(32))])
        #expect(tx.phase == .completed)
        #expect(tx.receivedRequest(options, now: now + ms(1)) == [.transmit(ok)])
        // The TU cannot send a second final response.
        #expect(tx.sendResponse(TestMessages.response(500, to: options), now: now + ms(2)) == [])
        #expect(tx.timerFired(.j, now: now + .seconds(32)) == [.terminated])
        #expect(tx.isTerminated)
        #expect(tx.receivedRequest(options, now: now + .seconds(33)) == [])
    }

    @Test func finalFromTryingEntersCompleted() throws {
        let options = try TestMessages.options()
        var tx = NonInviteServerTransaction(request: options, reliable: false)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: options)
        #expect(tx.sendResponse(ok, now: t0 + ms(3)) == [.transmit(ok), .arm(.j, at: t0 + ms(32003))])
        #expect(tx.timerFired(.h, now: t0 + ms(32003)) == [])
        #expect(tx.phase == .completed)
    }

    @Test func reliableTransportHasNoTimerJ() throws {
        let options = try TestMessages.options(transport: "TCP")
        var tx = NonInviteServerTransaction(request: options, reliable: true)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: options)
        #expect(tx.sendResponse(ok, now: t0) == [.transmit(ok), .terminated])
        #expect(tx.isTerminated)
    }

    @Test func transportErrors() throws {
        let options = try TestMessages.options()
        var trying = NonInviteServerTransaction(request: options, reliable: false)
        _ = trying.start(now: t0)
        #expect(trying.transportError(now: t0) == [])
        #expect(trying.phase == .trying)

        var proceeding = NonInviteServerTransaction(request: options, reliable: false)
        _ = proceeding.start(now: t0)
        _ = proceeding.sendResponse(TestMessages.response(100, to: options), now: t0)
        #expect(proceeding.transportError(now: t0) == [.transportError, .terminated])

        var completed = NonInviteServerTransaction(request: options, reliable: false)
        _ = completed.start(now: t0)
        _ = completed.sendResponse(TestMessages.response(404, to: options), now: t0)
        #expect(completed.transportError(now: t0) == [.transportError, .terminated])
        #expect(completed.isTerminated)
    }
}
