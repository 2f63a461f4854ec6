import SIPCore
import Testing

@Suite struct DigestChallengeTests {
    @Test func parsesRFC3261Example() throws {
        // RFC 3261 §20.44 (with qop list of RFC 7616).
        let c = try DigestChallenge(parsing: #"Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5"#)
        #expect(c.realm == "atlanta.com")
        #expect(c.domain == ["sip:ss1.carrier.com"])
        #expect(c.qopOptions == ["auth", "auth-int"])
        #expect(c.nonce == "f84f1cec41e6cbe5aea9c8e88d359")
        #expect(c.opaque == "")
        #expect(c.stale == false)
        #expect(c.algorithm == "MD5")
        #expect(c.extensions.isEmpty)
    }

    @Test func parsesRFC7616SHA512Example() throws {
        let c = try DigestChallenge(parsing: """
            Digest
                realm="api@example.org",
                qop="auth",
                algorithm=SHA-512-256,
                nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
                opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
                charset=UTF-8,
                userhash=true
            """.split(separator: "\n").joined(separator: "\r\n"))
        #expect(c.realm == "api@example.org")
        #expect(c.algorithm == "SHA-512-256")
        #expect(c.charset == "UTF-8")
        #expect(c.userhash)
        #expect(c.qopOptions == ["auth"])
    }

    @Test func lwsCaseAndQuotedPairs() throws {
        let c = try DigestChallenge(parsing: "dIgEsT  REALM = \"a \\\"b\\\\ c\" ,\tNonce=abc ,Stale=TRUE, domain=\"sip:a  sip:b\", x-ext=tok, y=\"q v\"")
        #expect(c.realm == #"a "b\ c"#)
        #expect(c.nonce == "abc")
        #expect(c.stale)
        #expect(c.domain == ["sip:a", "sip:b"])
        #expect(c.extensions == [
            AuthParameter(name: "x-ext", value: "tok", isQuoted: false),
            AuthParameter(name: "y", value: "q v", isQuoted: true),
        ])
    }

    @Test func serializesCanonically() throws {
        let c = DigestChallenge(
            realm: "atlanta.com", domain: ["sip:a", "sip:b"], nonce: "n1", opaque: "o", stale: true,
            algorithm: "SHA-256", qopOptions: ["auth", "auth-int"], userhash: true, charset: "UTF-8",
            extensions: [AuthParameter(name: "x", value: "a\"b", isQuoted: true)]
        )
        #expect(c.headerValue == #"Digest realm="atlanta.com", domain="sip:a sip:b", nonce="n1", opaque="o", stale=true, algorithm=SHA-256, qop="auth,auth-int", charset=UTF-8, userhash=true, x="a\"b""#)
        #expect(try DigestChallenge(parsing: c.headerValue) == c)
    }

    @Test(arguments: [
        #"Digest realm="atlanta.com", nonce="abc""#,
        #"Digest realm="a\\b\"c", nonce="x", opaque="", qop="auth", algorithm="SHA-256""#,
        #"Digest nonce=x, realm=y, foo="bar, baz", stale=true, userhash=TRUE"#,
        "Digest realm=\"tab\there\", nonce=\"é ü\"",
        "Digest realm=\"\\\u{01}\", nonce=n",
    ])
    func roundTrips(_ text: String) throws {
        let c = try DigestChallenge(parsing: text)
        let again = try DigestChallenge(parsing: c.headerValue)
        #expect(again == c)
        #expect(again.headerValue == c.headerValue)
    }

    @Test func headerFoldInsideQuotedString() throws {
        let c = try DigestChallenge(parsing: "Digest realm=\"a\r\n b\", nonce=n")
        #expect(c.realm == "a b")
    }

    @Test func missingRequiredParameters() {
        #expect(throws: AuthHeaderError.self) { try DigestChallenge(parsing: #"Digest nonce="n""#) }
        do {
            _ = try DigestChallenge(parsing: #"Digest realm="r""#)
            Issue.record("no error for a challenge without nonce")
        } catch {
            #expect(error.code == .missingParameter)
            #expect(error.message.contains("nonce"))
        }
    }

    @Test func rejectsOtherSchemeWhenDigestIsRequired() {
        do {
            _ = try DigestChallenge(parsing: #"Basic realm="r""#)
            Issue.record("Basic accepted as Digest")
        } catch {
            #expect(error.code == .expectedScheme)
        }
    }
}
