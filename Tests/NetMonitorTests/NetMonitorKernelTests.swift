import DialtoneTestKit
import NetMonitor
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// NetMonitor against the real kernel, inside network namespaces each test creates and deletes.
/// Needs root (ip netns add) and iproute2.
@Suite("NetMonitor (rtnetlink, network namespaces)")
struct NetMonitorKernelTests {
    /// wan0 created, up, and its link-up event read; returns its index and link type.
    func upWAN(_ ns: TestNamespace, _ monitor: NetMonitor) throws -> (type: String, index: Int32) {
        let wan = try ns.addWAN()
        try ns.run(["link", "set", "wan0", "up"])
        let up = NetworkChange.linkUp(interface: "wan0", index: wan.index)
        let seen = collect(monitor, timeout: 5) { $0.contains(up) }
        try #require(seen.contains(up), "no link up for wan0 (\(wan.type)): \(seen)")
        return wan
    }

    /// The route changes among `changes` (a veth's IPv6 link-local address may become usable at any
    /// moment, when its duplicate address detection ends, so quiet windows look only at what the
    /// test changed).
    func routeChanges(_ changes: [NetworkChange]) -> [NetworkChange] {
        changes.filter { if case .defaultRouteChanged = $0 { return true } else { return false } }
    }

    @Test func linkUpOnceThenSameFlagsAreQuietThenLinkDown() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        let wan = try ns.addWAN()
        // A link that is created down is no change.
        let created = collectAll(monitor, window: 0.2)
        #expect(!created.contains { $0.interfaceName == "wan0" }, "\(created)")

        try ns.run(["link", "set", "wan0", "up"])
        let up = NetworkChange.linkUp(interface: "wan0", index: wan.index)
        let seen = collect(monitor, timeout: 5) { $0.contains(up) }
        #expect(seen.filter { $0 == up }.count == 1, "\(wan.type): \(seen)")

