import S3FS
import VirtualFS

extension FileSystemRegistry {
    /// The schemes `fstpyd` serves: the standard ones (`osfs://`, `mem://`) and `s3://` (``S3FileSystem``, which
    /// checks at open that the bucket exists and the keys work).
    static var fstpyd: FileSystemRegistry {
        var registry = FileSystemRegistry.standard
        registry.register(scheme: "s3") { url in try await S3FileSystem.open(url) }
        return registry
    }
}
