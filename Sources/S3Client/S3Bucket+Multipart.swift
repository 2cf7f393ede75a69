import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A part of a multipart upload, for CompleteMultipartUpload.
public struct S3CompletedPart: Sendable, Hashable {
    public var partNumber: Int
    public var eTag: String

    public init(partNumber: Int, eTag: String) {
        self.partNumber = partNumber
        self.eTag = eTag
    }
}

extension S3Bucket {
    /// The smallest part S3 accepts, but for the last one: 5 MiB.
    public static let minimumPartSize = 5 << 20
    /// The largest part (and the largest range UploadPartCopy takes): 5 GiB.
    public static let maximumPartSize: Int64 = 5 << 30
    /// The most parts in one upload.
    public static let maximumPartCount = 10_000

    /// CreateMultipartUpload: returns the upload ID.
    public func createMultipartUpload(_ key: String) async throws -> String {
        var request = S3Request(
            operation: "CreateMultipartUpload",
            method: .POST,
            key: key,
            query: [("uploads", "")],
            // Sending it twice would leave an orphaned upload behind, but nothing wrong visible: worth a retry.
            isIdempotent: true
        )
        request.headers = self.configuration.objectHeaders
        let (_, body) = try await self.sendAndCollect(request)
        guard let uploadID = XMLTree.parse(Data(buffer: body))?.value("UploadId"), !uploadID.isEmpty else {
            throw S3Error(
                operation: "CreateMultipartUpload",
                bucket: self.name,
                key: key,
                status: 200,
                code: "MalformedResponse",
                message: "no UploadId in the answer"
            )
        }
        return uploadID
    }

    /// UploadPart: `body` becomes part `partNumber` (1...10,000). Returns the part's entity tag.
    public func uploadPart(_ key: String, uploadID: String, partNumber: Int, body: ByteBuffer) async throws -> String {
        var request = S3Request(
            operation: "UploadPart",
            method: .PUT,
            key: key,
            query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
            body: body,
            isIdempotent: true
        )
        request.isTransfer = true
        // Reading the (empty) answer to its end lets the HTTP client finish the request and drop its body now.
        let (response, _) = try await self.sendAndCollect(request)
        guard let eTag = response.headers.first(name: "etag") else {
            throw S3Error(
                operation: "UploadPart",
                bucket: self.name,
                key: key,
                status: Int(response.status.code),
                code: "MalformedResponse",
                message: "no ETag for part \(partNumber)"
            )
        }
        return eTag
    }

    /// UploadPartCopy: bytes `range` of object `source` become part `partNumber`, copied by the store. With
    /// `ifMatch`, only if the source still has that entity tag. Returns the part's entity tag.
    public func uploadPartCopy(
        _ key: String,
        uploadID: String,
        partNumber: Int,
        source: String,
        range: ClosedRange<Int64>,
        ifMatch: String?
    ) async throws -> String {
        var request = S3Request(
            operation: "UploadPartCopy",
            method: .PUT,
            key: key,
            query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
            isIdempotent: true
        )
        request.headers = [
            ("x-amz-copy-source", self.copySource(source)),
            ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)"),
        ]
        if let ifMatch { request.headers.append(("x-amz-copy-source-if-match", ifMatch)) }
        request.isTransfer = true
        let (_, body) = try await self.sendAndCollect(request)
        guard let eTag = try self.checkedCopyResult(body, request) else {
            throw S3Error(
                operation: "UploadPartCopy",
                bucket: self.name,
                key: key,
                status: 200,
                code: "MalformedResponse",
                message: "no ETag for part \(partNumber)"
            )
        }
        return eTag
    }

    /// CompleteMultipartUpload: the parts, in order, become the object. With `ifMatch`, only if the object at `key`
    /// still has that entity tag (S3's conditional write, on stores that check it). Returns its entity tag.
    @discardableResult
    public func completeMultipartUpload(
        _ key: String,
        uploadID: String,
        parts: [S3CompletedPart],
        ifMatch: String? = nil
    ) async throws -> String? {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.partNumber < $1.partNumber }) {
            xml += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(Self.escapeXML(part.eTag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        var request = S3Request(
            operation: "CompleteMultipartUpload",
            method: .POST,
            key: key,
            query: [("uploadId", uploadID)],
            body: ByteBuffer(string: xml),
            // Not repeated after a transport failure: the first may have completed, and the second would then fail.
            isIdempotent: false
        )
        request.headers = [("content-type", "application/xml")]
        if let ifMatch { request.headers.append(("if-match", ifMatch)) }
        request.isTransfer = true
        let (_, body) = try await self.sendAndCollect(request)
        // S3 may answer 200 and put the error in the body.
        return try self.checkedCopyResult(body, request)
    }

    /// AbortMultipartUpload: drops the upload and its parts.
    public func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        let request = S3Request(
            operation: "AbortMultipartUpload",
            method: .DELETE,
            key: key,
            query: [("uploadId", uploadID)],
            isIdempotent: true
        )
        do {
            _ = try await self.sendAndCollect(request)
        } catch let error as S3Error where error.code == "NoSuchUpload" {
            // Already gone.
        }
    }

    /// ListMultipartUploads (first 1,000): uploads in progress under `prefix`, as (key, upload ID).
    public func listMultipartUploads(prefix: String = "") async throws -> [(key: String, uploadID: String)] {
        var query: [(name: String, value: String)] = [("uploads", ""), ("encoding-type", "url")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        let request = S3Request(
            operation: "ListMultipartUploads",
            method: .GET,
            key: nil,
            query: query,
            isIdempotent: true
        )
        let (_, body) = try await self.sendAndCollect(request)
        guard let tree = XMLTree.parse(Data(buffer: body)) else { return [] }
        let encoded = tree.value("EncodingType") == "url"
        return tree.children("Upload").compactMap { upload in
            guard let key = upload.value("Key"), let id = upload.value("UploadId") else { return nil }
            return (encoded ? URIEncoding.decode(key, plusIsSpace: true) ?? key : key, id)
        }
    }
}
