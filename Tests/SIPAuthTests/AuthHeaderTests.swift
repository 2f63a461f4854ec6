import DialtoneTestKit
import SIPCore
import Testing

/// Scheme dispatch, unknown schemes and malformed input for all four auth headers.
@Suite struct AuthHeaderTests {
    /// RFC 4475 §3.3.7 (regaut01): an unknown scheme in Authorization must parse.
    @Test func regaut01UnknownScheme() throws {
        let message = Fixtures.text("rfc4475/semantic/regaut01.sip")
        let line = try #require(message.split(separator: "\r\n").first { $0.hasPrefix("Authorization:") })
        let value = String(line.dropFirst("Authorization:".count))
        let parsed = try AuthCredentials(parsing: value)
        #expect(parsed == .other(scheme: "NoOneKnowsThisScheme", parameters: [AuthParameter(name: "opaque-data", value: "here", isQuoted: false)]))
        #expect(parsed.headerValue == "NoOneKnowsThisScheme opaque-data=here")
        #expect(try AuthCredentials(parsing: parsed.headerValue) == parsed)
    }

    @Test func dispatchOnScheme() throws {
        let challenge = try AuthChallenge(parsing: #"DIGEST realm="r", nonce="n""#)
        guard case .digest(let c) = challenge else {
            Issue.record("not digest: \(challenge)")
            return
        }
        #expect(c.realm == "r")
        #expect(challenge.scheme == "Digest")
        let basic = try AuthChallenge(parsing: #"Basic realm="WallyWorld""#)
        #expect(basic == .other(scheme: "Basic", parameters: [AuthParameter(name: "realm", value: "WallyWorld", isQuoted: true)]))
        #expect(basic.headerValue == #"Basic realm="WallyWorld""#)
        let bare = try AuthChallenge(parsing: "Negotiate")
        #expect(bare == .other(scheme: "Negotiate", parameters: []))
        #expect(bare.headerValue == "Negotiate")
    }

    @Test(arguments: [
        ("", AuthHeaderError.Code.empty, 0),
        ("   ", .empty, 3),
        ("=abc", .expectedScheme, 0),
        ("Digest", .missingParameter, 6),
        ("Digest realm", .expectedEquals, 12),
        ("Digest realm=", .expectedValue, 13),
        ("Digest realm=\"abc", .unterminatedQuotedString, 13),
        ("Digest realm=\"abc\\", .unterminatedQuotedString, 13),
        ("Digest realm=\"a\", nonce=n,", .expectedParameterName, 26),
        ("Digest realm=\"a\", , nonce=n", .expectedParameterName, 18),
        ("Digest realm=\"a\" nonce=n", .expectedComma, 17),
        ("Digest realm=a, nonce=n, REALM=b", .duplicateParameter, 25),
        ("Digest realm=\"a\u{00}\", nonce=n", .invalidCharacter, 15),
        ("Digest realm=\"a\rb\", nonce=n", .invalidCharacter, 15),
        ("Digest realm=\"a\r\nb\", nonce=n", .invalidCharacter, 15),
        ("Digest realm=a\n, nonce=n", .invalidCharacter, 14),
        ("Digest realm=\"a\\\u{e9}\", nonce=n", .invalidCharacter, 16),
        ("Digest realm=é, nonce=n", .expectedValue, 13),
        ("Digest realm=a;nonce=n", .expectedComma, 14),
        ("Digest\u{01}realm=a", .invalidCharacter, 6),
        ("Digest realm=a, nonce=n, stale", .expectedEquals, 30),
    ])
    func malformed(_ text: String, _ code: AuthHeaderError.Code, _ offset: Int) {
        func check(_ result: Result<Void, AuthHeaderError>) {
            switch result {
            case .success:
                Issue.record("accepted: \(text.debugDescription)")
            case .failure(let error):
                #expect(error.code == code, "\(text.debugDescription): \(error)")
                #expect(error.offset == offset, "\(text.debugDescription): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        check(Result { () throws(AuthHeaderError) in _ = try AuthChallenge(parsing: text) })
        check(Result { () throws(AuthHeaderError) in _ = try DigestChallenge(parsing: text) })
    }

    @Test func limits() throws {
        let long = "Digest realm=\"" + String(repeating: "a", count: 9000) + "\", nonce=n"
        #expect { try AuthChallenge(parsing: long) } throws: { ($0 as? AuthHeaderError)?.code == .tooLong }
        _ = try AuthChallenge(parsing: long, limits: AuthHeaderLimits(maxLength: 10_000))

        let many = "Digest realm=r, nonce=n" + (0..<70).map { ", p\($0)=v" }.joined()
        #expect { try AuthChallenge(parsing: many) } throws: { ($0 as? AuthHeaderError)?.code == .tooManyParameters }
        let ok = try DigestChallenge(parsing: many, limits: AuthHeaderLimits(maxParameters: 100))
        #expect(ok.extensions.count == 70)
    }

    @Test func otherSchemeParametersRoundTrip() throws {
        let text = #"Foo a=1, B="two words", c="q\"uote""#
        let parsed = try AuthCredentials(parsing: text)
        #expect(parsed.headerValue == text)
        #expect(try AuthCredentials(parsing: parsed.headerValue) == parsed)
    }

    /// Inputs found interesting while writing the fuzz target: parse (or fail cleanly), and when
    /// they parse, serialize → reparse gives an equal value.
    @Test(arguments: [
        "Digest realm=\"\", nonce=\"\", algorithm=\"\"",
        "Digest realm=r, nonce=n, algorithm=\"a b\", charset=\"x,y\", qop=\" , ,\"",
        "Digest username*=UTF-8''%22%5C, realm=r, uri=u, nonce=n, response=r, qop=\"auth int\"",
        "Digest username=\"\\\u{7f}\", realm=r, nonce=n, response=r, nc=ABCDEF01, userhash=\"TRUE\"",
        "x y=\"\t\"",
        "Digest realm=r,\r\n nonce=n",
    ])
    func roundTripOddities(_ text: String) throws {
        if let c = try? AuthChallenge(parsing: text) {
            #expect(try AuthChallenge(parsing: c.headerValue) == c, "\(c.headerValue)")
        }
        if let c = try? AuthCredentials(parsing: text) {
            #expect(try AuthCredentials(parsing: c.headerValue) == c, "\(c.headerValue)")
        }
        #expect((try? AuthChallenge(parsing: text)) != nil || (try? AuthCredentials(parsing: text)) != nil)
    }
}
