import DialtoneTestKit
import SIPCore
import Testing

/// RFC 4475 §3.1.1: the valid torture messages parse, and their fields read as the RFC describes.
@Suite("RFC 4475 valid messages")
struct RFC4475ValidTests {
    @Test("every valid message parses as a datagram", arguments: RFC4475.names("valid"))
    func parses(name: String) throws {
        let message = try RFC4475.message(name)
        // The mandatory headers read through their typed views.
        #expect(!(try message.vias()).isEmpty)
        _ = try message.from()
        _ = try message.to()
        #expect(!(try message.callID()).isEmpty)
        _ = try message.cseq()
        // The body is exactly Content-Length octets.
        if let length = message.headers[.contentLength] {
            #expect(message.body.count == Int(length))
        }
    }

    @Test("the index lists the 13 valid messages of §3.1.1, all of which have a file")
    func validSet() {
        #expect(RFC4475.names("valid") == [
            "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri",
            "transports", "mpart01", "unreason", "noreason",
        ])
        #expect(Fixtures.list("rfc4475/valid").count == 13)
    }

    @Test("wsinv: folding, escapes, odd spacing and unknown headers")
    func wsinv() throws {
        let m = try RFC4475.message("wsinv")
        let uri = try #require(m.requestLine?.uri.sipURI)
        #expect(m.method == .invite)
        #expect(uri.user == "vivekg")
        #expect(uri.host == .name("chair-dnrc.example.com"))
        #expect(uri.parameters == [Parameter("unknownparam")])

        let to = try m.to()
        #expect(to.tag == "1918181833n")
        #expect(to.uri.sipURI?.user == "vivekg")
        #expect(to.bracketed == false)

        let from = try m.from()
        // "J Rosenberg \\\"": the quoted-pairs \\ and \" resolve to a backslash and a quote.
        #expect(from.displayName == "J Rosenberg \\\"")
        #expect(from.tag == "98asjd8")
        #expect(from.uri.sipURI?.user == "jdrosen")

        #expect(try m.maxForwards() == 68)
        #expect(try m.cseq() == CSeq(9, .invite))
        #expect(try m.callID() == "wsinv.ndaksdj@192.0.2.1")

        let vias = try m.vias()
        #expect(vias.count == 3)
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias.map(\.host) == [.ipv4("192.0.2.2"), .name("spindle.example.com"), .ipv4("192.168.255.111")])
        #expect(vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(vias[0].protocolName == "SIP" && vias[0].protocolVersion == "2.0")
        #expect(vias[0].hasRFC3261Branch == false)
        #expect(vias[1].hasRFC3261Branch)

        #expect(m.headers[.subject] == "")
        #expect(m.headers["NewFangledHeader"] == "newfangled value continued newfangled value")
        #expect(m.headers["UnknownHeaderWithUnusualValue"] == ";;,,;;,;")
        #expect(m.headers["unknownheaderwithunusualvalue"] == ";;,,;;,;")

        let routes = try m.routes()
        #expect(routes.count == 1)
        #expect(routes.first?.uri.sipURI?.isLooseRouter == true)
        #expect(routes.first?.uri.sipURI?.parameters.parameter("unknownwith") == .some("value"))
        #expect(routes.first?.uri.sipURI?.parameters.parameter("unknown-no-value") == .some(nil))

        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        #expect(contacts.count == 1)
        #expect(contacts[0].displayName == "Quoted string \"\"")
        #expect(contacts[0].parameters.parameter("newparam") == .some("newvalue"))
        #expect(contacts[0].parameters.parameter("secondparam") == .some(nil))
        #expect(try contacts[0].qValue() == 0.33)

        #expect(try m.contentType() == MediaType.sdp)
        #expect(m.body.count == 150)
        #expect(m.headers[.contentLength] == "150")
        // The unusual value is kept byte for byte when forwarded.
        #expect(m.serialized().containsSequence(Array("\r\nUnknownHeaderWithUnusualValue: ;;,,;;,;\r\n".utf8)))
    }

    @Test("intmeth: the unusual method is an extension method, every odd character survives")
    func intmeth() throws {
        let m = try RFC4475.message("intmeth")
        let method = try #require(m.method)
        #expect(method.rawValue == "!interesting-Method0123456789_*+`.%indeed'~")
        #expect(method != .invite)
        #expect(!SIPMethod.standard.contains(method))
        #expect(method.isValidToken)

        let uri = try #require(m.requestLine?.uri.sipURI)
        #expect(uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(uri.host == .name("example.com"))

        let via = try m.topVia()
        #expect(via.transport == "TCP")
        #expect(via.branch == "z9hG4bK-.!%66*_+`'~")

        let to = try m.to()
        let name = Array(try #require(to.displayName).utf8)
        // Built step by step: Swift 6.0.3 cannot type-check the single concatenation in time.
        var expectedName = Array("BEL:".utf8)
        expectedName.append(0x07)
        expectedName += Array(" NUL:".utf8)
        expectedName.append(0x00)
        expectedName += Array(" DEL:".utf8)
        expectedName.append(0x7F)
        #expect(name == expectedName)
        #expect(to.uri.sipURI?.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")

        let from = try m.from()
        #expect(from.displayName == "token1~` token2'+_ token3*%!.-")
        #expect(from.tag == "_token~1'+`*%!-.")
        // `?? nil` outside #require: Swift 6.0.3's #require cannot flatten the double optional.
        let fromParamValue: String? = from.parameters.parameter("fromParam''~+*_!.-%") ?? nil
        let fromParam = try #require(fromParamValue)
        #expect(fromParam == "\"работающий\"")

        #expect(try m.callID() == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(try m.cseq() == CSeq(139122385, method))
        #expect(try m.maxForwards() == 255)
        let index = try #require(m.headers.firstIndex(of: "extensionHeader-!.%*+_`'~"))
        #expect(Array(m.headers.valueBytes(at: index)) == [0xEF, 0xBB, 0xBF] + Array("大停電".utf8))
        #expect(m.body.isEmpty)
    }

    @Test("esc01: escapes decode once, where the grammar allows them")
    func esc01() throws {
        let m = try RFC4475.message("esc01")
        let uri = try #require(m.requestLine?.uri.sipURI)
        #expect(uri.user == "sips%3Auser%40example.com")
        #expect(uri.userUnescaped == Array("sips:user@example.com".utf8))
        #expect(uri.host == .name("example.net"))

        #expect(try m.to().uri.sipURI?.userUnescaped == Array("user".utf8))
        #expect(try m.from().uri.sipURI?.userUnescaped == Array("I have spaces".utf8))

        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        let contact = try #require(contacts.first?.uri.sipURI)
        #expect(contact.user == "cal%6Cer")
        #expect(contact.userUnescaped == Array("caller".utf8))
        // Kept as written, so the URI serializes to the same text.
        #expect(contact.parameters == [Parameter("%6C%72"), Parameter("n%61me", "v%61lue%25%34%31")])
        let value = try #require(contact.parameters[1].value)
        let once = Percent.decode(Array(value.utf8)[...])
        #expect(once == Array("value%41".utf8))
        #expect(once != Array("valueA".utf8))
        #expect(Percent.decode(Array(contact.parameters[0].name.utf8)[...]) == Array("lr".utf8))
        #expect(contact.description == "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")
        #expect(m.body.count == 150)
    }

    @Test("escnull: %00 is a real NUL octet and truncates nothing")
    func escnull() throws {
        let m = try RFC4475.message("escnull")
        let to = try #require(try m.to().uri.sipURI)
        #expect(to.userUnescaped == Array("null-".utf8) + [0] + Array("-null".utf8))
        #expect(to.addressOfRecord.utf8.count == "sip:null-?-null@example.com".utf8.count)

        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        #expect(contacts.count == 2)
        let first = try #require(contacts[0].uri.sipURI)
        let second = try #require(contacts[1].uri.sipURI)
        #expect(first.userUnescaped == [0])
        #expect(second.userUnescaped == [0, 0])
        #expect(!first.isEquivalent(to: second))
        #expect(first.addressOfRecord != second.addressOfRecord)
    }

    @Test("esc02: % that is not an escape; C%6Fntact is an unknown header")
    func esc02() throws {
        let m = try RFC4475.message("esc02")
        let method = try #require(m.method)
        #expect(method.rawValue == "RE%47IST%45R")
        #expect(method != .register)
        #expect(try m.cseq().method == method)
        #expect(try m.to().displayName == "%Z%45")
        #expect(try m.from().displayName == "%Z%45")
        #expect(try m.topVia().branch == "z9hG4bK209%fzsnel234")

        #expect(m.headers.count(of: .contact) == 2)
        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        #expect(contacts.compactMap { $0.uri.sipURI?.user } == ["alias1", "alias3"])
        let unknown = HeaderName("C%6Fntact")
        #expect(!unknown.isKnown)
        #expect(unknown != .contact)
        #expect(m.headers[unknown] == "<sip:alias2@host2.example.com>")
        // An endpoint does not implement the method.
        #expect(outcome(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .uas))) == "501")
    }

    @Test("lwsdisp: no whitespace between the display name and <")
    func lwsdisp() throws {
        let m = try RFC4475.message("lwsdisp")
        let from = try m.from()
        #expect(from.displayName == "caller")
        #expect(from.uri.sipURI?.user == "caller")
        #expect(from.tag == "323")
        #expect(from.bracketed)
    }

    @Test("longreq: long values, 34 Via values under mixed spellings of the name")
    func longreq() throws {
        let m = try RFC4475.message("longreq")
        let to = try m.to()
        #expect(to.displayName == "I have a user name of " + String(repeating: "extreme", count: 10) + " proportion")
        let toURI = try #require(to.uri.sipURI)
        #expect(toURI.port == 6000)
        #expect(toURI.parameters.count == 3)
        #expect(toURI.parameters.parameter("unknownparam1") == .some("very" + String(repeating: "long", count: 20) + "value"))
        #expect(toURI.parameters[2].value == nil)
        #expect(toURI.parameters[2].name.hasSuffix("ParameterNameWithNoValue"))

        let from = try m.from()
        #expect(from.tag?.utf8.count == 155)
        #expect(from.tag?.hasPrefix("12982982982982982982") == true)
        #expect(from.tag?.hasSuffix("2982982424") == true)
        #expect(from.uri.sipURI?.user == String(repeating: "amazinglylongcallername", count: 5))
        #expect(from.parameters.count == 3)

        let vias = try m.vias()
        #expect(vias.count == 34)
        #expect(m.headers.count(of: .via) == 34)
        #expect(vias.first?.host == .name("sip33.example.com"))
        #expect(vias.last?.received == "192.0.2.5")
        #expect(vias.last?.branch?.hasSuffix("longbranchvalue") == true)
        #expect(try m.callID().utf8.count > 100)
        let unknown = "Unknown-" + String(repeating: "Long", count: 20) + "-Name"
        #expect(m.headers[HeaderName(unknown)]?.hasPrefix("unknown-long") == true)
        #expect(m.body.count == 150)
    }

    @Test("dblreq: the REGISTER is parsed; the trailing INVITE-like octets are ignored")
    func dblreq() throws {
        let bytes = RFC4475.bytes("dblreq")
        let m = try SIPMessage.parse(datagram: bytes)
        #expect(m.method == .register)
        #expect(m.body.isEmpty)
        #expect(m.headers.count == 8)
        #expect(try m.callID() == "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
        let out = m.serialized()
        #expect(!out.containsSequence(Array("INVITE".utf8)))
        let end = try #require(bytes.headerSectionEnd)
        #expect(out == Array(bytes[0..<end]))
    }

    @Test("semiuri: ; in the user part of the Request-URI")
    func semiuri() throws {
        let m = try RFC4475.message("semiuri")
        let uri = try #require(m.requestLine?.uri.sipURI)
        #expect(uri.user == "user;par=u%40example.net")
        #expect(uri.userUnescaped == Array("user;par=u@example.net".utf8))
        #expect(uri.host == .name("example.com"))
        #expect(uri.parameters.isEmpty)
        let accept = try #require(try m.accept())
        #expect(accept.map(\.description) == [
            "application/sdp", "application/pkcs7-mime", "multipart/mixed", "multipart/signed", "message/sip",
            "message/sipfrag",
        ])
    }

    @Test("transports: five Vias with SCTP and an unknown transport")
    func transports() throws {
        let m = try RFC4475.message("transports")
        let vias = try m.vias()
        #expect(vias.map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
        #expect(vias.map(\.host.bare) == ["t1.example.com", "t2.example.com", "t3.example.com", "t4.example.com", "t5.example.com"])
        #expect(vias.allSatisfy { $0.hasRFC3261Branch })
        #expect(try m.callID() == "transports.kijh4akdnaqjkwendsasfdj")
    }

    @Test("mpart01: the binary body is exactly Content-Length octets, NULs included")
    func mpart01() throws {
        let bytes = RFC4475.bytes("mpart01")
        let m = try SIPMessage.parse(datagram: bytes)
        #expect(m.method == .message)
        #expect(m.body.count == 553)
        #expect(m.body.contains(0))
        let end = try #require(bytes.headerSectionEnd)
        #expect(Array(m.body) == Array(bytes[end..<(end + 553)]))
        let type = try #require(try m.contentType())
        #expect(type.type == "multipart" && type.subtype == "mixed")
        #expect(type.parameters.parameter("boundary") == .some("7a9cbec02ceef655"))
        let via = try m.topVia()
        #expect(via.port == 5070)
        #expect(via.rport == .some(nil))
        #expect(m.headers["Identity"]?.hasPrefix("r5mwreLuyDRYBi") == true)
    }

    @Test("unreason: a UTF-8 reason phrase")
    func unreason() throws {
        let m = try RFC4475.message("unreason")
        let status = try #require(m.statusLine)
        #expect(status.code == 200)
        #expect(status.reason == "= 2**3 * 5**2 но сто девяносто девять - простое")
        #expect(m.body.count == 154)
        #expect(try m.cseq() == CSeq(35, .invite))
    }

    @Test("noreason: an empty reason phrase")
    func noreason() throws {
        let m = try RFC4475.message("noreason")
        let status = try #require(m.statusLine)
        #expect(status.code == 100)
        #expect(status.reason == "")
        #expect(try m.to().tag == "902jndnke3")
        #expect(Array(m.serialized().prefix(14)) == Array("SIP/2.0 100 \r\n".utf8))
    }

    @Test("every valid request is forwarded by a proxy; every valid response is accepted",
          arguments: RFC4475.names("valid"))
    func proxyAccepts(name: String) {
        let (message, verdict) = inspect(RFC4475.bytes(name), as: .proxy)
        #expect(message != nil)
        #expect(outcome(verdict) == "accept", "\(verdict)")
    }
}

