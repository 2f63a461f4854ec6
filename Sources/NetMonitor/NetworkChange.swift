/// The address family of a `NetworkAddress` or a default route.
public enum IPFamily: Sendable, Hashable, CustomStringConvertible {
    case ipv4
    case ipv6

    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}

/// An interface address as text (`inet_ntop`: `192.0.2.10`, `2001:db8::1`) with its family.
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    public let family: IPFamily
    public let text: String

    public init(family: IPFamily, text: String) {
        self.family = family
        self.text = text
    }

    public var description: String { text }

    /// `fe80::/10`: changes to these do not move a registration (every link that comes up gets one).
    public var isIPv6LinkLocal: Bool {
        guard family == .ipv6 else { return false }
        // The first group must be written in full (`fe8::` is 0fe8::, not link-local).
        let group = Array(text.lowercased().utf8.prefix { $0 != UInt8(ascii: ":") })
        guard group.count == 4, group[0] == UInt8(ascii: "f"), group[1] == UInt8(ascii: "e") else { return false }
        return [UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(group[2])
    }
}

/// One change the kernel reported, as `NetMonitor.readEvents()` returns it.
public enum NetworkChange: Sendable, Hashable, CustomStringConvertible {
    /// The interface became usable: both IFF_UP and IFF_RUNNING (carrier) are set, and were not.
    case linkUp(interface: String, index: Int32)
    /// The interface lost IFF_UP or IFF_RUNNING, or was deleted while up.
    case linkDown(interface: String, index: Int32)
    /// An address became usable on the interface (IPv6: once it is no longer tentative).
    case addressAdded(interface: String, index: Int32, address: NetworkAddress, prefixLength: Int)
    /// A usable address went away (deleted, or went back to tentative / failed duplicate detection).
    case addressRemoved(interface: String, index: Int32, address: NetworkAddress, prefixLength: Int)
    /// A default route (main table, unicast, destination length 0) was added or removed.
    case defaultRouteChanged(family: IPFamily)
    /// Notifications were lost (the socket's receive queue overran, ENOBUFS): assume everything
    /// changed. The monitor has re-read the links and addresses, so later events are again exact.
    case resynchronised

    /// The interface index the change concerns, if any.
    public var interfaceIndex: Int32? {
        switch self {
        case .linkUp(_, let index), .linkDown(_, let index): return index
        case .addressAdded(_, let index, _, _), .addressRemoved(_, let index, _, _): return index
        case .defaultRouteChanged, .resynchronised: return nil
        }
    }

    /// The interface name the change concerns, if any.
    public var interfaceName: String? {
        switch self {
        case .linkUp(let name, _), .linkDown(let name, _): return name
        case .addressAdded(let name, _, _, _), .addressRemoved(let name, _, _, _): return name
        case .defaultRouteChanged, .resynchronised: return nil
        }
    }

    public var description: String {
        switch self {
        case .linkUp(let name, let index): return "link up \(name) (\(index))"
        case .linkDown(let name, let index): return "link down \(name) (\(index))"
        case .addressAdded(let name, let index, let address, let length):
            return "address added \(address)/\(length) on \(name) (\(index))"
        case .addressRemoved(let name, let index, let address, let length):
            return "address removed \(address)/\(length) on \(name) (\(index))"
        case .defaultRouteChanged(let family): return "\(family) default route changed"
        case .resynchronised: return "resynchronised"
        }
    }
}

/// A usable address of a non-loopback interface, as `NetMonitor.snapshot()` lists it.
public struct InterfaceAddress: Sendable, Hashable, CustomStringConvertible {
    public var interface: String
    public var index: Int32
    public var address: NetworkAddress
    public var prefixLength: Int

    public init(interface: String, index: Int32, address: NetworkAddress, prefixLength: Int) {
        self.interface = interface
        self.index = index
        self.address = address
        self.prefixLength = prefixLength
    }

    public var description: String { "\(address)/\(prefixLength) on \(interface)" }
}

/// The addresses and default routes at one moment, read by a dump (`NetMonitor.snapshot()`).
public struct NetworkSnapshot: Sendable, Equatable {
    /// Usable (not tentative) addresses of non-loopback interfaces, sorted by interface index, then
    /// family, then text.
    public var addresses: [InterfaceAddress]
    /// The families that have a default route in the main table.
    public var defaultRouteFamilies: Set<IPFamily>
    /// False when the dump failed (`failure` says why); the rest is then empty.
    public var isComplete: Bool
    public var failure: String?

    public init(addresses: [InterfaceAddress] = [], defaultRouteFamilies: Set<IPFamily> = [], isComplete: Bool = true, failure: String? = nil) {
        self.addresses = addresses
        self.defaultRouteFamilies = defaultRouteFamilies
        self.isComplete = isComplete
        self.failure = failure
    }

    /// True when any family has a default route.
    public var hasDefaultRoute: Bool { !defaultRouteFamilies.isEmpty }

    /// True when `family` has a default route.
    public func hasDefaultRoute(_ family: IPFamily) -> Bool { defaultRouteFamilies.contains(family) }

    /// The addresses other than IPv6 link-local ones: what a WAN registration can use.
    public var routableAddresses: [InterfaceAddress] { addresses.filter { !$0.address.isIPv6LinkLocal } }
}
