import FTPProtocol
import VirtualFS

extension FTPReply {
    /// The one mapping from a storage failure to a reply. The client sees its own path and a fixed text; the storage's
    /// own message goes to the log only.
    package init(_ error: any Error, path: String) {
        guard let error = error as? FileSystemError else {
            self.init(451, "\(FTPReply.quoted(path)): local error in processing.")
            return
        }
        let quoted = FTPReply.quoted(path)
        switch error.code {
        case .notFound: self.init(550, "\(quoted): No such file or directory.")
        case .alreadyExists: self.init(550, "\(quoted): File exists.")
        case .notEmpty: self.init(550, "\(quoted): Directory not empty.")
        case .permissionDenied: self.init(550, "\(quoted): Permission denied.")
        case .notADirectory: self.init(550, "\(quoted): Not a directory.")
        case .notAFile: self.init(550, "\(quoted): Not a regular file.")
        case .unsupported: self.init(502, "\(quoted): Operation not supported by this storage.")
        case .invalidArgument: self.init(553, "\(quoted): File name or argument not allowed.")
        case .insufficientStorage: self.init(552, "\(quoted): Insufficient storage space.")
        default: self.init(451, "\(quoted): Storage error; try again later.")
        }
    }
}
