/// The release of the Dialtone userland. `dialtone --version` prints it; `dialtoned` carries the same
/// number in its own `DialtonedVersion.string` (the daemon does not link this module), and the CLI
/// tests check that both binaries report the same version.
enum DialtoneVersion {
    static let string = "0.1.0"
}
