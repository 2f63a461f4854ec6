/// ASCII case folding for protocol tokens (algorithm, qop, scheme names compare case-insensitively).
enum AuthTokenCase {
    static func lower(_ s: String) -> String {
        String(decoding: s.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
