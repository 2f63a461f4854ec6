import SIPTransaction
import Testing

@Suite struct TransactionTimersTests {
    @Test func rfc3261Defaults() {
        let t = TransactionTimers.rfc3261
        #expect(t.t1 == .milliseconds(500))
        #expect(t.t2 == .seconds(4))
        #expect(t.t4 == .seconds(5))
        #expect(t.transactionTimeout == .seconds(32))
    }

    @Test func initialValuesOnUnreliableTransports() {
        let t = TransactionTimers.rfc3261
        let expected: [TimerName: Duration] = [
            .a: .milliseconds(500), .b: .seconds(32), .d: .seconds(32), .e: .milliseconds(500),
            .f: .seconds(32), .g: .milliseconds(500), .h: .seconds(32), .i: .seconds(5),
            .j: .seconds(32), .k: .seconds(5), .l: .seconds(32), .m: .seconds(32),
        ]
        for name in TimerName.allCases {
            #expect(t.initialValue(of: name, reliable: false) == expected[name], "\(name)")
        }
    }

    @Test func reliableTransportsZeroTheRetransmitAndWaitTimers() {
        let t = TransactionTimers.rfc3261
        let zero: Set<TimerName> = [.a, .d, .e, .g, .i, .j, .k]
        for name in TimerName.allCases {
            let value = t.initialValue(of: name, reliable: true)
            if zero.contains(name) {
                #expect(value == .zero, "\(name)")
            } else {
                #expect(value == .seconds(32), "\(name)")
            }
        }
    }

    @Test func derivedFromConfiguredValues() {
        let t = TransactionTimers(t1: .milliseconds(250), t2: .seconds(2), t4: .seconds(3), timerD: .seconds(60))
        #expect(t.initialValue(of: .b, reliable: false) == .seconds(16))
        #expect(t.initialValue(of: .h, reliable: false) == .seconds(16))
        #expect(t.initialValue(of: .j, reliable: false) == .seconds(16))
        #expect(t.initialValue(of: .k, reliable: false) == .seconds(3))
        #expect(t.initialValue(of: .d, reliable: false) == .seconds(60))
    }

    @Test func absurdConfigurationIsClamped() {
        let t = TransactionTimers(t1: .zero, t2: .seconds(-1), t4: .seconds(-5), timerD: .seconds(-1))
        #expect(t.t1 == .milliseconds(1))
        #expect(t.t2 == .milliseconds(1))
        #expect(t.t4 == .zero)
        #expect(t.initialValue(of: .d, reliable: false) == .zero)
        #expect(t.initialValue(of: .a, reliable: false) > .zero)
    }

    @Test func instantArithmeticSaturates() {
        let start = Instant(nanoseconds: 5)
        #expect(start + .milliseconds(1) == Instant(nanoseconds: 1_000_005))
        #expect((start + .seconds(2)).duration(since: start) == .seconds(2))
        let late = Instant(nanoseconds: Int64.max - 10)
        #expect(late + .seconds(1) == Instant(nanoseconds: Int64.max))
        #expect(Instant.zero + .seconds(Int64.max) == Instant(nanoseconds: Int64.max))
        #expect(Instant.zero < start)
    }

    @Test func actionsCompareMessagesByContent() throws {
        let a = try TestMessages.options()
        let b = try TestMessages.options()
        let c = try TestMessages.invite()
        #expect(TransactionAction.transmit(a) == .transmit(b))
        #expect(TransactionAction.transmit(a) != .transmit(c))
        #expect(TransactionAction.transmit(a) != .deliver(a))
        #expect(TransactionAction.arm(.a, at: .zero) != .arm(.b, at: .zero))
        #expect(TransactionAction.arm(.a, at: .zero) != .arm(.a, at: Instant(nanoseconds: 1)))
        #expect(TransactionAction.timeout.description == "timeout")
    }
}
