/// The role an element plays for a message, which decides the checks it makes (RFC 3261 §8.2 for a
/// UAS, §16.3 for a proxy, §10.3 for a registrar).
public enum SIPElementRole: String, Sendable, CaseIterable {
    case uas
    case proxy
    case registrar
}

/// What an element does with a received message.
public enum SIPVerdict: Sendable, Equatable {
    /// Process it.
    case accept
    /// Answer it with this response and go no further.
    case reject(SIPRejection)
    /// Discard it silently (malformed responses, RFC 3261 §18.1.2 / §16.7; requests too broken to answer).
    case drop(reason: String)
}

/// The response an element must send for a request it cannot take.
public struct SIPRejection: Sendable, Equatable {
    public var status: Int
    /// A reason phrase naming the fault, e.g. `Bad Request (Malformed Via: empty parameter)`.
    public var reason: String
    /// Headers the response must carry (Unsupported for 420, Allow for 405, Accept for 415, …).
    public var headers: [HeaderField]

    public init(status: Int, reason: String? = nil, headers: [HeaderField] = []) {
        self.status = status
        self.reason = reason ?? StatusLine.defaultReason(for: status)
        self.headers = headers
    }

    /// `400 Bad Request (fault)`.
    static func badRequest(_ fault: String) -> SIPRejection {
        SIPRejection(status: 400, reason: "Bad Request (\(Self.phrase(fault)))")
    }

    /// Reason-phrase text: no control characters, bounded length.
    static func phrase(_ text: String) -> String {
        var out = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        if out.count > 120 { out = String(out.prefix(117)) + "..." }
        return out
    }
}

/// What an element supports, which decides 405/501, 420, 415 and 406.
public struct SIPValidationPolicy: Sendable {
    public var role: SIPElementRole
    /// Methods this UAS implements (405 for a known method outside it, 501 for an unknown one).
    public var allowedMethods: [SIPMethod]
    /// Option tags this element supports (420 for others in Require / Proxy-Require).
    public var supportedExtensions: Set<String>
    /// Body types a UAS understands (415 for others).
    public var acceptedBodyTypes: [MediaType]
    public var limits: SIPLimits

    public init(
        role: SIPElementRole,
        allowedMethods: [SIPMethod]? = nil,
        supportedExtensions: Set<String> = ["path", "100rel", "timer", "replaces", "outbound"],
        acceptedBodyTypes: [MediaType] = [.sdp],
        limits: SIPLimits = .default
    ) {
        self.role = role
        switch role {
        case .uas:
            self.allowedMethods = allowedMethods ?? [.invite, .ack, .bye, .cancel, .options, .prack, .update, .info, .refer, .notify]
        case .registrar:
            self.allowedMethods = allowedMethods ?? [.register, .options, .ack, .cancel]
        case .proxy:
            self.allowedMethods = allowedMethods ?? []
        }
        self.supportedExtensions = supportedExtensions
        self.acceptedBodyTypes = acceptedBodyTypes
        self.limits = limits
    }
}

/// Stateless checks of a received message: the response RFC 3261 requires for a bad request, or
/// whether to drop a bad response. Transaction-level decisions (481, 482 loops, authentication) are
/// not made here.
public enum SIPValidator {
    /// Parses a datagram and checks it; returns the message when it parsed.
    public static func inspect(datagram: [UInt8], policy: SIPValidationPolicy) -> (message: SIPMessage?, verdict: SIPVerdict) {
        switch SIPMessage.parseDetailed(datagram: datagram, limits: policy.limits) {
        case .success(let message): return (message, validate(message, policy: policy))
        case .failure(let failure): return (nil, verdict(for: failure))
        }
    }

    /// The verdict for a message that did not parse.
    public static func verdict(for failure: SIPParseFailure) -> SIPVerdict {
        switch failure.kind {
        case .response:
            return .drop(reason: "malformed response: \(failure.error.message)")
        case .unknown:
            return .drop(reason: "not a SIP message: \(failure.error.message)")
        case .request:
            if failure.error.code == .badVersion {
                return .reject(SIPRejection(status: 505, reason: "Version Not Supported"))
            }
            if failure.error.code == .messageTooLarge {
                return .reject(SIPRejection(status: 513, reason: "Message Too Large (\(SIPRejection.phrase(failure.error.message)))"))
            }
            let what = failure.error.header.map { "\($0): \(failure.error.message)" } ?? failure.error.message
            return .reject(.badRequest(what))
        }
    }

