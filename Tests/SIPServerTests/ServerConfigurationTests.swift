import Testing
import Config
import SIPAuth
import SIPCore
import SIPServer

@Suite struct ServerConfigurationTests {
    func parse(_ server: String) -> Result<DaemonConfiguration, ConfigError> {
        DaemonConfiguration.parse(Array(("{\"server\": " + server + "}").utf8))
    }

    func error(_ server: String) -> ConfigError? {
        if case .failure(let e) = parse(server) { return e }
        return nil
    }

    @Test func everyKey() throws {
        let text = """
        {"mode": "redirect", "domains": ["Voice.LAN", "[::1]", "192.168.1.1"], "record-route": false,
         "registrar": {"min-expires": 30, "default-expires": 600, "max-expires": 900, "max-contacts-per-aor": 3,
                       "max-bindings": 500, "store": "/var/lib/dialtone/location.json", "authenticate": true,
                       "realm": "home", "algorithms": ["md5", "SHA-512-256"]},
         "accounts": [{"user": "101", "password": "pw"},
                      {"user": "102", "ha1": {"MD5": "0123456789ABCDEF0123456789abcdef",
                                              "SHA-512-256": "\(String(repeating: "ab", count: 32))"}}]}
        """
        let config = try parse(text).get()
        let server = try #require(config.server)
        #expect(server.mode == "redirect")
        #expect(server.domains == ["voice.lan", "::1", "192.168.1.1"])
        #expect(server.recordRoute == false)
        #expect(server.registrar.minExpires == 30)
        #expect(server.registrar.defaultExpires == 600)
        #expect(server.registrar.maxExpires == 900)
        #expect(server.registrar.maxContactsPerAOR == 3)
        #expect(server.registrar.maxBindings == 500)
        #expect(server.registrar.store == "/var/lib/dialtone/location.json")
        #expect(server.registrar.authenticate)
        #expect(server.realm == "home")
        #expect(server.registrar.algorithms == ["MD5", "SHA-512-256"])
        #expect(server.accounts.map(\.user) == ["101", "102"])
        #expect(server.accounts[0].secret == .password("pw"))
        #expect(server.accounts[1].secret == .ha1(["MD5": "0123456789abcdef0123456789abcdef", "SHA-512-256": String(repeating: "ab", count: 32)]))
        // What SIPServer makes of it.
        let registrar = Registrar.Configuration(server)
        #expect(registrar.digest?.realm == "home")
        #expect(registrar.digest?.algorithms == [.md5, .sha512_256])
        #expect(registrar.limits == LocationStore.Limits(minExpires: 30, defaultExpires: 600, maxExpires: 900, maxContactsPerAOR: 3, maxBindings: 500))
        #expect(registrar.users == ["101", "102"])
        #expect(registrar.credentials.secret(username: "102", realm: "home") == .ha1([.md5: "0123456789abcdef0123456789abcdef", .sha512_256: String(repeating: "ab", count: 32)]))
        #expect(ServerMode(configValue: server.mode) == .redirect)
    }

    @Test func defaults() throws {
        let server = try #require(try parse(#"{"domains": ["voice.lan"], "accounts": [{"user": "101", "password": "x"}]}"#).get().server)
        #expect(server.mode == "stateful-proxy")
        #expect(server.recordRoute)
        #expect(server.registrar == ServerConfiguration.Registrar())
        #expect(server.registrar.minExpires == 60 && server.registrar.defaultExpires == 3600 && server.registrar.maxExpires == 7200)
        #expect(server.registrar.store == nil)
        #expect(server.realm == "voice.lan")
        #expect(server.registrar.algorithms == ["MD5"])
        // No server section: roles off.
        #expect(try DaemonConfiguration.parse(Array(#"{"sip": {"max-transactions": 5}}"#.utf8)).get().server == nil)
    }

    @Test func ha1AccountAuthenticatesThroughTheRegistrar() throws {
        let ha1 = DigestComputation.baseHA1(hash: .md5, username: "101", realm: "voice.lan", password: "pw")
        let server = try #require(try parse(#"{"domains": ["voice.lan"], "registrar": {"algorithms": ["MD5"]}, "accounts": [{"user": "101", "ha1": "\#(ha1)"}]}"#).get().server)
        var core = SIPServerCore(configuration: server, nonceSecret: [UInt8](repeating: 7, count: 32))
        var client = DigestClient(username: "101", secret: .password("pw"))
        let clock = ManualClock()
        let challenge = try #require(try core.answer(registerText(cseq: 1), clock))
        let offered = try challenge.values(.wwwAuthenticate).map { try DigestChallenge(parsing: $0) }
        let credentials = try client.respond(to: offered, method: "REGISTER", uri: "sip:voice.lan")
        let ok = try #require(try core.answer(registerText(cseq: 2, extra: ["Authorization: " + credentials[0].headerValue]), clock))
        #expect(ok.status == 200)
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var json: String
        var field: String
        var code: ConfigError.Code
        var description: String { field }
    }

