import SIPCore
import SIPTransaction

/// What an `InviteSession` is allowed and asked to do.
public struct SessionConfiguration: Sendable {
    /// RFC 3261 T1 and T2 (defaults 500 ms and 4 s): our 2xx to an INVITE is resent after T1,
    /// doubling up to T2, and given up after 64·T1 (§13.3.1.4).
    public var timers: TransactionTimers
    /// Session timers (RFC 4028); nil: not supported (no `timer` in Supported, Session-Expires
    /// ignored, a request requiring `timer` gets 420).
    public var sessionTimer: SessionTimerSettings?
    /// Advertise `Supported: 100rel` in our INVITEs and PRACK reliable provisional responses
    /// (RFC 3262, as UAC; this side never sends reliable provisionals: an INVITE that requires
    /// 100rel gets 420).
    public var reliableProvisionals: Bool
    /// The methods listed in Allow in our INVITEs and in our 1xx/2xx to an INVITE.
    public var allow: [SIPMethod]
    /// Added to every INVITE this session builds (User-Agent, P-Preferred-Identity, …).
    public var extraHeaders: [HeaderField]
    /// How many 401/407 challenges in a row one request may get before the call fails (default 3).
    public var maxAuthenticationAttempts: Int

    public init(timers: TransactionTimers = .rfc3261,
                sessionTimer: SessionTimerSettings? = SessionTimerSettings(), reliableProvisionals: Bool = true,
                allow: [SIPMethod] = [.invite, .ack, .cancel, .bye, .update, .options],
                extraHeaders: [HeaderField] = [], maxAuthenticationAttempts: Int = 3) {
        self.timers = timers
        self.sessionTimer = sessionTimer
        self.reliableProvisionals = reliableProvisionals
        self.allow = allow
        self.extraHeaders = extraHeaders
        self.maxAuthenticationAttempts = max(maxAuthenticationAttempts, 0)
    }
}
