import SIPCore

/// The checks behind `dialtone sip lint`: the same SIPCore calls the daemon makes on what it receives.
enum SIPLint {
    /// Checks a file as one UDP datagram: at most `maxMessageSize + 1` octets are read (a larger
    /// datagram is reported as too large, as the daemon's receive buffer would truncate it).
    /// Returns false when the file could not be read (a line saying why was emitted).
    static func datagram(file: String, path: [UInt8], policy: SIPValidationPolicy, emit: (LintReport) -> Void) -> Bool {
        let input: FileInput
        switch FileInput.open(path) {
        case .success(let opened): input = opened
        case .failure(let error): emit(unreadable(file, error)); return false
        }
        switch input.read(upTo: policy.limits.maxMessageSize + 1) {
        case .failure(let error):
            emit(unreadable(file, error))
            return false
        case .success(let bytes):
            emit(LintReport(file: file, SIPValidator.inspect(datagram: bytes, policy: policy).verdict))
            return true
        }
    }

    /// Checks a file as the octets a TCP connection delivered, framed by `SIPStreamFramer(role:
    /// .server)`: one line per message; a framing error ends the stream (the daemon closes the
    /// connection), as does the end of the file with a message still incomplete.
    static func stream(file: String, path: [UInt8], policy: SIPValidationPolicy, emit: (LintReport) -> Void) -> Bool {
        let input: FileInput
        switch FileInput.open(path) {
        case .success(let opened): input = opened
        case .failure(let error): emit(unreadable(file, error)); return false
        }
        var framer = SIPStreamFramer(role: .server, limits: policy.limits)
        var index = 0
        /// The last octets of the input, to tell stray line ends from an unfinished message at the end.
        var tail: [UInt8] = []
        while true {
            let chunk: [UInt8]
            switch input.read(upTo: 65_536) {
            case .success(let bytes): chunk = bytes
            case .failure(let error): emit(unreadable(file, error)); return false
            }
            if chunk.isEmpty { break }
            tail = Array((tail + chunk.suffix(4)).suffix(4))
            framer.append(chunk)
            do throws(SIPParseError) {
                while let event = try framer.next() {
                    switch event {
                    case .message(let message):
                        index += 1
                        emit(LintReport(file: file, message: index, SIPValidator.validate(message, policy: policy)))
                    case .malformed(let failure):
                        index += 1
                        emit(LintReport(file: file, message: index, SIPValidator.verdict(for: failure)))
                    case .ping, .pong:
                        continue
                    }
                }
            } catch {
                let header = error.header.map { "\($0): " } ?? ""
                emit(LintReport(file: file, message: index + 1, verdict: .reject, response: .drop,
                                reason: "stream framing error: \(header)\(error.message) (connection closed)"))
                return true
            }
        }
        let buffered = framer.bufferedCount
        let onlyLineEnds = buffered <= tail.count && tail.suffix(buffered).allSatisfy { $0 == 0x0D || $0 == 0x0A }
        if buffered > 0 && !onlyLineEnds {
            emit(LintReport(file: file, message: index + 1, verdict: .reject, response: .drop,
                            reason: "incomplete message at end of stream (waiting for more data)"))
        } else if index == 0 {
            emit(LintReport(file: file, verdict: .accept, response: .none, reason: "no message in the stream"))
        }
        return true
    }

    private static func unreadable(_ file: String, _ error: FileError) -> LintReport {
        LintReport(file: file, verdict: .reject, response: .none, reason: "cannot read file: \(error.message)")
    }
}
