/// How a line registers (RFC 3261 §10.2; RFC 5626 §4.5 for the back-off), from the line's TR-104
/// settings.
public struct RegistrationPolicy: Sendable, Equatable {
    /// The registration interval asked for (`RegisterExpires`), seconds. A 423 raises it to the
    /// registrar's Min-Expires for the rest of the line's life.
    public var expires: Int
    /// The base retry wait after a failure (`RegisterRetryInterval`), seconds. The n-th failure in a
    /// row waits min(`maxRetryInterval`, base·2ⁿ⁻¹), of which a random 50–100 % (RFC 5626 §4.5), so
    /// lines of many routers that lost the same server do not come back in step.
    public var retryInterval: Int
    /// The longest back-off, seconds (RFC 5626 §4.5 suggests 1800).
    public var maxRetryInterval: Int
    /// The wait after a 403 (`TimerLoginRejected`), seconds: the account is refused, hammering the
    /// server will not help.
    public var loginRejectedInterval: Int
    /// `NoLoginRetry`: after a 403, do not try again until the configuration changes.
    public var noLoginRetry: Bool
    /// How many server groups there are, in order of preference: the configured proxy or domain
    /// (its RFC 3263 targets are tried by the endpoint inside one request), then the backup proxy.
    public var serverCount: Int
    /// How many times one REGISTER is re-sent with credentials after a challenge before the
    /// credentials are taken to be wrong (a stale nonce counts as not wrong).
    public var maxAuthAttempts: Int

    public init(expires: Int = 3600, retryInterval: Int = 30, maxRetryInterval: Int = 1800,
                loginRejectedInterval: Int = 600, noLoginRetry: Bool = false, serverCount: Int = 1,
                maxAuthAttempts: Int = 2) {
        self.expires = expires
        self.retryInterval = retryInterval
        self.maxRetryInterval = maxRetryInterval
        self.loginRejectedInterval = loginRejectedInterval
        self.noLoginRetry = noLoginRetry
        self.serverCount = max(1, serverCount)
        self.maxAuthAttempts = maxAuthAttempts
    }

    /// When to refresh a binding granted for `granted` seconds: 600 s before it ends when it lasts
    /// longer than 20 minutes, else half-way (so a refresh that times out still has time to be
    /// retried before the binding is gone), never sooner than 5 s (a registrar granting 1 s must
    /// not get a REGISTER every second) unless the binding is shorter than that.
    public func refreshDelay(granted: Int) -> Int {
        let delay = granted > 1200 ? granted - 600 : granted / 2
        return max(min(5, max(1, granted - 1)), delay)
    }
}
