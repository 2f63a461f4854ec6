import Testing
@testable import NetMonitor

/// A reference around the tracker, so `#expect` can call it (the macro cannot call mutating methods).
final class Tracker {
    var tracker: ChangeTracker
    init(ignoreLoopback: Bool) { tracker = ChangeTracker(ignoreLoopback: ignoreLoopback) }
    func apply(_ message: RouteMessage) -> NetworkChange? { tracker.apply(message) }
    func reset(with messages: [RouteMessage]) { tracker.reset(with: messages) }
    var addresses: Set<ChangeTracker.AddressKey> { tracker.addresses }
    var links: [Int32: ChangeTracker.Link] { tracker.links }
}

/// The message → change rules, on synthetic messages (no kernel).
@Suite("ChangeTracker (synthetic rtnetlink messages)")
struct ChangeTrackerTests {
    // Linux ABI values (linux/if.h, linux/if_addr.h, linux/rtnetlink.h).
    let up: UInt32 = 0x1
    let loopback: UInt32 = 0x8
    let running: UInt32 = 0x40
    let tentative: UInt32 = 0x40
    let dadFailed: UInt32 = 0x08
    let tableMain: UInt32 = 254
    let tableLocal: UInt32 = 255
    let unicast: UInt8 = 1
    let cloned: UInt32 = 0x200

    func link(_ index: Int32, _ name: String, _ flags: UInt32, deleted: Bool = false) -> RouteMessage {
        .link(LinkMessage(deleted: deleted, index: index, name: name, flags: flags))
    }

    func address(_ index: Int32, _ address: NetworkAddress, _ length: Int, flags: UInt32 = 0, deleted: Bool = false, label: String? = nil) -> RouteMessage {
        .address(AddressMessage(deleted: deleted, index: index, address: address, prefixLength: length, flags: flags, label: label))
    }

    func route(_ family: IPFamily, length: Int = 0, table: UInt32 = 254, type: UInt8 = 1, flags: UInt32 = 0, output: Int32? = 2, deleted: Bool = false) -> RouteMessage {
        .route(RouteEntryMessage(deleted: deleted, family: family, table: table, type: type, destinationLength: length, flags: flags, outputIndex: output))
    }

    @Test func linkTransitionsOnlyWhenUpAndRunningChange() {
        let tracker = Tracker(ignoreLoopback: true)
        #expect(tracker.apply(link(2, "wan0", 0)) == nil)
        // IFF_UP without carrier is not up yet.
        #expect(tracker.apply(link(2, "wan0", up)) == nil)
        #expect(tracker.apply(link(2, "wan0", up | running)) == .linkUp(interface: "wan0", index: 2))
        // Repeats with the same state (MTU, statistics, other flags) are not changes.
        #expect(tracker.apply(link(2, "wan0", up | running)) == nil)
        #expect(tracker.apply(link(2, "wan0", up | running | 0x1000)) == nil)
        // Losing carrier is down.
        #expect(tracker.apply(link(2, "wan0", up)) == .linkDown(interface: "wan0", index: 2))
        #expect(tracker.apply(link(2, "wan0", 0)) == nil)
        #expect(tracker.apply(link(2, "wan0", 0, deleted: true)) == nil)
        // A link first seen up is up; deleting it while up is down.
        #expect(tracker.apply(link(3, "ppp0", up | running)) == .linkUp(interface: "ppp0", index: 3))
        #expect(tracker.apply(link(3, "", 0, deleted: true)) == .linkDown(interface: "ppp0", index: 3))
        #expect(tracker.apply(link(3, "ppp0", 0, deleted: true)) == nil)
    }

    @Test func loopbackLinksAndAddressesAreIgnoredUnlessAsked() {
        let quiet = Tracker(ignoreLoopback: true)
        #expect(quiet.apply(link(1, "lo", up | running | loopback)) == nil)
        #expect(quiet.apply(address(1, v4("127.0.0.1"), 8)) == nil)
        // Loopback addresses of an interface not known yet are recognised by the address.
        #expect(quiet.apply(address(9, v6("::1"), 128)) == nil)
        #expect(quiet.apply(route(.ipv4, output: 1)) == nil)
        let loud = Tracker(ignoreLoopback: false)
        #expect(loud.apply(link(1, "lo", up | running | loopback)) == .linkUp(interface: "lo", index: 1))
        #expect(loud.apply(address(1, v4("127.0.0.1"), 8)) == .addressAdded(interface: "lo", index: 1, address: v4("127.0.0.1"), prefixLength: 8))
    }

