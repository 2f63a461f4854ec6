import Config

/// Builds `VoiceService` JSON texts from a valid one-network, one-client base with changes applied.
enum VoiceFixture {
    /// A change to one key of an entry: new JSON text for its value, or nil to remove the key.
    struct Change: Sendable {
        var key: String
        var json: String?

        static func set(_ key: String, _ json: String) -> Change { Change(key: key, json: json) }
        static func remove(_ key: String) -> Change { Change(key: key, json: nil) }
        /// The value as a JSON string literal (for values that need escaping).
        static func string(_ key: String, _ text: String) -> Change {
            Change(key: key, json: JSONValue.string(text).text())
        }
    }

    static let clientPassword = "Cl1ent-Secret-7f3a"
    static let inboundPassword = "Inb0und-Secret-91c2"

    static let network: [(String, String)] = [
        ("Alias", #""isp""#), ("Enable", "true"), ("ProxyServer", #""sip.example.net""#),
        ("ServerDomain", #""example.net""#), ("InboundAuthUsername", #""proxy""#),
        ("InboundAuthPassword", JSONValue.string(inboundPassword).text())
    ]

    static let client: [(String, String)] = [
        ("Alias", #""line1""#), ("Enable", "true"), ("Network", #""isp""#), ("AuthUserName", #""alice""#),
        ("AuthPassword", JSONValue.string(clientPassword).text()), ("RegisterURI", #""sip:alice@example.net""#)
    ]

    /// `{"k": v, …}` of `base` with `changes` applied (a change to a key not in `base` adds it).
    static func object(_ base: [(String, String)], _ changes: [Change]) -> String {
        var pairs = base
        for change in changes {
            if let i = pairs.firstIndex(where: { $0.0 == change.key }) {
                if let json = change.json { pairs[i].1 = json } else { pairs.remove(at: i) }
            } else if let json = change.json {
                pairs.append((change.key, json))
            }
        }
        return "{" + pairs.map { JSONValue.string($0.0).text() + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    static func voice(networks: [String], clients: [String]) -> String {
        "{\"SIP\": {\"Network\": [" + networks.joined(separator: ", ") + "], \"Client\": ["
            + clients.joined(separator: ", ") + "]}}"
    }

    /// The base with changes to its one network and one client.
    static func text(network: [Change] = [], client: [Change] = []) -> String {
        voice(networks: [object(VoiceFixture.network, network)], clients: [object(VoiceFixture.client, client)])
    }

    static func parse(_ text: String) -> Result<VoiceConfiguration, ConfigError> {
        VoiceConfiguration.parse(Array(text.utf8))
    }

    static func error(_ text: String) -> ConfigError? {
        if case .failure(let e) = parse(text) { return e }
        return nil
    }
}
