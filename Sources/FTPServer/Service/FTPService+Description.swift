extension FTPService: CustomStringConvertible {
    /// What logs show for the service (swift-service-lifecycle prints each service at debug level). The default, a
    /// dump of every stored property, would print the authorizer's accounts (password digests, or passwords with
    /// plain-password credentials) and the event handlers' settings (a webhook URL's password).
    public var description: String { "FTPService" }
}
