/// The release of the Dialtone userland: `dialtone --version`, `dialtoned --version` and the
/// User-Agent/Server header all print this one constant.
public enum DialtoneVersion {
    public static let string = "0.1.0"
}