/// One expected verdict from RFC 4475 §3.1.2 / §3.2–3.4.
struct TortureVerdict: Sendable, CustomTestStringConvertible {
    let name: String
    let role: SIPElementRole
    let outcome: String
    var testDescription: String { "\(name) as \(role.rawValue) → \(outcome)" }
}

/// RFC 4475 §3.1.2 and §3.2–3.4: what an element does with the invalid and borderline messages.
@Suite("RFC 4475 invalid and semantic messages")
struct RFC4475VerdictTests {
    static let all = SIPElementRole.allCases

    static func table(_ rows: [(String, [SIPElementRole], String)]) -> [TortureVerdict] {
        rows.flatMap { name, roles, outcome in roles.map { TortureVerdict(name: name, role: $0, outcome: outcome) } }
    }

    static let expected: [TortureVerdict] = table([
        // §3.1.2
        ("badinv01", all, "400"),
        ("clerr", all, "400"),
        ("ncl", all, "400"),
        ("scalar02", all, "400"),
        ("scalarlg", all, "drop"),
        ("quotbal", all, "400"),
        ("ltgtruri", all, "400"),
        ("lwsruri", all, "400"),
        ("lwsstart", all, "400"),
        ("trws", all, "400"),
        ("escruri", all, "400"),
        ("baddate", [.uas, .proxy], "accept"),
        ("regbadct", all, "400"),
        ("badaspec", all, "400"),
        ("baddn", all, "400"),
        ("badvers", all, "505"),
        ("mismatch01", all, "400"),
        ("mismatch02", [.uas, .registrar], "501"),
        ("mismatch02", [.proxy], "400"),
        ("bigcode", all, "drop"),
        // §3.2–3.4
        ("badbranch", [.uas, .proxy], "accept"),
        ("insuf", all, "400"),
        ("unkscm", [.uas, .proxy], "416"),
        ("novelsc", [.uas, .proxy], "416"),
        ("unksm2", [.proxy], "accept"),
        ("unksm2", [.registrar], "400"),
        ("bext01", [.uas, .proxy], "420"),
        ("invut", [.uas], "415"),
        ("invut", [.proxy], "accept"),
        ("regaut01", [.registrar, .proxy], "accept"),
        ("regaut01", [.uas], "405"),
        ("multi01", all, "400"),
        ("mcl01", all, "400"),
        ("bcast", [.proxy], "drop"),
        ("bcast", [.uas], "accept"),
        ("zeromf", [.proxy], "483"),
        ("zeromf", [.uas], "accept"),
        ("cparam01", [.registrar, .proxy], "accept"),
        ("cparam02", [.registrar, .proxy], "accept"),
        ("regescrt", [.registrar, .proxy], "accept"),
        ("sdp01", [.uas], "406"),
        ("sdp01", [.proxy], "accept"),
        ("inv2543", [.uas, .proxy], "accept"),
    ])

