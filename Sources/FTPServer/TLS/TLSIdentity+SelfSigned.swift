import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

extension TLSIdentity {
    /// A fresh self-signed certificate with a new P-256 key, held in memory only: the first run offers FTPS before
    /// anyone has made a certificate. Clients must be told to accept it (or to trust this ``fingerprint``).
    ///
    /// - Parameter hostNames: DNS names for the certificate (`localhost` by default); the loopback addresses are
    ///   always included.
    public static func selfSigned(hostNames: [String] = ["localhost"]) throws -> TLSIdentity {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName(hostNames.first ?? "localhost")
            OrganizationName("FsTPy (self-signed, first run)")
        }
        let now = Date()
        let loopbacks: [GeneralName] = [
            .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
        ]
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 365 * 24 * 3600,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(hostNames.map { GeneralName.dnsName($0) } + loopbacks)
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = serializer.serializedBytes
        return TLSIdentity(
            chain: [try NIOSSLCertificate(bytes: der, format: .der)],
            leaf: certificate,
            leafDER: der,
            signingKey: TLSSigningKey(.p256(key))
        )
    }
}
