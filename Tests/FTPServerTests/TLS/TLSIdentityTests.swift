import Crypto
import FTPServerTesting
import Foundation
import NIOSSL
import Testing
import _CryptoExtras

@testable import FTPServer

/// Loading certificate chains and keys (RSA and EC), the errors a bad pair gives, the first run's self-signed
/// certificate, and the reloadable store.
@Suite("TLS identity")
struct TLSIdentityTests {
    /// A scratch directory for PEM files.
    struct Scratch {
        let url: URL
        init() throws {
            self.url = FileManager.default.temporaryDirectory.appendingPathComponent("fstpy-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        }
        func path(_ name: String) -> String { self.url.appendingPathComponent(name).path }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: self.url.appendingPathComponent(name))
        }
        func remove() { try? FileManager.default.removeItem(at: self.url) }
    }

    @Test(arguments: TestCertificates.KeyType.allCases)
    func loadsAChainAndItsKey(_ keyType: TestCertificates.KeyType) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let certificates = try TestCertificates(keyType: keyType)
        try certificates.write(to: scratch.url)
        let identity = try TLSIdentity.load(
            certificateFile: scratch.path("server.crt"),
            keyFile: scratch.path("server.key")
        )
        #expect(identity.chain.count == 2, "server certificate and authority")
        #expect(identity.fingerprint == certificates.fingerprint)
        #expect(identity.subject.contains("localhost"))
        #expect(identity.notValidAfter > Date())
        // The context builds, with the custom key.
        _ = try NIOSSLContext(configuration: TLSIdentityStore.serverConfiguration(identity))
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        var label: String
        var certificate: String?
        var key: String?
        var mentions: [String]
        var testDescription: String { self.label }
    }

    static func failures() throws -> [Failure] {
        let good = try TestCertificates(keyType: .ecdsa)
        let other = try TestCertificates(keyType: .rsa)
        return [
            Failure(
                label: "mismatched pair",
                certificate: good.chainPEM,
                key: other.keyPEM,
                mentions: ["does not match", "server.key", "server.crt"]
            ),
            Failure(
                label: "missing certificate",
                certificate: nil,
                key: good.keyPEM,
                mentions: ["server.crt", "no such file"]
            ),
            Failure(
                label: "missing key",
                certificate: good.chainPEM,
                key: nil,
                mentions: ["server.key", "no such file"]
            ),
            Failure(
                label: "key file holds a certificate",
                certificate: good.chainPEM,
                key: good.chainPEM,
                mentions: ["server.key", "no private key"]
            ),
            Failure(
                label: "certificate file holds a key",
                certificate: good.keyPEM,
                key: good.keyPEM,
                mentions: ["server.crt", "no certificate"]
            ),
            Failure(label: "not PEM", certificate: "hello\n", key: good.keyPEM, mentions: ["server.crt"]),
            Failure(
                label: "encrypted key",
                certificate: good.chainPEM,
                key: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
                mentions: ["server.key", "encrypted"]
            ),
            Failure(
                label: "broken certificate body",
                certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                key: good.keyPEM,
                mentions: ["server.crt", "not a valid X.509 certificate"]
            ),
        ]
    }

    @Test(arguments: try failures())
    func badPairsAreOneClearError(_ failure: Failure) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        if let certificate = failure.certificate { try scratch.write("server.crt", certificate) }
        if let key = failure.key { try scratch.write("server.key", key) }
        do {
            _ = try TLSIdentity.load(certificateFile: scratch.path("server.crt"), keyFile: scratch.path("server.key"))
            Issue.record("\(failure.label) was accepted")
        } catch {
            #expect(!error.message.contains("\n"), "one line: \(error.message)")
            for text in failure.mentions {
                #expect(error.message.contains(text), "'\(error.message)' should mention '\(text)'")
            }
        }
    }

    @Test func shortRSAKeysAreRefused() throws {
        let short = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)).pemRepresentation
        let certificates = try TestCertificates()
        #expect(throws: TLSIdentityError.self) {
            try TLSIdentity(certificatePEM: certificates.chainPEM, keyPEM: short)
        }
    }

    @Test func selfSignedFirstRunCertificate() throws {
        let identity = try TLSIdentity.selfSigned()
        #expect(identity.chain.count == 1)
        let der = try identity.chain[0].toDERBytes()
        let expected = SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
        #expect(identity.fingerprint == expected)
        #expect(identity.fingerprint.count == 32 * 3 - 1)
        #expect(identity.notValidAfter > Date().addingTimeInterval(300 * 24 * 3600))
        // Two runs, two keys.
        #expect(try TLSIdentity.selfSigned().fingerprint != identity.fingerprint)
        _ = try NIOSSLContext(configuration: TLSIdentityStore.serverConfiguration(identity))
    }

    @Test func storeReloadsFromItsFilesAndKeepsTheOldPairOnError() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = try TestCertificates(keyType: .ecdsa)
        try first.write(to: scratch.url)
        let store = try TLSIdentityStore(
            certificateFile: scratch.path("server.crt"),
            keyFile: scratch.path("server.key")
        )
        #expect(store.current.fingerprint == first.fingerprint)
        let before = try store.makeSessionContext()

        let second = try first.issue(keyType: .rsa)
        try second.write(to: scratch.url)
        #expect(try store.reload().fingerprint == second.fingerprint)
        #expect(store.current.fingerprint == second.fingerprint)
        #expect(try store.makeSessionContext() !== before, "a session context per session")

        // A half-written renewal (new certificate, old key) is refused; the store keeps serving the second pair.
        try scratch.write("server.crt", try first.issue(keyType: .ecdsa).chainPEM)
        #expect(throws: TLSIdentityError.self) { try store.reload() }
        #expect(store.current.fingerprint == second.fingerprint)
        try FileManager.default.removeItem(atPath: scratch.path("server.key"))
        #expect(throws: TLSIdentityError.self) { try store.reload() }
        #expect(store.current.fingerprint == second.fingerprint)
    }

    @Test func memoryStoreReloadKeepsItsIdentity() throws {
        let identity = try TLSIdentity.selfSigned()
        let store = TLSIdentityStore(identity: identity)
        #expect(try store.reload().fingerprint == identity.fingerprint)
    }
}
