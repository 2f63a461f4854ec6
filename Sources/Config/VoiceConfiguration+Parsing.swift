extension ConfigError.Code {
    /// A value the standard defines that Dialtone does not implement (TR-104's SCTP transport).
    public static let unsupported = ConfigError.Code("unsupported")
}

extension VoiceConfiguration {
    /// The JSON key of the section in the configuration file, and the first part of every field path.
    public static let sectionKey = "VoiceService"

    /// Parses and validates the value of the `VoiceService` key (see the type's comment); errors name
    /// the field as `VoiceService.SIP.Client.2.RegisterURI`.
    public static func parse(_ value: JSONValue) -> Result<VoiceConfiguration, ConfigError> {
        do throws(ConfigError) {
            return .success(try decode(value).checked())
        } catch {
            return .failure(error)
        }
    }

    /// Parses the JSON text of a `VoiceService` object (what `serialized()` writes).
    public static func parse(_ bytes: [UInt8]) -> Result<VoiceConfiguration, ConfigError> {
        guard let value = JSONValue.parse(bytes) else {
            return .failure(ConfigError(.notJSON, "the VoiceService section is not valid JSON", field: sectionKey))
        }
        return parse(value)
    }

    // MARK: Decoding (JSON types and enumerations; the rules are in `checked()`)

    private static func decode(_ value: JSONValue) throws(ConfigError) -> VoiceConfiguration {
        var config = VoiceConfiguration()
        for (key, item) in try VoiceJSON.members(value, field: sectionKey) {
            guard key == "SIP" else { throw ConfigError(.unknownKey, "unknown key", field: "\(sectionKey).\(key)") }
            let sipField = "\(sectionKey).SIP"
            for (sipKey, list) in try VoiceJSON.members(item, field: sipField) {
                let field = "\(sipField).\(sipKey)"
                switch sipKey {
                case "Network":
                    let items = try VoiceJSON.array(list, field: field, of: "Network objects")
                    for (i, element) in items.enumerated() {
                        config.networks.append(try decodeNetwork(element, field: "\(field).\(i + 1)"))
                    }
                case "Client":
                    let items = try VoiceJSON.array(list, field: field, of: "Client objects")
                    for (i, element) in items.enumerated() {
                        config.clients.append(try decodeClient(element, field: "\(field).\(i + 1)"))
                    }
                default:
                    throw ConfigError(.unknownKey, "unknown key", field: field)
                }
            }
        }
        return config
    }