    static let badCases: [BadCase] = [
        BadCase(json: #"[]"#, field: "server", code: .wrongType),
        BadCase(json: #"{"accounts": []}"#, field: "server.domains", code: .missingValue),
        BadCase(json: #"{"domains": []}"#, field: "server.domains", code: .wrongType),
        BadCase(json: #"{"domains": [5]}"#, field: "server.domains[0]", code: .wrongType),
        BadCase(json: #"{"domains": ["bad host"]}"#, field: "server.domains[0]", code: .invalidValue),
        BadCase(json: #"{"domains": ["a..b"]}"#, field: "server.domains[0]", code: .invalidValue),
        BadCase(json: #"{"domains": ["a", "A"]}"#, field: "server.domains[1]", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "mode": "proxy"}"#, field: "server.mode", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "mode": 1}"#, field: "server.mode", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "record-route": "yes"}"#, field: "server.record-route", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "colour": 1}"#, field: "server.colour", code: .unknownKey),
        BadCase(json: #"{"domains": ["a"], "registrar": []}"#, field: "server.registrar", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "registrar": {"min-expire": 1}}"#, field: "server.registrar.min-expire", code: .unknownKey),
        BadCase(json: #"{"domains": ["a"], "registrar": {"min-expires": 0}}"#, field: "server.registrar.min-expires", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"min-expires": 1.5}}"#, field: "server.registrar.min-expires", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "registrar": {"max-expires": 5000000000}}"#, field: "server.registrar.max-expires", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"authenticate": false, "min-expires": 4000}}"#, field: "server.registrar.min-expires", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"authenticate": false, "max-expires": 100}}"#, field: "server.registrar.default-expires", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"max-contacts-per-aor": 0}}"#, field: "server.registrar.max-contacts-per-aor", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"authenticate": false, "max-contacts-per-aor": 20, "max-bindings": 10}}"#, field: "server.registrar.max-contacts-per-aor", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"max-bindings": -1}}"#, field: "server.registrar.max-bindings", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"store": ""}}"#, field: "server.registrar.store", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "registrar": {"store": "/var/lib/"}}"#, field: "server.registrar.store", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "registrar": {"authenticate": 1}}"#, field: "server.registrar.authenticate", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "registrar": {"realm": "a\"b"}}"#, field: "server.registrar.realm", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"algorithms": []}}"#, field: "server.registrar.algorithms", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "registrar": {"algorithms": ["SHA-1"]}}"#, field: "server.registrar.algorithms[0]", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "registrar": {"algorithms": ["MD5", "md5"]}}"#, field: "server.registrar.algorithms[1]", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"]}"#, field: "server.accounts", code: .missingValue),
        BadCase(json: #"{"domains": ["a"], "accounts": {}}"#, field: "server.accounts", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "accounts": [1]}"#, field: "server.accounts[0]", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"password": "x"}]}"#, field: "server.accounts[0].user", code: .missingValue),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "101"}]}"#, field: "server.accounts[0].password", code: .missingValue),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "a@b", "password": "x"}]}"#, field: "server.accounts[0].user", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "1", "password": ""}]}"#, field: "server.accounts[0].password", code: .wrongType),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "1", "password": "x", "ha1": "00"}]}"#, field: "server.accounts[0].ha1", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "1", "pin": "x"}]}"#, field: "server.accounts[0].pin", code: .unknownKey),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "1", "password": "x"}, {"user": "1", "password": "y"}]}"#, field: "server.accounts[1].user", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "1", "ha1": "xyz"}]}"#, field: "server.accounts[0].ha1", code: .invalidValue),
        BadCase(json: #"{"domains": ["a"], "accounts": [{"user": "1", "ha1": {"SHA-1": "00"}}]}"#, field: "server.accounts[0].ha1.SHA-1", code: .unknownKey),
        BadCase(json: #"{"domains": ["a"], "registrar": {"algorithms": ["SHA-256", "MD5"]}, "accounts": [{"user": "1", "ha1": "0123456789abcdef0123456789abcdef"}]}"#, field: "server.accounts[0].ha1", code: .missingValue),
        BadCase(json: #"{"domains": ["a"], "domains": ["b"]}"#, field: "server.domains", code: .invalidValue),
    ]

    @Test(arguments: ServerConfigurationTests.badCases)
    func errorsNameTheField(_ bad: BadCase) {
        let e = error(bad.json)
        #expect(e?.field == bad.field, "\(bad.json) → \(String(describing: e))")
        #expect(e?.code == bad.code, "\(bad.json) → \(String(describing: e))")
        #expect(e?.message.isEmpty == false)
    }

    @Test func aValidSectionAlongsideSip() throws {
        let config = try DaemonConfiguration.parse(Array(#"{"sip": {"listen": ["udp:127.0.0.1:5070"]}, "server": {"domains": ["127.0.0.1"], "registrar": {"authenticate": false}}}"#.utf8)).get()
        #expect(config.listen.map(\.description) == ["udp:127.0.0.1:5070"])
        #expect(config.server?.domains == ["127.0.0.1"])
        #expect(config.server?.registrar.authenticate == false)
    }
}
