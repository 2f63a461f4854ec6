import SIPAuth
import SIPCore
import Testing

@Suite struct DigestAlgorithmTests {
    @Test func tokensRoundTripCaseInsensitively() {
        for a in DigestAlgorithm.allCases {
            #expect(DigestAlgorithm(token: a.token) == a)
            #expect(DigestAlgorithm(token: a.token.uppercased()) == a)
            #expect(DigestAlgorithm(token: a.token.lowercased()) == a)
        }
        #expect(DigestAlgorithm(token: "SHA-512") == nil)
        #expect(DigestAlgorithm(token: "") == nil)
        #expect(DigestAlgorithm(parameter: nil) == .md5)
        #expect(DigestAlgorithm(parameter: "AKAv1-MD5") == nil)
    }

    @Test func strengthOrder() {
        let ordered: [DigestAlgorithm] = [.md5Sess, .md5, .sha256Sess, .sha256, .sha512_256Sess, .sha512_256]
        #expect(DigestAlgorithm.allCases.sorted() == ordered)
        #expect(DigestAlgorithm.allCases.max() == .sha512_256)
        #expect(DigestAlgorithm.sha256Sess.hashFunction == .sha256)
        #expect(DigestAlgorithm.sha256Sess.isSession)
        #expect(!DigestAlgorithm.sha256.isSession)
    }

    @Test func qopTokens() {
        #expect(DigestQop(token: "AUTH-INT") == .authInt)
        #expect(DigestQop(token: "auth") == .auth)
        #expect(DigestQop(token: "auth-conf") == nil)
    }

    @Test func typedViewsOfParsedHeaders() throws {
        let c = try DigestChallenge(parsing: #"Digest realm="r", nonce="n", algorithm=sha-256-SESS, qop="auth-int, foo""#)
        #expect(c.digestAlgorithm == .sha256Sess)
        #expect(c.digestQopOptions == [.authInt])
        let d = try DigestCredentials(parsing: #"Digest username="u", realm="r", nonce="n", uri="sip:a", response="00", qop=auth"#)
        #expect(d.digestAlgorithm == .md5)
        #expect(d.digestQop == .auth)
    }

    @Test func precomputedHA1Secret() {
        let ha1 = DigestComputation.baseHA1(hash: .sha256, username: "u", realm: "r", password: "p")
        let secret = DigestSecret.ha1([.sha256: ha1.uppercased()])
        #expect(secret.baseHA1(username: "u", realm: "r", hash: .sha256) == ha1)
        #expect(secret.baseHA1(username: "u", realm: "r", hash: .md5) == nil)
        #expect(secret.supports(.sha256Sess))
        #expect(!secret.supports(.md5))
    }
}
