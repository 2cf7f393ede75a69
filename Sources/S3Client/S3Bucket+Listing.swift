import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One page of ListObjectsV2.
public struct S3ListPage: Sendable {
    /// The objects of the page, keys decoded.
    public var objects: [S3Object]
    /// The common prefixes (with a delimiter: the "subdirectories"), decoded, delimiter included.
    public var commonPrefixes: [String]
    /// The token for the next page; nil on the last page.
    public var nextContinuationToken: String?

    public init(objects: [S3Object], commonPrefixes: [String], nextContinuationToken: String?) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.nextContinuationToken = nextContinuationToken
    }

    public var isEmpty: Bool { self.objects.isEmpty && self.commonPrefixes.isEmpty }
}

extension S3Bucket {
    /// ListObjectsV2: one page of at most `maxKeys` keys (and common prefixes) under `prefix`, from
    /// `continuationToken` (or after `startAfter`). Keys come URL-encoded on the wire (`encoding-type=url`), so that
    /// any key survives XML, and are decoded here.
    public func listObjects(
        prefix: String,
        delimiter: String? = nil,
        continuationToken: String? = nil,
        startAfter: String? = nil,
        maxKeys: Int = 1000
    ) async throws -> S3ListPage {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("encoding-type", "url"), ("max-keys", String(maxKeys)),
        ]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        let request = S3Request(operation: "ListObjectsV2", method: .GET, key: nil, query: query, isIdempotent: true)
        let (_, body) = try await self.sendAndCollect(request)
        guard let page = Self.parseListPage(Data(buffer: body)) else {
            throw S3Error(
                operation: "ListObjectsV2",
                bucket: self.name,
                status: 200,
                code: "MalformedResponse",
                message: "the listing is not a ListBucketResult document"
            )
        }
        return page
    }

    /// Parses a `ListBucketResult` document (keys URL-encoded, or plain when the store ignored `encoding-type`).
    package static func parseListPage(_ data: Data) -> S3ListPage? {
        guard let tree = XMLTree.parse(data), tree.name == "ListBucketResult" else { return nil }
        let encoded = tree.value("EncodingType") == "url"
        func decode(_ text: String) -> String {
            encoded ? (URIEncoding.decode(text, plusIsSpace: true) ?? text) : text
        }
        var objects: [S3Object] = []
        var prefixes: [String] = []
        objects.reserveCapacity(tree.children.count)
        for element in tree.children {
            switch element.name {
            case "Contents":
                guard let key = element.value("Key") else { continue }
                objects.append(
                    S3Object(
                        key: decode(key),
                        size: element.value("Size").flatMap { Int64($0) } ?? 0,
                        lastModified: element.value("LastModified").flatMap { UTCDate.parseISO8601($0) },
                        eTag: element.value("ETag")
                    )
                )
            case "CommonPrefixes":
                if let prefix = element.value("Prefix") { prefixes.append(decode(prefix)) }
            default:
                continue
            }
        }
        let truncated = tree.value("IsTruncated") == "true"
        let token = truncated ? tree.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 } : nil
        // A truncated page without a token would end the listing early, silently: refuse it instead.
        if truncated, token == nil { return nil }
        return S3ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: token)
    }
}
