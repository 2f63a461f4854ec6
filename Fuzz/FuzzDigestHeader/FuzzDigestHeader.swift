// libFuzzer target for the auth header parsers (WWW-Authenticate / Proxy-Authenticate and
// Authorization / Proxy-Authorization values). Built with -sanitize=fuzzer by `make fuzz`.
//
// Property: parsing never traps; whatever parses serializes to a value that parses back to an
// equal value, and serializing that again gives the same text.
import SIPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)

    if let challenge = try? AuthChallenge(parsing: text) {
        let written = challenge.headerValue
        let reparsed: AuthChallenge
        do {
            reparsed = try AuthChallenge(parsing: written)
        } catch {
            preconditionFailure("challenge serialization does not reparse: \(error)\n\(written)")
        }
        precondition(reparsed == challenge, "challenge round trip differs:\n\(text)\n\(written)")
        precondition(reparsed.headerValue == written, "challenge serialization not stable:\n\(written)")
    }

    if let credentials = try? AuthCredentials(parsing: text) {
        let written = credentials.headerValue
        let reparsed: AuthCredentials
        do {
            reparsed = try AuthCredentials(parsing: written)
        } catch {
            preconditionFailure("credentials serialization does not reparse: \(error)\n\(written)")
        }
        precondition(reparsed == credentials, "credentials round trip differs:\n\(text)\n\(written)")
        precondition(reparsed.headerValue == written, "credentials serialization not stable:\n\(written)")
    }
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

@_cdecl("FuzzDigestHeader_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzz(data, size)
    }
}
