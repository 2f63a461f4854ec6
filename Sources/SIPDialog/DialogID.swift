import SIPCore

/// A dialog's identifier (RFC 3261 §12): Call-ID, local tag and remote tag, compared octet for octet.
///
/// A UAS whose peer sent no From tag (RFC 2543) has an empty remote tag.
public struct DialogID: Sendable, Hashable, CustomStringConvertible {
    public var callID: String
    public var localTag: String
    public var remoteTag: String

    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// The ID of the dialog a received request belongs to (§12.2.2): the To tag is ours, the From tag
    /// the peer's. Nil when the request has no To tag (it is outside any dialog) or is malformed.
    public init?(receivedRequest request: SIPMessage) {
        guard let callID = try? request.callID(), let to = try? request.to(), let localTag = to.tag,
              let from = try? request.from() else { return nil }
        self.init(callID: callID, localTag: localTag, remoteTag: from.tag ?? "")
    }

    /// The ID of the dialog a received response belongs to (§12.1.2): the From tag is ours, the To
    /// tag the peer's. Nil without both tags or when malformed.
    public init?(receivedResponse response: SIPMessage) {
        guard let callID = try? response.callID(), let from = try? response.from(), let localTag = from.tag,
              let to = try? response.to(), let remoteTag = to.tag else { return nil }
        self.init(callID: callID, localTag: localTag, remoteTag: remoteTag)
    }

    public var description: String { callID + ";local-tag=" + localTag + ";remote-tag=" + remoteTag }
}
