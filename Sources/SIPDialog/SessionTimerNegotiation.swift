import SIPCore

/// The RFC 4028 rules, as pure functions of the messages and our settings.
enum SessionTimerNegotiation {
    /// The peer advertises `timer` (Supported or Require).
    static func peerSupportsTimer(_ message: SIPMessage) -> Bool {
        let supported = (try? message.optionTags(.supported)) ?? []
        let required = (try? message.optionTags(.require)) ?? []
        return (supported + required).contains { lowercasedASCII($0) == "timer" }
    }

    /// UAC of a transaction, 2xx received (RFC 4028 §7.2): the timer in force after it. No
    /// Session-Expires: no timer. Refresher `uac` or absent: us; `uas`: the peer. Garbage: no timer,
    /// and the error to report. Intervals below 90 s are raised to 90 (a broken peer cannot make
    /// the machine refresh in a tight loop).
    static func afterResponse(_ response: SIPMessage, settings: SessionTimerSettings?) -> (NegotiatedSessionTimer?, DialogError?) {
        guard settings != nil, response.headers.contains(.sessionExpires) else { return (nil, nil) }
        guard let parsed = try? response.sessionExpires(), parsed.seconds > 0 else {
            return (nil, DialogError(.badSessionTimer, "unusable Session-Expires in the response"))
        }
        let refresher = parsed.refresher.map(lowercasedASCII)
        return (NegotiatedSessionTimer(interval: max(parsed.seconds, 90), localRefresher: refresher != "uas"), nil)
    }

    enum ServerOutcome {
        /// Go on; `timer` is in force once the 2xx is sent; `headers` go into the 2xx.
        case accept(timer: NegotiatedSessionTimer?, headers: [HeaderField])
        /// 422 with this Min-SE (RFC 4028 §9).
        case tooSmall(minimum: UInt32)
        /// 400: Session-Expires or Min-SE does not parse.
        case malformed(DialogError)
    }

    /// UAS of a transaction (INVITE, re-INVITE, UPDATE received; RFC 4028 §9). `current`: the timer
    /// in force in the dialog (a refresh without Session-Expires keeps it, with this side as
    /// refresher when the peer does not support timers).
    static func forRequest(_ request: SIPMessage, settings: SessionTimerSettings?, current: NegotiatedSessionTimer?) -> ServerOutcome {
        guard let settings else { return .accept(timer: nil, headers: []) }
        let peerSupports = peerSupportsTimer(request)
        let timer: NegotiatedSessionTimer
        if request.headers.contains(.sessionExpires) {
            guard let parsed = try? request.sessionExpires(), parsed.seconds > 0 else {
                return .malformed(DialogError(.badSessionTimer, "unusable Session-Expires"))
            }
            let requestMinimum: UInt32
            if request.headers.contains(.minSE) {
                guard let minimum = try? request.minSE() else {
                    return .malformed(DialogError(.badSessionTimer, "unusable Min-SE"))
                }
                requestMinimum = minimum
            } else {
                requestMinimum = 90
            }
            if parsed.seconds < settings.minimum { return .tooSmall(minimum: settings.minimum) }
            var interval = parsed.seconds
            // §9: the UAS may shorten the interval, not below the request's Min-SE.
            if interval > settings.interval { interval = max(settings.interval, requestMinimum) }
            let localRefresher: Bool
            switch parsed.refresher.map(lowercasedASCII) {
            case "uac": localRefresher = false
            case "uas": localRefresher = true
            default: localRefresher = !peerSupports
            }
            timer = NegotiatedSessionTimer(interval: interval, localRefresher: localRefresher)
        } else if let current {
            timer = NegotiatedSessionTimer(interval: current.interval, localRefresher: peerSupports ? current.localRefresher : true)
        } else {
            return .accept(timer: nil, headers: [])
        }
        var headers = [HeaderField(name: .sessionExpires, value: String(timer.interval) + ";refresher=" + (timer.localRefresher ? "uas" : "uac"))]
        if peerSupports { headers.append(HeaderField(name: .require, value: "timer")) }
        return .accept(timer: timer, headers: headers)
    }

    /// Session-Expires and Min-SE for a request we send as UAC of the transaction (RFC 4028 §7.1,
    /// §7.4). `localRefresher`: who refreshes when a timer is in force (nil: let the UAS choose).
    static func requestHeaders(_ request: TimerRequest, localRefresher: Bool?) -> [HeaderField] {
        var value = String(request.interval)
        if let localRefresher { value += ";refresher=" + (localRefresher ? "uac" : "uas") }
        return [HeaderField(name: .sessionExpires, value: value), HeaderField(name: .minSE, value: String(request.minimum))]
    }
}
