// swift-tools-version:6.0
// tun2modem: a cellular modem's AT socket stack as a Linux network interface.
// Toolchain only: no package dependencies (the daemon is dropped onto small gateways).
// Module boundaries and who may import what: ARCHITECTURE.md.
import PackageDescription

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
        .target(name: "Sys", dependencies: ["CLinux", "Buffers"]),
        .target(name: "Buffers"),
        .target(name: "Wire", dependencies: ["Buffers"]),
        .target(name: "Flows", dependencies: ["Wire", "Buffers"]),
        .target(name: "AT", dependencies: ["Buffers"]),
        .target(name: "Modems", dependencies: ["AT"]),
        .target(name: "Bridge", dependencies: ["Sys", "Buffers", "Wire", "Flows", "AT", "Modems"]),
        // The emulator is an independent reading of the manuals: it never imports Modems or AT.
        .target(name: "ModemSim", dependencies: ["Sys", "Buffers"]),
        .executableTarget(name: "tun2modem", dependencies: ["Bridge", "Modems", "Sys"]),
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
