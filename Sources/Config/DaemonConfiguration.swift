/// The part of the configuration file the daemon reads today:
///
/// ```json
/// { "sip": { "listen": ["udp:0.0.0.0:5060"] } }
/// ```
///
/// Unknown top-level sections are ignored (later issues add them); unknown keys inside `sip` are
/// errors, so a misspelt key is not silently dropped.
public struct DaemonConfiguration: Sendable, Equatable {
    public var listen: [ListenAddress]

    public init(listen: [ListenAddress]) { self.listen = listen }

    /// Factory default: UDP 5060 on every IPv4 address.
    public static let factoryDefault = DaemonConfiguration(listen: [ListenAddress(transport: .udp, host: "0.0.0.0", port: 5060)])

    /// Parses the configuration file's bytes.
    public static func parse(_ bytes: [UInt8]) -> Result<DaemonConfiguration, ConfigError> {
        guard let root = JSONValue.parse(bytes) else {
            return .failure(ConfigError(.notJSON, "configuration is not valid JSON"))
        }
        guard case .object = root else { return .failure(ConfigError(.wrongType, "must be a JSON object", field: "(root)")) }
        var config = factoryDefault
        guard let sip = root["sip"] else { return .success(config) }
        guard case .object(let members) = sip else { return .failure(ConfigError(.wrongType, "must be an object", field: "sip")) }
        for (key, value) in members {
            switch key {
            case "listen":
                guard case .array(let items) = value, !items.isEmpty else {
                    return .failure(ConfigError(.wrongType, "must be a non-empty array of \"transport:host:port\" strings", field: "sip.listen"))
                }
                var addresses: [ListenAddress] = []
                for (i, item) in items.enumerated() {
                    guard let text = item.stringValue else {
                        return .failure(ConfigError(.wrongType, "must be a string", field: "sip.listen[\(i)]"))
                    }
                    switch ListenAddress.parse(text) {
                    case .success(let a): addresses.append(a)
                    case .failure(var e):
                        e.field = "sip.listen[\(i)]"
                        return .failure(e)
                    }
                }
                config.listen = addresses
            default:
                return .failure(ConfigError(.unknownKey, "unknown key", field: "sip.\(key)"))
            }
        }
        return .success(config)
    }
}
