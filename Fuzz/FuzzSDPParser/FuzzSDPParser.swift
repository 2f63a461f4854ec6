// libFuzzer entry point for the SDP parser (built by `make fuzz` with -sanitize=fuzzer -parse-as-library).
// Property: any input either fails with an SDPError, or parses to a description whose serialization
// parses again to the same description and serializes to the same text (parse→serialize→parse stable).
import SDP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = try? SessionDescription(parsing: bytes) else { return 0 }
    let text = first.serialized()
    // The serializer only normalizes (CRLF, single spaces, field order), so the limits still hold,
    // except for the byte count when LF input grew by one CR per line: parse the output without a
    // size limit to check stability, not size.
    var limits = SDPLimits.default
    limits.maxBytes = Int.max
    let second: SessionDescription
    do {
        second = try SessionDescription(parsing: text, limits: limits)
    } catch {
        preconditionFailure("serialized SDP does not parse again: \(error)\n\(text)")
    }
    precondition(second == first, "parse(serialize(x)) != parse(x)\n\(text)")
    precondition(second.serialized() == text, "serialize is not stable\n\(text)")
    return 0
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

@_cdecl("FuzzSDPParser_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzz(data, size)
    }
}