    @Test("verdict", arguments: expected)
    func verdict(_ row: TortureVerdict) {
        let (_, verdict) = inspect(RFC4475.bytes(row.name), as: row.role)
        #expect(outcome(verdict) == row.outcome, "\(verdict)")
    }

    @Test("every invalid and semantic message of the index has an expected verdict")
    func coverage() {
        let covered = Set(Self.expected.map(\.name))
        for name in RFC4475.names("invalid") + RFC4475.names("semantic") {
            #expect(covered.contains(name), "no expectation for \(name)")
        }
        #expect(RFC4475.names("invalid").count == 19)
        #expect(RFC4475.names("semantic").count == 17)
        #expect(Fixtures.list("rfc4475/invalid").count == 19)
        #expect(Fixtures.list("rfc4475/semantic").count == 17)
    }

    @Test("a 400's reason phrase names the fault", arguments: [
        ("badinv01", "Via"), ("clerr", "Content-Length"), ("ncl", "Content-Length"), ("scalar02", "CSeq"),
        ("quotbal", "To"), ("ltgtruri", "Request-URI"), ("lwsruri", "Request-URI"), ("escruri", "Request-URI"),
        ("regbadct", "Contact"), ("badaspec", "To"), ("baddn", "From"), ("mismatch01", "CSeq"),
        ("insuf", "Missing"), ("multi01", "more than one"), ("mcl01", "Content-Length"),
    ])
    func reasonNamesFault(name: String, fragment: String) throws {
        let (_, verdict) = inspect(RFC4475.bytes(name), as: .uas)
        let r = try #require(rejection(verdict))
        #expect(r.status == 400)
        #expect(r.reason.hasPrefix("Bad Request"))
        #expect(r.reason.contains(fragment), "\(r.reason)")
        // A reason phrase never carries control characters.
        #expect(!r.reason.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    @Test("a 400 can be answered: the partial request keeps Via, From, To, Call-ID and CSeq",
          arguments: ["badinv01", "clerr", "ncl", "ltgtruri", "lwsruri", "lwsstart", "trws", "mcl01"])
    func answerable(name: String) throws {
        guard case .failure(let failure) = SIPMessage.parseDetailed(datagram: RFC4475.bytes(name)) else {
            // Messages rejected by validation rather than parsing are parsed in full.
            let m = try RFC4475.message(name)
            let (_, verdict) = inspect(RFC4475.bytes(name), as: .uas)
            let r = try #require(rejection(verdict))
            let response = try #require(SIPMessage.response(to: m, rejecting: r, toTag: "x1"))
            #expect(response.headers.values(.via) == m.headers.values(.via))
            return
        }
        guard case .request = failure.kind else {
            Issue.record("\(name) not recognised as a request")
            return
        }
        let headers = try #require(failure.headers)
        #expect(headers.contains(.via))
        #expect(headers.contains(.callID))
        #expect(headers.contains(.cseq))
    }

