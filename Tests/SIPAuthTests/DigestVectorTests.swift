import DialtoneTestKit
import SIPAuth
import Testing

/// Every row of Tests/Fixtures/digest/vectors.tsv (RFC 2617 §3.5, RFC 7616 §3.9 with erratum 4897,
/// JsSIP's SIP vectors): HA1, HA2, response and user hash must match the non-empty expected columns.
@Suite struct DigestVectorTests {
    static let rows = Fixtures.tsv("digest/vectors.tsv")

    @Test func fixtureHasAllRows() {
        #expect(Self.rows.count == 15)
        #expect(Set(Self.rows.compactMap { $0["id"] }).count == 15)
    }

    @Test(arguments: rows)
    func vector(_ row: [String: String]) throws {
        let id = row["id"] ?? "?"
        let algorithm = try #require(DigestAlgorithm(token: row["algorithm"] ?? ""), "row \(id): unknown algorithm")
        let qopText = row["qop"] ?? ""
        var qop: DigestQop?
        if !qopText.isEmpty {
            guard let parsed = DigestQop(token: qopText) else {
                Issue.record("row \(id): unknown qop \(qopText)")
                return
            }
            qop = parsed
        }
        let username = row["username"]!, realm = row["realm"]!, nonce = row["nonce"]!
        let cnonce = row["cnonce"] ?? "", nc = row["nc"] ?? ""

        let ha1 = DigestComputation.ha1(
            algorithm: algorithm, username: username, realm: realm, password: row["password"]!,
            nonce: nonce, cnonce: cnonce
        )
        let ha2 = DigestComputation.ha2(
            algorithm: algorithm, qop: qop, method: row["method"]!, uri: row["digest_uri"]!,
            body: Array((row["entity_body"] ?? "").utf8)
        )
        let response = DigestComputation.response(
            algorithm: algorithm, ha1: ha1, nonce: nonce, nc: nc, cnonce: cnonce, qop: qop, ha2: ha2
        )
        var checked = 0
        if let e = row["expected_HA1"], !e.isEmpty { #expect(ha1 == e, "row \(id): HA1"); checked += 1 }
        if let e = row["expected_HA2"], !e.isEmpty { #expect(ha2 == e, "row \(id): HA2"); checked += 1 }
        if let e = row["expected_response"], !e.isEmpty { #expect(response == e, "row \(id): response"); checked += 1 }
        if let e = row["expected_username_hash"], !e.isEmpty {
            #expect(DigestComputation.userhash(algorithm: algorithm, username: username, realm: realm) == e, "row \(id): userhash")
            checked += 1
        }
        #expect(checked >= 3, "row \(id) has too few expected values to check")
    }

    /// FIPS 180-4 SHA-512/256 of "abc" (NIST example): differs from SHA-512("abc") truncated.
    @Test func sha512_256IsTheFIPSFunctionNotTruncatedSHA512() {
        let abc = Array("abc".utf8)
        #expect(DigestHashFunction.sha512_256.hex(abc) == "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23")
        #expect(DigestHashFunction.sha256.hex(abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(DigestHashFunction.md5.hex(abc) == "900150983cd24fb0d6963f7d28e17f72")
        // SHA-512("abc") starts with ddaf35a1…: the truncation must not be what we compute.
        #expect(!DigestHashFunction.sha512_256.hex(abc).hasPrefix("ddaf35a1"))
    }

    /// RFC 4231 test case 2 (HMAC-SHA-256, key "Jefe").
    @Test func hmacSHA256() {
        let mac = DigestHashFunction.sha256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(DigestHex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func constantTimeEqual() {
        #expect(DigestHex.constantTimeEqual("abcdef09", "ABCDEF09"))
        #expect(!DigestHex.constantTimeEqual("abcdef09", "abcdef0a"))
        #expect(!DigestHex.constantTimeEqual("abc", "abcd"))
        #expect(!DigestHex.constantTimeEqual("@", "`"))  // 0x40 vs 0x60 are not letters
        #expect(DigestHex.constantTimeEqual("", ""))
    }

    @Test func ncText() {
        #expect(DigestComputation.ncText(1) == "00000001")
        #expect(DigestComputation.ncText(0xabc) == "00000abc")
        #expect(DigestComputation.ncText(.max) == "ffffffff")
    }
}
