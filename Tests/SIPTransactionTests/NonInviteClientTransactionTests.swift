import SIPCore
import SIPTransaction
import Testing

@Suite struct NonInviteClientTransactionTests {
    @Test func startOnUnreliableTransportArmsEAndF() throws {
        let options = try TestMessages.options()
        var tx = NonInviteClientTransaction(request: options, reliable: false, timers: .rfc3261)
        #expect(tx.start(now: t0) == [.transmit(options), .arm(.e, at: t0 + ms(500)), .arm(.f, at: t0 + .seconds(32))])
        #expect(tx.phase == .trying)
        #expect(tx.start(now: t0) == [])
    }

    @Test func startOnReliableTransportArmsOnlyF() throws {
        let options = try TestMessages.options(transport: "TCP")
        var tx = NonInviteClientTransaction(request: options, reliable: true)
        #expect(tx.start(now: t0) == [.transmit(options), .arm(.f, at: t0 + .seconds(32))])
        #expect(tx.timerFired(.e, now: t0 + ms(500)) == [])
    }

    @Test func timerEDoublesUpToT2UntilTimerF() throws {
        var tx = NonInviteClientTransaction(request: try TestMessages.options(), reliable: false)
        var driver = ManualClockDriver()
        driver.apply(tx.start(now: t0), at: t0)
        driver.run { name, at in tx.timerFired(name, now: at) }
        // Intervals 500, 1000, 2000, then T2 = 4000 ms.
        #expect(driver.transmitTimes == [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500])
        #expect(driver.timedOut)
        #expect(driver.terminatedAt == 32000)
    }

    @Test func timerECapFollowsConfiguredT2() throws {
        let timers = TransactionTimers(t1: ms(500), t2: ms(1000), t4: .seconds(5))
        var tx = NonInviteClientTransaction(request: try TestMessages.options(), reliable: false, timers: timers)
        var driver = ManualClockDriver()
        driver.apply(tx.start(now: t0), at: t0)
        driver.run(limit: 5) { name, at in tx.timerFired(name, now: at) }
        #expect(driver.transmitTimes == [0, 500, 1500, 2500, 3500, 4500])
    }

    @Test func afterAProvisionalTimerEGoesStraightToT2() throws {
        let options = try TestMessages.options()
        var tx = NonInviteClientTransaction(request: options, reliable: false)
        _ = tx.start(now: t0)
        #expect(tx.timerFired(.e, now: t0 + ms(500)) == [.transmit(options), .arm(.e, at: t0 + ms(1500))])
        let trying = TestMessages.response(100, to: options)
        #expect(tx.receivedResponse(trying, now: t0 + ms(700)) == [.deliver(trying)])
        #expect(tx.phase == .proceeding)
        // The armed E (due at 1.5 s) fires in Proceeding: resend, re-arm at T2.
        #expect(tx.timerFired(.e, now: t0 + ms(1500)) == [.transmit(options), .arm(.e, at: t0 + ms(5500))])
        #expect(tx.timerFired(.e, now: t0 + ms(5500)) == [.transmit(options), .arm(.e, at: t0 + ms(9500))])
    }

    @Test func provisionalInProceedingGoesToTU() throws {
        let options = try TestMessages.options()
        var tx = NonInviteClientTransaction(request: options, reliable: false)
        _ = tx.start(now: t0)
        _ = tx.receivedResponse(TestMessages.response(100, to: options), now: t0)
        let progress = TestMessages.response(183, to: options)
        #expect(tx.receivedResponse(progress, now: t0 + ms(10)) == [.deliver(progress)])
        #expect(tx.phase == .proceeding)
    }

    @Test func finalInTryingEntersCompletedWithTimerK() throws {
        let options = try TestMessages.options()
        var tx = NonInviteClientTransaction(request: options, reliable: false)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: options)
        let now = t0 + ms(80)
        #expect(tx.receivedResponse(ok, now: now) == [.disarm(.e), .disarm(.f), .deliver(ok), .arm(.k, at: now + .seconds(5))])
        #expect(tx.phase == .completed)
        // Retransmitted finals are absorbed; timers E/F no longer do anything.
        #expect(tx.receivedResponse(ok, now: now + ms(100)) == [])
        #expect(tx.timerFired(.e, now: now + ms(500)) == [])
        #expect(tx.timerFired(.f, now: t0 + .seconds(32)) == [])
        #expect(tx.timerFired(.k, now: now + .seconds(5)) == [.terminated])
        #expect(tx.isTerminated)
    }

    @Test func finalInProceedingEntersCompleted() throws {
        let options = try TestMessages.options()
        var tx = NonInviteClientTransaction(request: options, reliable: false)
        _ = tx.start(now: t0)
        _ = tx.receivedResponse(TestMessages.response(100, to: options), now: t0)
        let notFound = TestMessages.response(404, to: options)
        let now = t0 + .seconds(2)
        #expect(tx.receivedResponse(notFound, now: now) == [.disarm(.e), .disarm(.f), .deliver(notFound), .arm(.k, at: now + .seconds(5))])
        #expect(tx.phase == .completed)
    }

    @Test func finalOnReliableTransportTerminatesAtOnce() throws {
        let options = try TestMessages.options(transport: "TCP")
        var tx = NonInviteClientTransaction(request: options, reliable: true)
        _ = tx.start(now: t0)
        let ok = TestMessages.response(200, to: options)
        #expect(tx.receivedResponse(ok, now: t0 + ms(5)) == [.disarm(.f), .deliver(ok), .terminated])
        #expect(tx.isTerminated)
    }

    @Test func timerFInProceedingTimesOut() throws {
        let options = try TestMessages.options()
        var tx = NonInviteClientTransaction(request: options, reliable: false)
        _ = tx.start(now: t0)
        _ = tx.receivedResponse(TestMessages.response(100, to: options), now: t0)
        #expect(tx.timerFired(.f, now: t0 + .seconds(32)) == [.timeout, .terminated])
        #expect(tx.receivedResponse(TestMessages.response(200, to: options), now: t0 + .seconds(33)) == [])
    }

    @Test func transportErrorsTerminateTryingAndProceeding() throws {
        let options = try TestMessages.options()
        var trying = NonInviteClientTransaction(request: options, reliable: false)
        _ = trying.start(now: t0)
        #expect(trying.transportError(now: t0) == [.transportError, .terminated])

        var proceeding = NonInviteClientTransaction(request: options, reliable: false)
        _ = proceeding.start(now: t0)
        _ = proceeding.receivedResponse(TestMessages.response(100, to: options), now: t0)
        #expect(proceeding.transportError(now: t0) == [.transportError, .terminated])

        var completed = NonInviteClientTransaction(request: options, reliable: false)
        _ = completed.start(now: t0)
        _ = completed.receivedResponse(TestMessages.response(200, to: options), now: t0)
        #expect(completed.transportError(now: t0) == [])
        #expect(completed.phase == .completed)
    }
}
