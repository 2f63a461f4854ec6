import SIPCore

/// The identity of a transaction, for the endpoint's dictionaries (RFC 3261 §17.1.3, §17.2.3, §9.2).
///
/// Client keys (`clientKey(for:)`) are the top Via branch and the CSeq method: a response matches the
/// client transaction whose request carried the same branch and method, so the INVITE and the CANCEL
/// for it (same branch) are different transactions.
///
/// Server keys (`serverKey(for:)`) for requests whose top Via branch starts with the magic cookie
/// `z9hG4bK` (and has more after it) are the branch, the sent-by of the top Via and the method, with ACK
/// mapped to INVITE so that the ACK for a non-2xx response finds its INVITE server transaction.
///
/// Other requests come from RFC 2543 elements (RFC 4475 inv2543, badbranch); their key is the
/// Request-URI, From tag, Call-ID, CSeq number and method (ACK as INVITE), and top Via (§17.2.3). The
/// To tag is left out of the key because the ACK carries the To tag of the response while the INVITE
/// usually has none; the INVITE server transaction checks it (`InviteServerTransaction`) and for
/// other methods `toTag` is part of the key.
///
/// Branches compare case-insensitively, as RFC 3261 §7.3.1 says of parameter values; methods, Call-ID
/// and tags case-sensitively.
public struct TransactionKey: Sendable, Hashable, CustomStringConvertible {
    public enum Role: Sendable, Hashable { case client, server }

    enum Storage: Sendable, Hashable {
        case rfc3261(branch: String, sentBy: String?, method: SIPMethod)
        case rfc2543(requestURI: String, toTag: String?, fromTag: String?, callID: String,
                     sequence: UInt32, method: SIPMethod, topVia: String)
    }

    public let role: Role
    let storage: Storage

    init(role: Role, storage: Storage) {
        self.role = role
        self.storage = storage
    }

    /// Whether the key came from the RFC 2543 fallback (no RFC 3261 branch).
    public var isRFC2543: Bool {
        if case .rfc2543 = storage { return true }
        return false
    }

    /// The method of the transaction (INVITE for an ACK's key).
    public var method: SIPMethod {
        switch storage {
        case .rfc3261(_, _, let m): return m
        case .rfc2543(_, _, _, _, _, let m, _): return m
        }
    }

    public var description: String {
        switch storage {
        case .rfc3261(let b, let s, let m): return "\(role) \(m) branch=\(b)" + (s.map { " sent-by=" + $0 } ?? "")
        case .rfc2543(let u, _, _, let c, let n, let m, _): return "\(role) \(m) 2543 \(u) \(c) \(n)"
        }
    }

    // MARK: Client side (§17.1.3)

    /// The client transaction key of a request we send or of a response we receive: the top Via
    /// branch and the CSeq method. Nil when the message has no parseable top Via with a branch or no
    /// parseable CSeq (such a response matches no client transaction).
    public static func clientKey(for message: SIPMessage) -> TransactionKey? {
        guard let via = try? message.topVia(), let branch = via.branch, !branch.isEmpty,
              let cseq = try? message.cseq() else { return nil }
        if let method = message.method, method != cseq.method { return nil }
        return TransactionKey(role: .client, storage: .rfc3261(branch: branch.lowercased(), sentBy: nil, method: cseq.method))
    }

    // MARK: Server side (§17.2.3)

    /// The server transaction key of a received request (ACK maps to INVITE). Nil when the request is
    /// too broken to identify (no Via, no CSeq, and for RFC 2543 requests no Call-ID): the endpoint
    /// answers or drops those statelessly.
    public static func serverKey(for request: SIPMessage) -> TransactionKey? {
        guard let method = request.method else { return nil }
        return serverKey(for: request, method: method == .ack ? .invite : method, includeToTag: method != .ack && method != .invite)
    }

    /// The key of the transaction a CANCEL cancels (§9.2): the CANCEL's own key computed as if its
    /// method were `method` (INVITE: the only request a CANCEL has an effect on). Nil when the request
    /// is not a CANCEL or cannot be identified.
    public static func cancelledKey(for cancel: SIPMessage, method: SIPMethod = .invite) -> TransactionKey? {
        guard cancel.method == .cancel else { return nil }
        return serverKey(for: cancel, method: method, includeToTag: method != .invite)
    }

    static func serverKey(for request: SIPMessage, method: SIPMethod, includeToTag: Bool) -> TransactionKey? {
        guard let requestLine = request.requestLine, let via = try? request.topVia() else { return nil }
        if via.hasRFC3261Branch, let branch = via.branch {
            return TransactionKey(role: .server, storage: .rfc3261(
                branch: branch.lowercased(), sentBy: normalizedSentBy(via), method: method))
        }
        guard let cseq = try? request.cseq(), let callID = try? request.callID(),
              let from = try? request.from() else { return nil }
        let toTag: String?
        if includeToTag {
            guard let to = try? request.to() else { return nil }
            toTag = to.tag
        } else {
            toTag = nil
        }
        return TransactionKey(role: .server, storage: .rfc2543(
            requestURI: normalizedURI(requestLine.uri), toTag: toTag, fromTag: from.tag, callID: callID,
            sequence: cseq.sequence, method: method, topVia: via.description.lowercased()))
    }

    /// `host[:port]` with the host lowercased (hosts compare case-insensitively, §19.1.4).
    static func normalizedSentBy(_ via: Via) -> String {
        let host = via.host.description.lowercased()
        return via.port.map { host + ":" + String($0) } ?? host
    }

    /// A form of the Request-URI under which URIs equal per §19.1.4 compare equal in the common cases:
    /// scheme, unescaped user, lowercased host, port, and the parameters that must match when present
    /// on either side (user, ttl, method, maddr, transport), lowercased. Other parameters are ignored.
    static func normalizedURI(_ uri: URI) -> String {
        guard case .sip(let s) = uri else { return uri.description }
        var out = s.scheme + ":"
        if let user = s.userUnescaped { out += String(decoding: user, as: UTF8.self) + "@" }
        out += s.host.description.lowercased()
        if let port = s.port { out += ":" + String(port) }
        for name in ["user", "ttl", "method", "maddr", "transport"] {
            if let v = s.parameters.parameter(name) { out += ";" + name + "=" + (v ?? "").lowercased() }
        }
        return out
    }
}