    @Test("badvers: 505 whatever the role")
    func badvers() throws {
        let (message, verdict) = inspect(RFC4475.bytes("badvers"), as: .uas)
        #expect(message == nil)
        #expect(rejection(verdict)?.status == 505)
        guard case .failure(let failure) = SIPMessage.parseDetailed(datagram: RFC4475.bytes("badvers")) else {
            Issue.record("SIP/7.0 parsed")
            return
        }
        #expect(failure.error.code == .badVersion)
        #expect(failure.kind == .request("OPTIONS"))
    }

    @Test("bigcode and scalarlg: malformed responses are dropped, not answered")
    func responsesDropped() {
        for name in ["bigcode", "scalarlg"] {
            for role in SIPElementRole.allCases {
                guard case .drop(let reason) = inspect(RFC4475.bytes(name), as: role).verdict else {
                    Issue.record("\(name) as \(role) not dropped")
                    continue
                }
                #expect(!reason.isEmpty)
            }
        }
        guard case .failure(let failure) = SIPMessage.parseDetailed(datagram: RFC4475.bytes("bigcode")) else {
            Issue.record("bigcode parsed")
            return
        }
        #expect(failure.kind == .response)
        #expect(failure.error.code == .badStatusCode)
    }

    @Test("badbranch: the bare magic cookie is not an RFC 3261 branch")
    func badbranch() throws {
        let m = try RFC4475.message("badbranch")
        let via = try m.topVia()
        #expect(via.branch == "z9hG4bK")
        #expect(via.hasRFC3261Branch == false)
    }

