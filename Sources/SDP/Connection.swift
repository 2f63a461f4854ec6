/// The `c=` field (RFC 4566 §5.7): `c=<nettype> <addrtype> <connection-address>`.
///
/// For `IP4` multicast the address may carry a TTL and a number of addresses (`224.2.1.1/127/3`);
/// for `IP6` multicast only a number of addresses (`FF15::101/3`).
public struct Connection: Hashable, Sendable {
    public var networkType: String
    public var addressType: String
    /// The address or FQDN, without the `/ttl` and `/number` suffixes.
    public var address: String
    /// IP4 multicast TTL (0…255).
    public var ttl: Int?
    /// Number of contiguous multicast addresses.
    public var numberOfAddresses: Int?

    public init(networkType: String = "IN", addressType: String = "IP4", address: String,
                ttl: Int? = nil, numberOfAddresses: Int? = nil) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
        self.ttl = ttl
        self.numberOfAddresses = numberOfAddresses
    }

    /// True for `0.0.0.0` (and `::`): the legacy RFC 2543 way to put a stream on hold (RFC 3264 §8.4).
    public var isHoldAddress: Bool { address == "0.0.0.0" || address == "::" }

    /// True when the address is an IPv4 multicast address (224.0.0.0/4) or an IPv6 one (`FF…`).
    public var isMulticast: Bool {
        if addressType == "IP4" {
            guard let first = address.split(separator: ".").first, let octet = Int(first) else { return false }
            return (224...239).contains(octet)
        }
        if addressType == "IP6" { return address.lowercased().hasPrefix("ff") }
        return false
    }

    /// The `<connection-address>` as written in the field, with its suffixes.
    public var connectionAddressText: String {
        var text = address
        if let ttl { text += "/\(ttl)" }
        if let numberOfAddresses { text += "/\(numberOfAddresses)" }
        return text
    }
}
