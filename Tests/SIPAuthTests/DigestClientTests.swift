import SIPAuth
import SIPCore
import Testing

@Suite struct DigestClientTests {
    /// cnonce "0a4f113b" as in the JsSIP vectors.
    static func client(_ password: String = "testpassword", algorithms: Set<DigestAlgorithm> = Set(DigestAlgorithm.allCases)) -> DigestClient {
        var c = DigestClient(
            username: "testuser", secret: .password(password), supportedAlgorithms: algorithms,
            random: .repeating([0x0a, 0x4f, 0x11, 0x3b])
        )
        c.cnonceByteCount = 4
        return c
    }

    static let realm = "testrealm@host.com"
    static let nonce = "5a071f75353f667787615249c62dcc7b15a4828f"
    static let uri = "sip:testrealm@host.com"

    /// The JsSIP vectors of vectors.tsv, reached through the client.
    @Test(arguments: [
        (nil as String?, [] as [String], "f99e05f591f147facbc94ff23b4b1dee"),
        ("MD5", ["auth"], "a69b9c2ea0dea1437a21df6ddc9b05e4"),
        (nil, ["auth-int"], "82b3cab8b1c4df404434db6a0581650c"),
        ("SHA-256", ["auth"], "dccff9158e4ae98e393289e185045a6ed99b4aaee610cbe0ed73ad64b1ce86fb"),
        ("SHA-256-sess", ["auth"], "69ab2b84fd74d13e7651ba2de802490ca3f9c1d940df150dfb0e57e7a3fc787f"),
        ("SHA-512-256", ["auth-int"], "4dd0a3006ac4caac16b4b92304ded30fac6e0e42eb6b8fca9a8e0aaead56176c"),
    ])
    func answersKnownVectors(_ algorithm: String?, _ qop: [String], _ expected: String) throws {
        var client = Self.client()
        let challenge = DigestChallenge(realm: Self.realm, nonce: Self.nonce, opaque: "op", algorithm: algorithm, qopOptions: qop)
        let answers = try client.respond(to: [challenge], method: "REGISTER", uri: Self.uri)
        let a = try #require(answers.first)
        #expect(answers.count == 1)
        #expect(a.response == expected)
        #expect(a.username == "testuser")
        #expect(a.realm == Self.realm)
        #expect(a.nonce == Self.nonce)
        #expect(a.uri == Self.uri)
        #expect(a.opaque == "op")
        #expect(a.algorithm == algorithm)
        if qop.isEmpty {
            #expect(a.qop == nil && a.nc == nil)
        } else {
            #expect(a.qop == qop[0] && a.nc == "00000001" && a.cnonce == "0a4f113b")
        }
    }

    @Test func authIntWithBody() throws {
        var client = Self.client()
        let challenge = DigestChallenge(realm: Self.realm, nonce: Self.nonce, algorithm: "SHA-256", qopOptions: ["auth-int"])
        let a = try client.respond(to: [challenge], method: "REGISTER", uri: Self.uri, body: Array("TEST BODY".utf8))
        #expect(a[0].qop == "auth-int")
        #expect(a[0].response == "4ba607066f2ea1a8cd3f9402d35c7be94b7406ac6cf6068eee497d615c95737e")
    }

