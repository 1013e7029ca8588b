// swift-tools-version:6.0
// tun2modem: a cellular modem's AT socket stack as a Linux network interface.
// Toolchain only: no package dependencies (the daemon is dropped onto small gateways).
// Module boundaries and who may import what: ARCHITECTURE.md.
import PackageDescription

/// Release builds optimise across module boundaries: the hot path crosses Sys, Buffers,
/// Wire, Flows, AT, Modems and Bridge, and without this every generic call between them
/// (writev over a collection of pieces, the AT engine fed any byte collection) runs
/// unspecialised, looking up generic metadata at run time. Measured with callgrind on a
/// 4 MiB transfer each way (BENCHMARKS.md): 160 → 124 instructions per payload byte.
///
/// Release builds also drop the run-time exclusivity checks (`-enforce-exclusivity=unchecked`):
/// every access to a stored property of the bridge's classes called swift_beginAccess, 12%
/// of the daemon's instructions. The compile-time checks stay, and debug builds, which run
/// the whole test suite, keep the run-time ones too.
let release: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "tun2modem",
    products: [
        .executable(name: "tun2modem", targets: ["tun2modem"]),
        .executable(name: "tun2modem-sim", targets: ["tun2modem-sim"]),
    ],
    targets: [
        // What Swift cannot import: ioctls, termios speeds, netlink structs.
        .target(name: "CLinux"),
        // Every syscall lives here; nothing above it imports Glibc.
        .target(name: "Sys", dependencies: ["CLinux", "Buffers"], swiftSettings: release),
        .target(name: "Buffers", swiftSettings: release),
        .target(name: "Wire", dependencies: ["Buffers"], swiftSettings: release),
        .target(name: "Flows", dependencies: ["Wire", "Buffers"], swiftSettings: release),
        .target(name: "AT", dependencies: ["Buffers"], swiftSettings: release),
        .target(name: "Modems", dependencies: ["AT"], swiftSettings: release),
        .target(name: "Bridge", dependencies: ["Sys", "Buffers", "Wire", "Flows", "AT", "Modems"], swiftSettings: release),
        // The emulator is an independent reading of the manuals: it never imports Modems or AT.
        .target(name: "ModemSim", dependencies: ["Sys", "Buffers"]),
        // Release: the Swift runtime linked in. A gateway then needs no Swift libraries
        // installed, and the daemon maps only the runtime pages it uses: RSS after 10,000
        // connections 12.4 -> 9.6 MiB, against 10.8 MiB of shared libraries before.
        .executableTarget(name: "tun2modem", dependencies: ["Bridge", "Modems", "Sys"], swiftSettings: release,
                          linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]),
        .executableTarget(name: "tun2modem-sim", dependencies: ["ModemSim"]),

        // Test-only C: ignores SIGPIPE before any test runs (all test targets share one binary).
        .target(name: "TestSignals", path: "Tests/TestSignals"),
        .testTarget(name: "SysTests", dependencies: ["TestSignals", "Sys", "Buffers"]),
        .testTarget(name: "BuffersTests", dependencies: ["TestSignals", "Buffers"]),
        .testTarget(name: "WireTests", dependencies: ["TestSignals", "Wire", "Buffers"]),
        .testTarget(name: "FlowsTests", dependencies: ["TestSignals", "Flows", "Wire", "Buffers"]),
        .testTarget(name: "ATTests", dependencies: ["TestSignals", "AT", "Buffers"]),
        .testTarget(name: "ModemsTests", dependencies: ["TestSignals", "Modems", "AT", "Sys", "Bridge", "Buffers"],
                    exclude: ["Transcripts"]),
        .testTarget(name: "ModemSimTests", dependencies: ["TestSignals", "ModemSim", "Sys", "Buffers"], exclude: ["Transcripts"]),
        .testTarget(name: "BridgeTests", dependencies: ["TestSignals", "Bridge", "Flows", "Wire", "Modems", "AT", "Buffers", "Sys"]),
        // Spawns the built binaries in network namespaces; skips loudly without root.
        .testTarget(name: "EndToEndTests", dependencies: ["TestSignals", "Sys", "Buffers"]),
    ]
)
