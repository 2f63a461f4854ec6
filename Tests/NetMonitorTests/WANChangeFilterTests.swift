import NetMonitor
import Testing

@Suite("WANChangeFilter (manual clock)")
struct WANChangeFilterTests {
    let t0 = 1000.0
    let removed = NetworkChange.addressRemoved(interface: "wan0", index: 2, address: v4("192.0.2.10"), prefixLength: 24)
    let added = NetworkChange.addressAdded(interface: "wan0", index: 2, address: v4("192.0.2.20"), prefixLength: 24)

    /// `take` outside the `#expect` macro (which cannot call a mutating method).
    func took(_ filter: inout WANChangeFilter, now: Double) -> Bool {
        filter.take(now: now)
    }

    @Test func nothingNotedIsNeverDue() {
        var filter = WANChangeFilter()
        #expect(!filter.isPending)
        #expect(filter.nextDeadline == nil)
        #expect(!filter.due(now: t0 + 100))
        #expect(!took(&filter, now: t0 + 100))
        filter.note([], now: t0)
        #expect(!filter.isPending)
    }

    @Test func burstIsDueOnceAfterTheSettleDelay() {
        var filter = WANChangeFilter()
        filter.note(removed, now: t0)
        filter.note(added, now: t0 + 0.003)
        filter.note(.defaultRouteChanged(family: .ipv4), now: t0 + 0.004)
        #expect(filter.pendingCount == 3)
        #expect(abs((filter.nextDeadline ?? 0) - (t0 + 0.204)) < 1e-9)
        #expect(!filter.due(now: t0 + 0.2039))
        #expect(!took(&filter, now: t0 + 0.2039))
        #expect(filter.due(now: t0 + 0.2041))
        #expect(took(&filter, now: t0 + 0.2041))
        #expect(!filter.isPending && filter.pendingCount == 0)
        #expect(!took(&filter, now: t0 + 0.21))
        #expect(!took(&filter, now: t0 + 10))
    }

    @Test func continuingChangesAreDueAtTheMaximumDelay() {
        var filter = WANChangeFilter()
        var triggers: [Double] = []
        // A change every 100 ms for 2.5 s: never 200 ms of quiet.
        for step in 0...250 {
            let now = t0 + Double(step) * 0.01
            if step % 10 == 0 { filter.note(added, now: now) }
            if filter.take(now: now) { triggers.append(now - t0) }
        }
        // Due 1 s after the first change of each burst; the change noted at the moment of the first
        // trigger is part of that burst, so the second starts at 1.1 s.
        #expect(triggers.count == 2, "\(triggers)")
        if triggers.count == 2 {
            #expect(abs(triggers[0] - 1.0) < 0.011 && abs(triggers[1] - 2.1) < 0.011, "\(triggers)")
        }
    }

    @Test func separateBurstsTriggerSeparately() {
        var filter = WANChangeFilter(settleDelay: 0.05, maximumDelay: 0.5)
        filter.note(.linkDown(interface: "wan0", index: 2), now: t0)
        #expect(took(&filter, now: t0 + 0.05))
        filter.note(.linkUp(interface: "wan0", index: 2), now: t0 + 3)
        #expect(!took(&filter, now: t0 + 3.04))
        #expect(took(&filter, now: t0 + 3.05))
    }

    @Test func linkLocalAndOtherInterfacesAreNotRelevant() {
        var filter = WANChangeFilter(interfaces: ["wan0"])
        filter.note(.addressAdded(interface: "wan0", index: 2, address: v6("fe80::1"), prefixLength: 64), now: t0)
        filter.note(.addressAdded(interface: "lan0", index: 3, address: v4("192.0.2.1"), prefixLength: 24), now: t0)
        filter.note(.linkUp(interface: "lan0", index: 3), now: t0)
        #expect(!filter.isPending)
        #expect(!took(&filter, now: t0 + 5))
        // Not link-local: fec0:: and a short first group.
        #expect(filter.isRelevant(.addressAdded(interface: "wan0", index: 2, address: v6("fec0::1"), prefixLength: 64)))
        #expect(filter.isRelevant(.addressAdded(interface: "wan0", index: 2, address: v6("fe8::1"), prefixLength: 64)))
        #expect(!filter.isRelevant(.addressRemoved(interface: "wan0", index: 2, address: v6("febf::1"), prefixLength: 64)))
        // Routes and resynchronisation always count.
        filter.note(.resynchronised, now: t0 + 6)
        #expect(took(&filter, now: t0 + 6.2))
        filter.note(.defaultRouteChanged(family: .ipv6), now: t0 + 7)
        #expect(took(&filter, now: t0 + 7.2))
        // Without an interface set, every interface counts.
        var any = WANChangeFilter()
        any.note(.linkUp(interface: "lan0", index: 3), now: t0)
        #expect(any.isPending)
    }

    @Test func badDelaysAreClamped() {
        let filter = WANChangeFilter(settleDelay: -1, maximumDelay: .nan)
        #expect(filter.settleDelay == 0)
        #expect(filter.maximumDelay == 1.0)
        let inverted = WANChangeFilter(settleDelay: 0.5, maximumDelay: 0.1)
        #expect(inverted.maximumDelay == 0.5)
    }
}
