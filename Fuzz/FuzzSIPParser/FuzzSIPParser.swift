// libFuzzer target for the SIP datagram parser, the typed header views and the validator.
// Built by `scripts/fuzz.sh` (DIALTONE_FUZZ=1, -sanitize=fuzzer,address -parse-as-library).
//
// Properties: parsing never traps; a message that parses serializes to octets that parse again with
// the same start line, the same number of header fields and the same body; every typed view and the
// validator (each role) run without trapping, and the validator is deterministic.
import SIPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    let message: SIPMessage
    switch SIPMessage.parseDetailed(datagram: bytes) {
    case .success(let parsed):
        message = parsed
    case .failure(let failure):
        // What an element does with a broken datagram: answer or drop it, from what could be read.
        _ = SIPValidator.verdict(for: failure)
        if let partial = failure.partial { exerciseViews(partial) }
        return 0
    }

    let written = message.serialized()
    let reparsed: SIPMessage
    switch SIPMessage.parseDetailed(datagram: written) {
    case .success(let again):
        reparsed = again
    case .failure(let failure):
        preconditionFailure("serialized message does not parse again: \(failure.error)\n\(String(decoding: written, as: UTF8.self))")
    }
    precondition(reparsed.startLine == message.startLine,
                 "start line changed by serialize→parse:\n\(message.startLine)\n\(reparsed.startLine)")
    precondition(reparsed.headers.count == message.headers.count,
                 "header count changed by serialize→parse: \(message.headers.count) → \(reparsed.headers.count)")
    precondition(reparsed.body.elementsEqual(message.body), "body changed by serialize→parse")
    precondition(reparsed.serialized() == written, "serialization is not stable")

    exerciseViews(message)
    for role in SIPElementRole.allCases {
        let policy = SIPValidationPolicy(role: role)
        let verdict = SIPValidator.validate(message, policy: policy)
        precondition(SIPValidator.validate(reparsed, policy: policy) == verdict,
                     "validator verdict differs after serialize→parse (\(role))")
        let inspected = SIPValidator.inspect(datagram: bytes, policy: policy)
        precondition(inspected.verdict == verdict, "inspect and validate disagree (\(role))")
        if case .reject(let rejection) = verdict, message.isRequest,
           let response = SIPMessage.response(to: message, rejecting: rejection, toTag: "fuzz") {
            // The error response, built from what the request carries, must itself be a valid message.
            let octets = response.serialized()
            if case .failure(let failure) = SIPMessage.parseDetailed(datagram: octets) {
                preconditionFailure("error response does not parse: \(failure.error)\n\(String(decoding: octets, as: UTF8.self))")
            }
        }
    }
    return 0
}

/// Runs every typed view; errors are fine, traps are not.
func exerciseViews(_ m: SIPMessage) {
    _ = try? m.vias()
    _ = try? m.topVia()
    _ = try? m.from()
    _ = try? m.to()
    _ = try? m.from().tag
    _ = try? m.to().tag
    _ = try? m.callID()
    _ = try? m.cseq()
    _ = try? m.maxForwards()
    _ = try? m.contact()
    _ = try? m.routes()
    _ = try? m.recordRoutes()
    _ = try? m.path()
    _ = try? m.pAssertedIdentities()
    _ = try? m.referTo()
    _ = try? m.referredBy()
    _ = try? m.contentType()
    _ = try? m.accept()
    _ = try? m.expires()
    _ = try? m.minExpires()
    for name in [HeaderName.supported, .require, .proxyRequire, .unsupported] { _ = try? m.optionTags(name) }
    _ = try? m.allow()
    _ = try? m.event()
    _ = try? m.subscriptionState()
    _ = try? m.replaces()
    _ = try? m.reasons()
    _ = try? m.privacy()
    _ = try? m.sessionExpires()
    _ = try? m.minSE()
    _ = try? m.rseq()
    _ = try? m.rack()
    // Raw header access.
    for i in 0..<m.headers.count {
        _ = m.headers[i]
        _ = m.headers.valueBytes(at: i)
    }
    _ = m.headers.listValues(.via)
}

// MARK: - Entry point
//
// SwiftPM links every executable target with `--defsym main=<Module>_main` (it renames `main` so that
// tests can link executables), which hides libFuzzer's own `main`. This is that symbol: it hands control
// to libFuzzer's driver, exactly as libFuzzer's `main` would. See Fuzz/README.md.

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzSIPParser_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzz(data, size)
    }
}