    private static func decodeNetwork(_ value: JSONValue, field base: String) throws(ConfigError) -> SIPNetworkConfiguration {
        let members = try VoiceJSON.members(value, field: base)
        guard let aliasValue = members.first(where: { $0.key == "Alias" })?.value else {
            throw ConfigError(.missingValue, "every Network needs an Alias", field: "\(base).Alias")
        }
        var n = SIPNetworkConfiguration(alias: try VoiceJSON.string(aliasValue, field: "\(base).Alias"))
        for (key, item) in members {
            let field = "\(base).\(key)"
            switch key {
            case "Alias": break
            case "Enable": n.enable = try VoiceJSON.bool(item, field: field)
            case "ProxyServer": n.proxyServer = try VoiceJSON.optionalString(item, field: field)
            case "ProxyServerPort": n.proxyServerPort = try VoiceJSON.port(item, field: field, in: 1...65535)
            case "ProxyServerTransport": n.proxyServerTransport = try VoiceJSON.transport(item, field: field)
            case "RegistrarServer": n.registrarServer = try VoiceJSON.optionalString(item, field: field)
            case "RegistrarServerPort": n.registrarServerPort = try VoiceJSON.port(item, field: field, in: 1...65535)
            case "RegistrarServerTransport": n.registrarServerTransport = try VoiceJSON.transport(item, field: field)
            case "ServerDomain": n.serverDomain = try VoiceJSON.optionalString(item, field: field)
            case "UserAgentDomain": n.userAgentDomain = try VoiceJSON.optionalString(item, field: field)
            case "UserAgentPort": n.userAgentPort = try VoiceJSON.port(item, field: field, in: 0...65535)
            case "UserAgentTransport": n.userAgentTransport = try VoiceJSON.transport(item, field: field)
            case "OutboundProxy": n.outboundProxy = try VoiceJSON.optionalString(item, field: field)
            case "OutboundProxyPort": n.outboundProxyPort = try VoiceJSON.port(item, field: field, in: 1...65535)
            case "X_DIALTONE_BackupProxy": n.backupProxy = try VoiceJSON.optionalString(item, field: field)
            case "X_DIALTONE_BackupProxyPort": n.backupProxyPort = try VoiceJSON.port(item, field: field, in: 1...65535)
            case "RegisterExpires": n.registerExpires = try VoiceJSON.integer(item, field: field)
            case "RegisterRetryInterval": n.registerRetryInterval = try VoiceJSON.integer(item, field: field)
            case "TimerLoginRejected": n.timerLoginRejected = try VoiceJSON.integer(item, field: field)
            case "NoLoginRetry": n.noLoginRetry = try VoiceJSON.bool(item, field: field)
            case "TimerT1": n.timerT1 = try VoiceJSON.integer(item, field: field)
            case "TimerT2": n.timerT2 = try VoiceJSON.integer(item, field: field)
            case "TimerT4": n.timerT4 = try VoiceJSON.integer(item, field: field)
            case "InboundAuth":
                n.inboundAuth = try VoiceJSON.enumeration(item, field: field, as: SIPNetworkConfiguration.InboundAuth.self)
            case "InboundAuthUsername": n.inboundAuthUsername = try VoiceJSON.string(item, field: field)
            case "InboundAuthPassword": n.inboundAuthPassword = try VoiceJSON.string(item, field: field)
            case "CodecList": n.codecList = try VoiceJSON.codecs(item, field: field)
            case "X_DIALTONE_KeepAliveInterval": n.keepAliveInterval = try VoiceJSON.integer(item, field: field)
            case "X_DIALTONE_KeepAliveMethod":
                n.keepAliveMethod = try VoiceJSON.enumeration(item, field: field, as: SIPNetworkConfiguration.KeepAliveMethod.self)
            case "X_DIALTONE_DigestAlgorithms": n.digestAlgorithms = try VoiceJSON.digestAlgorithms(item, field: field)
            default:
                throw ConfigError(.unknownKey, "unknown key", field: field)
            }
        }
        return n
    }

    private static func decodeClient(_ value: JSONValue, field base: String) throws(ConfigError) -> SIPClientConfiguration {
        let members = try VoiceJSON.members(value, field: base)
        guard let aliasValue = members.first(where: { $0.key == "Alias" })?.value else {
            throw ConfigError(.missingValue, "every Client needs an Alias", field: "\(base).Alias")
        }
        var c = SIPClientConfiguration(alias: try VoiceJSON.string(aliasValue, field: "\(base).Alias"))
        for (key, item) in members {
            let field = "\(base).\(key)"
            switch key {
            case "Alias": break
            case "Enable": c.enable = try VoiceJSON.bool(item, field: field)
            case "Network": c.network = try VoiceJSON.optionalString(item, field: field)
            case "AuthUserName": c.authUserName = try VoiceJSON.string(item, field: field)
            case "AuthPassword": c.authPassword = try VoiceJSON.string(item, field: field)
            case "RegisterURI": c.registerURI = try VoiceJSON.optionalString(item, field: field)
            case "DirectoryNumber": c.directoryNumber = try VoiceJSON.optionalString(item, field: field)
            case "MaxSessions": c.maxSessions = try VoiceJSON.integer(item, field: field)
            case "CodecList": c.codecList = try VoiceJSON.codecs(item, field: field)
            default:
                throw ConfigError(.unknownKey, "unknown key", field: field)
            }
        }
        return c
    }
}