    @Test("mismatch02: 501 at a UAS carries Allow")
    func mismatch02() throws {
        let (_, verdict) = inspect(RFC4475.bytes("mismatch02"), as: .uas)
        let r = try #require(rejection(verdict))
        #expect(r.status == 501)
        #expect(r.headers.contains { $0.name == .allow && $0.value.contains("INVITE") })
    }

    @Test("bext01: 420 lists the Proxy-Require tags at a proxy and the Require tags at a UAS")
    func bext01() throws {
        let proxy = try #require(rejection(inspect(RFC4475.bytes("bext01"), as: .proxy).verdict))
        #expect(proxy.status == 420)
        let proxyUnsupported = proxy.headers.filter { $0.name == .unsupported }.map(\.value)
        #expect(proxyUnsupported == ["noProxiesSupportThis, norDoAnyProxiesSupportThis"])

        let uas = try #require(rejection(inspect(RFC4475.bytes("bext01"), as: .uas).verdict))
        #expect(uas.status == 420)
        let uasUnsupported = uas.headers.filter { $0.name == .unsupported }.map(\.value)
        #expect(uasUnsupported == ["nothingSupportsThis, nothingSupportsThisEither"])

        // The response built from the rejection carries the Unsupported header.
        let m = try RFC4475.message("bext01")
        let response = try #require(SIPMessage.response(to: m, rejecting: uas, toTag: "t1"))
        #expect(try response.optionTags(.unsupported) == ["nothingSupportsThis", "nothingSupportsThisEither"])
    }

