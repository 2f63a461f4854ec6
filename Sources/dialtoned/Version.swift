/// The release of the Dialtone userland, as `dialtone` reports it (`DialtoneVersion.string` in the
/// `dialtone` target; the daemon does not link that module). The CLI tests check both agree.
enum DialtonedVersion {
    static let string = "0.1.0"
}
