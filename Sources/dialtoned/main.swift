#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dialtoned`: the Dialtone SIP daemon. For now it only reports its version; the SIP service arrives
/// with a later issue. Arguments are parsed by hand: the daemon does not link ArgumentParser.

let usage = """
    USAGE: dialtoned [--version] [--help]

    The Dialtone SIP daemon (the SIP service is not implemented yet).

    OPTIONS:
      --version, -V   Print the version and exit.
      --help, -h      Print this help and exit.
    """

func writeError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
if let first = arguments.first {
    if (first == "--version" || first == "-V") && arguments.count == 1 {
        print("dialtoned \(DialtonedVersion.string)")
        exit(0)
    }
    let unexpected = (first == "--version" || first == "-V") ? arguments[1] : first
    writeError("dialtoned: unexpected argument '\(unexpected)'\n\(usage)\n")
    exit(64)  // EX_USAGE, as ArgumentParser uses for dialtone
}
print("dialtoned \(DialtonedVersion.string): the SIP service arrives with a later issue; nothing to run yet.")
exit(0)
