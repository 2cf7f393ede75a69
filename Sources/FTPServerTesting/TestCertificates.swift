import Crypto
import FTPServer
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A throwaway certificate authority and a server certificate it signed, for tests: made in memory with
/// swift-certificates, written as PEM where clients (curl, lftp, Python) can be told to trust the authority.
public struct TestCertificates: Sendable {
    /// The server key's algorithm.
    public enum KeyType: String, Sendable, CaseIterable {
        /// RSA 2048, written as PKCS#1 (`BEGIN RSA PRIVATE KEY`).
        case rsa
        /// ECDSA P-256, written as PKCS#8 (`BEGIN PRIVATE KEY`).
        case ecdsa
    }

    /// The signing authority (shared by certificates made with ``issue(keyType:commonName:)``).
    public struct Authority: Sendable {
        /// The authority's key, as raw bytes (swift-crypto's key type is not `Sendable` in this version).
        let rawKey: [UInt8]
        let name: DistinguishedName
        var key: P256.Signing.PrivateKey {
            // The bytes came from a valid key.
            try! P256.Signing.PrivateKey(rawRepresentation: self.rawKey)
        }
        /// The authority's certificate: what clients trust.
        public let pem: String

        /// A new authority.
        public init() throws {
            let key = P256.Signing.PrivateKey()
            self.rawKey = Array(key.rawRepresentation)
            self.name = try DistinguishedName { CommonName("FsTPy test authority") }
            let now = Date()
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now - 3600,
                notValidAfter: now + 7 * 24 * 3600,
                issuer: self.name,
                subject: self.name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            self.pem = try certificate.serializeAsPEM().pemString + "\n"
        }
    }

    public let authority: Authority
    /// The authority's certificate: what clients trust.
    public var authorityPEM: String { self.authority.pem }
    /// The server certificate followed by the authority's (a chain, as `server.crt` may hold).
    public let chainPEM: String
    /// The server's private key.
    public let keyPEM: String
    /// SHA-256 of the server certificate, `AB:CD:...`.
    public let fingerprint: String

    /// Makes a server certificate for `commonName`, 127.0.0.1 and ::1, signed by `authority` (a new one by
    /// default).
    public init(keyType: KeyType = .ecdsa, commonName: String = "localhost", authority: Authority? = nil) throws {
        let authority = try authority ?? Authority()
        self.authority = authority
        let now = Date()
        let serverPublicKey: Certificate.PublicKey
        switch keyType {
        case .rsa:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            serverPublicKey = Certificate.PublicKey(key.publicKey)
            self.keyPEM = key.pemRepresentation + "\n"
        case .ecdsa:
            let key = P256.Signing.PrivateKey()
            serverPublicKey = Certificate.PublicKey(key.publicKey)
            self.keyPEM = key.pemRepresentation + "\n"
        }
        let server = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: serverPublicKey,
            notValidBefore: now - 3600,
            notValidAfter: now + 7 * 24 * 3600,
            issuer: authority.name,
            subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyType == .rsa))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName(commonName),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(authority.key)
        )
        let serverPEM = try server.serializeAsPEM()
        self.chainPEM = serverPEM.pemString + "\n" + authority.pem
        self.fingerprint = SHA256.hash(data: serverPEM.derBytes).map { String(format: "%02X", $0) }.joined(
            separator: ":"
        )
    }

    /// Another server certificate from the same authority (a renewal, as a reload would bring).
    public func issue(keyType: KeyType = .ecdsa, commonName: String = "localhost") throws -> TestCertificates {
        try TestCertificates(keyType: keyType, commonName: commonName, authority: self.authority)
    }

    /// The identity the server loads from these PEM texts.
    public func identity() throws -> TLSIdentity {
        try TLSIdentity(certificatePEM: self.chainPEM, keyPEM: self.keyPEM)
    }

    /// Writes `server.crt` (the chain), `server.key` and `ca.crt` (the authority) into `directory`.
    public func write(to directory: URL, certificate: String = "server.crt", key: String = "server.key") throws {
        try Data(self.chainPEM.utf8).write(to: directory.appendingPathComponent(certificate))
        try Data(self.keyPEM.utf8).write(to: directory.appendingPathComponent(key))
        try Data(self.authorityPEM.utf8).write(to: directory.appendingPathComponent("ca.crt"))
    }
}
