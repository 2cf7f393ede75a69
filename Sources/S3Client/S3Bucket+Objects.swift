import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// An object's facts, from a listing or from the headers of HeadObject/GetObject.
public struct S3Object: Sendable, Hashable {
    public var key: String
    /// The whole object's size in bytes.
    public var size: Int64
    public var lastModified: Date?
    /// The entity tag, quotes included (`"b1946ac9..."`), as S3 sends it and as `If-Match` wants it.
    public var eTag: String?

    public init(key: String, size: Int64, lastModified: Date? = nil, eTag: String? = nil) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.eTag = eTag
    }
}

extension S3Bucket {
    /// HeadObject: the object's facts, or nil when there is no such key.
    public func headObject(_ key: String) async throws -> S3Object? {
        let request = S3Request(operation: "HeadObject", method: .HEAD, key: key, isIdempotent: true)
        do {
            let response = try await self.send(request)
            return Self.object(key, from: response.headers, status: response.status.code)
        } catch let error as S3Error where error.status == 404 {
            return nil
        }
    }

    /// GetObject from `offset` to the end (or `length` bytes), streamed. With `ifMatch`, only if the object still has
    /// that entity tag (`412 PreconditionFailed` otherwise). An offset at or past the end throws ``S3Error`` with
    /// ``S3Error/isInvalidRange``.
    public func getObject(_ key: String, from offset: Int64 = 0, length: Int64? = nil, ifMatch: String? = nil)
        async throws -> S3Download
    {
        var request = S3Request(operation: "GetObject", method: .GET, key: key, isIdempotent: true)
        if offset > 0 || length != nil {
            let end = length.map { String(offset + $0 - 1) } ?? ""
            request.headers.append(("range", "bytes=\(offset)-\(end)"))
        }
        if let ifMatch { request.headers.append(("if-match", ifMatch)) }
        let response = try await self.send(request)
        let contentLength = response.headers.first(name: "content-length").flatMap { Int64($0) }
        var object = Self.object(key, from: response.headers, status: response.status.code)
        // A store that ignores Range answers 200 with the whole object: skip to the offset here.
        let skip = response.status.code == 200 ? offset : 0
        if response.status.code == 200, let contentLength { object.size = contentLength }
        let remaining = contentLength.map { $0 - skip }
        return S3Download(
            object: object,
            contentLength: remaining,
            body: S3ObjectStream(response.body, skip: skip, operation: "GetObject", bucket: self.name, key: key)
        )
    }

    /// PutObject: stores `body` as the whole object. With `ifMatch`, only if the object still has that entity tag
    /// (S3's conditional write; `412 PreconditionFailed` otherwise, on stores that check it). Returns its entity tag.
    @discardableResult
    public func putObject(_ key: String, body: ByteBuffer, ifMatch: String? = nil) async throws -> String? {
        var request = S3Request(operation: "PutObject", method: .PUT, key: key, body: body, isIdempotent: true)
        request.headers = self.configuration.objectHeaders
        if let ifMatch { request.headers.append(("if-match", ifMatch)) }
        request.isTransfer = true
        let (response, _) = try await self.sendAndCollect(request)
        return response.headers.first(name: "etag")
    }

    /// CopyObject (server side, objects up to 5 GiB): `source` becomes `key` too. With `ifMatch`, only if the source
    /// still has that entity tag. Returns the new object's entity tag.
    @discardableResult
    public func copyObject(from source: String, to key: String, ifMatch: String? = nil) async throws -> String? {
        var request = S3Request(operation: "CopyObject", method: .PUT, key: key, isIdempotent: true)
        request.headers = self.configuration.objectHeaders + [("x-amz-copy-source", self.copySource(source))]
        if let ifMatch { request.headers.append(("x-amz-copy-source-if-match", ifMatch)) }
        request.isTransfer = true
        let (_, body) = try await self.sendAndCollect(request)
        return try self.checkedCopyResult(body, request)
    }

    /// DeleteObject. Deleting a key that does not exist succeeds, as in S3.
    public func deleteObject(_ key: String) async throws {
        let request = S3Request(operation: "DeleteObject", method: .DELETE, key: key, isIdempotent: true)
        _ = try await self.sendAndCollect(request)
    }