    /// Checks a parsed message for the given role.
    public static func validate(_ message: SIPMessage, policy: SIPValidationPolicy) -> SIPVerdict {
        switch message.startLine {
        case .response: return validateResponse(message, policy: policy)
        case .request(let line): return validateRequest(message, line: line, policy: policy)
        }
    }

    static func validateResponse(_ message: SIPMessage, policy: SIPValidationPolicy) -> SIPVerdict {
        do throws(SIPParseError) {
            let vias = try message.vias(limits: policy.limits)
            guard !vias.isEmpty else { return .drop(reason: "response without Via") }
            _ = try message.from(limits: policy.limits)
            _ = try message.to(limits: policy.limits)
            _ = try message.callID()
            _ = try message.cseq()
            if policy.role == .proxy, vias.count >= 2 {
                // §16.7 step 9 forwards to the next Via: never to a broadcast or multicast address
                // (RFC 4475 §3.3.10 bcast).
                let next = vias[1]
                let target = next.received ?? next.host.bare
                if isBroadcastOrMulticast(target) {
                    return .drop(reason: "next Via \(target) is a broadcast or multicast address")
                }
            }
            return .accept
        } catch {
            return .drop(reason: "malformed response: \(error.header.map { "\($0): " } ?? "")\(error.message)")
        }
    }

