import SIPTransaction

/// One line's registration client (RFC 3261 §10.2), as a pure machine: no sockets, no clock. The
/// engine (`LineRegistration`) sends the REGISTERs it asks for, feeds back what came of them and
/// fires the one timer it arms.
///
/// ```text
///            start / network change / contact learnt
///   idle ───────────────────────────────► sending ──2xx──► registered ──refresh timer──► sending
///                                          │  ▲  │ 401/407 (answerable): send again with credentials
///                                          │  │  │ 423: expires := Min-Expires, send again
///                                          │  │  │ timeout, transport error, 503: next server group
///                                          │  │  ▼
///                                          │  └─ waiting (back-off, 403: TimerLoginRejected)
///                                          │
///   stop: registered ──► unregistering (REGISTER Expires: 0) ──any outcome──► stopped
/// ```
///
/// Every REGISTER carries an attempt number; an outcome for an older attempt (one overtaken by a
/// network change) is ignored. Server groups are in order of preference: a refresh always starts at
/// the preferred one, so a line that failed over to the backup proxy returns to the primary at its
/// next refresh once the primary answers again.
public struct RegistrationMachine: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send a REGISTER numbered `attempt` to server group `server` asking for `expires` seconds
        /// (0: remove the binding). `withCredentials`: answer the last challenge (Authorization or
        /// Proxy-Authorization).
        case send(attempt: UInt64, server: Int, expires: Int, withCredentials: Bool)
        /// (Re)arm the machine's only timer; `timerFired` when it is due.
        case arm(at: Instant)
        case disarm
        /// The line's status changed; `reason` says why, for the log and `dialtone status`.
        case status(LineStatus, reason: String)
    }

    /// What came of a REGISTER, as the engine read the response.
    public enum Outcome: Sendable, Equatable {
        /// 2xx. `granted`: the expires the registrar gave our Contact (§10.2.4), seconds.
        case registered(granted: Int)
        /// 401/407. `answerable`: the engine has credentials and can compute an answer to it (an
        /// algorithm it supports; a new nonce or `stale=true`).
        case challenged(answerable: Bool, stale: Bool)
        /// 423 Interval Too Brief with the registrar's Min-Expires, if it sent one (§10.2.8).
        case intervalTooBrief(minExpires: Int?)
        /// 403: the account is refused.
        case forbidden
        /// Timeout, transport error or 503 on every target of the server group: the server is
        /// unreachable, try the next group. `retryAfter`: a 503's Retry-After, seconds (RFC 3261
        /// §21.5.4): once every group failed, no retry sooner than that.
        case unreachable(detail: String, retryAfter: Int? = nil)
        /// Any other final response. `retryAfter`: its Retry-After, seconds.
        case failed(status: Int, retryAfter: Int?)
    }

    private enum State: Sendable, Equatable {
        case idle
        case sending(Attempt)
        case registered(refreshAt: Instant)
        case waiting(until: Instant)
        case unregistering(attempt: UInt64, credentialsSent: Int)
        case stopped
    }

    private struct Attempt: Sendable, Equatable {
        var number: UInt64
        var server: Int
        var expires: Int
        var credentialsSent: Int
        /// 423s answered for this REGISTER (at most two: a registrar raising Min-Expires each time
        /// must not make us resend forever).
        var intervalRaises = 0
    }

    public private(set) var policy: RegistrationPolicy
    private var state: State = .idle
    private var nextAttempt: UInt64 = 1
    /// Failures in a row since the last success (for the back-off).
    public private(set) var consecutiveFailures = 0
    /// The interval asked for: `policy.expires`, raised by 423s.
    public private(set) var expires: Int
    /// Where the binding lives now and until when (nil: none known).
    public private(set) var boundServer: Int? = nil
    public private(set) var bindingExpiry: Instant? = nil
    public private(set) var status: LineStatus = .initializing
    public private(set) var statusReason = ""
    private var random: SplitMix64

    public init(policy: RegistrationPolicy, seed: UInt64 = 0x5EED) {
        self.policy = policy
        self.expires = policy.expires
        self.random = SplitMix64(seed: seed)
    }

    /// Whether a binding is believed to exist at the registrar now.
    public func isRegistered(now: Instant) -> Bool {
        guard let bindingExpiry else { return false }
        return now < bindingExpiry
    }

    /// The attempt whose outcome the machine waits for, if any.
    public var pendingAttempt: UInt64? {
        switch state {
        case .sending(let a): return a.number
        case .unregistering(let n, _): return n
        default: return nil
        }
    }

    /// Whether the machine has ended (`stop` finished).
    public var isStopped: Bool { state == .stopped }

    // MARK: Events

    /// Starts registering at the preferred server.
    public mutating func start(now: Instant) -> [Action] {
        guard state == .idle || state == .stopped else { return [] }
        consecutiveFailures = 0
        return send(server: 0, now: now, reason: "registering")
    }

    /// Registers again at once, from the preferred server: the WAN link or address changed, or the
    /// registrar told us our address as it sees it (`received`/`rport`) and the Contact changed. A
    /// REGISTER in flight is overtaken (its outcome will be ignored). Nothing while stopped or
    /// unregistering.
    public mutating func registerAgain(now: Instant, reason: String) -> [Action] {
        switch state {
        case .idle, .stopped, .unregistering: return []
        case .sending, .registered, .waiting:
            return send(server: 0, now: now, reason: reason)
        }
    }

    /// The armed timer is due.
    public mutating func timerFired(now: Instant) -> [Action] {
        switch state {
        case .registered(let refreshAt) where now >= refreshAt:
            return send(server: 0, now: now, reason: "refreshing")
        case .waiting(let until) where now >= until:
            return send(server: 0, now: now, reason: "retrying")
        default:
            return []
        }
    }

    /// What came of REGISTER `attempt`.
    public mutating func received(_ outcome: Outcome, attempt: UInt64, now: Instant) -> [Action] {
        switch state {
        case .unregistering(let n, _) where n == attempt:
            state = .stopped
            boundServer = nil
            bindingExpiry = nil
            return [.disarm] + setStatus(.disabled, "unregistered" + (outcome == .registered(granted: 0) ? "" : " (\(Self.describe(outcome)))"))
        case .sending(var a) where a.number == attempt:
            switch outcome {
            case .registered(let offered):
                guard offered > 0 else {
                    return failure(.errorRegistration, "registrar granted 0 s", delay: backoff(), now: now)
                }
                // A registrar may shorten the interval, never lengthen it (§10.3 step 7); a larger
                // value (or a wrapped 2³²−1) would put the refresh after the binding's real end.
                let granted = min(offered, a.expires)
                consecutiveFailures = 0
                boundServer = a.server
                bindingExpiry = now + .seconds(granted)
                let refreshAt = now + .seconds(policy.refreshDelay(granted: granted))
                state = .registered(refreshAt: refreshAt)
                let note = "registered for \(granted) s" + (a.server > 0 ? " at backup server \(a.server)" : "")
                return [.arm(at: refreshAt)] + setStatus(.up, note)
            case .challenged(let answerable, let stale):
                // Credentials go once; again only when the server says the nonce was stale (then
                // they were right), and never more than `maxAuthAttempts` times for one REGISTER.
                let mayRetry = answerable && (a.credentialsSent == 0 || stale) && a.credentialsSent < policy.maxAuthAttempts
                guard mayRetry else {
                    let why = answerable ? "credentials refused" : "challenge cannot be answered"
                    return failure(.errorRegistration, why, delay: backoff(), now: now)
                }
                a.credentialsSent += 1
                return resend(a, withCredentials: true)
            case .intervalTooBrief(let minExpires):
                guard let minExpires, minExpires > a.expires, minExpires <= 86_400 * 7, a.intervalRaises < 2 else {
                    return failure(.errorRegistration, "423 without a usable Min-Expires", delay: backoff(), now: now)
                }
                expires = minExpires
                a.expires = minExpires
                a.intervalRaises += 1
                return resend(a, withCredentials: a.credentialsSent > 0)
            case .forbidden:
                consecutiveFailures += 1
                if policy.noLoginRetry {
                    state = .stopped
                    return [.disarm] + setStatus(.errorRegistration, "403 Forbidden; NoLoginRetry set, not retrying")
                }
                return wait(.errorRegistration, "403 Forbidden", seconds: Double(policy.loginRejectedInterval), now: now)
            case .unreachable(let detail, let retryAfter):
                if a.server + 1 < policy.serverCount {
                    // Fail over at once to the next server group (the binding there, if any, is kept).
                    return send(server: a.server + 1, now: now, reason: "server \(a.server) unreachable (\(detail)); trying server \(a.server + 1)")
                }
                var delay = backoff()
                if let retryAfter, retryAfter > 0 { delay = max(delay, Double(min(retryAfter, policy.maxRetryInterval))) }
                return failure(.errorNetwork, "unreachable: " + detail, delay: delay, now: now)
            case .failed(let status, let retryAfter):
                var delay = backoff()
                if let retryAfter, retryAfter > 0 { delay = max(delay, Double(min(retryAfter, policy.maxRetryInterval))) }
                return failure(.errorRegistration, "\(status) response", delay: delay, now: now)
            }
        default:
            return [] // an overtaken attempt, or nothing pending
        }
    }

    /// Stops the line: unregisters when a binding exists (its REGISTER with Expires: 0 goes to the
    /// server that holds it), else stops at once.
    public mutating func stop(now: Instant) -> [Action] {
        switch state {
        case .stopped, .unregistering: return []
        default: break
        }
        if let server = boundServer, isRegistered(now: now) {
            let n = nextAttempt
            nextAttempt += 1
            state = .unregistering(attempt: n, credentialsSent: 0)
            return [.disarm, .send(attempt: n, server: server, expires: 0, withCredentials: false)]
                + setStatus(.deregistering, "unregistering")
        }
        state = .stopped
        return [.disarm] + setStatus(.disabled, "stopped")
    }

    /// Unregistering may be challenged too: answered once with credentials; a second challenge ends
    /// the unregistration (the binding then expires by itself).
    public mutating func unregisterChallenged(attempt: UInt64, answerable: Bool, now: Instant) -> [Action] {
        guard case .unregistering(let n, let sent) = state, n == attempt, answerable, sent == 0, let server = boundServer else {
            return received(.failed(status: 401, retryAfter: nil), attempt: attempt, now: now)
        }
        let next = nextAttempt
        nextAttempt += 1
        state = .unregistering(attempt: next, credentialsSent: 1)
        return [.send(attempt: next, server: server, expires: 0, withCredentials: true)]
    }

    // MARK: Helpers

    private mutating func send(server: Int, now: Instant, reason: String) -> [Action] {
        let n = nextAttempt
        nextAttempt += 1
        state = .sending(Attempt(number: n, server: server, expires: expires, credentialsSent: 0))
        var actions: [Action] = [.disarm, .send(attempt: n, server: server, expires: expires, withCredentials: false)]
        // While a binding is still valid the line stays Up during a refresh.
        if !isRegistered(now: now) { actions += setStatus(.registering, reason) }
        return actions
    }

    private mutating func resend(_ a: Attempt, withCredentials: Bool) -> [Action] {
        var next = a
        next.number = nextAttempt
        nextAttempt += 1
        state = .sending(next)
        return [.send(attempt: next.number, server: next.server, expires: next.expires, withCredentials: withCredentials)]
    }

    private mutating func failure(_ status: LineStatus, _ reason: String, delay: Double, now: Instant) -> [Action] {
        consecutiveFailures += 1
        var wait = delay
        // A binding that is still valid: retry in time to keep it (half of what is left).
        if let expiry = bindingExpiry, now < expiry {
            let left = Double(expiry.nanoseconds - now.nanoseconds) / 1e9
            wait = min(wait, max(1, left / 2))
        }
        return self.wait(status, reason, seconds: wait, now: now)
    }

    private mutating func wait(_ status: LineStatus, _ reason: String, seconds: Double, now: Instant) -> [Action] {
        let until = now + .milliseconds(Int64(seconds * 1000))
        state = .waiting(until: until)
        let stillBound = isRegistered(now: now)
        let shown = stillBound ? LineStatus.up : status
        let note = reason + "; retry in \(Int(seconds.rounded())) s" + (stillBound ? " (binding still valid)" : "")
        return [.arm(at: until)] + setStatus(shown, note)
    }

    /// The back-off for the next failure (`consecutiveFailures` not yet counted): RFC 5626 §4.5.
    private mutating func backoff() -> Double {
        let exponent = min(consecutiveFailures, 20)
        let full = min(Double(policy.maxRetryInterval), Double(policy.retryInterval) * Double(1 << exponent))
        return full * (0.5 + 0.5 * random.nextUnit())
    }

    private mutating func setStatus(_ s: LineStatus, _ reason: String) -> [Action] {
        let changed = s != status || reason != statusReason
        status = s
        statusReason = reason
        return changed ? [.status(s, reason: reason)] : []
    }

    static func describe(_ outcome: Outcome) -> String {
        switch outcome {
        case .registered(let g): return "2xx, \(g) s"
        case .challenged: return "challenged"
        case .intervalTooBrief: return "423"
        case .forbidden: return "403"
        case .unreachable(let d, _): return d
        case .failed(let s, _): return "\(s)"
        }
    }
}

/// A small deterministic generator (SplitMix64) for the back-off jitter; seeded per line.
struct SplitMix64: Sendable, Equatable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
