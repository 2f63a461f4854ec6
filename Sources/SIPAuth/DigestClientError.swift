/// Why a `DigestClient` could not answer a challenge.
public struct DigestClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. A struct so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case noUsableChallenge, credentialsRejected }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No challenge had a supported algorithm, an acceptable qop and a realm we have credentials for.
        public static let noUsableChallenge = Code(.noUsableChallenge)
        /// The server challenged again, without `stale=true`, after we answered this realm: the
        /// user name or password is wrong (RFC 3261 §22.2: do not retry with the same credentials).
        public static let credentialsRejected = Code(.credentialsRejected)

        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