    /// DeleteObjects: up to 1,000 keys in one request. Returns the keys that could not be deleted, with the reason.
    public func deleteObjects(_ keys: [String]) async throws -> [(key: String, error: String)] {
        guard !keys.isEmpty else { return [] }
        precondition(keys.count <= 1000, "DeleteObjects takes at most 1000 keys")
        var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
        for key in keys { xml += "<Object><Key>\(Self.escapeXML(key))</Key></Object>" }
        xml += "</Delete>"
        let body = ByteBuffer(string: xml)
        var request = S3Request(
            operation: "DeleteObjects",
            method: .POST,
            query: [("delete", "")],
            body: body,
            isIdempotent: true
        )
        // S3 requires an integrity header on DeleteObjects.
        let md5 = Data(Insecure.MD5.hash(data: Data(xml.utf8))).base64EncodedString()
        request.headers = [("content-md5", md5), ("content-type", "application/xml")]
        let (_, answer) = try await self.sendAndCollect(request)
        guard let tree = XMLTree.parse(Data(buffer: answer)) else { return [] }
        return tree.children("Error").map { ($0.value("Key") ?? "?", $0.value("Code") ?? $0.value("Message") ?? "?") }
    }

    /// CreateBucket (in this configuration's region).
    public func create() async throws {
        var request = S3Request(operation: "CreateBucket", method: .PUT, key: nil, isIdempotent: true)
        if self.configuration.region != "us-east-1" {
            let xml =
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                + Self.escapeXML(self.configuration.region) + "</LocationConstraint></CreateBucketConfiguration>"
            request.body = ByteBuffer(string: xml)
        }
        _ = try await self.sendAndCollect(request)
    }

    /// DeleteBucket (it must be empty).
    public func delete() async throws {
        let request = S3Request(operation: "DeleteBucket", method: .DELETE, key: nil, isIdempotent: true)
        _ = try await self.sendAndCollect(request)
    }

    // MARK: Helpers

    /// The value of `x-amz-copy-source`: `/bucket/key`, the key URL-encoded.
    func copySource(_ key: String) -> String {
        "/" + URIEncoding.encodePath(self.name) + "/" + URIEncoding.encodePath(key)
    }

    /// The entity tag in a CopyObjectResult/CopyPartResult, or the error S3 may put in a 200 answer.
    func checkedCopyResult(_ body: ByteBuffer, _ request: S3Request) throws -> String? {
        let data = Data(buffer: body)
        var error = S3Error(operation: request.operation, bucket: self.name, key: request.key, status: 200)
        if Self.fill(&error, fromErrorDocument: data) { throw error }
        return XMLTree.parse(data)?.value("ETag")
    }

    static func object(_ key: String, from headers: HTTPHeaders, status: UInt) -> S3Object {
        var size = headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
        // 206: Content-Range: bytes 3-9/10 carries the whole size.
        if status == 206, let range = headers.first(name: "content-range"), let slash = range.lastIndex(of: "/"),
            let total = Int64(range[range.index(after: slash)...])
        {
            size = total
        }
        return S3Object(
            key: key,
            size: size,
            lastModified: headers.first(name: "last-modified").flatMap { UTCDate.parseHTTPDate($0) },
            eTag: headers.first(name: "etag")
        )
    }

    static func escapeXML(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\r": result += "&#13;"
            case "\n": result += "&#10;"
            case "\t": result += "&#9;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// An object being downloaded: its facts, and its bytes as they arrive.
public struct S3Download: Sendable {
    /// The object's facts (its whole size, entity tag, modification time).
    public var object: S3Object
    /// The bytes `body` will produce, when the store said.
    public var contentLength: Int64?
    /// The bytes, read with backpressure: nothing more is read from the store until the next element is asked for.
    public var body: S3ObjectStream
}

/// The bytes of a GetObject answer. Transport failures while reading come out as ``S3Error``. Iterate it once.
public struct S3ObjectStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let body: HTTPClientResponse.Body
    private let skip: Int64
    private let operation: String
    private let bucket: String
    private let key: String

    init(_ body: HTTPClientResponse.Body, skip: Int64, operation: String, bucket: String, key: String) {
        self.body = body
        self.skip = skip
        self.operation = operation
        self.bucket = bucket
        self.key = key
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate var base: HTTPClientResponse.Body.AsyncIterator
        fileprivate var skip: Int64
        fileprivate let stream: S3ObjectStream

        public mutating func next() async throws -> ByteBuffer? {
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await self.base.next()
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    throw S3Error(
                        operation: self.stream.operation,
                        bucket: self.stream.bucket,
                        key: self.stream.key,
                        underlying: error
                    )
                }
                guard var chunk else { return nil }
                if self.skip > 0 {
                    let dropped = Int(Swift.min(self.skip, Int64(chunk.readableBytes)))
                    chunk.moveReaderIndex(forwardBy: dropped)
                    self.skip -= Int64(dropped)
                    if chunk.readableBytes == 0 { continue }
                }
                return chunk
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.body.makeAsyncIterator(), skip: self.skip, stream: self)
    }
}