    @Test func addressesAreReportedOnceAndOnlyWhenUsable() {
        let tracker = Tracker(ignoreLoopback: true)
        _ = tracker.apply(link(2, "wan0", up | running))
        let a = v6("2001:db8::10")
        #expect(tracker.apply(address(2, a, 64, flags: tentative)) == nil)
        #expect(tracker.apply(address(2, a, 64)) == .addressAdded(interface: "wan0", index: 2, address: a, prefixLength: 64))
        // A lifetime refresh repeats RTM_NEWADDR.
        #expect(tracker.apply(address(2, a, 64)) == nil)
        // Failed duplicate detection takes it away.
        #expect(tracker.apply(address(2, a, 64, flags: tentative | dadFailed)) == .addressRemoved(interface: "wan0", index: 2, address: a, prefixLength: 64))
        #expect(tracker.apply(address(2, a, 64, deleted: true)) == nil)
        // A removal of an address never reported is not a change.
        #expect(tracker.apply(address(2, v4("192.0.2.9"), 24, deleted: true)) == nil)
        // The same address with another prefix length is another address.
        #expect(tracker.apply(address(2, v4("192.0.2.10"), 24)) != nil)
        #expect(tracker.apply(address(2, v4("192.0.2.10"), 32)) != nil)
        // The name comes from IFA_LABEL when the link is unknown.
        #expect(tracker.apply(address(7, v4("192.0.2.7"), 24, label: "eth7")) == .addressAdded(interface: "eth7", index: 7, address: v4("192.0.2.7"), prefixLength: 24))
    }

    @Test func deletingALinkForgetsItsAddresses() {
        let tracker = Tracker(ignoreLoopback: true)
        _ = tracker.apply(link(2, "wan0", up | running))
        _ = tracker.apply(address(2, v4("192.0.2.10"), 24))
        _ = tracker.apply(link(2, "wan0", 0, deleted: true))
        #expect(tracker.addresses.isEmpty)
        #expect(tracker.links.isEmpty)
    }

    @Test func onlyMainTableUnicastDefaultRoutesCount() {
        let tracker = Tracker(ignoreLoopback: true)
        _ = tracker.apply(link(2, "wan0", up | running))
        #expect(tracker.apply(route(.ipv4)) == .defaultRouteChanged(family: .ipv4))
        #expect(tracker.apply(route(.ipv6, deleted: true)) == .defaultRouteChanged(family: .ipv6))
        #expect(tracker.apply(route(.ipv4, length: 24)) == nil)
        #expect(tracker.apply(route(.ipv6, table: tableLocal)) == nil)
        #expect(tracker.apply(route(.ipv4, type: 6)) == nil)  // RTN_PROHIBIT
        #expect(tracker.apply(route(.ipv6, flags: cloned)) == nil)
        #expect(tracker.apply(route(.ipv4, output: nil)) == .defaultRouteChanged(family: .ipv4))
    }

    @Test func resetSeedsSilently() {
        let tracker = Tracker(ignoreLoopback: true)
        tracker.reset(with: [
            link(1, "lo", up | running | loopback), link(2, "wan0", up | running),
            address(1, v4("127.0.0.1"), 8), address(2, v4("192.0.2.10"), 24), address(2, v6("2001:db8::1"), 64, flags: tentative),
        ])
        #expect(tracker.addresses.count == 1)
        #expect(tracker.apply(link(2, "wan0", up | running)) == nil)
        #expect(tracker.apply(address(2, v4("192.0.2.10"), 24)) == nil)
        #expect(tracker.apply(address(2, v6("2001:db8::1"), 64)) != nil)
        #expect(tracker.apply(address(2, v4("192.0.2.10"), 24, deleted: true)) == .addressRemoved(interface: "wan0", index: 2, address: v4("192.0.2.10"), prefixLength: 24))
    }

    @Test func linkLocalRecognition() {
        #expect(v6("fe80::1").isIPv6LinkLocal)
        #expect(v6("FE80::1").isIPv6LinkLocal)
        #expect(v6("febf:1::1").isIPv6LinkLocal)
        #expect(!v6("fec0::1").isIPv6LinkLocal)
        #expect(!v6("fe8::1").isIPv6LinkLocal)
        #expect(!v6("2001:db8::1").isIPv6LinkLocal)
        #expect(!v4("192.0.2.1").isIPv6LinkLocal)
    }
}
