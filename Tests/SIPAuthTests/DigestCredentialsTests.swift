import SIPCore
import Testing

@Suite struct DigestCredentialsTests {
    @Test func parsesRFC3261Example() throws {
        // RFC 3261 §20.7.
        let c = try DigestCredentials(parsing: #"Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", response="7587245234b3434cc3412213e5f113a5432""#)
        #expect(c.username == "Alice")
        #expect(!c.usernameIsExtended)
        #expect(c.realm == "atlanta.com")
        #expect(c.nonce == "84a4cc6f3082121f32b42a2187831a9e")
        #expect(c.response == "7587245234b3434cc3412213e5f113a5432")
        #expect(c.uri == nil)  // the RFC's example omits it
        #expect(try DigestCredentials(parsing: c.headerValue) == c)
    }

    @Test func parsesFullCredentials() throws {
        let c = try DigestCredentials(parsing: #"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, x=y"#)
        #expect(c.uri == "sip:bob@biloxi.com")
        #expect(c.qop == "auth")
        #expect(c.nc == "00000001")
        #expect(c.nonceCount == 1)
        #expect(c.cnonce == "0a4f113b")
        #expect(c.opaque == "5ccc069c403ebaf9f0171e9517f40e41")
        #expect(c.algorithm == "MD5")
        #expect(c.extensions == [AuthParameter(name: "x", value: "y", isQuoted: false)])
        #expect(try DigestCredentials(parsing: c.headerValue) == c)
    }

    @Test func serializesCanonically() {
        let c = DigestCredentials(
            username: "bob", realm: "biloxi.com", nonce: "n", uri: "sip:bob@biloxi.com", response: "abcd",
            algorithm: "SHA-256", cnonce: "c", opaque: "o", qop: "auth", nc: "0000000a"
        )
        #expect(c.headerValue == #"Digest username="bob", realm="biloxi.com", nonce="n", uri="sip:bob@biloxi.com", response="abcd", algorithm=SHA-256, cnonce="c", opaque="o", qop=auth, nc=0000000a"#)
    }

    /// RFC 7616 §3.9.2: username* as an RFC 5987 ext-value.
    @Test func extendedUsername() throws {
        let text = #"Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="api@example.org", uri="/doe.json", nonce="n", response="r""#
        let c = try DigestCredentials(parsing: text)
        #expect(c.username == "Jäsøn Doe")
        #expect(c.usernameIsExtended)
        #expect(c.headerValue.hasPrefix("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "))
        #expect(try DigestCredentials(parsing: c.headerValue) == c)

        let latin1 = try DigestCredentials(parsing: #"Digest username*=iso-8859-1'en'J%E4s, realm=r, uri=u, nonce=n, response=r"#)
        #expect(latin1.username == "Jäs")
        #expect(try DigestCredentials(parsing: latin1.headerValue) == latin1)
    }

    @Test(arguments: [
        (#"Digest username*=UTF-8''%C3, realm=r, uri=u, nonce=n, response=r"#, "invalid UTF-8"),
        (#"Digest username*=UTF-8''%G1, realm=r, uri=u, nonce=n, response=r"#, "hex"),
        (#"Digest username*=KOI8-R''abc, realm=r, uri=u, nonce=n, response=r"#, "charset"),
        (#"Digest username*=abc, realm=r, uri=u, nonce=n, response=r"#, "charset'language'value"),
    ])
    func badExtendedUsername(_ text: String, _ why: String) {
        do {
            _ = try DigestCredentials(parsing: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains(why))
        }
    }

    @Test func usernameAndUsernameStarTogetherIsAnError() {
        do {
            _ = try DigestCredentials(parsing: #"Digest username="a", username*=UTF-8''a, realm=r, uri=u, nonce=n, response=r"#)
            Issue.record("accepted both username forms")
        } catch {
            #expect(error.code == .duplicateParameter)
        }
    }

    @Test(arguments: ["1", "0000001", "000000001", "0000000g", "-0000001"])
    func badNonceCount(_ nc: String) {
        do {
            _ = try DigestCredentials(parsing: "Digest username=u, realm=r, uri=u, nonce=n, response=r, qop=auth, cnonce=c, nc=\(nc)")
            Issue.record("accepted nc=\(nc)")
        } catch {
            #expect(error.code == .invalidParameterValue)
        }
    }

    @Test(arguments: ["username", "realm", "nonce", "response"])
    func missingRequiredParameter(_ name: String) {
        let all = ["username": "u", "realm": "r", "nonce": "n", "uri": "sip:x", "response": "00"]
        let text = "Digest " + all.filter { $0.key != name }.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ")
        do {
            _ = try DigestCredentials(parsing: text)
            Issue.record("accepted without \(name)")
        } catch {
            #expect(error.code == .missingParameter)
            #expect(error.message.contains(name))
        }
    }
}