    @Test("invut: 415 with Accept at a UAS")
    func invut() throws {
        let r = try #require(rejection(inspect(RFC4475.bytes("invut"), as: .uas).verdict))
        #expect(r.status == 415)
        let accept = try #require(r.headers.first { $0.name == .accept })
        #expect(accept.value.contains("application/sdp"))
    }

    @Test("regaut01: 405 at a plain UAS carries Allow without REGISTER")
    func regaut01() throws {
        let r = try #require(rejection(inspect(RFC4475.bytes("regaut01"), as: .uas).verdict))
        #expect(r.status == 405)
        let allow = try #require(r.headers.first { $0.name == .allow })
        #expect(!allow.value.contains("REGISTER"))
        let m = try RFC4475.message("regaut01")
        #expect(m.headers[.authorization] == "NoOneKnowsThisScheme opaque-data=here")
    }

    @Test("unksm2, unkscm, novelsc: unknown schemes parse")
    func unknownSchemes() throws {
        let m = try RFC4475.message("unksm2")
        #expect(try m.to().uri == .other(scheme: "isbn", rest: "2983792873"))
        #expect(try m.from().uri.scheme == "http")
        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        #expect(contacts.first?.uri == .other(scheme: "name", rest: "John_Smith"))
        #expect(try RFC4475.message("unkscm").requestLine?.uri.scheme == "nobodyknowsthisscheme")
        #expect(try RFC4475.message("novelsc").requestLine?.uri == .other(scheme: "soap.beep", rest: "//192.0.2.103:3002"))
        let r = try #require(rejection(inspect(RFC4475.bytes("unkscm"), as: .proxy).verdict))
        #expect(r.reason.hasPrefix("Unsupported URI Scheme"))
    }

