// swift-tools-version:6.0
// Dialtone — the voice userland of a DSL router.
//
// Layers (see README.md): C bindings (C*) → pure protocol layers (SIPCore, SDP, SIPAuth) →
// engines and executables. Arrows point down only.
//
// The fuzz targets (Fuzz/) are added only when DIALTONE_FUZZ=1 is set, because they are linked with
// `-sanitize=fuzzer` and have no `main` of their own: `make fuzz` sets it and builds them into
// `.build-fuzz`.

import PackageDescription

#if canImport(Glibc)
import Glibc
#endif

let fuzzing: Bool = {
    #if canImport(Glibc)
    if let value = getenv("DIALTONE_FUZZ") { return String(cString: value) == "1" }
    #endif
    return false
}()

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

var targets: [Target] = [
    // C bindings
    .systemLibrary(
        name: "COpenSSL",
        path: "Sources/COpenSSL",
        pkgConfig: "libcrypto",
        providers: [.apt(["libssl-dev"])]
    ),

    .systemLibrary(name: "CResolv", path: "Sources/CResolv"),
    .systemLibrary(
        name: "CNetlink",
        path: "Sources/CNetlink",
        pkgConfig: "libnl-route-3.0",
        providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
    ),

    // Pure protocol layers

    .target(name: "SIPCore", swiftSettings: swift6),
    .target(name: "SIPTransaction", dependencies: ["SIPCore"], swiftSettings: swift6),
    .target(name: "SDP", swiftSettings: swift6),
    .target(name: "SIPAuth", dependencies: ["SIPCore", "COpenSSL"], swiftSettings: swift6),
    .target(name: "SIPDialog", dependencies: ["SIPCore", "SIPTransaction"], swiftSettings: swift6),
    .target(name: "Config", swiftSettings: swift6),

    // Drivers and engines
    .target(name: "SIPTransport", dependencies: ["SIPCore", "COpenSSL", "CResolv"], swiftSettings: swift6),
    .target(name: "SIPEndpoint", dependencies: ["SIPCore", "SIPTransport", "SIPTransaction", "Config"], swiftSettings: swift6),
    .target(name: "SIPServer", dependencies: ["SIPCore", "SIPAuth", "SIPTransaction", "SIPEndpoint", "Config"], swiftSettings: swift6),
    .target(name: "NetMonitor", dependencies: ["CNetlink"], swiftSettings: swift6),
    .target(name: "SIPUserAgent", dependencies: ["SIPCore", "SDP", "SIPAuth", "SIPDialog", "SIPTransaction", "SIPEndpoint", "SIPTransport", "Config"], swiftSettings: swift6),

    // Test kit (a library, so benchmarks and tests share it)
    .target(name: "DialtoneTestKit", dependencies: ["SIPCore", "SDP", "SIPAuth", "Config"], swiftSettings: swift6),

    // Executables
    .executableTarget(
        name: "dialtone",
        dependencies: [
            "SIPCore", "SDP", "SIPAuth", "Config",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: swift6
    ),
    .executableTarget(name: "dialtoned", dependencies: ["SIPCore", "SIPTransaction", "SIPEndpoint", "SIPServer", "SIPUserAgent", "NetMonitor", "Config"], swiftSettings: swift6),
    .executableTarget(
        name: "bench-parser",
        dependencies: ["SIPCore", "DialtoneTestKit"],
        path: "Bench/bench-parser",
        swiftSettings: swift6
    ),
    .executableTarget(
        name: "bench-ua-call-setup",
        dependencies: ["DialtoneTestKit", "Config"],
        path: "Bench/bench-ua-call-setup",
        swiftSettings: swift6
    ),

    // Tests
    .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SDPTests", dependencies: ["SDP", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPAuthTests", dependencies: ["SIPAuth", "SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "DialtoneCLITests", dependencies: ["DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPTransportTests", dependencies: ["SIPTransport", "SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPpTests", dependencies: ["SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPEndpointTests", dependencies: ["SIPEndpoint", "SIPCore", "Config", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPServerTests", dependencies: ["SIPServer", "SIPAuth", "SIPCore", "Config", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "ServerInteropTests", dependencies: ["SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "ConfigTests", dependencies: ["Config", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "NetMonitorTests", dependencies: ["NetMonitor", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPDialogTests", dependencies: ["SIPDialog", "SIPTransaction", "SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "SIPUserAgentTests", dependencies: ["SIPUserAgent", "SIPDialog", "SIPTransaction", "SIPAuth", "SIPCore", "SIPEndpoint", "Config", "DialtoneTestKit"], swiftSettings: swift6),
    .testTarget(name: "UserAgentInteropTests", dependencies: ["SIPCore", "DialtoneTestKit"], swiftSettings: swift6),
]

if fuzzing {
    for name in ["FuzzSIPParser", "FuzzStreamFramer", "FuzzSDPParser", "FuzzDigestHeader"] {
        targets.append(.executableTarget(
            name: name,
            dependencies: ["SIPCore", "SDP", "SIPAuth"],
            path: "Fuzz/\(name)",
            swiftSettings: swift6 + [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ))
    }
}

let package = Package(
    name: "Dialtone",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dialtone", targets: ["dialtone"]),
        .executable(name: "dialtoned", targets: ["dialtoned"]),
        .library(name: "DialtoneTestKit", targets: ["DialtoneTestKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: targets
)
