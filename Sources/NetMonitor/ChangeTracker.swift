#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// What the monitor knows of the links and addresses, and which messages are changes: turns the
/// rtnetlink message stream into `NetworkChange`s. No I/O; the tables are seeded and re-seeded from
/// dumps (`reset`).
///
/// Why tables: the kernel repeats itself. A link gets an RTM_NEWLINK for every attribute change
/// (MTU, carrier, statistics-bearing updates) with the same IFF_UP/IFF_RUNNING; IPv6 addresses get an
/// RTM_NEWADDR when their lifetimes are refreshed by a router advertisement and again when duplicate
/// address detection ends. Only transitions are reported.
struct ChangeTracker {
    struct Link: Equatable {
        var name: String
        var flags: UInt32
    }

    struct AddressKey: Hashable {
        var index: Int32
        var address: NetworkAddress
        var prefixLength: Int
    }

    let ignoreLoopback: Bool
    private(set) var links: [Int32: Link] = [:]
    private(set) var addresses: Set<AddressKey> = []

    init(ignoreLoopback: Bool) {
        self.ignoreLoopback = ignoreLoopback
    }

    /// Replaces both tables by a dump's link and address entries, reporting nothing.
    mutating func reset(with messages: [RouteMessage]) {
        links = [:]
        addresses = []
        for case .link(let link) in messages where !link.deleted {
            links[link.index] = Link(name: link.name, flags: link.flags)
        }
        for case .address(let address) in messages where Self.isUsable(address) && !isLoopback(address) {
            addresses.insert(AddressKey(index: address.index, address: address.address, prefixLength: address.prefixLength))
        }
    }

    /// The change `message` makes, if any, after updating the tables.
    mutating func apply(_ message: RouteMessage) -> NetworkChange? {
        switch message {
        case .link(let link): return apply(link)
        case .address(let address): return apply(address)
        case .route(let route): return isDefaultRoute(route) ? .defaultRouteChanged(family: route.family) : nil
        }
    }

    /// True for a unicast default route of the main table that does not leave through a loopback
    /// interface (when those are ignored). Cached clones (RTM_F_CLONED) are not routes.
    func isDefaultRoute(_ route: RouteEntryMessage) -> Bool {
        guard route.destinationLength == 0, route.table == UInt32(RT_TABLE_MAIN.rawValue),
              route.type == UInt8(RTN_UNICAST), route.flags & UInt32(RTM_F_CLONED) == 0 else { return false }
        if ignoreLoopback, let index = route.outputIndex, let link = links[index], Self.isLoopback(link.flags) { return false }
        return true
    }

    private mutating func apply(_ message: LinkMessage) -> NetworkChange? {
        let reportable = !(ignoreLoopback && Self.isLoopback(message.flags))
        if message.deleted {
            guard let old = links.removeValue(forKey: message.index) else { return nil }
            // The kernel removes the addresses first (RTM_DELADDR each); forget any it did not announce.
            addresses = addresses.filter { $0.index != message.index }
            guard reportable, Self.isUp(old.flags) else { return nil }
            return .linkDown(interface: message.name.isEmpty ? old.name : message.name, index: message.index)
        }
        let old = links.updateValue(Link(name: message.name, flags: message.flags), forKey: message.index)
        let wasUp = old.map { Self.isUp($0.flags) } ?? false
        let isUp = Self.isUp(message.flags)
        guard reportable, wasUp != isUp else { return nil }
        return isUp ? .linkUp(interface: message.name, index: message.index)
                    : .linkDown(interface: message.name, index: message.index)
    }

    private mutating func apply(_ message: AddressMessage) -> NetworkChange? {
        guard !isLoopback(message) else { return nil }
        let key = AddressKey(index: message.index, address: message.address, prefixLength: message.prefixLength)
        let name = links[message.index]?.name ?? message.label ?? ""
        if !message.deleted && Self.isUsable(message) {
            guard addresses.insert(key).inserted else { return nil }
            return .addressAdded(interface: name, index: message.index, address: message.address, prefixLength: message.prefixLength)
        }
        guard addresses.remove(key) != nil else { return nil }
        return .addressRemoved(interface: name, index: message.index, address: message.address, prefixLength: message.prefixLength)
    }

    /// An address of a loopback interface (by its link's flags; by the address itself when the link
    /// is not known), when those are ignored.
    private func isLoopback(_ message: AddressMessage) -> Bool {
        guard ignoreLoopback else { return false }
        if let link = links[message.index] { return Self.isLoopback(link.flags) }
        return Self.isLoopbackAddress(message.address)
    }

    static func isUp(_ flags: UInt32) -> Bool {
        let both = UInt32(IFF_UP) | UInt32(IFF_RUNNING)
        return flags & both == both
    }

    static func isLoopback(_ flags: UInt32) -> Bool { flags & UInt32(IFF_LOOPBACK) != 0 }

    /// Not tentative (IPv6 duplicate address detection still running) and not failed: an address a
    /// socket can bind.
    static func isUsable(_ message: AddressMessage) -> Bool {
        !message.deleted && message.flags & (UInt32(IFA_F_TENTATIVE) | UInt32(IFA_F_DADFAILED)) == 0
    }

    static func isLoopbackAddress(_ address: NetworkAddress) -> Bool {
        switch address.family {
        case .ipv4: return address.text.hasPrefix("127.")
        case .ipv6: return address.text == "::1"
        }
    }
}
