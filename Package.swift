// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "fstpy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FTPProtocol", targets: ["FTPProtocol"]),
        .library(name: "VirtualFS", targets: ["VirtualFS"]),
        .library(name: "FTPServer", targets: ["FTPServer"]),
        .library(name: "FTPServerTesting", targets: ["FTPServerTesting"]),
        .library(name: "FTPEventHandlers", targets: ["FTPEventHandlers"]),
        .library(name: "FstpydCLI", targets: ["FstpydCLI"]),
        .executable(name: "fstpyd", targets: ["fstpyd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // JSON configuration files (its default trait; YAML would add Yams to the build).
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .target(
            name: "FTPProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VirtualFS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The S3 backend: kept out of the core targets so that they build without an HTTP stack. Only FstpydCLI and
        // tests depend on it.
        .target(
            name: "S3Client",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "S3FS",
            dependencies: [
                "S3Client",
                "VirtualFS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts a SeaweedFS S3 server for the tests (never a dependency of a product).
        .target(name: "S3Testing", dependencies: ["S3Client"], swiftSettings: swiftSettings),
        .target(
            name: "FTPServer",
            dependencies: [
                "FTPProtocol",
                "VirtualFS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the daemon does with server events: a ZeroMQ PUB socket, a webhook, an xferlog. Its own target so a
        // library user who only wants FTP does not compile an HTTP client.
        .target(
            name: "FTPEventHandlers",
            dependencies: [
                "FTPProtocol",
                "FTPServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FTPServerTesting",
            dependencies: [
                "FTPServer",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FstpydCLI",
            dependencies: [
                "FTPProtocol",
                "FTPServer",
                "S3FS",
                "VirtualFS",
                "FTPEventHandlers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fstpyd",
            dependencies: ["FstpydCLI"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FTPProtocolFuzzer",
            dependencies: ["FTPProtocol", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "FTPProtocolTests", dependencies: ["FTPProtocol"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VirtualFSTests",
            dependencies: ["VirtualFS", "S3FS", "S3Testing"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "S3ClientTests", dependencies: ["S3Client", "S3Testing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "S3FSTests",
            dependencies: ["S3FS", "S3Client", "S3Testing", "VirtualFS"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FTPServerTests",
            dependencies: [
                "FTPServer",
                "FTPServerTesting",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FstpydCLITests",
            dependencies: ["FstpydCLI", "FTPServer", "S3Client", "S3Testing"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FTPEventHandlersTests",
            dependencies: [
                "FTPEventHandlers",
                "FTPProtocol",
                "FTPServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FTPInteropTests",
            dependencies: [
                "FTPServer", "FTPServerTesting", "VirtualFS", "FTPEventHandlers", "FTPProtocol", "S3FS", "S3Client",
                "S3Testing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Clients"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
