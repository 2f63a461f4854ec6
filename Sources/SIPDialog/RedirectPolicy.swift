import SIPCore

/// How far a UAC follows 3xx responses (RFC 3261 §8.1.3.4): at most `maxRedirects` hops, never to a
/// target already tried (that would be a loop). Pure bookkeeping: the engine asks it which target
/// to call next when a session ends with `.redirected(targets)`.
///
/// ```swift
/// var policy = RedirectPolicy(initialTarget: callee)
/// switch policy.redirected(to: targets) {
/// case .follow(let next): // start a new InviteSession to `next`
/// case .tooManyRedirects, .loop, .noTarget: // give up
/// }
/// ```
public struct RedirectPolicy: Sendable, Hashable {
    public enum Decision: Sendable, Hashable {
        /// Call this target next (recorded as tried).
        case follow(URI)
        /// `maxRedirects` redirects have been followed already.
        case tooManyRedirects
        /// Every target offered has been tried already.
        case loop
        /// The 3xx offered no target.
        case noTarget
    }

    public let maxRedirects: Int
    /// Targets called so far, the initial one first.
    public private(set) var tried: [URI]
    /// Redirects followed so far.
    public private(set) var redirects: Int = 0

    public init(initialTarget: URI, maxRedirects: Int = 5) {
        self.maxRedirects = max(maxRedirects, 0)
        self.tried = [initialTarget]
    }

    /// A 3xx offered `targets` (best first, as in `EndReason.redirected`): the first one not tried
    /// yet, unless the hop limit is reached.
    public mutating func redirected(to targets: [URI]) -> Decision {
        guard !targets.isEmpty else { return .noTarget }
        guard redirects < maxRedirects else { return .tooManyRedirects }
        guard let next = targets.first(where: { candidate in !tried.contains { RedirectPolicy.same($0, candidate) } }) else {
            return .loop
        }
        redirects += 1
        tried.append(next)
        return .follow(next)
    }

    /// SIP URIs compare per RFC 3261 §19.1.4; others by their text.
    static func same(_ a: URI, _ b: URI) -> Bool {
        if case .sip(let x) = a, case .sip(let y) = b { return x.isEquivalent(to: y) }
        return a == b
    }
}