/// JSON type checks for the VoiceService section. Messages quote enumeration values only, never a
/// string that could be a password.
enum VoiceJSON {
    /// An object's members; a key written twice is an error.
    static func members(_ value: JSONValue, field: String) throws(ConfigError) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = value else { throw ConfigError(.wrongType, "must be an object", field: field) }
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            throw ConfigError(.invalidValue, "appears twice", field: "\(field).\(member.key)")
        }
        return members
    }

    static func array(_ value: JSONValue, field: String, of what: String) throws(ConfigError) -> [JSONValue] {
        guard case .array(let items) = value else { throw ConfigError(.wrongType, "must be an array of \(what)", field: field) }
        return items
    }

    static func string(_ value: JSONValue, field: String) throws(ConfigError) -> String {
        guard let text = value.stringValue else { throw ConfigError(.wrongType, "must be a string", field: field) }
        return text
    }

    /// A string where "" means not set (TR-104's convention), as nil.
    static func optionalString(_ value: JSONValue, field: String) throws(ConfigError) -> String? {
        let text = try string(value, field: field)
        return text.isEmpty ? nil : text
    }

    static func bool(_ value: JSONValue, field: String) throws(ConfigError) -> Bool {
        guard case .bool(let b) = value else { throw ConfigError(.wrongType, "must be true or false", field: field) }
        return b
    }

    static func integer(_ value: JSONValue, field: String) throws(ConfigError) -> Int {
        guard let n = value.intValue else { throw ConfigError(.wrongType, "must be a whole number", field: field) }
        return n
    }

    static func port(_ value: JSONValue, field: String, in range: ClosedRange<Int>) throws(ConfigError) -> UInt16 {
        let n = try integer(value, field: field)
        guard range.contains(n) else { throw VoiceRules.outOfRange(n, range, field: field) }
        return UInt16(n)
    }

    /// A TR-104 enumeration value, spelt exactly as TR-104 does.
    static func enumeration<E: RawRepresentable & CaseIterable>(_ value: JSONValue, field: String, as: E.Type) throws(ConfigError) -> E
        where E.RawValue == String {
        let text = try string(value, field: field)
        guard let e = E(rawValue: text) else {
            let names = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError(.invalidValue, "\(SIPSyntax.quoted(text)) is not one of \(names)", field: field)
        }
        return e
    }

    static func transport(_ value: JSONValue, field: String) throws(ConfigError) -> SIPNetworkConfiguration.Transport {
        if value.stringValue == "SCTP" {
            throw ConfigError(.unsupported, "SCTP is not supported: use UDP, TCP or TLS", field: field)
        }
        return try enumeration(value, field: field, as: SIPNetworkConfiguration.Transport.self)
    }

    /// A list of TR-104 codec names.
    static func codecs(_ value: JSONValue, field: String) throws(ConfigError) -> [LineCodec] {
        var codecs: [LineCodec] = []
        for (i, item) in try array(value, field: field, of: "codec names").enumerated() {
            guard let name = item.stringValue else { throw ConfigError(.wrongType, "item \(i + 1) must be a string", field: field) }
            guard let codec = LineCodec(name: name) else {
                throw ConfigError(.invalidValue,
                                  "item \(i + 1): unknown codec \(SIPSyntax.quoted(name)) (accepted: \(LineCodec.names.joined(separator: ", ")))",
                                  field: field)
            }
            codecs.append(codec)
        }
        return codecs
    }

    /// Digest algorithm tokens, compared case-insensitively (RFC 7616 §3.3) and kept canonical.
    static func digestAlgorithms(_ value: JSONValue, field: String) throws(ConfigError) -> [SIPNetworkConfiguration.DigestAlgorithm] {
        var algorithms: [SIPNetworkConfiguration.DigestAlgorithm] = []
        for (i, item) in try array(value, field: field, of: "algorithm names").enumerated() {
            guard let token = item.stringValue else { throw ConfigError(.wrongType, "item \(i + 1) must be a string", field: field) }
            guard let algorithm = SIPNetworkConfiguration.DigestAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == token.lowercased() }) else {
                let names = SIPNetworkConfiguration.DigestAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(.invalidValue, "item \(i + 1): \(SIPSyntax.quoted(token)) is not one of \(names)", field: field)
            }
            algorithms.append(algorithm)
        }
        return algorithms
    }
}
