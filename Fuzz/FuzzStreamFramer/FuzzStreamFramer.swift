// libFuzzer target for the TCP/TLS stream framer (RFC 3261 §18.3, RFC 5626 keepalives).
// Built by `scripts/fuzz.sh` (DIALTONE_FUZZ=1, -sanitize=fuzzer,address -parse-as-library).
//
// Input layout: byte 0 = number of chunk-size bytes k (mod 8), bytes 1...k = chunk sizes (each 1...256,
// cycled), the rest = the stream. The stream is fed in those chunks to a server framer and a client
// framer, draining events after every chunk.
// Properties: never traps; the buffer never holds more than the message size limit plus one chunk;
// after a throw the framer keeps throwing the same error; the events do not depend on how the stream
// was split (compared with a second framer fed the whole stream at once); every framed message
// serializes and parses again.
import SIPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard size > 0 else { return 0 }
    let k = min(Int(input[0] % 8), size - 1)
    var chunkSizes = input[1..<(1 + k)].map { Int($0) + 1 }
    if chunkSizes.isEmpty { chunkSizes = [size] }
    let stream = Array(input[(1 + k)...])

    // Small limits so that the size checks are reached by short inputs.
    var limits = SIPLimits.default
    limits.maxMessageSize = 2048

    for role in [SIPStreamFramer.Role.server, .client] {
        var chunked = SIPStreamFramer(role: role, limits: limits)
        var chunkedEvents: [String] = []
        var offset = 0
        var c = 0
        var chunkedError: SIPParseError? = nil
        while offset < stream.count && chunkedError == nil {
            let n = min(chunkSizes[c % chunkSizes.count], stream.count - offset)
            c += 1
            chunked.append(stream[offset..<(offset + n)])
            offset += n
            precondition(chunked.bufferedCount <= limits.maxMessageSize + 4 + 256 + n,
                         "framer buffers \(chunked.bufferedCount) octets")
            chunkedError = drain(&chunked, into: &chunkedEvents)
        }
        if let chunkedError {
            // Once failed, always failed with the same error.
            do {
                _ = try chunked.next()
                preconditionFailure("framer recovered after throwing")
            } catch {
                precondition(error == chunkedError, "framer threw a different error the second time")
            }
        }

        // Split-independence: feed the same octets in one piece.
        var whole = SIPStreamFramer(role: role, limits: limits)
        var wholeEvents: [String] = []
        whole.append(stream[0..<offset])
        let wholeError = drain(&whole, into: &wholeEvents)
        if chunkedError == nil && wholeError == nil {
            precondition(wholeEvents == chunkedEvents,
                         "events depend on the split (\(role)):\n\(chunkedEvents)\n\(wholeEvents)")
        } else if chunkedError == nil || wholeError == nil {
            // A size limit can trip in one feeding and not yet in the other only when the error is
            // about size; anything else must agree.
            let error = (chunkedError ?? wholeError)!
            precondition(error.code == .messageTooLarge,
                         "only one feeding failed (\(role)): \(error)\n\(chunkedEvents)\n\(wholeEvents)")
        } else {
            precondition(Array(wholeEvents.prefix(chunkedEvents.count)) == chunkedEvents || Array(chunkedEvents.prefix(wholeEvents.count)) == wholeEvents,
                         "events before the failure depend on the split (\(role))")
        }
    }
    return 0
}

/// Reads events until the framer needs more octets or throws; returns the error it threw.
func drain(_ framer: inout SIPStreamFramer, into events: inout [String]) -> SIPParseError? {
    var guardCount = 0
    while true {
        let event: SIPStreamFramer.Event?
        do {
            event = try framer.next()
        } catch {
            return error
        }
        guard let event else { return nil }
        guardCount += 1
        precondition(guardCount <= 1 << 20, "framer returns events without consuming input")
        switch event {
        case .ping:
            precondition(framer.role == .server, "client framer reported a ping")
            events.append("ping")
        case .pong:
            precondition(framer.role == .client, "server framer reported a pong")
            events.append("pong")
        case .malformed(let failure):
            _ = SIPValidator.verdict(for: failure)
            events.append("malformed \(failure.error.code)")
        case .message(let message):
            let written = message.serialized()
            switch SIPMessage.parseDetailed(datagram: written) {
            case .success(let again):
                precondition(again.startLine == message.startLine, "framed message start line changes on reparse")
                precondition(again.headers.count == message.headers.count, "framed message header count changes on reparse")
                precondition(again.body.elementsEqual(message.body), "framed message body changes on reparse")
            case .failure(let failure):
                preconditionFailure("framed message does not reparse: \(failure.error)")
            }
            events.append("message \(written.count)")
        }
    }
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

@_cdecl("FuzzStreamFramer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzz(data, size)
    }
}
