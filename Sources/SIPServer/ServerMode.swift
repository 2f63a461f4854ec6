/// How the SIP server forwards a request for a user it knows (RFC 3261 §16 and §8.3): the roles
/// "are conceptual; they can all live on the same machine". The registrar runs in every mode.
public enum ServerMode: String, Sendable, CaseIterable, Equatable {
    /// §16: keeps transaction state, forks to every contact (parallel and sequential by q).
    case statefulProxy = "stateful-proxy"
    /// §16.11: forwards each request and response without transaction state.
    case statelessProxy = "stateless-proxy"
    /// §8.3: answers 3xx with the contacts instead of forwarding.
    case redirect

    /// The configuration spelling (`server.mode`), nil for anything else.
    public init?(configValue: String) {
        self.init(rawValue: configValue)
    }
}
