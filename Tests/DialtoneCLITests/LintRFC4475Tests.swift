import DialtoneTestKit
import Testing

/// `dialtone sip lint` over the RFC 4475 torture tests, all files in one invocation per role.
@Suite struct LintRFC4475Tests {
    static let folders = ["valid", "invalid", "semantic"]

    /// Every RFC 4475 message file, as (class/name, path).
    static var allFiles: [(name: String, path: String)] {
        folders.flatMap { folder in
            Fixtures.list("rfc4475/\(folder)").filter { $0.hasSuffix(".sip") }.map { file in
                ("\(folder)/\(file.dropLast(4))", Fixtures.path("rfc4475/\(folder)/\(file)"))
            }
        }
    }

    /// Lints all files as `role` (UDP) and returns the outcome per file ("accept", "drop", "400", …).
    static func outcomes(role: String) throws -> [String: LintLine] {
        let files = allFiles
        #expect(files.count >= 49, "RFC 4475 fixtures missing: \(files.count)")
        let (lines, _) = try lint(["--as", role] + files.map(\.path))
        // One line per file, in argument order, naming the file as given.
        #expect(lines.map(\.file) == files.map(\.path))
        #expect(lines.allSatisfy { $0.message == nil }, "UDP lines carry no message index")
        var byName: [String: LintLine] = [:]
        for (file, line) in zip(files, lines) { byName[file.name] = line }
        return byName
    }

    /// Expected outcomes from the RFC 4475 text (index.tsv "expected_behaviour_per_rfc") for the role.
    static let expected: [String: [String: String]] = [
        "uas": [
            "invalid/badvers": "505",          // 3.1.2.16: 505 Version Not Supported
            "invalid/bigcode": "drop",         // 3.1.2.19: drop the response
            "invalid/scalarlg": "drop",        // 3.1.2.5: discard the response
            "valid/esc01": "accept",           // 3.1.1.3: parser must accept
            "valid/esc02": "501",              // 3.1.1.5: endpoint rejects the unknown method with 501
            "valid/intmeth": "501",            // 3.1.1.2: unknown extension method
            "semantic/bext01": "420",          // 3.3.5: 420 for the Require tag (UAS role)
            "invalid/mismatch02": "501",       // 3.1.2.18: 501 preferred
            "invalid/mismatch01": "400",       // 3.1.2.17: 400
            "invalid/badinv01": "400",         // 3.1.2.1: 400
            "invalid/scalar02": "400",         // 3.1.2.4: 400 because of CSeq
            "invalid/clerr": "400",            // 3.1.2.2: over UDP 400
            "semantic/insuf": "400",           // 3.3.1: 400
            "semantic/multi01": "400",         // 3.3.8: 400
            "semantic/unkscm": "416",          // 3.3.2: 416
            "semantic/invut": "415",           // 3.3.6: endpoint rejects with 415
            "semantic/sdp01": "406",           // 3.3.15: 406 Not Acceptable
            "semantic/zeromf": "accept",       // 3.3.11: a UAS answers the OPTIONS normally
            "semantic/inv2543": "accept",      // 3.4.1: accept for backward compatibility
        ],
        "proxy": [
            "invalid/badvers": "505",
            "invalid/bigcode": "drop",
            "semantic/zeromf": "483",          // 3.3.11: proxy must not forward, 483
            "semantic/bext01": "420",          // 3.3.5: 420 for the Proxy-Require tag
            "semantic/invut": "accept",        // 3.3.6: proxy processes normally
            "semantic/bcast": "drop",          // 3.3.10: do not forward to the broadcast address
            "semantic/unksm2": "accept",       // 3.3.4: proxies handle normally
            "semantic/regaut01": "accept",     // 3.3.7: proxy forwards Authorization unchanged
            "valid/esc02": "accept",           // 3.1.1.5: proxy forwards per R-URI
        ],
        "registrar": [
            "invalid/badvers": "505",
            "semantic/unksm2": "400",          // 3.3.4: a registrar rejects with 400
            "semantic/cparam01": "accept",     // 3.3.12: registration succeeds
            "semantic/cparam02": "accept",     // 3.3.13: registration succeeds
            "semantic/regescrt": "accept",     // 3.3.14: registration succeeds
            "semantic/regaut01": "accept",     // 3.3.7: a registrar ignoring auth processes it
            "valid/escnull": "accept",         // 3.1.1.4: registers two contacts
        ],
    ]

    @Test(arguments: ["uas", "proxy", "registrar"])
    func representativeVerdicts(role: String) throws {
        let byName = try Self.outcomes(role: role)
        let table = try #require(Self.expected[role])
        for (name, want) in table.sorted(by: { $0.key < $1.key }) {
            let line = try #require(byName[name], "no line for \(name)")
            #expect(line.outcome == want, "\(name) as \(role): \(line.outcome) (\(line.reason ?? "-")), expected \(want)")
        }
    }

    /// RFC 4475 §3.1.1: every "valid" message is well-formed, so a proxy (which implements no method
    /// itself) forwards all of them.
    @Test func proxyAcceptsEveryValidMessage() throws {
        let byName = try Self.outcomes(role: "proxy")
        for (name, line) in byName where name.hasPrefix("valid/") {
            #expect(line.isAccept, "\(name): \(line.outcome) \(line.reason ?? "")")
        }
    }

    /// RFC 4475 §3.1.2: the invalid messages are rejected or dropped, whatever the role; baddate is the
    /// exception the RFC allows (reject only where the Date matters, which it does not here).
    @Test(arguments: ["uas", "proxy", "registrar"])
    func invalidMessagesAreNotAccepted(role: String) throws {
        let byName = try Self.outcomes(role: role)
        let tolerated: Set<String> = ["invalid/baddate"]
        for (name, line) in byName where name.hasPrefix("invalid/") && !tolerated.contains(name) {
            #expect(!line.isAccept, "\(name) as \(role) was accepted")
        }
    }

    /// A rejection's reason names its status: 400s carry "Bad Request (…)" with the fault.
    @Test func badRequestReasonsNameTheFault() throws {
        let byName = try Self.outcomes(role: "uas")
        let bad = byName.values.filter { $0.status == 400 }
        #expect(!bad.isEmpty)
        for line in bad {
            let reason = line.reason ?? ""
            #expect(reason.hasPrefix("Bad Request (") && reason.hasSuffix(")") && reason.count > 14,
                    "\(line.file ?? "?"): \(reason)")
        }
    }

    /// Without options the command checks as a UAS over UDP.
    @Test func defaultsAreUASOverUDP() throws {
        let files = [rfc4475Path("semantic/zeromf"), rfc4475Path("invalid/clerr"), rfc4475Path("semantic/bext01")]
        let (plain, _) = try lint(files)
        let (explicit, _) = try lint(["--as", "uas", "--transport", "udp"] + files)
        let (proxy, _) = try lint(["--as", "proxy"] + files)
        let (tcp, _) = try lint(["--transport", "tcp"] + files)
        #expect(plain.map(\.json) == explicit.map(\.json))
        #expect(plain.count == 3)
        // The options matter: zeromf differs as a proxy, clerr differs over TCP.
        #expect(plain.map(\.json) != proxy.map(\.json))
        #expect(plain.map(\.json) != tcp.map(\.json))
    }
}
