/// The `server` section of the configuration file: Dialtone's SIP server roles (registrar, proxy,
/// redirect server; issue 5). Absent means the roles are off.
///
/// ```text
/// "server": {
///   "mode": "stateful-proxy",        // "stateful-proxy" (default) | "stateless-proxy" | "redirect":
///                                    //   how requests for a served domain are handled (RFC 3261 §16,
///                                    //   §16.11, §8.3). The registrar runs in every mode.
///   "domains": ["192.168.1.1", "voice.lan"],
///                                    // required, non-empty: host names or IP addresses the server is
///                                    //   responsible for (Request-URI and To of REGISTER, §10.3
///                                    //   steps 1 and 5; requests to them are served, not forwarded).
///                                    //   Compared case-insensitively, IPv6 with or without brackets.
///   "record-route": true,            // proxy modes: insert Record-Route (§16.6 step 4). Default true.
///   "registrar": {
///     "min-expires": 60,             // shorter non-zero registrations get 423 + Min-Expires (§10.3
///                                    //   step 7). Default 60. 1 ≤ min ≤ default ≤ max.
///     "default-expires": 3600,       // when neither the contact's expires nor Expires says. Default 3600.
///     "max-expires": 7200,           // longer requests are shortened to this. Default 7200.
///     "max-contacts-per-aor": 10,    // more bindings for one address-of-record get 503 (as Kamailio's
///                                    //   registrar max_contacts). Default 10, 1–1000.
///     "max-bindings": 100000,        // all addresses-of-record together; past it 503. Default 100000.
///     "store": "/var/lib/dialtone/location.json",
///                                    // where bindings are saved to survive a restart (atomic
///                                    //   write); absent or null: memory only.
///     "authenticate": true,          // Digest authentication of REGISTER (RFC 3261 §22, RFC 8760)
///                                    //   against `accounts`. Default true (then accounts must not be empty).
///     "realm": "voice.lan",          // Digest realm. Default: the first domain.
///     "algorithms": ["SHA-256", "MD5"]
///                                    // offered in the 401, one WWW-Authenticate each, strongest
///                                    //   first: MD5, SHA-256, SHA-512-256 (and their -sess forms).
///                                    //   Default ["MD5"]: what every phone answers. Offer SHA-256
///                                    //   only when every client handles RFC 8760 (baresip 1.0.0
///                                    //   fails registration when any challenge names another
///                                    //   algorithm, whatever the order).
///   },
///   "accounts": [                    // the users of the served domains (registrar and redirect: 404
///                                    //   vs 480). Default [].
///     { "user": "101", "password": "secret" },
///     { "user": "102", "ha1": { "MD5": "<32 hex>", "SHA-256": "<64 hex>" } }
///                                    // H(user:realm:password) per hash instead of the password; a
///                                    //   bare string is the MD5 one. Every offered algorithm's hash
///                                    //   must be present.
///   ]
/// }
/// ```
///
/// Unknown keys are errors naming the field, as elsewhere in the file.
public struct ServerConfiguration: Sendable, Equatable {
    /// The configuration spellings of `mode` (mapped to `ServerMode` by SIPServer).
    public static let modes = ["stateful-proxy", "stateless-proxy", "redirect"]
    /// Digest algorithm tokens accepted in `registrar.algorithms` (RFC 7616 §6.1, RFC 8760 §2).
    public static let algorithmTokens = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]
    /// Hash names accepted as `ha1` keys.
    public static let hashNames = ["MD5", "SHA-256", "SHA-512-256"]

    /// `server.mode`, one of `modes`.
    public var mode: String
    /// `server.domains`: lower-cased, IPv6 without brackets, no duplicates.
    public var domains: [String]
    /// `server.record-route`.
    public var recordRoute: Bool
    public var registrar: Registrar
    public var accounts: [Account]

    /// `server.registrar`.
    public struct Registrar: Sendable, Equatable {
        public var minExpires: Int = 60
        public var defaultExpires: Int = 3600
        public var maxExpires: Int = 7200
        public var maxContactsPerAOR: Int = 10
        public var maxBindings: Int = 100_000
        /// Location store file; nil keeps bindings in memory only.
        public var store: String?
        public var authenticate: Bool = true
        /// Nil means the first domain (see `ServerConfiguration.realm`).
        public var realm: String?
        /// Canonical tokens from `algorithmTokens`, in the order written.
        public var algorithms: [String] = ["MD5"]

        public init() {}
    }

    /// One entry of `server.accounts`.
    public struct Account: Sendable, Equatable {
        public enum Secret: Sendable, Equatable {
            case password(String)
            /// Lower-case hex H(user:realm:password) by hash name (`hashNames`).
            case ha1([String: String])
        }
        public var user: String
        public var secret: Secret

        public init(user: String, secret: Secret) {
            self.user = user
            self.secret = secret
        }
    }

    public init(mode: String = "stateful-proxy", domains: [String], recordRoute: Bool = true,
                registrar: Registrar = Registrar(), accounts: [Account] = []) {
        self.mode = mode
        self.domains = domains
        self.recordRoute = recordRoute
        self.registrar = registrar
        self.accounts = accounts
    }

    /// The Digest realm: `registrar.realm`, else the first domain.
    public var realm: String { registrar.realm ?? domains.first ?? "" }

    /// Parses and validates the `server` object.
    public static func parse(_ value: JSONValue) -> Result<ServerConfiguration, ConfigError> {
        do throws(ConfigError) {
            return .success(try parseThrowing(value))
        } catch {
            return .failure(error)
        }
    }

    // MARK: Parsing

    private static func parseThrowing(_ value: JSONValue) throws(ConfigError) -> ServerConfiguration {
        guard case .object(let members) = value else { throw ConfigError(.wrongType, "must be an object", field: "server") }
        var config = ServerConfiguration(domains: [])
        var sawDomains = false
        var seen = Set<String>()
        for (key, item) in members {
            let field = "server.\(key)"
            guard seen.insert(key).inserted else { throw ConfigError(.invalidValue, "appears twice", field: field) }
            switch key {
            case "mode":
                guard let text = item.stringValue else { throw ConfigError(.wrongType, "must be a string", field: field) }
                guard modes.contains(text) else {
                    throw ConfigError(.invalidValue, "'\(text)' is not one of \(modes.joined(separator: ", "))", field: field)
                }
                config.mode = text
            case "domains":
                config.domains = try parseDomains(item, field: field)
                sawDomains = true
            case "record-route":
                guard case .bool(let b) = item else { throw ConfigError(.wrongType, "must be true or false", field: field) }
                config.recordRoute = b
            case "registrar":
                config.registrar = try parseRegistrar(item)
            case "accounts":
                config.accounts = try parseAccounts(item)
            default:
                throw ConfigError(.unknownKey, "unknown key", field: field)
            }
        }
        guard sawDomains else {
            throw ConfigError(.missingValue, "the domains the server is responsible for are required", field: "server.domains")
        }
        try config.check()
        return config
    }

    /// Cross-field rules.
    private func check() throws(ConfigError) {
        let r = registrar
        guard r.minExpires <= r.defaultExpires else {
            throw ConfigError(.invalidValue, "min-expires (\(r.minExpires)) must not exceed default-expires (\(r.defaultExpires))",
                              field: "server.registrar.min-expires")
        }
        guard r.defaultExpires <= r.maxExpires else {
            throw ConfigError(.invalidValue, "default-expires (\(r.defaultExpires)) must not exceed max-expires (\(r.maxExpires))",
                              field: "server.registrar.default-expires")
        }
        guard r.maxContactsPerAOR <= r.maxBindings else {
            throw ConfigError(.invalidValue, "max-contacts-per-aor (\(r.maxContactsPerAOR)) must not exceed max-bindings (\(r.maxBindings))",
                              field: "server.registrar.max-contacts-per-aor")
        }
        if r.authenticate && accounts.isEmpty {
            throw ConfigError(.missingValue,
                              "registrar.authenticate is on but there are no accounts: add server.accounts or set server.registrar.authenticate to false",
                              field: "server.accounts")
        }
        let neededHashes = Set(r.algorithms.map { ServerConfiguration.hashName(ofAlgorithm: $0) })
        for (i, account) in accounts.enumerated() {
            guard case .ha1(let table) = account.secret else { continue }
            for hash in ServerConfiguration.hashNames where neededHashes.contains(hash) && table[hash] == nil {
                throw ConfigError(.missingValue,
                                  "account '\(account.user)' has no \(hash) ha1 but registrar.algorithms offers it",
                                  field: "server.accounts[\(i)].ha1")
            }
        }
    }

    /// `MD5-sess` → `MD5`, `SHA-256` → `SHA-256`.
    static func hashName(ofAlgorithm token: String) -> String {
        token.hasSuffix("-sess") ? String(token.dropLast(5)) : token
    }

    private static func parseDomains(_ item: JSONValue, field: String) throws(ConfigError) -> [String] {
        guard case .array(let items) = item, !items.isEmpty else {
            throw ConfigError(.wrongType, "must be a non-empty array of host names or IP addresses", field: field)
        }
        var domains: [String] = []
        for (i, element) in items.enumerated() {
            guard let text = element.stringValue else { throw ConfigError(.wrongType, "must be a string", field: "\(field)[\(i)]") }
            guard let host = canonicalHost(text) else {
                throw ConfigError(.invalidValue, "'\(text)' is not a host name or IP address", field: "\(field)[\(i)]")
            }
            guard !domains.contains(host) else { throw ConfigError(.invalidValue, "'\(text)' is listed twice", field: "\(field)[\(i)]") }
            domains.append(host)
        }
        return domains
    }

    /// Lower-cased host, IPv6 without brackets; nil when the text cannot be a URI host (RFC 3261 §25
    /// `host`: hostname, IPv4 or IPv6 reference).
    public static func canonicalHost(_ text: String) -> String? {
        var t = Substring(text)
        if t.hasPrefix("[") {
            guard t.hasSuffix("]"), t.count > 2 else { return nil }
            t = t.dropFirst().dropLast()
        }
        guard !t.isEmpty, t.utf8.count <= 253 else { return nil }
        if t.contains(":") {
            // IPv6: hex digits, colons and (for an embedded IPv4) dots.
            guard t.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return nil }
            return String(t).lowercased()
        }
        // hostname / IPv4: alphanumerics, '-' and '.', labels not empty (one trailing dot allowed).
        guard t.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else { return nil }
        let labels = t.split(separator: ".", omittingEmptySubsequences: false)
        for (i, label) in labels.enumerated() where label.isEmpty && !(i == labels.count - 1 && i > 0) {
            return nil
        }
        return String(t).lowercased()
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    private static func integer(_ item: JSONValue, field: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let n = item.intValue else { throw ConfigError(.wrongType, "must be a whole number", field: field) }
        guard range.contains(n) else {
            throw ConfigError(.invalidValue, "must be between \(range.lowerBound) and \(range.upperBound), not \(n)", field: field)
        }
        return n
    }

    private static func parseRegistrar(_ item: JSONValue) throws(ConfigError) -> Registrar {
        guard case .object(let members) = item else { throw ConfigError(.wrongType, "must be an object", field: "server.registrar") }
        var r = Registrar()
        var seen = Set<String>()
        // Expiry values are delta-seconds (RFC 3261 §20.19: 32-bit).
        let seconds: ClosedRange<Int> = 1...Int(UInt32.max)
        for (key, value) in members {
            let field = "server.registrar.\(key)"
            guard seen.insert(key).inserted else { throw ConfigError(.invalidValue, "appears twice", field: field) }
            switch key {
            case "min-expires": r.minExpires = try integer(value, field: field, in: seconds)
            case "default-expires": r.defaultExpires = try integer(value, field: field, in: seconds)
            case "max-expires": r.maxExpires = try integer(value, field: field, in: seconds)
            case "max-contacts-per-aor": r.maxContactsPerAOR = try integer(value, field: field, in: 1...1000)
            case "max-bindings": r.maxBindings = try integer(value, field: field, in: 1...10_000_000)
            case "store":
                if value.isNull { r.store = nil; continue }
                guard let path = value.stringValue, !path.isEmpty, !path.hasSuffix("/"), !path.utf8.contains(0) else {
                    throw ConfigError(.wrongType, "must be a file path (or null for memory only)", field: field)
                }
                r.store = path
            case "authenticate":
                guard case .bool(let b) = value else { throw ConfigError(.wrongType, "must be true or false", field: field) }
                r.authenticate = b
            case "realm":
                guard let realm = value.stringValue, !realm.isEmpty,
                      realm.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\"" && $0 != "\\" && $0.value != 0x7F }) else {
                    throw ConfigError(.invalidValue, "must be a non-empty string without quotes, backslashes or control characters", field: field)
                }
                r.realm = realm
            case "algorithms":
                guard case .array(let items) = value, !items.isEmpty else {
                    throw ConfigError(.wrongType, "must be a non-empty array of algorithm names", field: field)
                }
                var algorithms: [String] = []
                for (i, element) in items.enumerated() {
                    guard let token = element.stringValue else { throw ConfigError(.wrongType, "must be a string", field: "\(field)[\(i)]") }
                    guard let canonical = algorithmTokens.first(where: { $0.lowercased() == token.lowercased() }) else {
                        throw ConfigError(.invalidValue, "unknown algorithm '\(token)' (known: \(algorithmTokens.joined(separator: ", ")))",
                                          field: "\(field)[\(i)]")
                    }
                    guard !algorithms.contains(canonical) else { throw ConfigError(.invalidValue, "'\(token)' is listed twice", field: "\(field)[\(i)]") }
                    algorithms.append(canonical)
                }
                r.algorithms = algorithms
            default:
                throw ConfigError(.unknownKey, "unknown key", field: field)
            }
        }
        return r
    }

    private static func parseAccounts(_ item: JSONValue) throws(ConfigError) -> [Account] {
        guard case .array(let items) = item else { throw ConfigError(.wrongType, "must be an array of accounts", field: "server.accounts") }
        var accounts: [Account] = []
        for (i, element) in items.enumerated() {
            let base = "server.accounts[\(i)]"
            guard case .object(let members) = element else { throw ConfigError(.wrongType, "must be an object with user and password", field: base) }
            var user: String?
            var secret: Account.Secret?
            for (key, value) in members {
                let field = "\(base).\(key)"
                switch key {
                case "user":
                    guard let text = value.stringValue else { throw ConfigError(.wrongType, "must be a string", field: field) }
                    guard isValidUser(text) else {
                        throw ConfigError(.invalidValue, "'\(text)' is not a usable SIP user name (1-128 characters, no spaces, '@', ':' or control characters)", field: field)
                    }
                    user = text
                case "password":
                    guard secret == nil else { throw ConfigError(.invalidValue, "give either password or ha1, not both", field: field) }
                    guard let text = value.stringValue, !text.isEmpty else { throw ConfigError(.wrongType, "must be a non-empty string", field: field) }
                    secret = .password(text)
                case "ha1":
                    guard secret == nil else { throw ConfigError(.invalidValue, "give either password or ha1, not both", field: field) }
                    secret = .ha1(try parseHA1(value, field: field))
                default:
                    throw ConfigError(.unknownKey, "unknown key", field: field)
                }
            }
            guard let user else { throw ConfigError(.missingValue, "user is required", field: "\(base).user") }
            guard let secret else { throw ConfigError(.missingValue, "password or ha1 is required", field: "\(base).password") }
            if accounts.contains(where: { $0.user == user }) {
                throw ConfigError(.invalidValue, "user '\(user)' is listed twice", field: "\(base).user")
            }
            accounts.append(Account(user: user, secret: secret))
        }
        return accounts
    }

    private static func isValidUser(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 128 else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "@" && $0 != ":" }
    }

    private static func parseHA1(_ value: JSONValue, field: String) throws(ConfigError) -> [String: String] {
        func hexDigest(_ item: JSONValue, hash: String, field: String) throws(ConfigError) -> String {
            let length = hash == "MD5" ? 32 : 64
            guard let text = item.stringValue, text.utf8.count == length, text.utf8.allSatisfy(isHex) else {
                throw ConfigError(.invalidValue, "the \(hash) ha1 must be \(length) hex digits", field: field)
            }
            return text.lowercased()
        }
        switch value {
        case .string:
            return ["MD5": try hexDigest(value, hash: "MD5", field: field)]
        case .object(let members):
            guard !members.isEmpty else { throw ConfigError(.invalidValue, "must name at least one hash", field: field) }
            var table: [String: String] = [:]
            for (key, item) in members {
                guard let hash = hashNames.first(where: { $0.lowercased() == key.lowercased() }) else {
                    throw ConfigError(.unknownKey, "unknown hash (known: \(hashNames.joined(separator: ", ")))", field: "\(field).\(key)")
                }
                table[hash] = try hexDigest(item, hash: hash, field: "\(field).\(key)")
            }
            return table
        default:
            throw ConfigError(.wrongType, "must be a hex string (MD5) or an object of hex strings by hash name", field: field)
        }
    }
}
