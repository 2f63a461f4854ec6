import SIPCore

/// One line of `dialtone sip lint` output: what the daemon would do with one message.
struct LintReport {
    enum Verdict: String {
        case accept, reject
    }

    enum Response {
        /// Nothing is sent (accepted, or the file could not be read).
        case none
        /// This status code is answered.
        case status(Int)
        /// The message is discarded (on a stream: the connection is closed).
        case drop
    }

    var file: String
    /// 1-based index of the message in a TCP stream; nil for UDP.
    var message: Int?
    var verdict: Verdict
    var response: Response
    var reason: String?

    init(file: String, message: Int? = nil, verdict: Verdict, response: Response, reason: String?) {
        self.file = file
        self.message = message
        self.verdict = verdict
        self.response = response
        self.reason = reason
    }

    /// The report of a validator verdict.
    init(file: String, message: Int? = nil, _ verdict: SIPVerdict) {
        switch verdict {
        case .accept:
            self.init(file: file, message: message, verdict: .accept, response: .none, reason: nil)
        case .reject(let rejection):
            self.init(file: file, message: message, verdict: .reject, response: .status(rejection.status), reason: rejection.reason)
        case .drop(let reason):
            self.init(file: file, message: message, verdict: .reject, response: .drop, reason: reason)
        }
    }

    /// The JSON object, on one line.
    var json: String {
        var out = JSONObjectWriter()
        out.add("file", string: file)
        if let message { out.add("message", integer: message) }
        out.add("verdict", string: verdict.rawValue)
        switch response {
        case .none: out.addNull("response")
        case .status(let code): out.add("response", integer: code)
        case .drop: out.add("response", string: "drop")
        }
        if let reason { out.add("reason", string: reason) } else { out.addNull("reason") }
        return out.finish()
    }
}