    @Test func prefersAuthOverAuthInt() throws {
        var client = Self.client()
        let a = try client.respond(to: [DigestChallenge(realm: "r", nonce: "n", qopOptions: ["auth-int", "auth"])], method: "INVITE", uri: "sip:b")
        #expect(a[0].qop == "auth")
        var client2 = Self.client()
        #expect(throws: DigestClientError.self) {
            try client2.respond(to: [DigestChallenge(realm: "r", nonce: "n", qopOptions: ["auth-conf"])], method: "INVITE", uri: "sip:b")
        }
    }

    /// RFC 8760 §2: several challenges for one realm; the strongest supported algorithm wins and
    /// unknown algorithms are ignored.
    @Test func choosesStrongestSupportedAlgorithm() throws {
        let challenges = [
            DigestChallenge(realm: "r", nonce: "n1", algorithm: "MD5", qopOptions: ["auth"]),
            DigestChallenge(realm: "r", nonce: "n2", algorithm: "SHA-256", qopOptions: ["auth"]),
            DigestChallenge(realm: "r", nonce: "n3", algorithm: "SHA-3-FANCY", qopOptions: ["auth"]),
            DigestChallenge(realm: "r", nonce: "n4", algorithm: "SHA-512-256", qopOptions: ["auth"]),
        ]
        var client = Self.client()
        let strongest = try client.respond(to: challenges, method: "REGISTER", uri: "sip:r")
        #expect(strongest[0].algorithm == "SHA-512-256")
        var md5Only = Self.client(algorithms: [.md5])
        let a = try md5Only.respond(to: challenges, method: "REGISTER", uri: "sip:r")
        #expect(a[0].algorithm == "MD5" && a[0].nonce == "n1")
        var noneUsable = Self.client(algorithms: [.md5Sess])
        do {
            _ = try noneUsable.respond(to: challenges, method: "REGISTER", uri: "sip:r")
            Issue.record("answered without a usable algorithm")
        } catch {
            #expect(error.code == .noUsableChallenge)
        }
    }

    @Test func precomputedHA1LimitsAlgorithms() throws {
        let md5 = DigestComputation.baseHA1(hash: .md5, username: "testuser", realm: Self.realm, password: "testpassword")
        var client = DigestClient(username: "testuser", secret: .ha1([.md5: md5]), random: .repeating([0x0a, 0x4f, 0x11, 0x3b]))
        client.cnonceByteCount = 4
        let challenges = [
            DigestChallenge(realm: Self.realm, nonce: Self.nonce, algorithm: "SHA-256", qopOptions: ["auth"]),
            DigestChallenge(realm: Self.realm, nonce: Self.nonce, algorithm: "MD5", qopOptions: ["auth"]),
        ]
        let a = try client.respond(to: challenges, method: "REGISTER", uri: Self.uri)
        #expect(a[0].algorithm == "MD5")
        #expect(a[0].response == "a69b9c2ea0dea1437a21df6ddc9b05e4")
    }

    /// RFC 3261 §22.3: a proxy and the UAS both challenge; one answer per realm.
    @Test func answersEveryRealm() throws {
        var client = Self.client()
        let a = try client.respond(to: [
            DigestChallenge(realm: "proxy.example", nonce: "p", qopOptions: ["auth"]),
            DigestChallenge(realm: "uas.example", nonce: "u", qopOptions: ["auth"]),
        ], method: "INVITE", uri: "sip:bob@uas.example")
        #expect(a.map(\.realm) == ["proxy.example", "uas.example"])

        var restricted = Self.client()
        restricted.realm = "uas.example"
        let b = try restricted.respond(to: [
            DigestChallenge(realm: "proxy.example", nonce: "p", qopOptions: ["auth"]),
            DigestChallenge(realm: "uas.example", nonce: "u", qopOptions: ["auth"]),
        ], method: "INVITE", uri: "sip:bob@uas.example")
        #expect(b.map(\.realm) == ["uas.example"])
    }

    @Test func nonceCountIncrementsAndResetsOnNewNonce() throws {
        var client = Self.client()
        let first = try client.respond(to: [DigestChallenge(realm: "r", nonce: "n1", qopOptions: ["auth"])], method: "REGISTER", uri: "sip:r")
        #expect(first[0].nc == "00000001")
        let secondOptional = client.authorize(realm: "r", method: "REGISTER", uri: "sip:r")
        let second = try #require(secondOptional)
        #expect(second.nc == "00000002")
        #expect(second.nonce == "n1")
        #expect(second.response != first[0].response)
        #expect(client.nextNonceCount(realm: "r") == 3)
        let none = client.authorize(realm: "other", method: "REGISTER", uri: "sip:r")
        #expect(none == nil)
        // The server says the nonce went stale: new nonce, count restarts, no error.
        let third = try client.respond(to: [DigestChallenge(realm: "r", nonce: "n2", stale: true, qopOptions: ["auth"])], method: "REGISTER", uri: "sip:r")
        #expect(third[0].nonce == "n2")
        #expect(third[0].nc == "00000001")
    }

    /// RFC 3261 §22.2: a second challenge without stale=true after answering means the password is wrong.
    @Test func nonStaleRechallengeIsRejection() throws {
        var client = Self.client()
        _ = try client.respond(to: [DigestChallenge(realm: "r", nonce: "n1", qopOptions: ["auth"])], method: "REGISTER", uri: "sip:r")
        do {
            _ = try client.respond(to: [DigestChallenge(realm: "r", nonce: "n2", qopOptions: ["auth"])], method: "REGISTER", uri: "sip:r")
            Issue.record("retried a rejected password")
        } catch {
            #expect(error.code == .credentialsRejected)
        }
        // After a success, a later challenge (server restart) is answered again.
        client.accepted()
        let again = try client.respond(to: [DigestChallenge(realm: "r", nonce: "n3", qopOptions: ["auth"])], method: "REGISTER", uri: "sip:r")
        #expect(again[0].nonce == "n3")
    }

    @Test func userhashChallenge() throws {
        var client = DigestClient(username: "Jäsøn Doe", secret: .password("Secret, or not?"))
        let challenge = try DigestChallenge(parsing: #"Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true"#)
        let a = try client.respond(to: [challenge], method: "GET", uri: "/doe.json")
        #expect(a[0].userhash)
        #expect(a[0].username == "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b")
    }
}
