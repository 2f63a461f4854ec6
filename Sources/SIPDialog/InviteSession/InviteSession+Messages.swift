import SIPCore
import SIPTransaction

/// Building the messages the session sends.
extension InviteSession {
    /// A response to `request` from this side (§8.2.6): To tag ours; for a 1xx/2xx that creates or
    /// refreshes a dialog (`withContact`) also Contact, Allow and Supported (§12.1.1, §13.3.1).
    func response(to request: SIPMessage, status: Int, reason: String? = nil, body: SessionBody? = nil,
                  withContact: Bool = false, extra: [HeaderField] = []) -> SIPMessage {
        var fields: [HeaderField] = []
        if withContact {
            fields.append(HeaderField(name: .contact, value: localContact.description))
            fields += capabilityHeaders(initialInvite: false)
        }
        fields += extra
        var message = SIPMessage.response(to: request, status: status, reason: reason, toTag: localTag, extraHeaders: fields)
        if let body { message.setBody(body.bytes, contentType: body.contentType) }
        return message
    }

    /// Allow and Supported for our INVITEs and dialog-creating responses: `100rel` only in our
    /// initial INVITE (RFC 3262 §3, we PRACK as UAC only), `timer` when session timers are on
    /// (RFC 4028 §7.1, §9).
    func capabilityHeaders(initialInvite: Bool) -> [HeaderField] {
        var fields: [HeaderField] = []
        if !configuration.allow.isEmpty {
            fields.append(HeaderField(name: .allow, value: configuration.allow.map(\.rawValue).joined(separator: ", ")))
        }
        var supported: [String] = []
        if initialInvite && configuration.reliableProvisionals { supported.append("100rel") }
        if configuration.sessionTimer != nil { supported.append("timer") }
        if !supported.isEmpty { fields.append(HeaderField(name: .supported, value: supported.joined(separator: ", "))) }
        return fields
    }

    /// The initial INVITE (RFC 3261 §8.1.1, §13.2.1): routed per §8.1.2 through the preloaded route
    /// set, with Contact, Allow, Supported, the session timer request, the credentials, the
    /// configured extra headers and the offer.
    func makeInitialInvite(_ call: OutgoingCall, sequence: UInt32, offer: SessionBody, timerRequest: TimerRequest?,
                           authHeaders: [HeaderField]) -> SIPMessage {
        let (uri, routes) = Dialog.routing(target: call.target, routeSet: call.routeSet)
        var headers = SIPHeaders()
        for route in routes { headers.append(.route, route.description) }
        headers.append(.maxForwards, "70")
        var from = call.from
        from.tag = call.localTag
        headers.append(.from, from.description)
        var to = call.to
        to.tag = nil
        headers.append(.to, to.description)
        headers.append(.callID, call.callID)
        headers.append(.cseq, CSeq(sequence, .invite).description)
        headers.append(.contact, call.contact.description)
        var fields = capabilityHeaders(initialInvite: true)
        if let timerRequest { fields += SessionTimerNegotiation.requestHeaders(timerRequest, localRefresher: nil) }
        fields += authHeaders
        fields += configuration.extraHeaders
        for field in fields { headers.append(field.name, field.value) }
        headers.append(.contentLength, "0")
        var invite = SIPMessage(method: .invite, uri: uri, headers: headers)
        invite.setBody(offer.bytes, contentType: offer.contentType)
        return invite
    }

    /// The CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, CSeq number and
    /// Route; no Via (it must take the INVITE's, see `SessionAction.sendCancel`), no body.
    static func makeCancel(for invite: SIPMessage) -> SIPMessage {
        var headers = SIPHeaders()
        for route in invite.headers.values(.route) { headers.append(.route, route) }
        headers.append(.maxForwards, "70")
        if let from = invite.headers[.from] { headers.append(.from, from) }
        if let to = invite.headers[.to] { headers.append(.to, to) }
        if let callID = invite.headers[.callID] { headers.append(.callID, callID) }
        let sequence = (try? invite.cseq())?.sequence ?? 1
        headers.append(.cseq, CSeq(sequence, .cancel).description)
        headers.append(.contentLength, "0")
        let uri = invite.requestLine?.uri ?? .other(scheme: "sip", rest: "invalid")
        return SIPMessage(method: .cancel, uri: uri, headers: headers)
    }

    /// The ACK for a 2xx to `invite` in `dialog` (§13.2.2.4): the INVITE's CSeq number and its
    /// credentials (Authorization, Proxy-Authorization).
    static func makeACK(in dialog: Dialog, for invite: SIPMessage, sequence: UInt32) -> SIPMessage {
        var ack = dialog.makeACK(inviteSequence: sequence)
        var credentials: [HeaderField] = []
        for name in [HeaderName.authorization, HeaderName.proxyAuthorization] {
            for value in invite.headers.values(name) { credentials.append(HeaderField(name: name, value: value)) }
        }
        insert(credentials, into: &ack)
        return ack
    }

    /// Adds `fields` before Content-Length (or at the end).
    static func insert(_ fields: [HeaderField], into message: inout SIPMessage) {
        var index = message.headers.firstIndex(of: .contentLength) ?? message.headers.count
        for field in fields {
            message.headers.insert(field.name, field.value, at: index)
            index += 1
        }
    }

    /// The To tag of a message (nil when absent, empty or To is malformed).
    static func toTag(_ message: SIPMessage) -> String? {
        guard let tag = (try? message.to())?.tag, !tag.isEmpty else { return nil }
        return tag
    }

    /// Whether `message` allows UPDATE (RFC 3311 §5.1: Allow lists it).
    static func allowsUpdate(_ message: SIPMessage) -> Bool {
        guard let methods = try? message.allow() else { return false }
        return methods.contains(.update)
    }

    /// Whether a provisional response is reliable (RFC 3262 §3: Require lists 100rel).
    static func isReliable(_ response: SIPMessage) -> Bool {
        guard response.headers.contains(.require) else { return false }
        let tags = (try? response.optionTags(.require)) ?? []
        return tags.contains { lowercasedASCII($0) == "100rel" }
    }

    /// The Contact URIs of a 3xx in decreasing q (absent q counts as 1; ties keep their order).
    /// Malformed Contact: none.
    static func redirectTargets(_ response: SIPMessage) -> [URI] {
        guard let contact = try? response.contact(), case .addresses(let list) = contact else { return [] }
        var ranked: [(q: Double, index: Int, uri: URI)] = []
        for (index, address) in list.enumerated() {
            let q = (try? address.qValue()) ?? 1
            ranked.append((q, index, address.uri))
        }
        ranked.sort { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }
        return ranked.map(\.uri)
    }

    /// Whether the body of a request is one this side can take (none, or SDP).
    static func hasAcceptableBody(_ request: SIPMessage) -> Bool {
        guard let body = SessionBody.of(request) else { return true }
        return body.isSDP
    }

    /// 415 for a body that is not SDP (RFC 3261 §21.4.13: Accept lists what we take).
    func unsupportedMediaType(_ request: SIPMessage) -> SIPMessage {
        response(to: request, status: 415, extra: [HeaderField(name: .accept, value: "application/sdp")])
    }

    /// 500 with Retry-After 0–10 s for a request overlapping one in progress (RFC 3261 §14.2,
    /// RFC 3311 §5.2).
    mutating func retryLater(_ request: SIPMessage) -> SIPMessage {
        let seconds = random.next() % 11
        return response(to: request, status: 500, reason: "Request Pending",
                        extra: [HeaderField(name: .retryAfter, value: String(seconds))])
    }
}
