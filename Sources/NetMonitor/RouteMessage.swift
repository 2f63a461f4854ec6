#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// One rtnetlink link, address or route message (a notification or a dump entry), taken out of the
/// libnl object that parsed it. Only what `ChangeTracker` needs; numbers are host order (netlink),
/// addresses already text.
enum RouteMessage: Sendable, Equatable {
    case link(LinkMessage)
    case address(AddressMessage)
    case route(RouteEntryMessage)
}

struct LinkMessage: Sendable, Equatable {
    var deleted: Bool
    var index: Int32
    var name: String
    /// ifi_flags (IFF_UP, IFF_RUNNING, IFF_LOOPBACK, …).
    var flags: UInt32
}

struct AddressMessage: Sendable, Equatable {
    var deleted: Bool
    var index: Int32
    var address: NetworkAddress
    var prefixLength: Int
    /// ifa_flags / IFA_FLAGS (IFA_F_TENTATIVE, IFA_F_DADFAILED, …).
    var flags: UInt32
    /// IFA_LABEL (IPv4 only), the interface name when no link message named it yet.
    var label: String?
}

struct RouteEntryMessage: Sendable, Equatable {
    var deleted: Bool
    var family: IPFamily
    var table: UInt32
    /// rtm_type (RTN_UNICAST, …).
    var type: UInt8
    var destinationLength: Int
    /// rtm_flags (RTM_F_CLONED, …).
    var flags: UInt32
    /// The interface of the first next hop, when there is one.
    var outputIndex: Int32?
}

extension RouteMessage {
    /// Reads the libnl object (`struct nl_object *` of type rtnl_link, rtnl_addr or rtnl_route);
    /// nil for anything else or for families other than the ones handled (a link message must be
    /// AF_UNSPEC: AF_BRIDGE ones describe bridge ports, and their RTM_DELLINK is not a deletion).
    init?(object: OpaquePointer) {
        let type = nl_object_get_msgtype(object)
        switch type {
        case Int32(RTM_NEWLINK), Int32(RTM_DELLINK):
            let link = object
            guard rtnl_link_get_family(link) == AF_UNSPEC else { return nil }
            let name = rtnl_link_get_name(link).map { String(cString: $0) } ?? ""
            self = .link(LinkMessage(deleted: type == Int32(RTM_DELLINK), index: rtnl_link_get_ifindex(link),
                                     name: name, flags: UInt32(rtnl_link_get_flags(link))))
        case Int32(RTM_NEWADDR), Int32(RTM_DELADDR):
            let addr = object
            guard let local = rtnl_addr_get_local(addr), let text = addressText(local) else { return nil }
            let label = rtnl_addr_get_label(addr).map { String(cString: $0) }
            self = .address(AddressMessage(deleted: type == Int32(RTM_DELADDR), index: rtnl_addr_get_ifindex(addr),
                                           address: text, prefixLength: Int(rtnl_addr_get_prefixlen(addr)),
                                           flags: UInt32(rtnl_addr_get_flags(addr)), label: label))
        case Int32(RTM_NEWROUTE), Int32(RTM_DELROUTE):
            let route = object
            let family: IPFamily
            switch Int32(rtnl_route_get_family(route)) {
            case AF_INET: family = .ipv4
            case AF_INET6: family = .ipv6
            default: return nil
            }
            // No RTA_DST (a default route): libnl still gives an empty address with rtm_dst_len.
            let length = rtnl_route_get_dst(route).map { Int(nl_addr_get_prefixlen($0)) } ?? 0
            var output: Int32?
            if rtnl_route_get_nnexthops(route) > 0, let hop = rtnl_route_nexthop_n(route, 0) {
                output = rtnl_route_nh_get_ifindex(hop)
            }
            self = .route(RouteEntryMessage(deleted: type == Int32(RTM_DELROUTE), family: family,
                                            table: rtnl_route_get_table(route), type: rtnl_route_get_type(route),
                                            destinationLength: length, flags: rtnl_route_get_flags(route),
                                            outputIndex: output))
        default:
            return nil
        }
    }
}

/// `inet_ntop` of a libnl address; nil unless it is a whole IPv4 or IPv6 address.
func addressText(_ address: OpaquePointer) -> NetworkAddress? {
    let family = nl_addr_get_family(address)
    let length = Int(nl_addr_get_len(address))
    guard let bytes = nl_addr_get_binary_addr(address) else { return nil }
    switch family {
    case AF_INET where length == 4:
        return ntop(AF_INET, bytes).map { NetworkAddress(family: .ipv4, text: $0) }
    case AF_INET6 where length == 16:
        return ntop(AF_INET6, bytes).map { NetworkAddress(family: .ipv6, text: $0) }
    default:
        return nil
    }
}

/// The address in network order at `bytes` as text.
func ntop(_ family: Int32, _ bytes: UnsafeRawPointer) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let ok = buffer.withUnsafeMutableBufferPointer { out in
        inet_ntop(family, bytes, out.baseAddress, socklen_t(out.count)) != nil
    }
    guard ok else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