    @Test("zeromf: 483 at a proxy; Max-Forwards 0 reads as 0")
    func zeromf() throws {
        #expect(try RFC4475.message("zeromf").maxForwards() == 0)
        let r = try #require(rejection(inspect(RFC4475.bytes("zeromf"), as: .proxy).verdict))
        #expect(r.reason == "Too Many Hops")
    }

    @Test("cparam01: unknownparam is a Contact header parameter")
    func cparam01() throws {
        let m = try RFC4475.message("cparam01")
        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        #expect(contacts.count == 1)
        #expect(contacts[0].parameters == [Parameter("unknownparam")])
        let uri = try #require(contacts[0].uri.sipURI)
        #expect(uri.parameters.isEmpty)
        #expect(uri.user == "+19725552222")
        #expect(uri.host == .name("gw1.example.net"))
    }

    @Test("cparam02: unknownparam is a URI parameter")
    func cparam02() throws {
        let m = try RFC4475.message("cparam02")
        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        #expect(contacts[0].parameters.isEmpty)
        #expect(contacts[0].uri.sipURI?.parameters == [Parameter("unknownparam")])
    }

    @Test("regescrt: the escaped Route header stays in the Contact URI and serializes back")
    func regescrt() throws {
        let m = try RFC4475.message("regescrt")
        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("Contact is not a list of addresses")
            return
        }
        let uri = try #require(contacts.first?.uri.sipURI)
        #expect(uri.headers == [Parameter("Route", "%3Csip:sip.example.com%3E")])
        #expect(contacts[0].description == "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")
        // It did not become a real Route header.
        #expect(!m.headers.contains(.route))
        #expect(try m.routes().isEmpty)
        // Echoed in the 200 Contact.
        var ok = SIPMessage.response(to: m, status: 200, toTag: "reg1")
        ok.headers.append(.contact, contacts[0].description + ";expires=3600")
        let reparsed = try SIPMessage.parse(datagram: ok.serialized())
        guard case .addresses(let echoed)? = try reparsed.contact() else {
            Issue.record("echoed Contact unreadable")
            return
        }
        #expect(echoed.first?.uri == contacts[0].uri)
        #expect(try echoed.first?.expires() == 3600)
    }

    @Test("sdp01: 406 carries Accept: application/sdp")
    func sdp01() throws {
        let r = try #require(rejection(inspect(RFC4475.bytes("sdp01"), as: .uas).verdict))
        #expect(r.status == 406)
        #expect(r.headers.contains { $0.name == .accept && $0.value == "application/sdp" })
    }

    @Test("inv2543: no branch, no From tag, no Content-Length: the body is the rest of the datagram")
    func inv2543() throws {
        let bytes = RFC4475.bytes("inv2543")
        let m = try SIPMessage.parse(datagram: bytes)
        let via = try m.topVia()
        #expect(via.branch == nil)
        #expect(via.hasRFC3261Branch == false)
        #expect(try m.from().tag == nil)
        #expect(try m.maxForwards() == nil)
        #expect(!m.headers.contains(.contentLength))
        let end = try #require(bytes.headerSectionEnd)
        #expect(Array(m.body) == Array(bytes[end...]))
        #expect(m.body.count > 0)
        // Unbracketed To: ;user=phone is a header parameter; bracketed From: a URI parameter.
        let to = try m.to()
        #expect(to.parameters.parameter("user") == .some("phone"))
        #expect(to.uri.sipURI?.userParameter == nil)
        #expect(try m.from().uri.sipURI?.userParameter == "phone")
    }

    @Test("insuf: the missing headers are named")
    func insuf() throws {
        let m = try RFC4475.message("insuf")
        #expect(viewError { try m.callID() }?.header == "Call-ID")
        #expect(viewError { try m.from() }?.header == "From")
        #expect(viewError { try m.to() }?.header == "To")
    }

    @Test("multi01: single-value headers that repeat are errors in their views")
    func multi01() throws {
        let m = try RFC4475.message("multi01")
        #expect(viewError { try m.callID() }?.header == "Call-ID")
        #expect(viewError { try m.cseq() }?.header == "CSeq")
        #expect(viewError { try m.to() }?.header == "To")
        #expect(viewError { try m.from() }?.header == "From")
        #expect(viewError { try m.maxForwards() }?.header == "Max-Forwards")
    }

    @Test("scalar02: overlarge scalars are errors, never wrapped")
    func scalar02() throws {
        let m = try RFC4475.message("scalar02")
        #expect(viewError { try m.cseq() }?.header == "CSeq")
        #expect(viewError { try m.maxForwards() }?.header == "Max-Forwards")
        #expect(viewError { try m.expires() }?.header == "Expires")
        #expect(viewError { try m.contact() }?.header == "Contact")
    }

    @Test("baddate: the Date header is kept as written")
    func baddate() throws {
        let m = try RFC4475.message("baddate")
        #expect(m.headers[.date] == "Fri, 01 Jan 2010 16:00:00 EST")
    }
}

/// RFC 4475 framing faults over a stream (TCP/TLS).
@Suite("RFC 4475 over a stream")
struct RFC4475StreamTests {
    @Test("clerr: Content-Length larger than what arrived means wait for more, not an event")
    func clerr() throws {
        let bytes = RFC4475.bytes("clerr")
        var framer = SIPStreamFramer(role: .server)
        framer.append(bytes)
        #expect(try framer.next() == nil)
        #expect(try framer.next() == nil)
        #expect(framer.bufferedCount == bytes.count)
    }

    @Test("ncl and mcl01: unframeable, next() throws and keeps throwing", arguments: ["ncl", "mcl01"])
    func unframeable(name: String) {
        var framer = SIPStreamFramer(role: .server)
        framer.append(RFC4475.bytes(name))
        let first = viewError { try framer.next() }
        #expect(first?.code == .badContentLength)
        #expect(first?.header == "Content-Length")
        #expect(viewError { try framer.next() } == first)
        // More data does not revive the connection.
        framer.append(RFC4475.bytes("noreason"))
        #expect(throws: SIPParseError.self) { try framer.next() }
    }
}
