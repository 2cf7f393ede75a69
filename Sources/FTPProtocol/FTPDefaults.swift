/// Protocol-level defaults, each with its reason.
public enum FTPDefaults {
    /// The longest control line accepted, CRLF included. RFC 959 sets no limit; paths may be up to 4,096 bytes
    /// (PATH_MAX) plus the verb, so 8 KiB leaves room while bounding what one connection can make us buffer.
    public static let maximumLineLength = 8192
}
