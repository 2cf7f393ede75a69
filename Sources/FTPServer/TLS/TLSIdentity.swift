import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate chain and the private key of its first certificate, checked to belong together: what the server
/// presents to TLS clients.
///
/// Keys are RSA or EC (P-256, P-384, P-521), in PEM: PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`)
/// or SEC 1 (`BEGIN EC PRIVATE KEY`). The chain is one or more `BEGIN CERTIFICATE` blocks, the server's own first.
public struct TLSIdentity: Sendable {
    /// The chain as BoringSSL wants it.
    package let chain: [NIOSSLCertificate]
    /// The private key, signing through swift-crypto (see ``TLSSigningKey`` for why).
    package let signingKey: TLSSigningKey
    /// The SHA-256 fingerprint of the server's certificate, as `AB:CD:...` (the form `openssl x509 -fingerprint
    /// -sha256` prints), so a user can check what a client shows them.
    public let fingerprint: String
    /// The server certificate's subject, for logs.
    public let subject: String
    /// When the server certificate expires.
    public let notValidAfter: Date

    /// Loads and checks a PEM certificate chain and its private key.
    ///
    /// Every failure is one ``TLSIdentityError`` whose message names the file and the problem: missing, unreadable,
    /// no certificate in it, not a key, an encrypted key, an unsupported key type, or a key that does not match the
    /// certificate.
    public static func load(certificateFile: String, keyFile: String) throws(TLSIdentityError) -> TLSIdentity {
        let certificatePEM = try Self.readText(certificateFile)
        let keyPEM = try Self.readText(keyFile)
        return try TLSIdentity(
            certificatePEM: certificatePEM,
            keyPEM: keyPEM,
            certificateName: certificateFile,
            keyName: keyFile
        )
    }

    /// Builds an identity from PEM text. `certificateName` and `keyName` name the sources in error messages.
    public init(
        certificatePEM: String,
        keyPEM: String,
        certificateName: String = "the certificate",
        keyName: String = "the key"
    ) throws(TLSIdentityError) {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: certificatePEM)
        } catch {
            throw TLSIdentityError("\(certificateName): not a PEM certificate (expected -----BEGIN CERTIFICATE-----)")
        }
        let certificateDocuments = documents.filter { $0.discriminator == "CERTIFICATE" }
        guard !certificateDocuments.isEmpty else {
            throw TLSIdentityError("\(certificateName): no certificate in it (expected -----BEGIN CERTIFICATE-----)")
        }
        var parsed: [Certificate] = []
        var chain: [NIOSSLCertificate] = []
        for (index, document) in certificateDocuments.enumerated() {
            do {
                parsed.append(try Certificate(derEncoded: document.derBytes))
                chain.append(try NIOSSLCertificate(bytes: document.derBytes, format: .der))
            } catch {
                throw TLSIdentityError("\(certificateName): certificate \(index + 1) is not a valid X.509 certificate")
            }
        }
        let key = try TLSSigningKey(pem: keyPEM, name: keyName)
        let leaf = parsed[0]
        guard leaf.publicKey == key.publicKey else {
            throw TLSIdentityError(
                "\(keyName) does not match the certificate in \(certificateName) (their public keys differ)"
            )
        }
        self.init(chain: chain, leaf: leaf, leafDER: certificateDocuments[0].derBytes, signingKey: key)
    }

    package init(chain: [NIOSSLCertificate], leaf: Certificate, leafDER: [UInt8], signingKey: TLSSigningKey) {
        self.chain = chain
        self.signingKey = signingKey
        self.fingerprint = SHA256.hash(data: leafDER).map { String(format: "%02X", $0) }.joined(separator: ":")
        self.subject = leaf.subject.description
        self.notValidAfter = leaf.notValidAfter
    }

    private static func readText(_ path: String) throws(TLSIdentityError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TLSIdentityError("\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw TLSIdentityError("\(path): is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSIdentityError("\(path): permission denied")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TLSIdentityError("\(path): cannot be read (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TLSIdentityError("\(path): not a PEM text file")
        }
        return text
    }
}

/// Why a TLS identity cannot be used: one line naming the file and the problem.
public struct TLSIdentityError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { self.message }

    package init(_ message: String) {
        self.message = message
    }
}