    static func validateRequest(_ message: SIPMessage, line: RequestLine, policy: SIPValidationPolicy) -> SIPVerdict {
        let limits = policy.limits
        let method = line.method
        // Mandatory headers (§8.1.1): Via, From, To, Call-ID, CSeq. Max-Forwards may be absent (RFC 2543
        // peers, RFC 4475 inv2543).
        for name in [HeaderName.via, .from, .to, .callID, .cseq] where !message.headers.contains(name) {
            return .reject(.badRequest("Missing \(name) header"))
        }
        let cseq: CSeq
        do throws(SIPParseError) {
            _ = try message.vias(limits: limits)
            _ = try message.from(limits: limits)
            _ = try message.to(limits: limits)
            _ = try message.callID()
            cseq = try message.cseq()
            guard cseq.sequence < 1 << 31 else {
                throw SIPParseError(.badHeaderValue, "sequence number must be less than 2^31", header: "CSeq")
            }
            _ = try message.maxForwards()
            // `Contact: *` exists only to remove every binding in a REGISTER (RFC 3261 §10.2.2, §20.10);
            // an endpoint must not take it as a target (a proxy does not use Contact, and forwards it).
            if case .wildcard? = try message.contact(limits: limits), line.method != .register, policy.role != .proxy {
                throw SIPParseError(.badHeaderValue, "'*' is only allowed in REGISTER", header: "Contact")
            }
            _ = try message.routes(limits: limits)
            _ = try message.recordRoutes(limits: limits)
            _ = try message.contentType(limits: limits)
            _ = try message.optionTags(.require, limits: limits)
            _ = try message.optionTags(.proxyRequire, limits: limits)
            _ = try message.optionTags(.supported, limits: limits)
            _ = try message.expires()
        } catch {
            return .reject(.badRequest(error.header.map { "Malformed \($0): \(error.message)" } ?? error.message))
        }
        // Request-URI (§16.3 step 2, §8.2.2.1; RFC 4475 escruri, unkscm, novelsc).
        switch line.uri {
        case .sip(let u):
            if !u.headers.isEmpty { return .reject(.badRequest("Request-URI must not carry headers")) }
        case .tel:
            break
        case .other(let scheme, _):
            return .reject(SIPRejection(status: 416, reason: "Unsupported URI Scheme (\(SIPRejection.phrase(scheme)))"))
        }
        let known = SIPMethod.standard.contains(method)
        // An unknown method a UAS does not implement is 501 before anything else (RFC 4475 mismatch02).
        if policy.role != .proxy && !known {
            return .reject(SIPRejection(status: 501, reason: "Not Implemented",
                                        headers: [HeaderField(name: .allow, value: policy.allowedMethods.map(\.rawValue).joined(separator: ", "))]))
        }
        if cseq.method != method {
            return .reject(.badRequest("CSeq method \(SIPRejection.phrase(cseq.method.rawValue)) does not match the request method"))
        }
        let body = !message.body.isEmpty
        switch policy.role {
        case .proxy:
            // §16.3 step 3: Max-Forwards.
            if let mf = try? message.maxForwards(), mf == 0, method != .ack {
                return .reject(SIPRejection(status: 483, reason: "Too Many Hops"))
            }
            // §16.3 step 5: Proxy-Require.
            let required = (try? message.optionTags(.proxyRequire, limits: limits)) ?? []
            let unsupported = required.filter { !policy.supportedExtensions.contains($0) }
            if !unsupported.isEmpty && method != .ack && method != .cancel {
                return .reject(SIPRejection(status: 420, reason: "Bad Extension",
                                            headers: [HeaderField(name: .unsupported, value: unsupported.joined(separator: ", "))]))
            }
            return .accept
        case .uas, .registrar:
            // §8.2.1 method inspection.
            if !policy.allowedMethods.contains(method) {
                return .reject(SIPRejection(status: 405, reason: "Method Not Allowed",
                                            headers: [HeaderField(name: .allow, value: policy.allowedMethods.map(\.rawValue).joined(separator: ", "))]))
            }
            // §8.2.2.3 Require.
            if method != .ack && method != .cancel {
                let required = (try? message.optionTags(.require, limits: limits)) ?? []
                let unsupported = required.filter { !policy.supportedExtensions.contains($0) }
                if !unsupported.isEmpty {
                    return .reject(SIPRejection(status: 420, reason: "Bad Extension",
                                                headers: [HeaderField(name: .unsupported, value: unsupported.joined(separator: ", "))]))
                }
            }
            // §8.2.3 content processing.
            if body, let type = try? message.contentType(limits: limits),
               !policy.acceptedBodyTypes.contains(where: { $0.matches(type) }) {
                return .reject(SIPRejection(status: 415, reason: "Unsupported Media Type",
                                            headers: [HeaderField(name: .accept, value: policy.acceptedBodyTypes.map(\.description).joined(separator: ", "))]))
            }
            if body && message.headers.contains(.contentEncoding) {
                return .reject(SIPRejection(status: 415, reason: "Unsupported Media Type (Content-Encoding)",
                                            headers: [HeaderField(name: .acceptEncoding, value: "identity")]))
            }
            // A request whose answer must carry a session description the UAC will not accept (RFC 4475
            // sdp01): 406.
            if method == .invite, let accept = try? message.accept(limits: limits), !accept.isEmpty,
               !accept.contains(where: { $0.matches(.sdp) }) {
                return .reject(SIPRejection(status: 406, reason: "Not Acceptable",
                                            headers: [HeaderField(name: .accept, value: MediaType.sdp.description)]))
            }
            if policy.role == .registrar && method == .register {
                return validateRegister(message, policy: policy)
            }
            return .accept
        }
    }

    /// RFC 3261 §10.3 checks a registrar makes before touching the location service.
    static func validateRegister(_ message: SIPMessage, policy: SIPValidationPolicy) -> SIPVerdict {
        guard let to = try? message.to(limits: policy.limits), case .sip = to.uri else {
            return .reject(.badRequest("To of a REGISTER must be a SIP or SIPS address-of-record"))
        }
        if case .wildcard? = try? message.contact(limits: policy.limits) {
            guard (try? message.expires()) == 0 else {
                return .reject(.badRequest("Contact: * requires Expires: 0"))
            }
        }
        return .accept
    }

    static func isBroadcastOrMulticast(_ host: String) -> Bool {
        if host == "255.255.255.255" { return true }
        let parts = host.split(separator: ".")
        if parts.count == 4, let first = Int(parts[0]), (224...239).contains(first) { return true }
        if parts.count == 4, parts[3] == "255" { return true }
        if host.lowercased().hasPrefix("ff") && host.contains(":") { return true }
        return false
    }
}