        // An MTU change is an RTM_NEWLINK with the same IFF_UP/IFF_RUNNING: not a link change.
        try ns.run(["link", "set", "wan0", "mtu", "1400"])
        let quiet = collectAll(monitor, window: 0.3)
        #expect(!quiet.contains { change in
            if case .linkUp = change { return true }
            if case .linkDown = change { return true }
            return false
        }, "\(quiet)")

        try ns.run(["link", "set", "wan0", "down"])
        let down = NetworkChange.linkDown(interface: "wan0", index: wan.index)
        let after = collect(monitor, timeout: 5) { $0.contains(down) }
        #expect(after.filter { $0 == down }.count == 1, "\(after)")

        // Deleting a link that is down reports no second link down.
        try ns.run(["link", "delete", "wan0"])
        let deleted = collectAll(monitor, window: 0.3)
        #expect(!deleted.contains(down), "\(deleted)")
    }

    @Test func addressAddedAndRemovedWithLatency() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        let wan = try upWAN(ns, monitor)

        try ns.run(["addr", "add", "192.0.2.10/24", "dev", "wan0"])
        let added = NetworkChange.addressAdded(interface: "wan0", index: wan.index, address: v4("192.0.2.10"), prefixLength: 24)
        let seen = collect(monitor, timeout: 5) { $0.contains(added) }
        #expect(seen.contains(added), "\(seen)")

        try ns.run(["addr", "add", "2001:db8::10/64", "dev", "wan0", "nodad"])
        let added6 = NetworkChange.addressAdded(interface: "wan0", index: wan.index, address: v6("2001:db8::10"), prefixLength: 64)
        let seen6 = collect(monitor, timeout: 5) { $0.contains(added6) }
        #expect(seen6.contains(added6), "\(seen6)")

        try ns.run(["addr", "del", "2001:db8::10/64", "dev", "wan0"])
        let removed6 = NetworkChange.addressRemoved(interface: "wan0", index: wan.index, address: v6("2001:db8::10"), prefixLength: 64)
        let gone6 = collect(monitor, timeout: 5) { $0.contains(removed6) }
        #expect(gone6.contains(removed6), "\(gone6)")

        // Latency from `ip addr add` returning to the change being read (printed, not asserted).
        var samples: [Double] = []
        for i in 0..<20 {
            let text = "192.0.2.\(100 + i)"
            let expected = NetworkChange.addressAdded(interface: "wan0", index: wan.index, address: v4(text), prefixLength: 32)
            let returned = try ns.runTimed(["addr", "add", text + "/32", "dev", "wan0"])
            let got = collect(monitor, timeout: 5) { $0.contains(expected) }
            let read = nowSeconds()
            #expect(got.contains(expected), "\(got)")
            samples.append((read - returned) * 1e6)
        }
        // The link disappearing while up (a PPP session ending): the kernel closes it first (an
        // RTM_NEWLINK without IFF_UP: link down), then deletes its addresses (still named: the
        // name is kept until RTM_DELLINK), then the link (no second link down).
        try ns.run(["link", "delete", "wan0"])
        let down = NetworkChange.linkDown(interface: "wan0", index: wan.index)
        let removed = NetworkChange.addressRemoved(interface: "wan0", index: wan.index, address: v4("192.0.2.10"), prefixLength: 24)
        let vanished = collect(monitor, timeout: 5) { $0.contains(down) && $0.contains(removed) }
        #expect(vanished.contains(removed), "\(vanished)")
        #expect(vanished.filter { $0 == down }.count == 1, "\(vanished)")
        let late = collectAll(monitor, window: 0.2)
        #expect(!late.contains(down), "\(late)")

        samples.sort()
        print("NetMonitor event latency (ip addr add returned → change read), \(samples.count) samples, \(wan.type) link: "
            + "min \(Int(samples[0])) µs, median \(Int(samples[samples.count / 2])) µs, max \(Int(samples[samples.count - 1])) µs")
    }

    @Test func defaultRouteChangesAreReportedOtherRoutesAreNot() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        _ = try upWAN(ns, monitor)
        try ns.run(["addr", "add", "192.0.2.10/24", "dev", "wan0"])
        try ns.run(["addr", "add", "2001:db8::10/64", "dev", "wan0", "nodad"])
        _ = collectAll(monitor, window: 0.2)

        try ns.run(["route", "add", "default", "via", "192.0.2.1"])
        let v4Changed = NetworkChange.defaultRouteChanged(family: .ipv4)
        let seen = collect(monitor, timeout: 5) { $0.contains(v4Changed) }
        #expect(routeChanges(seen) == [v4Changed], "\(seen)")

        try ns.run(["-6", "route", "add", "default", "via", "2001:db8::1"])
        let v6Changed = NetworkChange.defaultRouteChanged(family: .ipv6)
        let seen6 = collect(monitor, timeout: 5) { $0.contains(v6Changed) }
        #expect(routeChanges(seen6) == [v6Changed], "\(seen6)")

        // A more specific route is not a default route.
        try ns.run(["route", "add", "192.0.2.128/25", "via", "192.0.2.1"])
        try ns.run(["-6", "route", "add", "2001:db8:5::/48", "via", "2001:db8::1"])
        let other = collectAll(monitor, window: 0.3)
        #expect(routeChanges(other).isEmpty, "\(other)")

        try ns.run(["route", "del", "default"])
        let removed = collect(monitor, timeout: 5) { $0.contains(v4Changed) }
        #expect(routeChanges(removed) == [v4Changed], "\(removed)")
    }

    @Test func addressReplacementIsOneTriggerOfTheFilter() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        let wan = try upWAN(ns, monitor)
        try ns.run(["addr", "add", "192.0.2.10/24", "dev", "wan0"])
        _ = collect(monitor, timeout: 5) { $0.contains { if case .addressAdded = $0 { return true } else { return false } } }

        let dir = try TemporaryDirectory(prefix: "dtnm-")
        defer { dir.remove() }
        let batch = try dir.write("replace", Array("address del 192.0.2.10/24 dev wan0\naddress add 192.0.2.20/24 dev wan0\n".utf8))
        try ns.run(["-batch", batch])

        let removed = NetworkChange.addressRemoved(interface: "wan0", index: wan.index, address: v4("192.0.2.10"), prefixLength: 24)
        let added = NetworkChange.addressAdded(interface: "wan0", index: wan.index, address: v4("192.0.2.20"), prefixLength: 24)
        // Each change with the time it was read, as a poll loop would note it.
        var stamped: [(change: NetworkChange, at: Double)] = []
        let deadline = nowSeconds() + 5
        for _ in 0..<1000 where nowSeconds() < deadline {
            let changes = monitor.waitForEvents(timeout: max(0, deadline - nowSeconds()))
            let at = nowSeconds()
            stamped += changes.map { ($0, at) }
            if stamped.contains(where: { $0.change == added }) { break }
        }
        let changes = stamped.map(\.change)
        let removedAt = changes.firstIndex(of: removed)
        let addedAt = changes.firstIndex(of: added)
        #expect(removedAt != nil && addedAt != nil, "\(changes)")
        if let removedAt, let addedAt { #expect(removedAt < addedAt, "\(changes)") }

        // Replay on a manual clock in 1 ms steps: the burst triggers one re-registration.
        var filter = WANChangeFilter()
        var triggers: [Double] = []
        if let start = stamped.first?.at {
            var next = 0
            for step in 0...3000 {
                let now = start + Double(step) / 1000
                while next < stamped.count && stamped[next].at <= now {
                    filter.note(stamped[next].change, now: stamped[next].at)
                    next += 1
                }
                if filter.take(now: now) { triggers.append(now - start) }
            }
        }
        #expect(triggers.count == 1, "triggers at \(triggers) for \(changes)")
        if let first = triggers.first { #expect(first < 0.5, "took \(first) s") }
    }

    @Test func anotherNamespaceIsNotSeen() throws {
        let watched = try TestNamespace()
        defer { watched.delete() }
        let other = try TestNamespace()
        defer { other.delete() }
        let monitor = try NetMonitor(namespace: watched.name)
        let otherMonitor = try NetMonitor(namespace: other.name)

        let wan = try upWAN(other, otherMonitor)
        try other.run(["addr", "add", "192.0.2.30/24", "dev", "wan0"])
        let added = NetworkChange.addressAdded(interface: "wan0", index: wan.index, address: v4("192.0.2.30"), prefixLength: 24)
        // The change did happen (its own namespace's monitor saw it)…
        let there = collect(otherMonitor, timeout: 5) { $0.contains(added) }
        #expect(there.contains(added), "\(there)")
        // …and the other namespace's monitor saw nothing at all.
        let here = collectAll(monitor, window: 0.3)
        #expect(here.isEmpty, "\(here)")
    }

    @Test func loopbackIsIgnoredByDefault() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        let everything = try NetMonitor(namespace: ns.name, ignoreLoopback: false)
        let lo = try ns.index(of: "lo")
        try ns.run(["link", "set", "lo", "up"])

        let up = NetworkChange.linkUp(interface: "lo", index: lo)
        let added = NetworkChange.addressAdded(interface: "lo", index: lo, address: v4("127.0.0.1"), prefixLength: 8)
        let seen = collect(everything, timeout: 5) { $0.contains(up) && $0.contains(added) }
        #expect(seen.contains(up) && seen.contains(added), "\(seen)")

        let ignored = collectAll(monitor, window: 0.3)
        #expect(ignored.isEmpty, "\(ignored)")
        let snapshot = monitor.snapshot()
        #expect(snapshot.isComplete)
        #expect(!snapshot.addresses.contains { $0.index == lo }, "\(snapshot.addresses)")
    }

    @Test func snapshotListsAddressesAndDefaultRoute() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        let wan = try upWAN(ns, monitor)
        try ns.run(["link", "set", "lo", "up"])
        try ns.run(["addr", "add", "192.0.2.10/24", "dev", "wan0"])
        try ns.run(["addr", "add", "2001:db8::10/64", "dev", "wan0", "nodad"])
        try ns.run(["route", "add", "default", "via", "192.0.2.1"])

        let snapshot = monitor.snapshot()
        #expect(snapshot.isComplete, "\(snapshot.failure ?? "")")
        let v4Address = InterfaceAddress(interface: "wan0", index: wan.index, address: v4("192.0.2.10"), prefixLength: 24)
        let v6Address = InterfaceAddress(interface: "wan0", index: wan.index, address: v6("2001:db8::10"), prefixLength: 64)
        #expect(snapshot.addresses.contains(v4Address), "\(snapshot.addresses)")
        #expect(snapshot.addresses.contains(v6Address), "\(snapshot.addresses)")
        #expect(snapshot.routableAddresses.allSatisfy { $0 == v4Address || $0 == v6Address }, "\(snapshot.routableAddresses)")
        #expect(!snapshot.addresses.contains { $0.address.text == "127.0.0.1" || $0.address.text == "::1" })
        #expect(snapshot.hasDefaultRoute(.ipv4))
        #expect(!snapshot.hasDefaultRoute(.ipv6))

        try ns.run(["route", "del", "default"])
        try ns.run(["addr", "del", "192.0.2.10/24", "dev", "wan0"])
        let later = try monitor.loadSnapshot()
        #expect(!later.hasDefaultRoute)
        #expect(!later.addresses.contains(v4Address))
        #expect(later.addresses.contains(v6Address))
    }

    /// `count` IPv6 addresses 2001:db8:1::1… added on wan0 by one `ip -batch`.
    func addBurst(_ ns: TestNamespace, count: Int, tag: String) throws -> [NetworkAddress] {
        let addresses = (1...count).map { v6("2001:db8:1::" + String($0, radix: 16)) }
        let lines = addresses.map { "address add \($0.text)/128 dev wan0 nodad\n" }.joined()
        let dir = try TemporaryDirectory(prefix: "dtnm-")
        defer { dir.remove() }
        let file = try dir.write(tag, Array(lines.utf8))
        try ns.run(["-batch", file])
        return addresses
    }

    /// Reads until `count` burst addresses were added or a resynchronisation, for up to 20 s.
    func drainBurst(_ monitor: NetMonitor, count: Int) -> (added: Int, resynchronised: Bool) {
        var added = 0
        var resynchronised = false
        let deadline = nowSeconds() + 20
        for _ in 0..<100_000 where nowSeconds() < deadline {
            let changes = monitor.waitForEvents(timeout: 1)
            if changes.isEmpty { break }
            for change in changes {
                if change == .resynchronised { resynchronised = true }
                if case .addressAdded = change, change.isBurstAddress { added += 1 }
            }
            if resynchronised || added >= count { break }
        }
        return (added, resynchronised)
    }

    @Test func burstOf2000AddressesIsDeliveredOrResynchronised() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name)
        let wan = try upWAN(ns, monitor)
        _ = collectAll(monitor, window: 0.1)

        let started = nowSeconds()
        _ = try addBurst(ns, count: 2000, tag: "burst")
        let batchDone = nowSeconds()
        let outcome = drainBurst(monitor, count: 2000)
        print("NetMonitor burst of 2000 address adds (default 1 MiB buffer): \(outcome.added) delivered, "
            + "resynchronised \(outcome.resynchronised), overruns \(monitor.overruns); ip -batch \(Int((batchDone - started) * 1000)) ms, "
            + "reading \(Int((nowSeconds() - batchDone) * 1000)) ms")
        #expect(outcome.resynchronised || outcome.added == 2000, "\(outcome)")
        #expect(outcome.resynchronised == (monitor.overruns > 0))

        let snapshot = monitor.snapshot()
        #expect(snapshot.addresses.filter { $0.address.text.hasPrefix("2001:db8:1::") }.count == 2000)
        // Still working afterwards.
        _ = collectAll(monitor, window: 0.1)
        try ns.run(["addr", "add", "192.0.2.99/24", "dev", "wan0"])
        let added = NetworkChange.addressAdded(interface: "wan0", index: wan.index, address: v4("192.0.2.99"), prefixLength: 24)
        let after = collect(monitor, timeout: 5) { $0.contains(added) }
        #expect(after.contains(added), "\(after)")
    }

    @Test func burstWithRoomIsDeliveredExactly() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let monitor = try NetMonitor(namespace: ns.name, receiveBufferSize: 64 << 20)
        _ = try upWAN(ns, monitor)
        _ = collectAll(monitor, window: 0.1)
        _ = try addBurst(ns, count: 2000, tag: "room")
        let outcome = drainBurst(monitor, count: 2000)
        #expect(!outcome.resynchronised && outcome.added == 2000, "\(outcome)")
        #expect(monitor.overruns == 0)
        // Nothing more: every add was reported once.
        let rest = collectAll(monitor, window: 0.2)
        #expect(!rest.contains { $0.isBurstAddress }, "\(rest.count) more")
    }

    @Test func overrunReportsResynchronisedAndRereadsTheTables() throws {
        let ns = try TestNamespace()
        defer { ns.delete() }
        let wan = try ns.addWAN()
        try ns.run(["link", "set", "wan0", "up"])
        // The smallest receive buffer the kernel allows: a few notifications fit (bringing a veth
        // pair up alone can overrun it, so the link is up before the monitor starts).
        let monitor = try NetMonitor(namespace: ns.name, receiveBufferSize: 4096)
        _ = collectAll(monitor, window: 0.1)
        let burst = try addBurst(ns, count: 300, tag: "overrun")
        let outcome = drainBurst(monitor, count: 300)
        #expect(outcome.resynchronised, "\(outcome)")
        #expect(monitor.overruns >= 1)

        // The resynchronisation re-read the addresses: deleting one of the burst is a known removal.
        _ = collectAll(monitor, window: 0.1)
        try ns.run(["addr", "del", burst[150].text + "/128", "dev", "wan0"])
        let removed = NetworkChange.addressRemoved(interface: "wan0", index: wan.index, address: burst[150], prefixLength: 128)
        let seen = collect(monitor, timeout: 5) { $0.contains(removed) }
        #expect(seen.contains(removed), "\(seen)")
        #expect(!seen.contains(.resynchronised))
    }

    @Test func badOrMissingNamespaceIsANamespaceError() {
        for name in ["dtnm-missing-\(getpid())", "", "..", "a/b", "../../etc/passwd"] {
            let result = Result { () throws(NetMonitorError) -> NetMonitor in try NetMonitor(namespace: name) }
            switch result {
            case .success:
                Issue.record("NetMonitor(namespace: \(name)) did not fail")
            case .failure(let error):
                #expect(error.code == .namespace, "\(name): \(error)")
            }
        }
    }

    @Test func ownNamespaceDescriptorIsNonBlockingAndCloseOnExec() throws {
        let monitor = try NetMonitor()
        let fd = monitor.fileDescriptor
        #expect(fd >= 0)
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        // Draining whatever the host has queued returns without blocking.
        let started = nowSeconds()
        _ = monitor.readEvents()
        #expect(nowSeconds() - started < 1)
        #expect(monitor.snapshot().isComplete)
    }
}

extension NetworkChange {
    /// An address of the bursts (2001:db8:1::/64, /128 each).
    var isBurstAddress: Bool {
        guard case .addressAdded(_, _, let address, 128) = self else { return false }
        return address.text.hasPrefix("2001:db8:1::")
    }
}
