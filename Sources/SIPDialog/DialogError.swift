/// Why a message or a command was not acted on. Never thrown across the machine boundary: the
/// machines return it as a value (`SessionAction.ignored`), and `Dialog`'s initialisers throw it.
public struct DialogError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A header the dialog layer needs is missing or does not parse (From, To, Call-ID, CSeq, …).
        case malformedMessage
        /// A tag the dialog needs is missing (From tag of our request, To tag of a response).
        case missingTag
        /// No usable Contact where RFC 3261 §12.1 requires one (a 2xx, an INVITE).
        case missingContact
        /// Call-ID or tags do not match this dialog (RFC 3261 §12.2.2: 481).
        case notInDialog
        /// A request in the dialog with a CSeq lower than the last one (RFC 3261 §12.2.2: 500).
        case sequenceOutOfOrder
        /// A response whose CSeq matches no request this session has in progress.
        case unexpectedResponse
        /// The command does not apply in the current state (e.g. `ring()` on an outgoing call).
        case invalidState
        /// An offer/answer exchange is already in progress (RFC 3261 §14.1, RFC 3311 §5.1).
        case requestPending
        /// Session-Expires or Min-SE does not parse, or a 422 cannot be satisfied (RFC 4028).
        case badSessionTimer
        /// A reliable provisional response out of order or with a malformed RSeq (RFC 3262 §4).
        case badReliableProvisional
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }
}
