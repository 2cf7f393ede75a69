import Crypto
import NIOCore
import NIOSSL
import SwiftASN1
import X509
import _CryptoExtras

/// The server's private key, handed to BoringSSL as a custom key so that the signing goes through us.
///
/// Why not a plain `NIOSSLPrivateKey`: a TLS server signs only in a full handshake (TLS 1.2's ServerKeyExchange, TLS
/// 1.3's CertificateVerify); a resumed handshake never signs. swift-nio-ssl offers no `SSL_session_reused`, so
/// seeing our own `sign` called for a data connection is how we learn that the client did *not* resume the control
/// connection's session (vsftpd's `require_ssl_reuse`). The signing itself is swift-crypto's, on the same BoringSSL.
package struct TLSSigningKey: NIOSSLCustomPrivateKey, Hashable {
    // @unchecked: swift-crypto's NIST keys are immutable values over a BoringSSL key that signing only reads
    // (BoringSSL documents EC_KEY as safe for concurrent signing); this version does not mark them Sendable yet.
    enum Backing: @unchecked Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
    }

    let backing: Backing
    /// The public key, to check the certificate against.
    package let publicKey: Certificate.PublicKey
    /// The DER of the public key: the key's identity for `Hashable`.
    private let publicKeyDER: [UInt8]

    /// Parses a PEM private key; `name` names the source in error messages.
    package init(pem: String, name: String) throws(TLSIdentityError) {
        if pem.contains("ENCRYPTED PRIVATE KEY") || pem.contains("Proc-Type: 4,ENCRYPTED") {
            throw TLSIdentityError("\(name): the private key is encrypted; give it without a passphrase")
        }
        let documents = (try? PEMDocument.parseMultiple(pemString: pem)) ?? []
        guard let document = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }) else {
            throw TLSIdentityError("\(name): no private key in it (expected -----BEGIN PRIVATE KEY-----)")
        }
        let der = document.derBytes
        if let key = try? P256.Signing.PrivateKey(derRepresentation: der) {
            self.init(.p256(key))
        } else if let key = try? P384.Signing.PrivateKey(derRepresentation: der) {
            self.init(.p384(key))
        } else if let key = try? P521.Signing.PrivateKey(derRepresentation: der) {
            self.init(.p521(key))
        } else if let key = try? _RSA.Signing.PrivateKey(derRepresentation: der) {
            self.init(.rsa(key))
        } else if (try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der)) != nil {
            throw TLSIdentityError("\(name): the RSA key is shorter than 2048 bits")
        } else {
            throw TLSIdentityError(
                "\(name): not a supported private key (RSA of 2048 bits or more, or EC P-256/384/521)"
            )
        }
    }

    init(_ backing: Backing) {
        self.backing = backing
        switch backing {
        case .rsa(let key): self.publicKey = Certificate.PublicKey(key.publicKey)
        case .p256(let key): self.publicKey = Certificate.PublicKey(key.publicKey)
        case .p384(let key): self.publicKey = Certificate.PublicKey(key.publicKey)
        case .p521(let key): self.publicKey = Certificate.PublicKey(key.publicKey)
        }
        var serializer = DER.Serializer()
        try? serializer.serialize(self.publicKey)
        self.publicKeyDER = serializer.serializedBytes
    }

    package static func == (lhs: TLSSigningKey, rhs: TLSSigningKey) -> Bool {
        lhs.publicKeyDER == rhs.publicKeyDER
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(self.publicKeyDER)
    }

    /// What BoringSSL may ask of this key: PSS first (TLS 1.3 allows nothing else for RSA), each EC curve with its
    /// own hash (TLS 1.3 binds them).
    package var signatureAlgorithms: [SignatureAlgorithm] {
        switch self.backing {
        case .rsa:
            [
                .rsaPssRsaeSha256, .rsaPssRsaeSha384, .rsaPssRsaeSha512, .rsaPkcs1Sha256, .rsaPkcs1Sha384,
                .rsaPkcs1Sha512,
            ]
        case .p256: [.ecdsaSecp256R1Sha256]
        case .p384: [.ecdsaSecp384R1Sha384]
        case .p521: [.ecdsaSecp521R1Sha512]
        }
    }

    package func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<
        ByteBuffer
    > {
        // Tell a data connection's observer that this handshake is a full one (not a resumption).
        if let observer = try? channel.pipeline.syncOperations.handler(type: TLSHandshakeObserver.self) {
            observer.fullHandshakeSigned()
        }
        do {
            let signature = try self.signature(algorithm, Array(data.readableBytesView))
            return channel.eventLoop.makeSucceededFuture(ByteBuffer(bytes: signature))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    /// RSA key exchange is not among our cipher suites, so BoringSSL never asks to decrypt.
    package func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(TLSIdentityError("RSA key exchange is not supported"))
    }

    private func signature(_ algorithm: SignatureAlgorithm, _ data: [UInt8]) throws -> [UInt8] {
        switch (self.backing, algorithm) {
        case (.rsa(let key), .rsaPssRsaeSha256):
            return Array(try key.signature(for: SHA256.hash(data: data), padding: .PSS).rawRepresentation)
        case (.rsa(let key), .rsaPssRsaeSha384):
            return Array(try key.signature(for: SHA384.hash(data: data), padding: .PSS).rawRepresentation)
        case (.rsa(let key), .rsaPssRsaeSha512):
            return Array(try key.signature(for: SHA512.hash(data: data), padding: .PSS).rawRepresentation)
        case (.rsa(let key), .rsaPkcs1Sha256):
            return Array(try key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rsaPkcs1Sha384):
            return Array(try key.signature(for: SHA384.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rsaPkcs1Sha512):
            return Array(try key.signature(for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.p256(let key), .ecdsaSecp256R1Sha256):
            return Array(try key.signature(for: SHA256.hash(data: data)).derRepresentation)
        case (.p384(let key), .ecdsaSecp384R1Sha384):
            return Array(try key.signature(for: SHA384.hash(data: data)).derRepresentation)
        case (.p521(let key), .ecdsaSecp521R1Sha512):
            return Array(try key.signature(for: SHA512.hash(data: data)).derRepresentation)
        default:
            throw TLSIdentityError("signature algorithm \(algorithm) does not fit this key")
        }
    }
}
